"""Local search for `improve.py` in format 2 (hours per time of day): lines moved whole or in parts.

A line whose hours are split between suppliers pays a pair charge for each, and often a cluster
charge too; a line on one supplier may be all that keeps that supplier's cluster charge. For each
line with hours this tries:

- a shift: the whole line onto one of its pairs (a split line onto one of its suppliers, a whole
  line onto another supplier, for example one already serving its group);
- failing that, a part: one supplier's part of the line onto another of its pairs, in use (the
  split merges) or not.

The hours keep their times: at every time of day they are moved at, the pair must have a slot arc
with room for them, the supplier must have them spare (counting what the line gives it now), and
the supplier's week must have room. The move that lowers the objective most
(`solver.objective_pence`: hours at each pair's cost, the pair and cluster charges) is made.

Every line keeps its hours at every time, so the coverage and every capacity hold. Rounds go on
while a move is made and the work budget lasts. No randomness: lines are taken in index order,
and ties go to the lower pair.
"""

from __future__ import annotations

import numpy as np

from brokerage.matching.fixed_charge import Model
from brokerage.matching.slots import N_SLOTS
from brokerage.matching.solver import CLUSTER_CHARGE, PAIR_CHARGE

# A move must save more than this many pence.
EPSILON_PENCE = 1e-6
# Work units (budget.Budget: about a millisecond of one core) for this many lines tried: on M's first answer
# a try took 0.15 ms of CPU (22,342 tries in 3.4 s, 2026-12-02), where a MIP's unit took 0.9-1.1 ms on the same machine.
LINES_PER_UNIT = 6


class SlotShifts:
    """The moves on one component's pairs `arcs`; `flow` (hours per pair) and `unit_flow` (per slot arc) change in place."""

    def __init__(self, model: Model, arcs: np.ndarray, flow: np.ndarray, unit_flow: np.ndarray) -> None:
        self.model, self.arcs, self.flow, self.unit_flow = model, arcs, flow, unit_flow
        units = model.units_of(arcs)
        # Supplier-side hours in use per (supplier, slot) row and per supplier week: a supplier's
        # pairs all lie in one component, so this component's units are all that use them.
        self.col_used = np.bincount(model.unit_col[units], weights=unit_flow[units], minlength=len(model.col_cap)).astype(np.int64)
        self.week_used = np.bincount(model.supplier[model.unit_pair[units]], weights=unit_flow[units],
                                     minlength=len(model.supplier_capacity)).astype(np.int64)
        self.count = np.bincount(model.group[arcs[flow[arcs] > 0]], minlength=model.n_groups)  # pairs in use per group
        lines = model.line[arcs]
        self.order = np.argsort(lines, kind="stable")  # the component's pairs by line, in pair order within a line
        _, starts = np.unique(lines[self.order], return_index=True)
        self.starts = np.r_[starts, len(arcs)]  # line i's pairs are order[starts[i]:starts[i + 1]]

    def run(self, budget) -> int:
        """Make rounds of moves while one is made and `budget` (budget.Budget) lasts; return the moves made."""
        made = 0
        while budget.take(1 + len(self.arcs) // 20_000):
            used = self.flow[self.arcs[self.order]] > 0
            per_line = np.add.reduceat(used.astype(np.int64), self.starts[:-1]) if len(used) else used
            moved = 0
            for n, i in enumerate(np.flatnonzero(per_line >= 1).tolist()):  # every line with hours, split or not
                if n % LINES_PER_UNIT == 0 and not budget.take(1):
                    return made + moved
                moved += self._shift(self.arcs[self.order[self.starts[i]:self.starts[i + 1]]])
            made += moved
            if moved == 0:
                break
        return made

    def _shift(self, pairs: np.ndarray) -> int:
        """Move one line (its pairs `pairs`, ascending) whole onto the pair that saves most; return 1 if moved."""
        model, slots = self.model, self.model.slots
        x = self.flow[pairs]
        used = x > 0
        units = slots.of_pairs(pairs)
        at = np.repeat(np.arange(len(pairs)), slots.start[pairs + 1] - slots.start[pairs])
        slot = slots.slot[units].astype(np.int64)
        cap = np.zeros((len(pairs), N_SLOTS), np.int64)
        cap[at, slot] = slots.capacity[units]
        now = np.zeros((len(pairs), N_SLOTS), np.int64)
        now[at, slot] = self.unit_flow[units]
        hours = now.sum(axis=0)  # the line's hours in each slot
        need, total = hours > 0, int(hours.sum())
        supplier = model.supplier[pairs]
        rows = supplier[:, None] * N_SLOTS + np.arange(N_SLOTS)
        spare = model.col_cap[rows] - self.col_used[rows] + now  # what each supplier could give the line at each time
        week = model.supplier_capacity[supplier] - self.week_used[supplier] + x
        fits = ((cap >= hours) | ~need).all(axis=1) & ((spare >= hours) | ~need).all(axis=1) & (week >= total)
        fits &= model.capacity[pairs] >= total
        if not fits.any():
            return self._part(pairs, units, at, slot, cap, now, rows, x)
        cost = model.cost[pairs]
        groups, group_of = np.unique(model.group[pairs], return_inverse=True)
        before = self.count[groups]
        left = before - np.bincount(group_of[used], minlength=len(groups))  # pairs in use per group once the line leaves
        opened = int((left > 0).sum()) + (left[group_of] == 0) - int((before > 0).sum())
        change = cost * total + PAIR_CHARGE + CLUSTER_CHARGE * opened - (float(cost[used] @ x[used]) + PAIR_CHARGE * int(used.sum()))
        change = np.where(fits, change, np.inf)
        best = int(np.argmin(change))
        if not change[best] < -EPSILON_PENCE:
            return self._part(pairs, units, at, slot, cap, now, rows, x)
        # Take the line off its suppliers, then put all of it on the best pair, slot by slot.
        np.subtract.at(self.col_used, rows[at, slot], now[at, slot])
        np.subtract.at(self.week_used, supplier, x)
        np.subtract.at(self.count, model.group[pairs[used]], 1)
        self.unit_flow[units] = 0
        mine = units[at == best]
        self.unit_flow[mine] = hours[slots_of(model, mine)]
        self.col_used[rows[best]] += hours
        self.week_used[supplier[best]] += total
        self.count[model.group[pairs[best]]] += 1
        self.flow[pairs] = 0
        self.flow[pairs[best]] = total
        return 1

    def _part(self, pairs, units, at, slot, cap, now, rows, x) -> int:
        """Move one supplier's part of a line (all of it, if not split), at the same times, onto the pair saving most; 1 if moved.

        (`_shift`'s arrays of the line: its pairs' slot arcs `units` with their pair `at` and `slot`, the
        hours `cap` and `now` per pair and slot, the supplier-side `rows` and the hours `x` per pair.)
        """
        model = self.model
        used = x > 0
        supplier = model.supplier[pairs]
        room = np.minimum(cap - now, model.col_cap[rows] - self.col_used[rows])  # what each pair could take on, per slot
        week = model.supplier_capacity[supplier] - self.week_used[supplier]
        cost = model.cost[pairs]
        groups, group_of = np.unique(model.group[pairs], return_inverse=True)
        count = self.count[groups]
        best, best_change = None, -EPSILON_PENCE
        for i in np.flatnonzero(used).tolist():
            part, need, hours = now[i], now[i] > 0, int(x[i])
            fits = ((room >= part) | ~need).all(axis=1) & (week >= hours) & (model.capacity[pairs] >= x + hours)
            fits[i] = False
            if not fits.any():
                continue
            left = count.copy()
            left[group_of[i]] -= 1
            opened = int((left > 0).sum()) + (~used & (left[group_of] == 0)) - int((count > 0).sum())
            change = (cost - cost[i]) * hours + PAIR_CHARGE * (~used) - PAIR_CHARGE + CLUSTER_CHARGE * opened
            change = np.where(fits, change, np.inf)
            q = int(np.argmin(change))
            if change[q] < best_change:
                best, best_change = (i, q), float(change[q])
        if best is None:
            return 0
        i, q = best
        part, hours = now[i], int(x[i])
        mine = units[at == i]
        self.unit_flow[mine] = 0
        theirs = units[at == q]
        self.unit_flow[theirs] += part[slots_of(model, theirs)]
        self.col_used[rows[i]] -= part
        self.col_used[rows[q]] += part
        self.week_used[supplier[i]] -= hours
        self.week_used[supplier[q]] += hours
        self.count[model.group[pairs[i]]] -= 1
        if not used[q]:
            self.count[model.group[pairs[q]]] += 1
        self.flow[pairs[i]] = 0
        self.flow[pairs[q]] += hours
        return 1


def slots_of(model: Model, units: np.ndarray) -> np.ndarray:
    """Return the slot (index into vocabulary.SLOTS) of each of these slot arcs."""
    return model.slots.slot[units].astype(np.int64)
