"""Improve the one-pass matching towards the optimum of the documented objective, and bound it.

The one-pass min-cost flow (`solver.optimise`) sees the fixed charges amortised over arc
capacities, so it covers the maximum hours but pays more fixed charges than it needs to. Here
the answer is improved within a work budget, without ever changing the covered hours:

- The network is split into connected components (lines and suppliers linked by pairs that
  can carry hours). The objective and the coverage decompose over components.
- Each component gets a proven lower bound: the flow bound (the min-cost flow with every fixed
  charge spread over the hours it can cover; format 2 reads it off the first answer, that flow),
  then, within BOUND_SHARE of the budget, the strong LP of the exact model below with rounds of
  cutting planes or, for a component too big for the LP, a Lagrangian bound (`lagrangian.py`).
- Small components are solved exactly as one MIP (HiGHS).
- The relaxation's fractional answer (the LP's, or the Lagrangian's recent average) is rounded by
  a min-cost flow over the pairs it uses, each fixed charge spread over the hours it gives them.
- Local search (`local_search.py`, format 1) moves whole lines, swaps them, chains their moves,
  moves parts of split lines and all of a supplier's lines in a cluster, while the cost falls; in
  format 2 (`slot_moves.py`) it moves a line, whole or one supplier's part of it, onto a pair
  with room at the same times, or whole onto a full supplier while another line's part there
  moves elsewhere (a swap; after one round of the cheaper moves on every component).
- Large-neighbourhood search: free a few lines linked by capacity (a random line, the lines its
  cheapest suppliers serve now, then theirs, ...) or the lines nearest a random line, re-solve
  them exactly (their cheapest pairs, the ones in use and the ones the relaxation uses) with every
  other line fixed, and keep the new hours if they cost less. Neighbourhoods grow when a pass
  over a component's lines gains little.

The exact model of a set of free pairs `a` (hours `x_a`, integer, at most `cap_a`):

    minimise   sum_a c_a x_a  +  PAIR_CHARGE * sum_a y_a  +  CLUSTER_CHARGE * sum_g z_g
    subject to sum_{a of line d} x_a <= hours_d           sum_{a of supplier s} x_a <= spare_s
               sum_a x_a = the hours the free pairs carry now (coverage never changes)
               x_a <= cap_a y_a,   y_a <= z_g(a),   sum_{a in g} x_a <= cap_g z_g
               y, z binary

where `c_a` is the hourly cost plus, on a pair moving a line from a current supplier that could
keep it, CONTINUITY_CHARGE / hours_d, and `g` runs over (cluster, supplier) groups that no fixed
pair has opened already. This is exactly `solver.objective_pence` restricted to the free pairs.
In format 2 the hours are per slot arc `u` of a pair (`x_u <= cap_u y_a` for each), with rows per
(line, slot) and (supplier, slot), and each supplier's week a row of its own (`fixed_charge.build_mip`).

Determinism: nothing depends on the wall clock. The time limit is turned into a work budget
(`WORK_PER_SECOND` units a second, a unit being about a millisecond of one core on the reference
machine). Every step is charged by what it did: a MIP by HiGHS's simplex iterations, an LP by its
size, a local search round by its pairs and the moves it tried, a Lagrangian step by its pairs.
HiGHS runs on one thread with node limits and a cap on how often it may look whether to stop,
and random choices come from a `numpy` generator with a fixed seed. The same instance and time
limit give the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import csr_matrix

from brokerage.matching.budget import Budget, lagrange_start, lagrange_work, mip_work
from brokerage.matching.errors import MatchingError
from brokerage.matching.fixed_charge import (
    closed_all, components_of, first_answer_bound, flow_bound, line_points, model_of, Model, round_relaxed, solve_exact, sub_cost,
)
from brokerage.matching.local_search import LocalSearch
from brokerage.matching.lagrangian import FULL_EVERY, Lagrangian
from brokerage.matching.relaxation import StrongLP, lp_work
from brokerage.matching.slot_moves import SlotShifts
from brokerage.matching.solver import (
    PAIR_CHARGE, Matching, amortised_costs, build_network, helper_for, objective_pence, optimise, to_solution,
)

# --- the work budget -------------------------------------------------------------------------
# Work units per second of time limit, calibrated so that a run takes about the time limit on
# the 2-core machine the project is measured on (a unit is about a millisecond of one core). A
# faster machine finishes sooner with the same answer; a slower one takes longer with the same answer.
WORK_PER_SECOND = 1100
# The work outside the charged steps (the flow bounds, ranks, costs), one unit per this many pairs.
SETUP_PAIRS_PER_UNIT = 200
# Branch-and-bound nodes for one component solved as a whole, and for one neighbourhood.
EXACT_NODE_LIMIT = 200
LNS_NODE_LIMIT = 20
# ... and how many times HiGHS may look whether to stop (about once per LP it solves).
EXACT_CHECKS, LNS_CHECKS = 2000, 100
# Components with at most this many arcs are tried as one exact MIP.
EXACT_MAX_ARCS = 300
# A neighbourhood holds at most this many hour variables.
LNS_MAX_ARCS = 250
# Neighbourhoods start with this many lines and grow by LNS_GROW lines, to at most LNS_MAX_LINES,
# after a pass over a component's lines gains less than LNS_STALL of its gap.
LNS_LINES, LNS_GROW, LNS_MAX_LINES, LNS_STALL = 6, 2, 14, 0.02
# A neighbourhood frees each line's this many cheapest pairs (fixed charges spread over their
# capacity), the pairs in use and the pairs the LP uses; the capacity links of a line follow its
# this many cheapest pairs.
FREE_PAIRS, LINK_PAIRS = 4, 4
# The Lagrangian's guess at the LP's hours is rounded with the current answer added at this
# weight; pairs it gives more than GUIDE_HOURS are freed in neighbourhoods.
GUESS_WEIGHT, GUIDE_HOURS = 0.3, 0.5
# Components with at most this many arcs get the strong LP bound; bigger ones the Lagrangian.
LP_MAX_ARCS = 8000
# At most this share of the budget goes to bounds, and at most this many cut rounds per component
# (format 2's warm solves are slow, and at S its third round raised the bound by a tenth of the second's).
BOUND_SHARE, CUT_ROUNDS, SLOT_CUT_ROUNDS = 0.55, 30, 3
# A cut round must raise the bound by this share of the gap to go on.
CUT_PROGRESS = 0.002
# The seed of the neighbourhood generator: fixed, so runs repeat.
SEED = 14
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


def solve_within(instance, *, time_limit: float, cluster_names=None, supplier_names=None, offered=None):
    """Return (solution, improvement): `solver.solve` with the improvement's figures kept (`offered`: see `solver.to_solution`)."""
    with helper_for(instance) as helper:
        matching = optimise(build_network(instance), helper=helper)
    outcome = improve(matching, time_limit=time_limit)
    solution = to_solution(outcome.matching, cluster_names=cluster_names, supplier_names=supplier_names, offered=offered)
    return solution, outcome


def improve(matching: Matching, *, time_limit: float) -> Improvement:
    """Return a cheaper matching covering the same hours, with a proven lower bound on the cost.

    `time_limit` (seconds, at least 0) sets a deterministic work budget; 0 only bounds the
    one-pass answer. Raises MatchingError if a solver fails.
    """
    network = matching.network
    model = model_of(matching)
    flow = matching.flow.astype(np.int64).copy()
    # The hours per unit (pair, or format 2's slot arc), kept in step with `flow` by _Search.place;
    # in format 1 the units are the pairs, and the two are one array.
    unit_flow = flow if model.slots is None else matching.slot_flow.astype(np.int64).copy()
    first_cost = objective_pence(network, flow)
    components = components_of(model)
    budget = Budget(int(round(max(0.0, time_limit) * WORK_PER_SECOND)))

    def cost_of(k: int) -> float:
        return sub_cost(model, components[k], flow[components[k]], closed_all(model, components[k]))

    # Format 2 reads the flow bounds off the first answer, that min-cost flow (at L solving it again took as
    # long as the first answer); format 1 solves them, cheaply, and starts its Lagrangian there.
    costs = amortised_costs(network) if matching.amortised_optimal and model.slots is not None else None
    flows = [flow_bound(model, arcs, with_flow=True) if costs is None else first_answer_bound(model, arcs, unit_flow, costs)
             for arcs in components]
    bounds = [f[0] for f in flows]
    proven = [_is_proven(cost_of(k), bounds[k]) for k in range(len(components))]
    search = None
    if budget.take(len(flow) // SETUP_PAIRS_PER_UNIT):  # bounds, multipliers, ranks, costs: work outside the steps
        search = _Search(model, flow, unit_flow, line_points(network))
        _spend(search, components, flows, bounds, proven, budget, cost_of)

    cost = objective_pence(network, flow)
    if cost > first_cost + EPSILON_PENCE:  # never worse than the first answer
        raise MatchingError("the improvement made the matching dearer")
    for k in range(len(components)):
        bounds[k] = min(bounds[k], cost_of(k))
        proven[k] = proven[k] or _is_proven(cost_of(k), bounds[k])
    return Improvement(
        matching=replace(matching, flow=flow, slot_flow=None if model.slots is None else unit_flow, amortised_flow=None),
        first_cost_pence=first_cost,
        cost_pence=cost,
        lower_bound_pence=math.fsum(bounds),
        components=len(components),
        exact_components=int(sum(proven)),
        optimal=all(proven),
        neighbourhoods=0 if search is None else search.solved,
        improved_neighbourhoods=0 if search is None else search.improved,
    )


def _spend(search: "_Search", components: list[np.ndarray], flows: list, bounds: list[float], proven: list[bool],
           budget: Budget, cost_of) -> None:
    """Improve the answer (in `search`) and the components' bounds and proofs (in place) within `budget`."""
    model, flow, unit_flow = search.model, search.flow, search.unit_flow
    order = sorted(range(len(components)), key=lambda k: (len(components[k]), k))
    # Small components first: each is solved whole while the budget lasts.
    for k in order:
        arcs = components[k]
        if proven[k] or len(arcs) > EXACT_MAX_ARCS or budget.left < mip_work(len(model.units_of(arcs))):
            continue
        open_groups = closed_all(model, arcs)
        new, optimal, dual, _, work = solve_exact(model, arcs, unit_flow, open_groups, EXACT_NODE_LIMIT, EXACT_CHECKS,
                                                   budget.left)
        budget.take(min(work, budget.left))
        bounds[k] = max(bounds[k], dual)
        if new is not None:
            search.place(arcs, new, open_groups)
        proven[k] = (optimal and new is not None) or _is_proven(cost_of(k), bounds[k])

    # Bounds (and the relaxations' rounded answers) for the rest, within BOUND_SHARE of the budget:
    # the strong LP and its cuts for components small enough, the Lagrangian for the others.
    open_k = [k for k in order if not proven[k]]
    bound_budget = Budget(int(budget.left * BOUND_SHARE))
    guides: dict[int, np.ndarray] = {}
    big = [k for k in open_k if len(components[k]) > LP_MAX_ARCS]
    # What the big components' Lagrangians must pay before their first bound is kept for them, where their
    # share of the bound budget by size pays for it (at L none does, and the LP components keep it all).
    size = sum(len(components[k]) for k in big)
    starts = [lagrange_start(len(model.units_of(components[k])), model.slots is not None) for k in big]
    kept = [start if start <= bound_budget.left * len(components[k]) / size else 0 for k, start in zip(big, starts)]
    pairs_left = sum(len(components[k]) for k in open_k)  # of the components not yet bounded
    for k in open_k:
        arcs = components[k]
        if len(arcs) <= LP_MAX_ARCS:
            share = Budget(max(0, bound_budget.left - sum(kept)))
            if model.slots is not None:  # format 2's warm solves are dear: its cut rounds keep to a share by size
                share = Budget(min(share.left, max(int(share.left * len(arcs) / pairs_left), lp_work(len(model.units_of(arcs))))))
            bounds[k], guides[k] = _cut_rounds(model, arcs, unit_flow, bounds[k], cost_of(k), share, search)
            bound_budget.take(share.spent)
        pairs_left -= len(arcs)
    kept_after = sum(kept)
    for k, start, start_kept in zip(big, starts, kept):
        # Its share by size, at least the start kept back for it, and never what is kept for those after it.
        arcs = components[k]
        kept_after -= start_kept
        share = Budget(min(bound_budget.left - kept_after, max(int(bound_budget.left * len(arcs) / size), start_kept)))
        size -= len(arcs)
        units, slots = len(model.units_of(arcs)), model.slots is not None
        if not share.take(start):
            continue
        relaxed, ceiling = Lagrangian(model, arcs, int(flow[arcs].sum()), flows[k][1], flows[k][2]), cost_of(k)
        if slots:
            for _ in range(FULL_EVERY):
                relaxed.step(ceiling)
        while share.take(lagrange_work(units, slots)):
            for _ in range(FULL_EVERY):
                relaxed.step(ceiling)
        bounds[k] = max(bounds[k], relaxed.bound)
        bound_budget.take(share.spent)
        guides[k] = search.round_guess(arcs, relaxed.average, budget)
    budget.take(min(budget.left, bound_budget.spent))

    # The budget left goes to local search, then to neighbourhoods of the open components in
    # proportion to their gaps.
    search.local(components, open_k, budget)
    gaps = {k: max(0.0, cost_of(k) - bounds[k]) for k in open_k}
    total_gap = sum(gaps.values())
    if total_gap > 0 and budget.left > 0:
        shares = {k: int(budget.left * gaps[k] / total_gap) for k in open_k}
        for k in open_k:
            search.neighbourhoods(components[k], guides.get(k), Budget(shares[k]), gaps[k],
                                  lambda k=k: _is_proven(cost_of(k), bounds[k]))


def _cut_rounds(model: Model, arcs, unit_flow, bound: float, cost: float, share: Budget, search: "_Search"):
    """Bound a component by the strong LP and cut rounds within `share`; put its rounded answer in place if cheaper.

    Return (bound, the pairs the LP used).
    """
    units = model.units_of(arcs)
    total = int(unit_flow[units].sum())
    if share.left < lp_work(len(units)):
        return bound, None
    relaxed = StrongLP(model, arcs, total)
    rounds = CUT_ROUNDS if model.slots is None else SLOT_CUT_ROUNDS
    for round_number in range(rounds):
        if round_number and share.left < relaxed.lp.work:  # a warm solve's work, known before: not past the share
            break
        before = relaxed.bound
        # Cuts are looked for only when a round after this one could use them.
        last = round_number + 1 == rounds or share.left < relaxed.lp.work + relaxed.lp.next_work()
        added, work = relaxed.round(unit_flow[relaxed.units], cut=model.slots is None or not last)
        share.take(min(work, share.left))
        if not added or share.left <= 0 or relaxed.bound - before < CUT_PROGRESS * max(cost - relaxed.bound, 1.0):
            break
    rounded = round_relaxed(model, arcs, relaxed.x, total)
    if rounded is not None:
        search.place(arcs, rounded, closed_all(model, arcs))
    used = np.bincount(relaxed.pair_of, weights=relaxed.x, minlength=len(arcs)) > 1e-6
    return max(bound, relaxed.bound), arcs[used]


def _is_proven(cost: float, bound: float) -> bool:
    """Tell whether a cost meets its lower bound, up to the solvers' round-off."""
    return cost - bound <= 1e-7 * max(1.0, abs(cost)) + 1e-5


# --- the search ----------------------------------------------------------------------------------


class _Search:
    """The current answer (hours per pair and per unit) and the moves that improve it."""

    def __init__(self, model: Model, flow: np.ndarray, unit_flow: np.ndarray, xyz: np.ndarray) -> None:
        self.model, self.flow, self.unit_flow, self.xyz = model, flow, unit_flow, xyz
        self.rng = np.random.default_rng(SEED)
        self.solved = self.improved = 0
        # Each pair's rank among its line's pairs by cost with the pair charge spread over its capacity.
        amortised = model.cost + PAIR_CHARGE / np.maximum(model.capacity, 1)
        order = np.lexsort((np.arange(len(amortised)), amortised, model.line))
        starts = np.searchsorted(model.line[order], model.line[order], side="left")
        self.rank = np.empty(len(order), np.int64)
        self.rank[order] = np.arange(len(order)) - starts

    def place(self, arcs: np.ndarray, new: np.ndarray, open_groups: np.ndarray) -> bool:
        """Put hours `new` (on the units of pairs `arcs`) in place if they cost less; tell whether they did."""
        model = self.model
        units = model.units_of(arcs)
        hours = model.pair_hours(arcs, units, new)
        if sub_cost(model, arcs, hours, open_groups) < sub_cost(model, arcs, self.flow[arcs], open_groups) - EPSILON_PENCE:
            self.flow[arcs] = hours
            self.unit_flow[units] = new
            return True
        return False

    def round_guess(self, arcs: np.ndarray, guess: np.ndarray, budget: Budget) -> np.ndarray:
        """Round a guess at the LP's hours (per unit), polish it by local search (format 1), and keep it if cheaper.

        Return the pairs the guess uses, to guide the neighbourhoods.
        """
        model = self.model
        if model.slots is not None:
            units = model.units_of(arcs)
            # Paid for by the caller (budget.ROUNDING_UNITS_PER_UNIT).
            rounded = round_relaxed(model, arcs, guess + GUESS_WEIGHT * self.unit_flow[units], int(self.flow[arcs].sum()))
            if rounded is not None:
                self.place(arcs, rounded, closed_all(model, arcs))
            on_pair = np.bincount(np.searchsorted(arcs, model.unit_pair[units]), weights=guess, minlength=len(arcs))
            return arcs[on_pair > GUIDE_HOURS]
        trial = self.flow.copy()
        # The current answer, lightly weighted, keeps the coverage within reach of the rounding.
        rounded = round_relaxed(self.model, arcs, guess + GUESS_WEIGHT * self.flow[arcs], int(self.flow[arcs].sum()))
        if rounded is not None:
            trial[arcs] = rounded
            LocalSearch(self.model, arcs, trial).run(budget)
            budget.take(min(budget.left, lagrange_work(len(arcs))))
            self.place(arcs, trial[arcs], closed_all(self.model, arcs))
        return arcs[guess > GUIDE_HOURS]

    def local(self, components: list[np.ndarray], open_k: list[int], budget: Budget) -> None:
        """Run the local search on the open components while the budget lasts.

        Format 2 first gives every component one round of the cheap moves, then the rest of the search
        with swaps (`slot_moves.py`), so that a budget too small for swaps everywhere (at L) is not spent
        on the first components' swaps before the last ones' cheap moves.
        """
        if self.model.slots is not None:
            for k in open_k:
                self.local_search(components[k]).run(budget, rounds=1)
            for k in open_k:
                self.local_search(components[k]).run(budget, plain_rounds=0)
            return
        for k in open_k:
            self.local_search(components[k]).run(budget)

    def local_search(self, arcs: np.ndarray):
        """Return the local search of a component: format 1's moves, or format 2's (`slot_moves.py`)."""
        if self.model.slots is None:
            return LocalSearch(self.model, arcs, self.flow)
        return SlotShifts(self.model, arcs, self.flow, self.unit_flow)

    def neighbourhoods(self, arcs: np.ndarray, guide, budget: Budget, gap: float, proven) -> None:
        """Re-solve neighbourhoods of a component within `budget` until it is proven optimal."""
        model = self.model
        lines = np.unique(model.line[arcs])
        if len(lines) < 2:
            return
        candidate = np.zeros(len(model.line), bool)
        candidate[arcs[self.rank[arcs] < LINK_PAIRS]] = True
        links = csr_matrix((np.ones(int(candidate.sum())), (model.line[candidate], model.supplier[candidate])),
                           shape=(len(model.hours), len(model.supplier_capacity)))
        free = np.zeros(len(model.line), bool)
        free[arcs[self.rank[arcs] < FREE_PAIRS]] = True
        if guide is not None:
            free[guide] = True
        size, steps, gained = LNS_LINES, 0, 0.0
        cost = sub_cost(model, arcs, self.flow[arcs], closed_all(model, arcs))
        while budget.left > 0:
            chosen = self._chain(lines, links, arcs, size) if steps % 2 == 0 else self._nearest(lines, size)
            in_hood = arcs[np.isin(model.line[arcs], chosen)]
            pairs = in_hood[free[in_hood] | (self.flow[in_hood] > 0)]
            pairs = self._cap(pairs, chosen)
            variables = len(model.units_of(pairs))
            if budget.left < mip_work(variables) + len(arcs) // 20_000:
                break
            budget.take(len(arcs) // 20_000)  # choosing the neighbourhood and fixing the rest
            fixed = np.setdiff1d(arcs, pairs, assume_unique=True)
            open_groups = np.unique(model.group[fixed[self.flow[fixed] > 0]])
            new, _, _, _, work = solve_exact(model, pairs, self.unit_flow, open_groups, LNS_NODE_LIMIT, LNS_CHECKS, budget.left)
            self.solved += 1
            steps += 1
            budget.take(min(work, budget.left))
            if new is not None and self.place(pairs, new, open_groups):
                self.improved += 1
                if proven():
                    return
            if steps * size >= len(lines):  # a pass over the component's lines
                now = sub_cost(model, arcs, self.flow[arcs], closed_all(model, arcs))
                gained, cost, steps = cost - now, now, 0
                if gained < LNS_STALL * gap:
                    size = min(size + LNS_GROW, LNS_MAX_LINES)
                    self.local_search(arcs).run(budget)

    def _cap(self, pairs: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """Keep the pairs of the first lines of `chosen` whose hour variables fit LNS_MAX_ARCS (at least one line)."""
        model = self.model
        weight = np.ones(len(pairs)) if model.slots is None else np.diff(model.slots.start)[pairs]
        per_line = np.bincount(np.searchsorted(np.sort(chosen), model.line[pairs]), weights=weight, minlength=len(chosen))
        per_line = per_line[np.argsort(np.argsort(chosen))]  # in the order of `chosen`
        take = max(1, int(np.searchsorted(np.cumsum(per_line), LNS_MAX_ARCS, side="right")))
        return pairs[np.isin(model.line[pairs], chosen[:take])]

    def _nearest(self, lines: np.ndarray, size: int) -> np.ndarray:
        seed = lines[self.rng.integers(len(lines))]
        d2 = ((self.xyz[lines] - self.xyz[seed]) ** 2).sum(axis=1)
        return lines[np.lexsort((lines, d2))][:size]

    def _chain(self, lines: np.ndarray, links: csr_matrix, arcs: np.ndarray, size: int) -> np.ndarray:
        """Return a random line, then the lines served by its cheapest suppliers, then theirs, ... (`size` at most)."""
        used = arcs[self.flow[arcs] > 0]
        model = self.model
        served = csr_matrix((np.ones(len(used)), (model.supplier[used], model.line[used])),
                            shape=(len(model.supplier_capacity), len(model.hours)))
        start = int(lines[self.rng.integers(len(lines))])
        chosen, seen, frontier = [start], {start}, [start]
        while frontier and len(chosen) < size:
            following = []
            for d in frontier:
                suppliers = links.indices[links.indptr[d]:links.indptr[d + 1]].copy()
                self.rng.shuffle(suppliers)
                for s in suppliers.tolist():
                    for other in served.indices[served.indptr[s]:served.indptr[s + 1]].tolist():
                        if other not in seen:
                            seen.add(other)
                            chosen.append(other)
                            following.append(other)
                            if len(chosen) >= size:
                                return np.array(chosen)
            frontier = following
        return np.array(chosen)
