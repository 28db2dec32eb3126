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

from brokerage.matching.errors import MatchingError
from brokerage.matching.fixed_charge import (
    _closed_all,
    _components,
    _flow_bound,
    _line_points,
    _lp_bound,
    _model,
    _Model,
    _solve_exact,
    _sub_cost,
)
from brokerage.matching.solver import Matching, build_network, helper_for, objective_pence, optimise, to_solution

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


def solve_within(instance, *, time_limit: float, cluster_names=None, supplier_names=None):
    """Return (solution, improvement): `solver.solve` with the improvement's figures kept."""
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
    # The hours per unit (pair, or format 2's slot arc), kept in step with `flow` by _place.
    unit_flow = (flow if model.slots is None else matching.slot_flow.astype(np.int64)).copy()
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
        result = _solve_exact(model, arcs, unit_flow, open_groups, min(EXACT_NODE_LIMIT, budget.left))
        if result is None:
            continue
        new, optimal, dual, nodes = result
        budget.take(min(nodes, budget.left))
        _place(model, arcs, new, flow, unit_flow, open_groups)
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
                gained, nodes = _lns_step(model, components[k], lines, flow, unit_flow, rng, xyz,
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
        matching=replace(matching, flow=flow, slot_flow=None if model.slots is None else unit_flow),
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


# --- large-neighbourhood search ----------------------------------------------------------------


def _place(model: _Model, arcs: np.ndarray, new: np.ndarray, flow: np.ndarray, unit_flow: np.ndarray, open_groups: np.ndarray) -> bool:
    """Put hours `new` (on the units of pairs `arcs`) in place if they cost less; tell whether they did."""
    units = model.units_of(arcs)
    hours = model.pair_hours(arcs, units, new)
    if _sub_cost(model, arcs, hours, open_groups) < _sub_cost(model, arcs, flow[arcs], open_groups) - EPSILON_PENCE:
        flow[arcs] = hours
        unit_flow[units] = new
        return True
    return False


def _lns_step(model: _Model, arcs: np.ndarray, lines: np.ndarray, flow: np.ndarray, unit_flow: np.ndarray,
              rng: np.random.Generator, xyz: np.ndarray, node_limit: int) -> tuple[bool, int]:
    """Free the lines nearest a random line of a component, re-solve them, keep a gain.

    Return whether the hours changed, and the branch-and-bound nodes used.
    """
    seed = lines[rng.integers(len(lines))]
    d2 = ((xyz[lines] - xyz[seed]) ** 2).sum(axis=1)
    near = lines[np.lexsort((lines, d2))]
    # A neighbourhood holds at most LNS_MAX_ARCS hour variables: pairs, or format 2's slot arcs.
    weight = None if model.slots is None else np.diff(model.slots.start)[arcs]
    line_arcs = np.bincount(model.line[arcs], weights=weight, minlength=len(model.hours))[near]
    take = max(1, int(np.searchsorted(np.cumsum(line_arcs), LNS_MAX_ARCS, side="right")))
    chosen = near[:take]
    free = arcs[np.isin(model.line[arcs], chosen)]
    fixed = np.setdiff1d(arcs, free, assume_unique=True)
    open_groups = np.unique(model.group[fixed[flow[fixed] > 0]])
    result = _solve_exact(model, free, unit_flow, open_groups, node_limit)
    if result is None:
        return False, node_limit
    new, nodes = result[0], result[3]
    return _place(model, free, new, flow, unit_flow, open_groups), nodes
