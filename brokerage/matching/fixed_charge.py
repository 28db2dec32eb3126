"""The exact fixed-charge model of `improve.py`: build it for a set of free pairs, solve it with HiGHS, bound it.

See `improve.py` for the model and how it is used. Costs are in pence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csc_matrix

from brokerage.matching.errors import MatchingError
from brokerage.matching.slots import N_SLOTS, SlotArcs
from brokerage.matching.solver import (
    CLUSTER_CHARGE,
    CONTINUITY_CHARGE,
    PAIR_CHARGE,
    Matching,
    arc_capacity,
    cluster_groups,
    arc_components,
    continuity_at_stake,
    hourly_cost,
    keeps_current,
)

try:  # SciPy's own HiGHS bindings: deterministic work counts, interrupts and warm restarts.
    from scipy.optimize._highspy import _core as highs_bindings
except ImportError:  # pragma: no cover - older SciPy: plain `milp`, work estimated from sizes
    highs_bindings = None

# HiGHS's relative gap for calling a MIP optimal.
MIP_REL_GAP = 1e-7
# Work units (about a millisecond each) of a HiGHS solve: a fixed part and one per this many simplex iterations.
SOLVE_WORK, ITERATIONS_PER_UNIT = 6, 6
# Between two of HiGHS's looks whether to stop, its LPs take about one simplex iteration per this many
# rows (0.05-0.15 iterations a row between looks in the MIPs of generated S, M and L instances, both formats).
ROWS_PER_ITERATION_PER_LOOK = 10


@dataclass(frozen=True)
class Model:
    """What the exact model needs, per pair of the network, in the solver's pair order.

    The hours are variables per *unit*: a pair in format 1, a pair's slot arc in format 2
    (docs/matching-format-2.md). Units are sorted by pair. A unit has a line-side row (the line, or
    the line's slot) and a supplier-side row (the supplier, or the supplier's slot); in format 2
    each supplier also has a week row, its capacity_hours.
    """

    cost: np.ndarray  # c_a, pence an hour, with the continuity charge spread per hour
    capacity: np.ndarray  # the most hours the pair can carry on its own
    line: np.ndarray
    supplier: np.ndarray
    group: np.ndarray  # (cluster, supplier) group index
    n_groups: int
    hours: np.ndarray  # per line
    supplier_capacity: np.ndarray  # per supplier
    unit_pair: np.ndarray
    unit_cap: np.ndarray
    unit_row: np.ndarray  # line-side row of each unit
    row_cap: np.ndarray  # hours of each line-side row
    unit_col: np.ndarray  # supplier-side row of each unit
    col_cap: np.ndarray  # hours of each supplier-side row
    slots: SlotArcs | None  # format 2

    def units_of(self, pairs: np.ndarray) -> np.ndarray:
        """Return the units of these pairs (ascending pair indices), in order."""
        return pairs if self.slots is None else self.slots.of_pairs(pairs)

    def pair_hours(self, pairs: np.ndarray, units: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Return the hours on each of `pairs` given hours `x` on their units `units`."""
        if self.slots is None:
            return x
        return np.bincount(np.searchsorted(pairs, self.unit_pair[units]), weights=x, minlength=len(pairs)).astype(np.int64)


# --- the model ---------------------------------------------------------------------------------


def model_of(matching: Matching) -> Model:
    """Return the exact model's arrays for a matching's network (costs in pence, hours a week)."""
    network = matching.network
    t, p, slots = network.tables, network.pairs, network.slots
    cost = hourly_cost(network)
    moving = continuity_at_stake(network)[p.demand] & ~keeps_current(network)
    cost = cost + moving * (CONTINUITY_CHARGE / np.maximum(t.d_hours[p.demand], 1))
    groups, _ = cluster_groups(network)
    capacity = arc_capacity(network)
    if slots is None:
        units = dict(unit_pair=np.arange(len(p)), unit_cap=capacity, unit_row=p.demand, row_cap=t.d_hours,
                     unit_col=p.supply, col_cap=t.s_capacity)
    else:
        units = dict(unit_pair=slots.pair.astype(np.int64), unit_cap=slots.capacity.astype(np.int64),
                     unit_row=p.demand[slots.pair] * N_SLOTS + slots.slot,
                     row_cap=slots.d_hours.reshape(-1), unit_col=p.supply[slots.pair] * N_SLOTS + slots.slot,
                     col_cap=slots.s_hours.reshape(-1))
    return Model(
        cost=cost,
        capacity=capacity,
        line=p.demand,
        supplier=p.supply,
        group=groups,
        n_groups=int(groups.max()) + 1 if len(groups) else 0,
        hours=t.d_hours,
        supplier_capacity=t.s_capacity,
        slots=slots,
        **units,
    )


def components_of(model: Model) -> list[np.ndarray]:
    """Return the arcs of each connected component, in the order of their first line."""
    live = np.flatnonzero(model.capacity > 0)
    components = arc_components(model.line[live], model.supplier[live], len(model.hours), len(model.supplier_capacity))
    return [np.sort(live[members]) for members in components]


def closed_all(model: Model, arcs: np.ndarray) -> np.ndarray:
    """Return, for a whole component, the groups already opened by pairs outside it: none."""
    return np.zeros(0, np.int64)


def sub_cost(model: Model, arcs: np.ndarray, x: np.ndarray, open_groups: np.ndarray) -> float:
    """Return the objective's share (pence) of hours `x` on `arcs`, given groups already open."""
    used = x > 0
    if not used.any():
        return 0.0
    variable = math.fsum((x[used] * model.cost[arcs[used]]).tolist())
    groups = np.setdiff1d(np.unique(model.group[arcs[used]]), open_groups)
    return variable + PAIR_CHARGE * int(used.sum()) + CLUSTER_CHARGE * len(groups)


def line_points(network) -> np.ndarray:
    """Return each demand line's place as a unit vector (x, y, z), for nearest-line neighbourhoods."""
    t = network.tables
    phi, lam = np.radians(t.d_lat), np.radians(t.d_lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


# --- exact solves ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spare:
    """The hours the fixed units leave: per line-side row, per supplier-side row and per supplier's week."""

    row: np.ndarray
    col: np.ndarray
    week: np.ndarray


def build_mip(model: Model, arcs: np.ndarray, spare: Spare, open_groups: np.ndarray, total: int):
    """Return (c, bounds, constraints, units) of the exact model on pairs `arcs`; its first len(units) variables are the units' hours."""
    units = model.units_of(arcs)
    n, npairs = len(units), len(arcs)
    pair_of = np.searchsorted(arcs, model.unit_pair[units])
    supplier_of = model.supplier[arcs]
    cap = np.minimum(np.minimum(model.unit_cap[units], spare.col[model.unit_col[units]]), spare.week[supplier_of[pair_of]]).astype(np.float64)
    pair_cap = np.minimum(np.bincount(pair_of, weights=cap, minlength=npairs), spare.week[supplier_of])
    group = model.group[arcs]
    closed = ~np.isin(group, open_groups)
    g_ids, g_of = np.unique(group[closed], return_inverse=True)
    m = len(g_ids)
    unit_idx, pair_idx = np.arange(n), np.arange(npairs)
    closed_idx = pair_idx[closed]

    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(row_ids, col_ids, values, low, high):
        nonlocal r
        rows.append(np.asarray(row_ids) + r)
        cols.append(np.asarray(col_ids))
        vals.append(np.asarray(values, dtype=np.float64))
        lo.append(np.asarray(low, dtype=np.float64))
        hi.append(np.asarray(high, dtype=np.float64))
        r += len(low)

    # Line-side rows, supplier-side rows and, in format 2, each supplier's week.
    for keys, limits in ((model.unit_row[units], spare.row), (model.unit_col[units], spare.col)):
        ids, of = np.unique(keys, return_inverse=True)
        add(of, unit_idx, np.ones(n), np.zeros(len(ids)), limits[ids])
    if model.slots is not None:
        ids, of = np.unique(supplier_of[pair_of], return_inverse=True)
        add(of, unit_idx, np.ones(n), np.zeros(len(ids)), spare.week[ids])
    # Coverage is fixed.
    add(np.zeros(n, np.int64), unit_idx, np.ones(n), [float(total)], [float(total)])
    # x_u <= cap_u y_a(u)
    add(np.r_[unit_idx, unit_idx], np.r_[unit_idx, n + pair_of], np.r_[np.ones(n), -cap], np.full(n, -np.inf), np.zeros(n))
    # y_a <= z_g for groups no fixed pair opened
    k = len(closed_idx)
    add(np.r_[np.arange(k), np.arange(k)], np.r_[n + closed_idx, n + npairs + g_of], np.r_[np.ones(k), -np.ones(k)],
        np.full(k, -np.inf), np.zeros(k))
    # sum_{u in g} x_u <= cap_g z_g, cap_g the most the supplier can give the group's lines
    g_sup = np.zeros(m, np.int64)
    g_sup[g_of] = supplier_of[closed_idx]
    g_cap = np.minimum(np.bincount(g_of, weights=pair_cap[closed_idx], minlength=m), spare.week[g_sup])
    unit_group = np.full(npairs, -1, np.int64)
    unit_group[closed_idx] = g_of
    unit_group = unit_group[pair_of]
    in_group = np.flatnonzero(unit_group >= 0)
    add(np.r_[unit_group[in_group], np.arange(m)], np.r_[in_group, n + npairs + np.arange(m)],
        np.r_[np.ones(len(in_group)), -g_cap], np.full(m, -np.inf), np.zeros(m))

    matrix = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n + npairs + m)).tocsr()
    c = np.r_[model.cost[model.unit_pair[units]], np.full(npairs, float(PAIR_CHARGE)), np.full(m, float(CLUSTER_CHARGE))]
    bounds = Bounds(np.zeros(n + npairs + m), np.r_[cap, np.ones(npairs + m)])
    constraints = LinearConstraint(matrix, np.concatenate(lo), np.concatenate(hi))
    return c, bounds, constraints, units


def spare_of(model: Model, unit_flow: np.ndarray, free_units: np.ndarray) -> Spare:
    """Return the hours left by the units not in `free_units`."""
    fixed = unit_flow.copy()
    fixed[free_units] = 0
    row = model.row_cap - np.bincount(model.unit_row, weights=fixed, minlength=len(model.row_cap)).astype(np.int64)
    col = model.col_cap - np.bincount(model.unit_col, weights=fixed, minlength=len(model.col_cap)).astype(np.int64)
    by_supplier = np.bincount(model.supplier[model.unit_pair], weights=fixed, minlength=len(model.supplier_capacity))
    return Spare(row, col, (model.supplier_capacity - by_supplier.astype(np.int64)).astype(np.int64))


def flow_bound(model: Model, arcs: np.ndarray, with_flow: bool = False):
    """Return a valid lower bound (pence): the min-cost max flow with fixed charges spread thin.

    The network is the format's own (with its slot rows in format 2), so its maximum flow is the
    component's coverage. With `with_flow`, return (bound, hours per unit, integer cost per pair).
    """
    cap = model.capacity[arcs]
    g_ids, g_of = np.unique(model.group[arcs], return_inverse=True)
    g_sup = np.zeros(len(g_ids), np.int64)
    g_sup[g_of] = model.supplier[arcs]
    g_cap = np.minimum(np.bincount(g_of, weights=cap), model.supplier_capacity[g_sup])
    per_hour = model.cost[arcs] + PAIR_CHARGE / np.maximum(cap, 1) + CLUSTER_CHARGE / np.maximum(g_cap[g_of], 1)
    scaled = np.floor(per_hour * 100).astype(np.int64)  # rounded down: the bound stays valid
    units = model.units_of(arcs)
    hours, cost = _min_cost_flow(model, arcs, scaled[np.searchsorted(arcs, model.unit_pair[units])])
    bound = cost / 100 - 1e-6
    return (bound, hours, scaled) if with_flow else bound


def first_answer_bound(model: Model, arcs: np.ndarray, unit_flow: np.ndarray, costs: np.ndarray) -> tuple:
    """Return (bound, hours per unit, integer cost per pair) as `flow_bound(..., with_flow=True)` does, read off the first answer.

    The first answer (`unit_flow`) is a min-cost max flow on the same network at `costs` (per pair,
    `solver.amortised_costs`) = rint(100 v), v being the flow bound's cost an hour, so
    |costs - 100 v| <= 1/2. Every max flow f of the component carries its F hours, so
    100 v.f >= costs.f - F/2 >= costs.f* - F/2 for the first answer f*: (costs.f* - F/2) / 100 is a
    valid lower bound, at most F/100 pence below the flow bound's exact value (costs.f* >= 100 v.f - F/2
    for the best f). f* and `costs` start the Lagrangian as well as the flow bound's own flow would
    (f* is optimal at those costs).
    """
    units = model.units_of(arcs)
    hours = unit_flow[units].astype(np.int64)
    scaled = costs[arcs].astype(np.int64)
    paid = int(np.dot(scaled[np.searchsorted(arcs, model.unit_pair[units])], hours))  # exact: integers
    total = int(hours.sum())
    return (paid - total / 2) / 100 - 1e-6 * (1 + total), hours, scaled


def _min_cost_flow(model: Model, arcs: np.ndarray, unit_cost: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (hours per unit, cost) of the min-cost max flow over the units of `arcs`, at integer costs `unit_cost`."""
    units = model.units_of(arcs)
    row_ids, row_of = np.unique(model.unit_row[units], return_inverse=True)
    col_ids, col_of = np.unique(model.unit_col[units], return_inverse=True)
    nr, nc = len(row_ids), len(col_ids)
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(row_of + 2, col_of + 2 + nr, model.unit_cap[units], unit_cost)
    solver.add_arcs_with_capacity_and_unit_cost(np.zeros(nr, np.int64), np.arange(2, 2 + nr), model.row_cap[row_ids], np.zeros(nr, np.int64))
    if model.slots is None:
        solver.add_arcs_with_capacity_and_unit_cost(np.arange(2 + nr, 2 + nr + nc), np.ones(nc, np.int64), model.col_cap[col_ids],
                                                    np.zeros(nc, np.int64))
    else:
        sup_ids, sup_of = np.unique(col_ids // N_SLOTS, return_inverse=True)
        ns = len(sup_ids)
        solver.add_arcs_with_capacity_and_unit_cost(np.arange(2 + nr, 2 + nr + nc), sup_of + 2 + nr + nc, model.col_cap[col_ids],
                                                    np.zeros(nc, np.int64))
        solver.add_arcs_with_capacity_and_unit_cost(np.arange(2 + nr + nc, 2 + nr + nc + ns), np.ones(ns, np.int64),
                                                    model.supplier_capacity[sup_ids], np.zeros(ns, np.int64))
    total = int(model.row_cap[row_ids].sum())
    solver.set_node_supply(0, total)
    solver.set_node_supply(1, -total)
    if solver.solve_max_flow_with_min_cost() != solver.OPTIMAL:
        raise MatchingError("the min-cost flow failed")
    return solver.flows(np.arange(len(units))).astype(np.int64), solver.optimal_cost()


def round_relaxed(model: Model, arcs: np.ndarray, lp_hours: np.ndarray, total: int, passes: int = 3) -> np.ndarray | None:
    """Turn the LP's hours (per unit of `arcs`) into whole hours: a min-cost flow on the pairs the LP uses.

    Each fixed charge is spread over the hours the LP (then the last pass) gives its pair or group,
    so pairs the LP fills look cheap. Return the cheapest answer's hours per unit, or None.
    """
    units = model.units_of(arcs)
    pair_of = np.searchsorted(arcs, model.unit_pair[units])
    _, g_of = np.unique(model.group[arcs], return_inverse=True)
    best, best_cost = None, np.inf
    hours = lp_hours.astype(np.float64)
    for _ in range(passes):
        on_pair = np.bincount(pair_of, weights=hours, minlength=len(arcs))
        on_group = np.bincount(g_of, weights=on_pair)
        keep = np.flatnonzero(on_pair > 1e-6)
        per_hour = model.cost[arcs[keep]] + PAIR_CHARGE / on_pair[keep] + CLUSTER_CHARGE / on_group[g_of[keep]]
        kept_units = model.units_of(arcs[keep])
        scaled = np.rint(per_hour * 100).astype(np.int64)[np.searchsorted(arcs[keep], model.unit_pair[kept_units])]
        flow, _ = _min_cost_flow(model, arcs[keep], scaled)
        if int(flow.sum()) != total:
            break
        hours = np.zeros(len(units))
        hours[np.searchsorted(units, kept_units)] = flow
        cost = sub_cost(model, arcs, model.pair_hours(arcs, units, hours), np.zeros(0, np.int64))
        if cost < best_cost - 1e-6:
            best, best_cost = hours.astype(np.int64), cost
        else:
            break
    return best


def highs_model(c, bounds: Bounds, constraints: LinearConstraint, integrality=None):
    """Return SciPy's HiGHS holding this model (one thread, quiet), not yet solved."""
    a = csc_matrix(constraints.A)
    lp = highs_bindings.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), a.shape[0]
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(c), a.shape[0]
    lp.a_matrix_.format_ = highs_bindings.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, bounds.lb, bounds.ub
    lp.row_lower_, lp.row_upper_ = constraints.lb, constraints.ub
    if integrality is not None:
        lp.integrality_ = [highs_bindings.HighsVarType(int(i)) for i in integrality]
    highs = highs_bindings._Highs()
    for key, value in (("output_flag", False), ("threads", 1), ("random_seed", 0)):
        highs.setOptionValue(key, value)
    highs.passModel(lp)
    return highs


def _mip(c, integrality, bounds: Bounds, constraints: LinearConstraint, node_limit: int, checks: int,
         work_limit: int | None = None):
    """Solve a MIP with HiGHS; return (answer or None, proven optimal, dual bound, nodes, work units).

    HiGHS stops after `node_limit` nodes, or after looking `checks` times whether to stop (it looks
    about once per LP it solves, the same times in every run). With `work_limit` it looks fewer times:
    as many as LPs of ROWS_PER_ITERATION_PER_LOOK rows an iteration fit in the limit. HiGHS does not say
    its iterations while it runs, so the looks are the deterministic clock (at L one component's
    MIP took 13 s of a 10 s budget without this). The work before its first look (presolve, the
    root LP) is not limited: callers keep MIPs small enough for their budget (improve.py's
    EXACT_MAX_ARCS, mip_work and LNS_MAX_ARCS). The work returned is still its real iterations.
    Without SciPy's HiGHS bindings, plain `milp` runs with its node limit only, and its work is estimated.
    """
    if highs_bindings is None:
        res = milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
                   options={"node_limit": node_limit, "mip_rel_gap": MIP_REL_GAP})
        nodes = int(getattr(res, "mip_node_count", node_limit) or 0)
        dual = getattr(res, "mip_dual_bound", None)
        return res.x, res.status == 0, -np.inf if dual is None else dual, nodes, SOLVE_WORK + len(c) ** 2 // 300 + 4 * nodes
    if work_limit is not None:
        per_look = max(1.0, constraints.A.shape[0] / ROWS_PER_ITERATION_PER_LOOK)  # iterations between two looks
        checks = min(checks, int(max(0, work_limit - SOLVE_WORK) * ITERATIONS_PER_UNIT / per_look))
    highs = highs_model(c, bounds, constraints, integrality)
    highs.setOptionValue("mip_max_nodes", node_limit)
    highs.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    looked = [0]

    def check(kind, message, out, answer, data) -> None:
        looked[0] += 1
        if looked[0] > checks:
            answer.user_interrupt = True

    highs.setCallback(check, None)
    highs.startCallback(highs_bindings.cb.HighsCallbackType.kCallbackMipInterrupt)
    highs.run()
    info = highs.getInfo()
    work = SOLVE_WORK + info.simplex_iteration_count // ITERATIONS_PER_UNIT
    found = info.primal_solution_status == highs_bindings.SolutionStatus.kSolutionStatusFeasible
    x = np.array(highs.getSolution().col_value) if found else None
    optimal = highs.getModelStatus() == highs_bindings.HighsModelStatus.kOptimal
    return x, optimal, info.mip_dual_bound, info.mip_node_count, work


def solve_exact(model: Model, free: np.ndarray, unit_flow: np.ndarray, open_groups: np.ndarray, node_limit: int,
                 checks: int = 100, work_limit: int | None = None) -> tuple[np.ndarray | None, bool, float, int, int]:
    """Re-solve the hours on `free` pairs exactly, every other pair fixed, within `work_limit` work units if given.

    Return (hours on the free pairs' units, or None if HiGHS found none in its limits, proven
    optimal, dual bound in pence, nodes used, work units spent).
    """
    free_units = model.units_of(free)
    total = int(unit_flow[free_units].sum())
    spare = spare_of(model, unit_flow, free_units)
    c, bounds, constraints, units = build_mip(model, free, spare, open_groups, total)
    n = len(units)
    # Hours may be continuous: once y is fixed, what is left is a flow problem, whose optimal
    # vertices are integral. A fractional answer (cuts can leave one) is re-solved with y fixed.
    integrality = np.r_[np.zeros(n), np.ones(len(c) - n)]
    values, optimal, dual, nodes, work = _mip(c, integrality, bounds, constraints, node_limit, checks, work_limit)
    dual = float(dual) * (1 - 1e-9) - 1e-6 if dual is not None and np.isfinite(dual) else -np.inf
    if values is None:
        return None, False, dual, nodes, work
    x = values[:n]
    if np.abs(x - np.rint(x)).max(initial=0) > 1e-6:
        y = np.rint(values[n:n + len(free)])
        pair_of = np.searchsorted(free, model.unit_pair[units])
        fixed = Bounds(bounds.lb, np.r_[bounds.ub[:n] * y[pair_of], bounds.ub[n:]])
        lp = milp(c, integrality=np.zeros(len(c)), bounds=fixed, constraints=constraints)
        if lp.x is None:
            return None, False, dual, nodes, work
        x = lp.x[:n]
    x = np.rint(x).astype(np.int64)
    if not _feasible(model, units, x, spare, total):
        return None, False, dual, nodes, work
    return x, optimal, dual, nodes, work


def _feasible(model: Model, units: np.ndarray, x: np.ndarray, spare: Spare, total: int) -> bool:
    if (x < 0).any() or (x > model.unit_cap[units]).any() or int(x.sum()) != total:
        return False
    by_row = np.bincount(model.unit_row[units], weights=x, minlength=len(spare.row))
    by_col = np.bincount(model.unit_col[units], weights=x, minlength=len(spare.col))
    by_week = np.bincount(model.supplier[model.unit_pair[units]], weights=x, minlength=len(spare.week))
    return bool((by_row <= spare.row).all() and (by_col <= spare.col).all() and (by_week <= spare.week).all())
