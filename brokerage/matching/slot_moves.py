"""Local search for `improve.py` in format 2 (hours per time of day): lines moved whole or in parts.

A line whose hours are split between suppliers pays a pair charge for each, and often a cluster
charge too; a line on one supplier may be all that keeps that supplier's cluster charge. For each
line with hours this tries:

- a shift: the whole line onto one of its pairs (a split line onto one of its suppliers, a whole
  line onto another supplier, for example one already serving its group);
- failing that, a part: one supplier's part of the line onto another of its pairs, in use (the
  split merges) or not;
- failing that, a swap: the whole line onto a pair whose supplier lacks room at some of its times
  or in its week, room made by moving another line's part with that supplier onto another of that
  line's pairs (most of the splits left after the moves above are lines one supplier could carry
  whole if it were not full: 780 of 883 on M's answer, 2026-12-04).

The hours keep their times: at every time of day they are moved at, the pair must have a slot arc
with room for them, the supplier must have them spare (counting what the line gives it now), and
the supplier's week must have room. The move that lowers the objective most
(`solver.objective_pence`: hours at each pair's cost, the pair and cluster charges) is made; for a
swap, the first pair of moves found that lowers it, the line's SWAP_TARGETS best targets tried in turn.

Every line keeps its hours at every time, so the coverage and every capacity hold. Rounds go on
while a move is made and the work budget lasts. Swaps, dearer to look for, are tried only after the
first round (`run`'s `plain_rounds`); `improve` gives every component its first round before any
component's swaps, so a budget too small for swaps everywhere, as at L, goes to the cheaper moves.
No randomness: lines are taken in index order, and ties go to the lower pair.
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
# A swap tries the line's this many best targets that lack room, and is charged a work unit for this many
# pairs of moves tried (each puts the line in place, looks for the other line's move and undoes the first).
SWAP_TARGETS, SWAPS_PER_UNIT = 3, 4


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
        self.lines, starts = np.unique(lines[self.order], return_index=True)
        self.starts = np.r_[starts, len(arcs)]  # line i's pairs are order[starts[i]:starts[i + 1]]
        suppliers = model.supplier[arcs]
        self.by_supplier = arcs[np.argsort(suppliers, kind="stable")]  # the pairs by supplier, in pair order within one
        self.suppliers, supplier_starts = np.unique(suppliers[np.argsort(suppliers, kind="stable")], return_index=True)
        self.supplier_starts = np.r_[supplier_starts, len(arcs)]
        self.tries = 0  # pairs of moves a swap tried, not yet charged

    def run(self, budget, plain_rounds: int = 1, rounds: int | None = None) -> int:
        """Make rounds of moves while one is made and `budget` (budget.Budget) lasts; return the moves made.

        The first `plain_rounds` rounds try no swaps (fewer, when one of them moves nothing: swaps start in the
        round after it); at most `rounds` rounds are made (None: no limit).
        """
        made, number = 0, 0
        while (rounds is None or number < rounds) and budget.take(1 + len(self.arcs) // 20_000):
            swapping = number >= plain_rounds
            used = self.flow[self.arcs[self.order]] > 0
            per_line = np.add.reduceat(used.astype(np.int64), self.starts[:-1]) if len(used) else used
            moved = 0
            for n, i in enumerate(np.flatnonzero(per_line >= 1).tolist()):  # every line with hours, split or not
                if n % LINES_PER_UNIT == 0 and not budget.take(1):
                    return made + moved
                moved += self._shift(self._pairs_of(i), swapping)
                owed, self.tries = divmod(self.tries, SWAPS_PER_UNIT)
                if not budget.take(owed):  # the swaps tried cost more than is left: the search ends here
                    budget.take(budget.left)
                    return made + moved
            made += moved
            number += 1
            if moved == 0:
                if swapping:
                    break
                plain_rounds = number  # nothing more without swaps: swaps from the next round
        return made

    def _pairs_of(self, i: int) -> np.ndarray:
        """Return the pairs of the component's i-th line, ascending."""
        return self.arcs[self.order[self.starts[i]:self.starts[i + 1]]]

    def _line(self, pairs: np.ndarray) -> tuple:
        """Return a line's arrays: its pairs' slot arcs `units` with their pair `at` and `slot`, the hours `cap` and `now`
        per pair and slot, the supplier-side `rows` and the hours `x` per pair."""
        model, slots = self.model, self.model.slots
        units = slots.of_pairs(pairs)
        at = np.repeat(np.arange(len(pairs)), slots.start[pairs + 1] - slots.start[pairs])
        slot = slots.slot[units].astype(np.int64)
        cap = np.zeros((len(pairs), N_SLOTS), np.int64)
        cap[at, slot] = slots.capacity[units]
        now = np.zeros((len(pairs), N_SLOTS), np.int64)
        now[at, slot] = self.unit_flow[units]
        rows = model.supplier[pairs][:, None] * N_SLOTS + np.arange(N_SLOTS)
        return units, at, slot, cap, now, rows, self.flow[pairs]

    def _shift(self, pairs: np.ndarray, swapping: bool) -> int:
        """Move one line (its pairs `pairs`, ascending) whole onto the pair that saves most, or a part of it, or (if
        `swapping`) swap; 1 if moved."""
        model = self.model
        line = self._line(pairs)
        units, at, slot, cap, now, rows, x = line
        used = x > 0
        hours = now.sum(axis=0)  # the line's hours in each slot
        need, total = hours > 0, int(hours.sum())
        supplier = model.supplier[pairs]
        spare = model.col_cap[rows] - self.col_used[rows] + now  # what each supplier could give the line at each time
        week = model.supplier_capacity[supplier] - self.week_used[supplier] + x
        could = ((cap >= hours) | ~need).all(axis=1) & (model.capacity[pairs] >= total)  # if its supplier had room
        fits = could & ((spare >= hours) | ~need).all(axis=1) & (week >= total)
        cost = model.cost[pairs]
        groups, group_of = np.unique(model.group[pairs], return_inverse=True)
        before = self.count[groups]
        left = before - np.bincount(group_of[used], minlength=len(groups))  # pairs in use per group once the line leaves
        opened = int((left > 0).sum()) + (left[group_of] == 0) - int((before > 0).sum())
        change = cost * total + PAIR_CHARGE + CLUSTER_CHARGE * opened - (float(cost[used] @ x[used]) + PAIR_CHARGE * int(used.sum()))
        moving = np.where(fits, change, np.inf)
        best = int(np.argmin(moving))
        if moving[best] < -EPSILON_PENCE:
            self._whole(pairs, line, hours, best)
            return 1
        part, _ = self._best_part(pairs, line)
        if part is not None:
            self._move_part(pairs, line, part)
            return 1
        if not swapping:
            return 0
        return self._swap(pairs, line, hours, spare, week, np.where(could & ~fits, change, np.inf))

    def _whole(self, pairs: np.ndarray, line: tuple, hours: np.ndarray, best: int) -> None:
        """Take a line off its suppliers, then put all of it (`hours` per slot) on pair `best` of `pairs`, slot by slot."""
        model = self.model
        units, at, slot, _, now, rows, x = line
        supplier = model.supplier[pairs]
        np.subtract.at(self.col_used, rows[at, slot], now[at, slot])
        np.subtract.at(self.week_used, supplier, x)
        np.subtract.at(self.count, model.group[pairs[x > 0]], 1)
        self.unit_flow[units] = 0
        mine = units[at == best]
        self.unit_flow[mine] = hours[slots_of(model, mine)]
        self.col_used[rows[best]] += hours
        self.week_used[supplier[best]] += int(hours.sum())
        self.count[model.group[pairs[best]]] += 1
        self.flow[pairs] = 0
        self.flow[pairs[best]] = int(hours.sum())

    def _best_part(self, pairs: np.ndarray, line: tuple, only: int | None = None) -> tuple:
        """Return ((i, q), change in pence) for moving supplier i's part of a line (all of it, if not split), at the
        same times, onto pair q, saving most; or (None, 0.0). `only` limits i to one pair."""
        model = self.model
        _, _, _, cap, now, rows, x = line
        used = x > 0
        supplier = model.supplier[pairs]
        room = np.minimum(cap - now, model.col_cap[rows] - self.col_used[rows])  # what each pair could take on, per slot
        week = model.supplier_capacity[supplier] - self.week_used[supplier]
        cost = model.cost[pairs]
        groups, group_of = np.unique(model.group[pairs], return_inverse=True)
        count = self.count[groups]
        best, best_change = None, -EPSILON_PENCE if only is None else np.inf
        for i in (np.flatnonzero(used).tolist() if only is None else [only]):
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
        return best, (best_change if best is not None else 0.0)

    def _move_part(self, pairs: np.ndarray, line: tuple, best: tuple[int, int]) -> None:
        """Move supplier i's part of a line onto pair q (`best` = (i, q), indices into `pairs`)."""
        model = self.model
        units, at, _, _, now, rows, x = line
        i, q = best
        part, hours = now[i], int(x[i])
        supplier = model.supplier[pairs]
        mine = units[at == i]
        self.unit_flow[mine] = 0
        theirs = units[at == q]
        self.unit_flow[theirs] += part[slots_of(model, theirs)]
        self.col_used[rows[i]] -= part
        self.col_used[rows[q]] += part
        self.week_used[supplier[i]] -= hours
        self.week_used[supplier[q]] += hours
        self.count[model.group[pairs[i]]] -= 1
        if not x[q] > 0:
            self.count[model.group[pairs[q]]] += 1
        self.flow[pairs[i]] = 0
        self.flow[pairs[q]] += hours

    def _swap(self, pairs: np.ndarray, line: tuple, hours: np.ndarray, spare: np.ndarray, week: np.ndarray,
              change: np.ndarray) -> int:
        """Move a line whole onto a pair whose supplier lacks room, and another line's part with that supplier elsewhere; 1 if moved.

        `change` is what moving the line whole onto each of its pairs would save (inf where it could not go even with
        room made); `spare` and `week` what each supplier has for it now. The other line's part must hold, at every
        time, the hours the supplier lacks (and, in total, what its week lacks), so that moving it frees enough.
        """
        model, slots = self.model, self.model.slots
        need, total = hours > 0, int(hours.sum())
        targets = np.flatnonzero(change < -EPSILON_PENCE)
        for q in targets[np.lexsort((targets, change[targets]))][:SWAP_TARGETS].tolist():
            short = np.where(need, np.maximum(hours - spare[q], 0), 0)  # what the supplier lacks at each time
            short_week = max(total - int(week[q]), 0)
            k = int(np.searchsorted(self.suppliers, model.supplier[pairs[q]]))
            others = self.by_supplier[self.supplier_starts[k]:self.supplier_starts[k + 1]]
            others = others[(self.flow[others] >= max(short_week, 1)) & (model.line[others] != model.line[pairs[q]])]
            if not len(others):
                continue
            their_units = slots.of_pairs(others)
            parts = np.zeros((len(others), N_SLOTS), np.int64)
            parts[np.repeat(np.arange(len(others)), slots.start[others + 1] - slots.start[others]), slots_of(model, their_units)] = \
                self.unit_flow[their_units]
            for b in others[(parts >= short).all(axis=1)].tolist():
                self.tries += 1
                i = int(np.searchsorted(self.lines, model.line[b]))
                their_pairs = self._pairs_of(i)
                saved = self._save(pairs, line)
                self._whole(pairs, line, hours, q)
                theirs = self._line(their_pairs)
                part, saving = self._best_part(their_pairs, theirs, only=int(np.searchsorted(their_pairs, b)))
                if part is not None and change[q] + saving < -EPSILON_PENCE:
                    self._move_part(their_pairs, theirs, part)
                    return 1
                self._restore(pairs, line, saved)
        return 0

    def _save(self, pairs: np.ndarray, line: tuple) -> tuple:
        """Return what moving a line changes: its units' and pairs' hours, its suppliers' rows and weeks, its groups' counts."""
        units, rows = line[0], line[5]
        model = self.model
        return (self.unit_flow[units].copy(), self.flow[pairs].copy(), self.col_used[rows].copy(),
                self.week_used[model.supplier[pairs]].copy(), self.count[model.group[pairs]].copy())

    def _restore(self, pairs: np.ndarray, line: tuple, saved: tuple) -> None:
        """Undo a move of a line (`_save`'s copy)."""
        units, rows = line[0], line[5]
        model = self.model
        self.unit_flow[units], self.flow[pairs], self.col_used[rows], self.week_used[model.supplier[pairs]], \
            self.count[model.group[pairs]] = saved


def slots_of(model: Model, units: np.ndarray) -> np.ndarray:
    """Return the slot (index into vocabulary.SLOTS) of each of these slot arcs."""
    return model.slots.slot[units].astype(np.int64)
