"""The Lagrangian lower bound of `improve.py`, for components too big for the strong LP (`relaxation.py`).

It moves the line-side, supplier-side and coverage rows (and format 2's supplier weeks) into the
objective with multipliers (pi >= 0, mu >= 0, nu >= 0, lambda). It falls apart into one small
problem per (cluster, supplier) group: open the group (CLUSTER_CHARGE) if its best hours, a
fractional knapsack over its units with profit lambda - cost - pi - mu (- nu) - PAIR_CHARGE / cap
per hour up to each pair's cap (format 2) and the group's capacity, earn more; in format 2 a group
earns at most what it would if each pair paid its whole PAIR_CHARGE when opened (`_strong`). Any multipliers
give a valid bound; they start at node potentials of `flow_bound`'s min-cost flow and climb by
deflected subgradient steps (Polyak steps towards a little above the best bound), most of them
over only the units close to paying.

Everything here is deterministic: no clock, fixed orders.
"""

from __future__ import annotations

import numpy as np

from brokerage.matching.fixed_charge import Model
from brokerage.matching.slots import N_SLOTS
from brokerage.matching.solver import CLUSTER_CHARGE, PAIR_CHARGE

# Each subgradient step aims this much (a share) above the best Lagrangian bound so far.
TARGET_RISE = 0.005
# The weight of the newest answer in the running average of the subproblems' hours.
AVERAGE_WEIGHT = 0.2
# Every this many steps the Lagrangian is evaluated over all pairs (a bound); in between only over
# the pairs whose profit per hour was above -ACTIVE_MARGIN pence then.
FULL_EVERY, ACTIVE_MARGIN = 10, 150.0


def _potentials(line_at, supplier_at, cap, hours, capacity, flow, scaled, week_at=None, week_cap=None):
    """Return multipliers (lambda, pi per line-side row, mu per supplier-side row[, nu per week]) from node potentials of a min-cost flow.

    The flow (`flow_bound`'s, on units from row `line_at` to row `supplier_at` at integer costs
    `scaled`) is optimal, so its residual network has no negative cycle. Bellman-Ford towards a
    virtual sink on it gives the lowest optimal potentials, which start the Lagrangian higher than
    the highest ones. Nodes: 0 source, 1 sink, then line-side rows, then supplier-side rows, then
    (format 2: `week_at` gives each supplier-side row's supplier, `week_cap` their capacities) the
    suppliers' weeks. Format 1 returns three multipliers, format 2 four.
    """
    nl, ns = len(hours), len(capacity)
    nw = 0 if week_at is None else len(week_cap)
    line_node, sup_node = 2 + line_at, 2 + nl + supplier_at
    by_line, by_sup = np.bincount(line_at, weights=flow, minlength=nl), np.bincount(supplier_at, weights=flow, minlength=ns)
    lines, sups = 2 + np.arange(nl), 2 + nl + np.arange(ns)
    zero_l, zero_s = np.zeros(nl, np.int64), np.zeros(ns, np.int64)
    room, used = flow < cap, flow > 0
    # Where the supplier-side rows lead: the sink (format 1), or their supplier's week (format 2).
    out = zero_s + 1 if week_at is None else 2 + nl + ns + week_at
    tail = [line_node[room], sup_node[used], zero_l[by_line < hours], lines[by_line > 0], sups[by_sup < capacity], out[by_sup > 0]]
    head = [sup_node[room], line_node[used], lines[by_line < hours], zero_l[by_line > 0], out[by_sup < capacity], sups[by_sup > 0]]
    if week_at is not None:
        weeks = 2 + nl + ns + np.arange(nw)
        by_week = np.bincount(week_at, weights=by_sup, minlength=nw)
        tail += [weeks[by_week < week_cap], np.ones(int((by_week > 0).sum()), np.int64)]
        head += [np.ones(int((by_week < week_cap).sum()), np.int64), weeks[by_week > 0]]
    tail, head = np.concatenate(tail), np.concatenate(head)
    weight = np.r_[scaled[room], -scaled[used], np.zeros(len(tail) - int(room.sum() + used.sum()))]
    order = np.argsort(tail, kind="stable")
    tail, weight, head = tail[order], weight[order], head[order]
    starts = np.r_[0, np.flatnonzero(tail[1:] != tail[:-1]) + 1]
    dist = np.zeros(2 + nl + ns + nw)
    for _ in range(2 + nl + ns + nw):
        new = dist.copy()
        new[tail[starts]] = np.minimum(dist[tail[starts]], np.minimum.reduceat(dist[head] + weight, starts))
        if np.array_equal(new, dist):
            break
        dist = new
    dist = -dist / 100  # scaled costs are in hundredths of a penny
    lam, pi = dist[1] - dist[0], np.maximum(dist[lines] - dist[0], 0)
    if week_at is None:
        return lam, pi, np.maximum(dist[1] - dist[sups], 0)
    return lam, pi, np.maximum(dist[out] - dist[sups], 0), np.maximum(dist[1] - dist[weeks], 0)



def _fill(hours: np.ndarray, profit: np.ndarray, key: np.ndarray, limit: np.ndarray) -> None:
    """Cut `hours` (in place) so that each key's total stays within its limit, the most profitable hours kept first.

    A fractional knapsack per key, done only where a key's paying hours exceed its limit.
    """
    filled = np.bincount(key, weights=hours, minlength=len(limit))
    over = np.flatnonzero((filled > limit)[key] & (profit > 0))
    if len(over):
        k = key[over]
        order = np.lexsort((-profit[over], k))
        units, k = over[order], k[order]
        fill = np.cumsum(hours[units])
        first = np.r_[True, k[1:] != k[:-1]]
        before = fill - hours[units] - np.maximum.accumulate(np.where(first, fill - hours[units], 0))
        hours[units] = np.clip(limit[k] - before, 0, hours[units])


def _strong(profit: np.ndarray, cap: np.ndarray, pair: np.ndarray, pair_cap: np.ndarray, group: np.ndarray, groups: int):
    """Return the gain per group of the strong subproblem: a pair opens, paying PAIR_CHARGE, if its paying hours earn more.

    Each unit carries at most `cap` (x_u <= cap_u y), a pair's units at most its cap, and a group
    opens its pairs whatever their hours (its own cap is left out: this is still a relaxation).
    """
    hours = np.where(profit > 0, cap, 0.0)
    _fill(hours, profit, pair, pair_cap)
    pair_gain = np.bincount(pair, weights=hours * np.maximum(profit, 0), minlength=len(pair_cap)) - PAIR_CHARGE
    pair_group = np.zeros(len(pair_cap), np.int64)
    pair_group[pair] = group
    return np.bincount(pair_group, weights=np.maximum(pair_gain, 0), minlength=groups)


class Lagrangian:
    """The Lagrangian bound of a component, improved step by step.

    It relaxes the relaxation where each pair's charge is spread over the hours it can carry
    (PAIR_CHARGE / cap per hour, at most cap hours) and each (cluster, supplier) group opens whole
    (CLUSTER_CHARGE). Format 1's units are the pairs. In format 2 a unit is a pair's slot arc
    (at most its slot's hours), a pair's units share its cap, and each supplier's week is a row
    of its own (multipliers nu >= 0).

    `flow` and `scaled` are the hours per unit and the integer costs per pair of the min-cost flow
    of `flow_bound`, whose node potentials give the first multipliers.
    """

    def __init__(self, model: Model, arcs: np.ndarray, total: int, flow: np.ndarray, scaled: np.ndarray) -> None:
        self.model, self.arcs, self.total = model, arcs, total
        self.slots = model.slots is not None
        units = model.units_of(arcs)
        pair_at = np.searchsorted(arcs, model.unit_pair[units])
        self.pair_cap = model.capacity[arcs].astype(np.float64)
        self.pair_at = pair_at
        self.cap = model.unit_cap[units].astype(np.float64) if self.slots else self.pair_cap
        self.cost = model.cost[arcs][pair_at]
        self.pair_share = (PAIR_CHARGE / np.maximum(self.pair_cap, 1))[pair_at]
        _, pair_group = np.unique(model.group[arcs], return_inverse=True)
        self.group_of = pair_group[pair_at]
        ng = int(pair_group.max()) + 1
        g_sup = np.zeros(ng, np.int64)
        g_sup[pair_group] = model.supplier[arcs]
        self.group_cap = np.minimum(np.bincount(pair_group, weights=self.pair_cap, minlength=ng), model.supplier_capacity[g_sup])
        self.lines, self.line_at = np.unique(model.unit_row[units], return_inverse=True)
        self.suppliers, self.supplier_at = np.unique(model.unit_col[units], return_inverse=True)
        self.hours = model.row_cap[self.lines].astype(np.float64)
        self.capacity = model.col_cap[self.suppliers].astype(np.float64)
        unit_scaled = scaled[pair_at]
        if self.slots:
            self.weeks, week_of_col = np.unique(self.suppliers // N_SLOTS, return_inverse=True)
            self.week_at = week_of_col[self.supplier_at]
            self.week_cap = model.supplier_capacity[self.weeks].astype(np.float64)
            self.lam, self.pi, self.mu, self.nu = _potentials(self.line_at, self.supplier_at, self.cap, self.hours, self.capacity, flow,
                                                              unit_scaled, week_of_col, self.week_cap)
        else:
            self.week_at, self.week_cap, self.nu = None, np.zeros(0), np.zeros(0)
            self.lam, self.pi, self.mu = _potentials(self.line_at, self.supplier_at, self.cap, self.hours, self.capacity, flow, unit_scaled)
        self.bound = -np.inf
        self.scale = 1.0
        self.stalled = 0
        self.direction = None
        self.average = np.zeros(len(units))  # the recent subproblem answers' hours per unit, a guess at the LP's
        self.every = self.active = self._view(np.arange(len(units)))
        self.steps, self.best = 0, -np.inf

    def _view(self, idx: np.ndarray) -> tuple:
        """Return the arrays the steps read for units `idx`: (idx, fixed cost, cap, group, line, supplier, group caps, week, pair, pair caps, cost, strong caps).

        Groups and pairs are numbered afresh among the units, so that per-group sums stay short. In
        format 2 a pair's cap is held within its supplier's week too (for both of `value`'s subproblems),
        and the last two serve the strong subproblem: the hourly cost without the pair charge, and each
        unit's cap within its supplier's slot and week.
        """
        groups, group = np.unique(self.group_of[idx], return_inverse=True)
        week = self.week_at[idx] if self.slots else None
        pair, pair_cap, cost, strong_cap = None, None, None, None
        if self.slots:
            pairs, pair = np.unique(self.pair_at[idx], return_inverse=True)
            weekly = self.week_cap[week]
            pair_cap = self.pair_cap[pairs]
            pair_cap = np.minimum(pair_cap, weekly[np.unique(pair, return_index=True)[1]])
            cost, strong_cap = self.cost[idx], np.minimum(np.minimum(self.cap[idx], self.capacity[self.supplier_at[idx]]), weekly)
        return (idx, self.cost[idx] + self.pair_share[idx], self.cap[idx], group, self.line_at[idx],
                self.supplier_at[idx], self.group_cap[groups], week, pair, pair_cap, cost, strong_cap)

    def value(self, view: tuple) -> tuple[float, np.ndarray, np.ndarray]:
        """Return the Lagrangian's value over the units of `view` (`_view`), their hours, and their profit per hour.

        Over all units it is a lower bound; over fewer it only steers the multipliers.
        """
        _, fixed, cap, group, line, supplier, group_cap, week, pair, pair_cap, cost, strong_cap = view
        duals = self.pi[line] + self.mu[supplier]
        if week is not None:
            duals = duals + self.nu[week]
        profit = self.lam - fixed - duals
        hours = np.where(profit > 0, cap, 0.0)
        if pair is not None:  # format 2: a pair's slots share its cap
            _fill(hours, profit, pair, pair_cap)
        _fill(hours, profit, group, group_cap)
        gain = np.bincount(group, weights=hours * np.maximum(profit, 0), minlength=len(group_cap))
        if pair is not None:
            # Each group's gain is also at most the strong subproblem's, where a pair pays its whole charge:
            # both relax the group's part of the exact model, so the smaller gain still bounds it. The hours
            # (the steps' direction and the guess at the LP's) stay the amortised subproblem's.
            hours[~(gain > CLUSTER_CHARGE)[group]] = 0
            gain = np.minimum(gain, _strong(self.lam - cost - duals, strong_cap, pair, pair_cap, group, len(group_cap)))
        opened = gain > CLUSTER_CHARGE
        if pair is None:
            hours[~opened[group]] = 0
        earned = float((gain[opened] - CLUSTER_CHARGE).sum())
        value = self.lam * self.total - float(self.pi @ self.hours) - float(self.mu @ self.capacity) - earned
        if self.slots:
            value -= float(self.nu @ self.week_cap)
        return value, hours, profit

    def step(self, ceiling: float) -> None:
        """Take one deflected subgradient step towards a little above the best bound so far.

        Every FULL_EVERY steps the value over all units is the bound, and the units whose profit
        is within ACTIVE_MARGIN of paying are the ones the next steps look at. `ceiling`, the cost
        of a known answer, caps the target.
        """
        full = self.steps % FULL_EVERY == 0
        view = self.every if full else self.active
        value, hours, profit = self.value(view)
        self.steps += 1
        if full:
            self.bound = max(self.bound, value)
            self.active = self._view(np.flatnonzero(profit > -ACTIVE_MARGIN))
            self.average += AVERAGE_WEIGHT * (hours - self.average)
        target = min(ceiling, max(self.bound, value) * (1 + TARGET_RISE))
        if value > self.best + 1e-9:
            self.best, self.stalled = value, 0
        else:
            self.stalled += 1
            if self.stalled >= 20:
                self.scale, self.stalled = self.scale * 0.7, 0
        g_line = np.bincount(view[4], weights=hours, minlength=len(self.lines)) - self.hours
        g_sup = np.bincount(view[5], weights=hours, minlength=len(self.suppliers)) - self.capacity
        g_line[(self.pi <= 0) & (g_line < 0)] = 0
        g_sup[(self.mu <= 0) & (g_sup < 0)] = 0
        gradient = (g_line, g_sup, self.total - hours.sum())
        if self.slots:
            g_week = np.bincount(view[7], weights=hours, minlength=len(self.weeks)) - self.week_cap
            g_week[(self.nu <= 0) & (g_week < 0)] = 0
            gradient += (g_week,)
        if self.direction is not None:
            gradient = tuple(g + 0.7 * d for g, d in zip(gradient, self.direction))
        self.direction = gradient
        norm = float((gradient[0] ** 2).sum() + (gradient[1] ** 2).sum() + gradient[2] ** 2)
        if self.slots:
            norm += float((gradient[3] ** 2).sum())
        if norm <= 0 or target <= value:
            return
        t = self.scale * (target - value) / norm
        self.pi = np.maximum(self.pi + t * gradient[0], 0)
        self.mu = np.maximum(self.mu + t * gradient[1], 0)
        self.lam += t * gradient[2]
        if self.slots:
            self.nu = np.maximum(self.nu + t * gradient[3], 0)
