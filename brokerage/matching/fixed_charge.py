"""The exact fixed-charge model of `improve.py`: build it for a set of free pairs, solve it with HiGHS, bound it.

See `improve.py` for the model and how it is used. Costs are in pence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from brokerage.matching.errors import MatchingError
from brokerage.matching.solver import (
    CLUSTER_CHARGE,
    CONTINUITY_CHARGE,
    PAIR_CHARGE,
    Matching,
    _arc_capacity,
    _cluster_groups,
    arc_components,
    continuity_at_stake,
    hourly_cost,
    keeps_current,
)

# HiGHS's relative gap for calling a MIP optimal.
MIP_REL_GAP = 1e-7


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
    components = arc_components(model.line[live], model.supplier[live], len(model.hours), len(model.supplier_capacity))
    return [np.sort(live[members]) for members in components]


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
