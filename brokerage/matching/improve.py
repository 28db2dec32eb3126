"""Improve the one-pass matching towards the optimum of the documented objective, and bound it.

The one-pass min-cost flow (`solver.optimise`) sees the fixed charges amortised over arc
capacities, so it covers the maximum hours but pays more fixed charges than it needs to. Here
the answer is improved within a work budget, without ever changing the covered hours:

- The network is split into connected components (lines and suppliers linked by pairs that
  can carry hours). The objective and the coverage decompose over components.
- Each component gets a proven lower bound: the LP relaxation of the exact model below, with
  the strong (disaggregated) links `x_a <= cap_a * y_a` and `y_a <= z_g`, and hours fixed at
  the component's flow. A component too big for the LP gets the weaker bound of the min-cost
  flow with every fixed charge spread over the hours it can cover (which is the LP relaxation
  with only aggregated links).
- Small components are solved exactly as one MIP (HiGHS, through `scipy.optimize.milp`).
- Larger components, and small ones the MIP did not close, are improved by large-neighbourhood
  search: free the lines nearest a randomly chosen line, re-solve them exactly with every other
  line fixed, and keep the new hours if they cost less.

The exact model of a set of free pairs `a` (hours `x_a`, integer, at most `cap_a`):

    minimise   sum_a c_a x_a  +  PAIR_CHARGE * sum_a y_a  +  CLUSTER_CHARGE * sum_g z_g
    subject to sum_{a of line d} x_a <= hours_d           sum_{a of supplier s} x_a <= spare_s
               sum_a x_a = the hours the free pairs carry now (coverage never changes)
               x_a <= cap_a y_a,   y_a <= z_g(a),   sum_{a in g} x_a <= cap_g z_g
               y, z binary

where `c_a` is the hourly cost plus, on a pair moving a line from a current supplier that could
keep it, CONTINUITY_CHARGE / hours_d, and `g` runs over (cluster, supplier) groups that no fixed
pair has opened already. This is exactly `solver.objective_pence` restricted to the free pairs.

Determinism: nothing depends on the wall clock. The time limit is turned into a work budget
(`WORK_PER_SECOND` units a second; a MIP costs a fixed charge, one unit per branch-and-bound
node it used and one per 100 arcs, the strong LP grows with the square of its arcs), HiGHS runs single-threaded with node limits, and neighbourhoods are drawn from
a `numpy` generator with a fixed seed. The same instance and time limit give the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from brokerage.matching.errors import MatchingError
from brokerage.matching.solver import (
    CLUSTER_CHARGE,
    CONTINUITY_CHARGE,
    PAIR_CHARGE,
    Matching,
    _arc_capacity,
    _cluster_groups,
    continuity_at_stake,
    hourly_cost,
    keeps_current,
    objective_pence,
)

# --- the work budget -------------------------------------------------------------------------
# Work units per second of time limit, calibrated so that a run takes about the time limit on
# the 2-core machine the project is measured on. A faster machine finishes sooner with the same
# answer; a slower one takes longer with the same answer.
WORK_PER_SECOND = 20
# Work units charged for each MIP solved, before its nodes and arcs.
SOLVE_WORK = 16
# Branch-and-bound nodes for one component solved as a whole, and for one neighbourhood.
EXACT_NODE_LIMIT = 200
LNS_NODE_LIMIT = 20
# Components with at most this many arcs are tried as one exact MIP.
EXACT_MAX_ARCS = 300
# A neighbourhood grows line by line, nearest first, to at most this many arcs.
LNS_MAX_ARCS = 250
# Components with at most this many arcs get the strong LP bound; bigger ones the flow bound.
LP_MAX_ARCS = 150_000
# The seed of the neighbourhood generator: fixed, so runs repeat.
SEED = 14
# HiGHS's relative gap for calling a MIP optimal.
MIP_REL_GAP = 1e-7
# A new answer must be cheaper by more than this many pence to replace the old one.
EPSILON_PENCE = 1e-6


@dataclass(frozen=True)
class Improvement:
    """The improved matching, its cost and a proven lower bound (pence), and how it was found."""

    matching: Matching
    first_cost_pence: float  # the one-pass answer's cost
    cost_pence: float
    lower_bound_pence: float
    components: int
    exact_components: int  # components whose answer is proven optimal
    optimal: bool  # every component is proven optimal
    neighbourhoods: int  # LNS neighbourhoods solved
    improved_neighbourhoods: int  # of which gave a cheaper answer

    @property
    def gap_pct(self) -> float:
        """Return how far the cost may be above the optimum, in percent of the cost."""
        if self.cost_pence <= 0:
            return 0.0
        return max(0.0, (self.cost_pence - self.lower_bound_pence) / self.cost_pence * 100)


@dataclass(frozen=True)
class _Model:
    """What the exact model needs, per pair of the network, in the solver's pair order."""

    cost: np.ndarray  # c_a, pence an hour, with the continuity charge spread per hour
    capacity: np.ndarray  # min(line hours, supplier capacity)
    line: np.ndarray
    supplier: np.ndarray
    group: np.ndarray  # (cluster, supplier) group index
    n_groups: int
    hours: np.ndarray  # per line
    supplier_capacity: np.ndarray  # per supplier


def solve_within(instance, *, time_limit: float, cluster_names=None, supplier_names=None):
    """Return (solution, improvement): `solver.solve` with the improvement's figures kept."""
    from brokerage.matching.solver import build_network, helper_for, optimise, to_solution

    with helper_for(instance) as helper:
        matching = optimise(build_network(instance), helper=helper)
    outcome = improve(matching, time_limit=time_limit)
    solution = to_solution(outcome.matching, cluster_names=cluster_names, supplier_names=supplier_names)
    return solution, outcome


def improve(matching: Matching, *, time_limit: float) -> Improvement:
    """Return a cheaper matching covering the same hours, with a proven lower bound on the cost.

    `time_limit` (seconds, at least 0) sets a deterministic work budget; 0 only bounds the
    one-pass answer. Raises MatchingError if a solver fails.
    """
    network = matching.network
    model = _model(matching)
    flow = matching.flow.astype(np.int64).copy()
    first_cost = objective_pence(network, flow)
    components = _components(model)
    budget = _Budget(int(round(max(0.0, time_limit) * WORK_PER_SECOND)))
    rng = np.random.default_rng(SEED)
    xyz = _line_points(network)

    bounds: list[float] = []
    proven: list[bool] = []
    for arcs in components:
        # The strong LP when the budget affords it; the flow bound (one min-cost flow) always.
        bound = _flow_bound(model, arcs)
        if len(arcs) <= LP_MAX_ARCS and budget.take(_lp_work(arcs)):
            bound = max(bound, _lp_bound(model, arcs, int(flow[arcs].sum())))
        bounds.append(bound)
        proven.append(_is_proven(_sub_cost(model, arcs, flow[arcs], _closed_all(model, arcs)), bound))

    # Small components first: each is solved whole while the budget lasts.
    order = sorted(range(len(components)), key=lambda k: (len(components[k]), k))
    for k in order:
        arcs = components[k]
        if proven[k] or len(arcs) > EXACT_MAX_ARCS or not budget.take(_arc_work(arcs)):
            continue
        open_groups = _closed_all(model, arcs)
        result = _solve_exact(model, arcs, flow, open_groups, min(EXACT_NODE_LIMIT, budget.left))
        if result is None:
            continue
        new, optimal, dual, nodes = result
        budget.take(min(nodes, budget.left))
        if _sub_cost(model, arcs, new, open_groups) < _sub_cost(model, arcs, flow[arcs], open_groups) - EPSILON_PENCE:
            flow[arcs] = new
        bounds[k] = max(bounds[k], dual)
        if optimal or _is_proven(_sub_cost(model, arcs, flow[arcs], open_groups), bounds[k]):
            proven[k] = True

    # The budget left goes to the open components, in proportion to their gaps.
    neighbourhoods = improved = 0
    open_k = [k for k in range(len(components)) if not proven[k]]
    gaps = {k: _sub_cost(model, components[k], flow[components[k]], _closed_all(model, components[k])) - bounds[k]
            for k in open_k}
    total_gap = sum(gaps.values())
    if total_gap > 0 and budget.left > 0:
        shares = {k: int(budget.left * gaps[k] / total_gap) for k in open_k}
        for k in open_k:
            share = _Budget(shares[k])
            lines = np.unique(model.line[components[k]])
            if len(lines) < 2:
                continue
            while share.take(_arc_work(np.empty(LNS_MAX_ARCS))):
                neighbourhoods += 1
                gained, nodes = _lns_step(model, components[k], lines, flow, rng, xyz,
                                          min(LNS_NODE_LIMIT, max(1, share.left)))
                share.take(min(nodes, share.left))
                if gained:
                    improved += 1
                    if _is_proven(_sub_cost(model, components[k], flow[components[k]],
                                            _closed_all(model, components[k])), bounds[k]):
                        proven[k] = True
                        break

    cost = objective_pence(network, flow)
    if cost > first_cost + EPSILON_PENCE:  # never worse than the first answer
        raise MatchingError("the improvement made the matching dearer")
    for k, arcs in enumerate(components):
        bounds[k] = min(bounds[k], _sub_cost(model, arcs, flow[arcs], _closed_all(model, arcs)))
    return Improvement(
        matching=replace(matching, flow=flow),
        first_cost_pence=first_cost,
        cost_pence=cost,
        lower_bound_pence=math.fsum(bounds),
        components=len(components),
        exact_components=sum(proven),
        optimal=all(proven),
        neighbourhoods=neighbourhoods,
        improved_neighbourhoods=improved,
    )


def _is_proven(cost: float, bound: float) -> bool:
    """Tell whether a cost meets its lower bound, up to the solvers' round-off."""
    return cost - bound <= 1e-7 * max(1.0, abs(cost)) + 1e-5


class _Budget:
    def __init__(self, units: int) -> None:
        self.left = units

    def take(self, units: int) -> bool:
        if units > self.left:
            return False
        self.left -= units
        return True


def _arc_work(arcs: np.ndarray) -> int:
    # Measured: a MIP over a few hundred arcs takes about a second whatever its node count.
    return SOLVE_WORK + len(arcs) // 100


def _lp_work(arcs: np.ndarray) -> int:
    # Measured: the strong LP takes about 0.3 s for 3,300 arcs and grows about as their square.
    return 1 + int(6 * (len(arcs) / 3300) ** 2)


# --- the model ---------------------------------------------------------------------------------


def _model(matching: Matching) -> _Model:
    network = matching.network
    t, p = network.tables, network.pairs
    cost = hourly_cost(network)
    moving = continuity_at_stake(network)[p.demand] & ~keeps_current(network)
    cost = cost + moving * (CONTINUITY_CHARGE / np.maximum(t.d_hours[p.demand], 1))
    groups, _ = _cluster_groups(network)
    return _Model(
        cost=cost,
        capacity=_arc_capacity(network),
        line=p.demand,
        supplier=p.supply,
        group=groups,
        n_groups=int(groups.max()) + 1 if len(groups) else 0,
        hours=t.d_hours,
        supplier_capacity=t.s_capacity,
    )


def _components(model: _Model) -> list[np.ndarray]:
    """Return the arcs of each connected component, in the order of their first line."""
    live = np.flatnonzero(model.capacity > 0)
    if len(live) == 0:
        return []
    nd, ns = len(model.hours), len(model.supplier_capacity)
    graph = csr_matrix((np.ones(len(live), np.int8), (model.line[live], nd + model.supplier[live])),
                       shape=(nd + ns, nd + ns))
    _, label = connected_components(graph, directed=False)
    arc_label = label[model.line[live]]
    # Labels follow node order, so the first line of a component fixes its place.
    order = np.argsort(arc_label, kind="stable")
    sorted_labels = arc_label[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    return [np.sort(live[order[a:b]]) for a, b in zip(starts, np.r_[starts[1:], len(order)])]


def _closed_all(model: _Model, arcs: np.ndarray) -> np.ndarray:
    """Return, for a whole component, the groups already opened by pairs outside it: none."""
    return np.zeros(0, np.int64)


def _sub_cost(model: _Model, arcs: np.ndarray, x: np.ndarray, open_groups: np.ndarray) -> float:
    """Return the objective's share (pence) of hours `x` on `arcs`, given groups already open."""
    used = x > 0
    if not used.any():
        return 0.0
    variable = math.fsum((x[used] * model.cost[arcs[used]]).tolist())
    groups = np.setdiff1d(np.unique(model.group[arcs[used]]), open_groups)
    return variable + PAIR_CHARGE * int(used.sum()) + CLUSTER_CHARGE * len(groups)


def _line_points(network) -> np.ndarray:
    t = network.tables
    phi, lam = np.radians(t.d_lat), np.radians(t.d_lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


# --- exact solves ------------------------------------------------------------------------------


def _build(model: _Model, arcs: np.ndarray, spare: np.ndarray, open_groups: np.ndarray, total: int):
    """Return (c, integrality, bounds, constraints, n) of the exact model on `arcs`.

    `spare` is each supplier's capacity left by the fixed pairs (indexed like the network).
    """
    n = len(arcs)
    line_ids, line_of = np.unique(model.line[arcs], return_inverse=True)
    sup_ids, sup_of = np.unique(model.supplier[arcs], return_inverse=True)
    cap = np.minimum(model.capacity[arcs], spare[model.supplier[arcs]]).astype(np.float64)
    group = model.group[arcs]
    closed = ~np.isin(group, open_groups)
    g_ids, g_of = np.unique(group[closed], return_inverse=True)
    m = len(g_ids)
    arc_idx = np.arange(n)
    closed_idx = arc_idx[closed]

    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(row_ids, col_ids, values):
        rows.append(np.asarray(row_ids) + r)
        cols.append(np.asarray(col_ids))
        vals.append(np.asarray(values, dtype=np.float64))

    # Line hours and supplier spare capacity.
    add(line_of, arc_idx, np.ones(n))
    lo.append(np.zeros(len(line_ids))); hi.append(model.hours[line_ids].astype(np.float64))
    r += len(line_ids)
    add(sup_of, arc_idx, np.ones(n))
    lo.append(np.zeros(len(sup_ids))); hi.append(spare[sup_ids].astype(np.float64))
    r += len(sup_ids)
    # Coverage is fixed.
    add(np.zeros(n, np.int64), arc_idx, np.ones(n))
    lo.append(np.array([float(total)])); hi.append(np.array([float(total)]))
    r += 1
    # x_a <= cap_a y_a
    add(np.r_[arc_idx, arc_idx], np.r_[arc_idx, n + arc_idx], np.r_[np.ones(n), -cap])
    lo.append(np.full(n, -np.inf)); hi.append(np.zeros(n))
    r += n
    # y_a <= z_g for groups no fixed pair opened
    k = len(closed_idx)
    add(np.r_[np.arange(k), np.arange(k)], np.r_[n + closed_idx, 2 * n + g_of],
        np.r_[np.ones(k), -np.ones(k)])
    lo.append(np.full(k, -np.inf)); hi.append(np.zeros(k))
    r += k
    # sum_{a in g} x_a <= cap_g z_g, cap_g the most the supplier can give the group's lines
    g_sup = np.zeros(m, np.int64)
    g_sup[g_of] = model.supplier[arcs[closed_idx]]
    g_cap = np.minimum(np.bincount(g_of, weights=cap[closed_idx], minlength=m), spare[g_sup])
    add(np.r_[g_of, np.arange(m)], np.r_[closed_idx, 2 * n + np.arange(m)],
        np.r_[np.ones(k), -g_cap])
    lo.append(np.full(m, -np.inf)); hi.append(np.zeros(m))
    r += m

    matrix = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(r, 2 * n + m)).tocsr()
    c = np.r_[model.cost[arcs], np.full(n, float(PAIR_CHARGE)), np.full(m, float(CLUSTER_CHARGE))]
    bounds = Bounds(np.zeros(2 * n + m), np.r_[cap, np.ones(n + m)])
    constraints = LinearConstraint(matrix, np.concatenate(lo), np.concatenate(hi))
    return c, bounds, constraints, n


def _spare(model: _Model, flow: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Return each supplier's capacity left by the pairs not in `free`."""
    fixed = flow.copy()
    fixed[free] = 0
    used = np.bincount(model.supplier, weights=fixed, minlength=len(model.supplier_capacity))
    return (model.supplier_capacity - used.astype(np.int64)).astype(np.int64)


def _lp_bound(model: _Model, arcs: np.ndarray, total: int) -> float:
    """Return the strong LP relaxation's optimum (pence) for a whole component."""
    spare = model.supplier_capacity.astype(np.int64)
    c, bounds, constraints, _ = _build(model, arcs, spare, np.zeros(0, np.int64), total)
    res = milp(c, integrality=np.zeros(len(c)), bounds=bounds, constraints=constraints)
    if res.status != 0:
        raise MatchingError(f"the LP bound failed ({res.message})")
    # Round-off of the LP solver must not push the bound above the true optimum.
    return res.fun * (1 - 1e-9) - 1e-6


def _flow_bound(model: _Model, arcs: np.ndarray) -> float:
    """Return a valid lower bound (pence): the min-cost max flow with fixed charges spread thin."""
    line_ids, line_of = np.unique(model.line[arcs], return_inverse=True)
    sup_ids, sup_of = np.unique(model.supplier[arcs], return_inverse=True)
    cap = model.capacity[arcs]
    g_ids, g_of = np.unique(model.group[arcs], return_inverse=True)
    g_sup = np.zeros(len(g_ids), np.int64)
    g_sup[g_of] = model.supplier[arcs]
    g_cap = np.minimum(np.bincount(g_of, weights=cap), model.supplier_capacity[g_sup])
    per_hour = model.cost[arcs] + PAIR_CHARGE / np.maximum(cap, 1) + CLUSTER_CHARGE / np.maximum(g_cap[g_of], 1)
    scaled = np.floor(per_hour * 100).astype(np.int64)  # rounded down: the bound stays valid
    nl, ns = len(line_ids), len(sup_ids)
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(line_of + 2, sup_of + 2 + nl, cap, scaled)
    solver.add_arcs_with_capacity_and_unit_cost(np.zeros(nl, np.int64), np.arange(2, 2 + nl),
                                                model.hours[line_ids], np.zeros(nl, np.int64))
    solver.add_arcs_with_capacity_and_unit_cost(np.arange(2 + nl, 2 + nl + ns), np.ones(ns, np.int64),
                                                model.supplier_capacity[sup_ids], np.zeros(ns, np.int64))
    total = int(model.hours[line_ids].sum())
    solver.set_node_supply(0, total)
    solver.set_node_supply(1, -total)
    if solver.solve_max_flow_with_min_cost() != solver.OPTIMAL:
        raise MatchingError("the flow bound failed")
    return solver.optimal_cost() / 100 - 1e-6


def _solve_exact(model: _Model, free: np.ndarray, flow: np.ndarray, open_groups: np.ndarray,
                 node_limit: int) -> tuple[np.ndarray, bool, float, int] | None:
    """Re-solve the hours on `free` pairs exactly, every other pair fixed.

    Return (hours on `free`, proven optimal, dual bound in pence, nodes used), or None if HiGHS
    found no solution within its node limit.
    """
    total = int(flow[free].sum())
    spare = _spare(model, flow, free)
    c, bounds, constraints, n = _build(model, free, spare, open_groups, total)
    # Hours may be continuous: once y is fixed, what is left is a flow problem, whose optimal
    # vertices are integral. A fractional answer (cuts can leave one) is re-solved with y fixed.
    integrality = np.r_[np.zeros(n), np.ones(len(c) - n)]
    res = milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
               options={"node_limit": node_limit, "mip_rel_gap": MIP_REL_GAP})
    if res.x is None:
        return None
    x = res.x[:n]
    if np.abs(x - np.rint(x)).max(initial=0) > 1e-6:
        y = np.rint(res.x[n:2 * n])
        fixed = Bounds(bounds.lb, np.r_[bounds.ub[:n] * y, bounds.ub[n:]])
        lp = milp(c, integrality=np.zeros(len(c)), bounds=fixed, constraints=constraints)
        if lp.x is None:
            return None
        x = lp.x[:n]
    x = np.rint(x).astype(np.int64)
    if not _feasible(model, free, x, spare, total):
        return None
    dual = getattr(res, "mip_dual_bound", None)
    dual = float(dual) * (1 - 1e-9) - 1e-6 if dual is not None and np.isfinite(dual) else -np.inf
    return x, res.status == 0, dual, int(getattr(res, "mip_node_count", node_limit) or 0)


def _feasible(model: _Model, free: np.ndarray, x: np.ndarray, spare: np.ndarray, total: int) -> bool:
    if (x < 0).any() or (x > model.capacity[free]).any() or int(x.sum()) != total:
        return False
    by_line = np.bincount(model.line[free], weights=x, minlength=len(model.hours))
    by_sup = np.bincount(model.supplier[free], weights=x, minlength=len(spare))
    return bool((by_line <= model.hours).all() and (by_sup <= spare).all())


# --- large-neighbourhood search ----------------------------------------------------------------


def _lns_step(model: _Model, arcs: np.ndarray, lines: np.ndarray, flow: np.ndarray,
              rng: np.random.Generator, xyz: np.ndarray, node_limit: int) -> tuple[bool, int]:
    """Free the lines nearest a random line of a component, re-solve them, keep a gain.

    Return whether the hours changed, and the branch-and-bound nodes used.
    """
    seed = lines[rng.integers(len(lines))]
    d2 = ((xyz[lines] - xyz[seed]) ** 2).sum(axis=1)
    near = lines[np.lexsort((lines, d2))]
    line_arcs = np.bincount(model.line[arcs], minlength=len(model.hours))[near]
    take = max(1, int(np.searchsorted(np.cumsum(line_arcs), LNS_MAX_ARCS, side="right")))
    chosen = near[:take]
    free = arcs[np.isin(model.line[arcs], chosen)]
    fixed = np.setdiff1d(arcs, free, assume_unique=True)
    open_groups = np.unique(model.group[fixed[flow[fixed] > 0]])
    result = _solve_exact(model, free, flow, open_groups, node_limit)
    if result is None:
        return False, node_limit
    new, nodes = result[0], result[3]
    if _sub_cost(model, free, new, open_groups) < _sub_cost(model, free, flow[free], open_groups) - EPSILON_PENCE:
        flow[free] = new
        return True, nodes
    return False, nodes
