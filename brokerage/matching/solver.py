"""Match demand lines to suppliers: cover the most hours, then at the least documented cost.

Goal 1 is to cover as many demanded hours as possible: the covered hours always equal the
maximum flow of the network source -> line (capacity: the line's hours) -> supplier (one arc
per feasible pair) -> sink (capacity: the supplier's capacity_hours). Goal 2 is to do so at the
least cost, where the cost of an assignment, in pence, is

    sum over assignments (line d, supplier s, h hours) of h * hourly(d, s)
    + PAIR_CHARGE        for each (line, supplier) pair used
    + CLUSTER_CHARGE     for each (cluster, supplier) pair used
    + CONTINUITY_CHARGE  * (share of a line's hours moved away from a current supplier that
                            could have kept it), summed over lines

and hourly(d, s), the cost of one hour, is

    rate_pence                                     price
    + TRAVEL_PER_KM * km from supplier to home     nearness
    + NOT_LIVING_WAGE     if the supplier does not pay the Living Wage
    + NO_CHARTER          if it has not signed the Ethical Care Charter
    + KIND_CHARGE[kind]   0 for co-ops, CICs and micro-providers
    + LANGUAGE_MISS       if the line lists languages, does not require them, and the
                          supplier speaks none of them.

PAIR_CHARGE makes every extra supplier on one line (a split) cost extra; CLUSTER_CHARGE makes
neighbours who pool share carers; CONTINUITY_CHARGE keeps people with the carer they know.
The `cost` of a solution is this objective in pounds, rounded to the penny.

Fixed charges are not linear, so the min-cost flow (OR-Tools `SimpleMinCostFlow`,
`solve_max_flow_with_min_cost`, integer costs in hundredths of a penny) sees them amortised:
PAIR_CHARGE spread over the hours the arc can carry, CLUSTER_CHARGE spread over the hours the
supplier could give the cluster's lines, and CONTINUITY_CHARGE spread over the line's hours.
Arcs that can carry many hours thus look cheaper per hour, which steers whole lines, and whole
clusters, to one supplier. (Re-solving with charges spread over the hours actually used, "slope
scaling", was tried and gave higher true costs on the generated instances, so it is not done.)

The network falls apart into connected components, which are packed into chunks in a fixed
order and solved independently, on two processes when the instance is large. Chunking depends
only on the instance, so the same instance gives the same solution wherever it runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from brokerage.matching.explain import Offered, explain_assignments, explain_unmet
from brokerage.matching.flow import solve_chunk
from brokerage.matching.helper import Helper, helper_for, solve_split  # noqa: F401 (Helper is re-exported)
from brokerage.matching.instance import Assignment, Instance, Solution, Unmet
from brokerage.matching.pairs import Pairs, Tables, build_tables, feasible_pairs
from brokerage.matching.slots import N_SLOTS, SlotArcs, pair_hours, slot_arcs, slot_dict, slot_job
from brokerage.matching.vocabulary import KINDS

# --- the documented cost, in pence -----------------------------------------------------------
TRAVEL_PER_KM = 40
NOT_LIVING_WAGE = 150
NO_CHARTER = 75
KIND_CHARGE = {"coop": 0, "cic": 0, "micro_provider": 0, "pa": 40, "charity": 40, "private": 120}
LANGUAGE_MISS = 150
PAIR_CHARGE = 4000
CLUSTER_CHARGE = 3000
CONTINUITY_CHARGE = 6000

# Arc costs are integers in hundredths of a penny, fine enough that rounding rarely ties.
COST_SCALE = 100
# Distances enter the cost rounded to the metre: maths libraries' last bits cannot change a cost.
DISTANCE_DECIMALS = 3
# Components are packed into chunks of at least this many arcs, in component order.
CHUNK_ARCS = 100_000
# Below this many arcs one process is faster than starting a second.
PARALLEL_MIN_ARCS = 600_000

_KIND_CHARGE = np.array([KIND_CHARGE[k] for k in KINDS], dtype=np.float64)


@dataclass(frozen=True)
class Network:
    """An instance with its column arrays and feasible pairs, ready to optimise."""

    instance: Instance
    tables: Tables
    pairs: Pairs
    slots: SlotArcs | None = None  # format 2: each pair's arcs per common slot


@dataclass(frozen=True)
class Matching:
    """Hours given to each feasible pair (aligned with `network.pairs`)."""

    network: Network
    flow: np.ndarray
    helper_peak_kb: int = 0  # peak RSS of the helper process, if one was used
    slot_flow: np.ndarray | None = None  # format 2: hours on each of network.slots' arcs
    # The flow arrays optimise found as a min-cost max flow at `amortised_costs(network)` (its first
    # answer); see `amortised_optimal`. Not compared: arrays have no single truth value.
    amortised_flow: tuple | None = field(default=None, compare=False, repr=False)

    @property
    def amortised_optimal(self) -> bool:
        """Tell whether this matching's flow is still optimise's min-cost flow, so improve.py may read its bound off it.

        True only while `flow` and `slot_flow` are the very arrays optimise returned: a matching made
        from it with other hours (`dataclasses.replace`, `improve`) is not trusted with that bound.
        """
        kept = self.amortised_flow
        return kept is not None and kept[0] is self.flow and kept[1] is self.slot_flow

    def assigned_hours(self) -> np.ndarray:
        """Return the hours assigned to each demand line."""
        pairs = self.network.pairs
        n = len(self.network.instance.demand)
        return np.bincount(pairs.demand, weights=self.flow, minlength=n).astype(np.int64)


def build_network(instance: Instance) -> Network:
    """Compute column arrays and all feasible pairs for an instance, its records in id order."""
    # Sorting by id breaks every later tie by id, so any file order gives the same solution.
    instance = instance.in_id_order()
    tables = build_tables(instance)
    pairs = feasible_pairs(instance, tables)
    slots = slot_arcs(instance, pairs, tables.d_hours, tables.s_capacity) if instance.format == 2 else None
    return Network(instance, tables, pairs, slots)


def solve(instance: Instance, *, cluster_names: Mapping[str, str] | None = None,
          supplier_names: Mapping[str, str] | None = None, time_limit: float = 0.0) -> Solution:
    """Return the maximum-coverage, least-cost solution with explanations.

    `cluster_names` maps cluster ids to the names people know them by, for the explanations; a
    cluster without one is called "cluster <id>", as in the solution file; `supplier_names` the same
    for suppliers. `time_limit` (deterministic work, see `improve.py`) improves the one-pass answer.
    """
    with helper_for(instance) as helper:
        matching = optimise(build_network(instance), helper=helper)
    if time_limit > 0:
        from brokerage.matching.improve import improve  # it imports this module: a cycle at load

        matching = improve(matching, time_limit=time_limit).matching
    return to_solution(matching, cluster_names=cluster_names, supplier_names=supplier_names)


def solve_baseline(instance: Instance) -> Solution:
    """Return a maximum-coverage solution minimising only the hourly rate, for comparison."""
    with helper_for(instance) as helper:
        matching = optimise(build_network(instance), baseline=True, helper=helper)
    return to_solution(matching)


def to_solution(matching: Matching, *, cluster_names: Mapping[str, str] | None = None,
                supplier_names: Mapping[str, str] | None = None, offered: Offered | None = None) -> Solution:
    """Turn a matching into a solution file's content, explaining every line (naming clusters as `solve` does).

    `offered` gives suppliers' hours before care already arranged was taken off (`explain.explain_unmet`).
    """
    network, flow = matching.network, matching.flow
    instance, pairs = network.instance, network.pairs
    used = np.flatnonzero(flow > 0)
    placed, left_in_slots = slot_hours_of(matching, used)
    texts = explain_assignments(network, flow, used, cluster_names=cluster_names, supplier_names=supplier_names, placed=placed)
    demand_ids = [d.id for d in instance.demand]
    supply_ids = [s.id for s in instance.supply]
    assignments = tuple(
        Assignment(demand_ids[d], supply_ids[s], h, text, None if placed is None else placed[i])
        for i, (d, s, h, text) in enumerate(zip(pairs.demand[used].tolist(), pairs.supply[used].tolist(),
                                                flow[used].tolist(), texts))
    )
    left = network.tables.d_hours - matching.assigned_hours()
    short = np.flatnonzero(left > 0)
    reasons = explain_unmet(network, flow, short, left_in_slots=left_in_slots, offered=offered)
    unmet = tuple(
        Unmet(instance.demand[d].id, int(h), reason, None if left_in_slots is None else slot_dict(np.arange(N_SLOTS), left_in_slots[d]))
        for d, h, reason in zip(short.tolist(), left[short].tolist(), reasons)
    )
    return Solution(
        assignments=assignments,
        unmet=unmet,
        covered_hours=int(flow.sum()),
        cost=round(objective_pence(network, flow) / 100, 2),
        format=instance.format,
    )


def slot_hours_of(matching: Matching, used: np.ndarray) -> tuple[list[dict[str, int]] | None, np.ndarray | None]:
    """Format 2: return each used pair's hours per slot, and each line's hours left per slot (lines x 21); else (None, None)."""
    slots, slot_flow = matching.network.slots, matching.slot_flow
    if slots is None or slot_flow is None:
        return None, None
    placed = [slot_dict(slots.slot[lo:hi], slot_flow[lo:hi]) for lo, hi in zip(slots.start[used].tolist(), slots.start[used + 1].tolist())]
    line_slot = matching.network.pairs.demand[slots.pair] * N_SLOTS + slots.slot
    taken = np.bincount(line_slot, weights=slot_flow, minlength=slots.d_hours.size).astype(np.int64)
    return placed, slots.d_hours - taken.reshape(slots.d_hours.shape)


# --- costs -------------------------------------------------------------------------------


def hourly_cost(network: Network) -> np.ndarray:
    """Return the cost in pence of one hour on each feasible pair, before fixed charges."""
    t, p = network.tables, network.pairs
    si, di = p.supply, p.demand
    cost = t.s_rate[si].astype(np.float64)
    cost += TRAVEL_PER_KM * np.round(p.distance_km, DISTANCE_DECIMALS)
    cost += NOT_LIVING_WAGE * ~t.s_living_wage[si]
    cost += NO_CHARTER * ~t.s_ecc[si]
    cost += _KIND_CHARGE[t.s_kind[si]]
    cost += LANGUAGE_MISS * _language_missed(t, di, si)
    return cost


def _language_missed(t: Tables, di: np.ndarray, si: np.ndarray) -> np.ndarray:
    wants = t.d_lang[di].any(axis=1) & ~t.d_lang_required[di]
    shared = (t.d_lang[di] & t.s_lang[si]).any(axis=1)
    return wants & ~shared


def keeps_current(network: Network) -> np.ndarray:
    """Tell, per pair, whether the supplier is the line's current supplier."""
    p = network.pairs
    return network.tables.d_current[p.demand] == p.supply


def continuity_at_stake(network: Network) -> np.ndarray:
    """Tell, per demand line, whether its current supplier could keep serving it."""
    n = len(network.instance.demand)
    could_keep = keeps_current(network) & (arc_capacity(network) > 0)
    return np.bincount(network.pairs.demand, weights=could_keep, minlength=n) > 0


def objective_pence(network: Network, flow: np.ndarray) -> float:
    """Return the documented objective, in pence, of hours `flow` on the feasible pairs."""
    p, t = network.pairs, network.tables
    used = flow > 0
    if not used.any():
        return 0.0
    variable = math.fsum((flow[used] * hourly_cost(network)[used]).tolist())
    n_pairs = int(used.sum())
    n_cluster_pairs = len(np.unique(t.d_cluster[p.demand[used]] * len(t.s_rate) + p.supply[used]))
    stake = continuity_at_stake(network)[p.demand]
    moved = used & stake & ~keeps_current(network)
    moved_share = math.fsum((flow[moved] / t.d_hours[p.demand[moved]]).tolist())
    return (variable + PAIR_CHARGE * n_pairs + CLUSTER_CHARGE * n_cluster_pairs
            + CONTINUITY_CHARGE * moved_share)


def arc_capacity(network: Network) -> np.ndarray:
    """Return the most hours a week each pair can carry on its own (format 2: within the slots both sides have)."""
    if network.slots is not None:
        return network.slots.pair_capacity
    t, p = network.tables, network.pairs
    return np.minimum(t.d_hours[p.demand], t.s_capacity[p.supply])


def cluster_groups(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Return, per pair, the index of its (cluster, supplier) group, and each group's supplier."""
    t, p = network.tables, network.pairs
    key = t.d_cluster[p.demand] * len(t.s_rate) + p.supply
    _, first, groups = np.unique(key, return_index=True, return_inverse=True)
    return groups.reshape(-1), p.supply[first]


def cluster_capacity(network: Network, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each pair's (cluster, supplier) group and the hours a week the supplier could give each group.

    That is what each pair can carry on its own (`capacity`; in format 2 only at the times both sides
    have), summed over the cluster's lines, up to the supplier's capacity.
    """
    groups, group_supplier = cluster_groups(network)
    group_hours = np.bincount(groups, weights=capacity).astype(np.int64)
    return groups, np.minimum(group_hours, network.tables.s_capacity[group_supplier])


def amortised_costs(network: Network) -> np.ndarray:
    """Return the first answer's integer costs per pair (hundredths of a penny an hour).

    Each fixed charge is spread over the hours it can cover (`cluster_capacity` for the cluster charge).
    """
    capacity = arc_capacity(network)
    groups, group_capacity = cluster_capacity(network, capacity)
    return _amortised_costs(network, capacity, group_capacity[groups])


def _amortised_costs(network: Network, pair_hours, cluster_hours) -> np.ndarray:
    """Return integer arc costs with each fixed charge spread over the hours it can cover."""
    t, p = network.tables, network.pairs
    cost = hourly_cost(network)
    cost += PAIR_CHARGE / np.maximum(pair_hours, 1)
    cost += CLUSTER_CHARGE / np.maximum(cluster_hours, 1)
    moving = continuity_at_stake(network)[p.demand] & ~keeps_current(network)
    cost += moving * (CONTINUITY_CHARGE / np.maximum(t.d_hours[p.demand], 1))
    return np.rint(cost * COST_SCALE).astype(np.int64)


# --- optimisation --------------------------------------------------------------------------


def optimise(network: Network, *, baseline: bool = False, helper: Helper | None = None) -> Matching:
    """Return a maximum flow of least (amortised) cost; `baseline` prices hours by rate only."""
    t, p = network.tables, network.pairs
    capacity = arc_capacity(network)
    plan = _plan_chunks(network, capacity)
    costs = (t.s_rate[p.supply] * COST_SCALE).astype(np.int64) if baseline else amortised_costs(network)
    flow, helper_peak_kb, slot_flow = _run_chunks(network, plan, capacity, costs, helper)
    return Matching(network, flow, helper_peak_kb, slot_flow, amortised_flow=None if baseline else (flow, slot_flow))


@dataclass(frozen=True)
class _Chunk:
    arcs: np.ndarray  # pair indices, in pair order
    lines: np.ndarray  # demand indices, ascending
    suppliers: np.ndarray  # supplier indices, ascending


def _plan_chunks(network: Network, capacity: np.ndarray) -> list[_Chunk]:
    """Split the pairs that can carry hours into chunks of whole connected components."""
    t, p = network.tables, network.pairs
    live = np.flatnonzero(capacity > 0)
    # A big component is a chunk of its own; small ones are packed together in label order.
    chunks: list[_Chunk] = []
    pending: list[np.ndarray] = []
    pending_arcs = 0
    for members in arc_components(p.demand[live], p.supply[live], len(t.d_hours), len(t.s_rate)):
        if len(members) >= CHUNK_ARCS:
            chunks.append(_make_chunk(p, live[members]))
            continue
        pending.append(members)
        pending_arcs += len(members)
        if pending_arcs >= CHUNK_ARCS:
            chunks.append(_make_chunk(p, live[np.concatenate(pending)]))
            pending, pending_arcs = [], 0
    if pending:
        chunks.append(_make_chunk(p, live[np.concatenate(pending)]))
    return chunks


def arc_components(demand: np.ndarray, supply: np.ndarray, nd: int, ns: int) -> list[np.ndarray]:
    """Return the connected components of these arcs (line, supplier indices) as positions, in the order of their first line."""
    if len(demand) == 0:
        return []
    graph = csr_matrix((np.ones(len(demand), np.int8), (demand, nd + supply)), shape=(nd + ns, nd + ns))
    arc_label = connected_components(graph, directed=False)[1][demand]
    order = np.argsort(arc_label, kind="stable")
    sorted_labels = arc_label[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    return [order[a:b] for a, b in zip(starts.tolist(), np.r_[starts[1:], len(order)].tolist())]


def _make_chunk(p: Pairs, arcs: np.ndarray) -> _Chunk:
    arcs = np.sort(arcs)
    return _Chunk(arcs, np.unique(p.demand[arcs]), np.unique(p.supply[arcs]))


def _run_chunks(network: Network, plan: list[_Chunk], capacity, costs,
                helper: Helper | None) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Solve every chunk; return the flow on each pair, a helper process's peak RSS, and format 2's slot flows."""
    t, p, slots = network.tables, network.pairs, network.slots
    flow = np.zeros(len(p), dtype=np.int64)
    positions: dict[int, np.ndarray] = {}

    # Each chunk's job is built when it is solved or sent, so a big instance holds few at once.
    def job_of(i: int):
        chunk = plan[i]
        if slots is not None:
            job, positions[i] = slot_job(slots, p, chunk.arcs, costs, t.s_capacity)
            return job
        nl = len(chunk.lines)
        line_node = np.searchsorted(chunk.lines, p.demand[chunk.arcs]) + 2
        supplier_node = np.searchsorted(chunk.suppliers, p.supply[chunk.arcs]) + 2 + nl
        return (
            "pairs", line_node, supplier_node, capacity[chunk.arcs], costs[chunk.arcs],
            t.d_hours[chunk.lines], t.s_capacity[chunk.suppliers],
        )

    if slots is None:
        sizes = [len(c.arcs) for c in plan]
    else:
        sizes = [int((slots.start[c.arcs + 1] - slots.start[c.arcs]).sum()) for c in plan]
    helper_peak_kb = 0
    if len(plan) > 1 and sum(sizes) >= PARALLEL_MIN_ARCS:
        own_helper = helper is None
        helper = helper or Helper()
        # Share the chunks between this process and one helper, biggest first, so both cores
        # work and finish at about the same time. Where a chunk is solved never changes its flow.
        here, there, load = [], [], [0, 0]
        for i in sorted(range(len(plan)), key=lambda i: (-sizes[i], i)):
            side = 0 if load[0] <= load[1] else 1
            (here if side == 0 else there).append(i)
            load[side] += sizes[i]
        try:
            solved, helper_peak_kb = solve_split(job_of, len(plan), here, there, helper)
        finally:
            if own_helper:
                helper.close()
    else:
        solved = [solve_chunk(job_of(i)) for i in range(len(plan))]
    if slots is not None:
        slot_flow = np.zeros(len(slots), dtype=np.int64)
        for i, chunk_flow in enumerate(solved):
            slot_flow[positions[i]] = chunk_flow
        return pair_hours(slots, slot_flow, len(p)), helper_peak_kb, slot_flow
    for chunk, chunk_flow in zip(plan, solved):
        flow[chunk.arcs] = chunk_flow
    return flow, helper_peak_kb, None


