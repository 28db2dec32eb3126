"""Local search for `improve.py` (format 1, where the units are the pairs): moves that keep the coverage.

Each round looks at every move of each kind at once (numpy), then tries the best move of each line,
largest estimated saving first, and makes those that still fit the supplier capacities and lower
the cost (checked exactly, with the group charges):

- shift: move a whole line to the one pair that saves most where its supplier has room;
- swap: exchange the suppliers of two lines that have one each;
- chain: shift a line to a supplier without room, and a line served there alone to its best place;
- part: move one part of a split line to another of its pairs (merging the split, or moving the part);
- group: move every line a supplier serves in one cluster to one other supplier (the cluster
  charge only falls when they all go);
- ejection: move lines along a path d1 -> the supplier of d2, d2 -> that of d3, ..., where each
  leaving line makes the room for the one coming, the last going where it fits (the cheapest
  such paths come from value iteration over the improvement graph).

Rounds go on while a move is made and the work budget lasts. No randomness: ties go to the lower index.
"""

from __future__ import annotations

import numpy as np

from brokerage.matching.fixed_charge import Model
from brokerage.matching.solver import CLUSTER_CHARGE, PAIR_CHARGE

# A change must save more than this many pence.
EPSILON_PENCE = 1e-6
# The moves tried in each round, in order.
MOVES = ("shifts", "swaps", "chains", "parts", "groups", "ejections")
# Ejection paths move at most this many lines.
EJECTION_LENGTH = 4


class LocalSearch:
    """The moves on one component's pairs `arcs`; `flow` (hours per pair) is changed in place."""

    def __init__(self, model: Model, arcs: np.ndarray, flow: np.ndarray) -> None:
        self.model, self.arcs, self.flow = model, arcs, flow
        self.line, self.supplier, self.group = model.line[arcs], model.supplier[arcs], model.group[arcs]
        self.cost, self.cap = model.cost[arcs], model.capacity[arcs]
        self.starts, self.order = groups_by(self.line, len(model.hours))
        x = flow[arcs]
        self.load = np.bincount(self.supplier, weights=x, minlength=len(model.supplier_capacity)).astype(np.int64)
        self.count = np.bincount(self.group[x > 0], minlength=model.n_groups)  # pairs in use per group
        self.hours = np.bincount(self.line, weights=x, minlength=len(model.hours)).astype(np.int64)
        key = self.line.astype(np.int64) * len(model.supplier_capacity) + self.supplier
        self.by_key = np.argsort(key, kind="stable")
        self.sorted_key = key[self.by_key]

    def run(self, budget) -> None:
        """Make rounds of moves while one is made and `budget` (budget.Budget) affords a round."""
        # Measured: a round's numpy work grows with the pairs, each move tried costs ~0.1 ms.
        while budget.take(1 + len(self.arcs) // 1000):
            moves = [getattr(self, "_" + name)() for name in MOVES]
            budget.take(min(budget.left, sum(tried for _, tried in moves) // 9))
            if sum(done for done, _ in moves) == 0:
                return

    def _of_line(self, d: int) -> np.ndarray:
        return self.order[self.starts[d]:self.starts[d + 1]]

    def _pair(self, lines: np.ndarray, suppliers: np.ndarray) -> np.ndarray:
        """Return the local index of each (line, supplier) pair, or -1 where there is none."""
        want = lines.astype(np.int64) * len(self.model.supplier_capacity) + suppliers
        at = np.minimum(np.searchsorted(self.sorted_key, want), len(self.sorted_key) - 1)
        return np.where(self.sorted_key[at] == want, self.by_key[at], -1)

    def _try(self, idx: np.ndarray, new: np.ndarray) -> bool:
        """Replace the hours on local pairs `idx` by `new` if the supplier capacities allow and the cost falls."""
        model, x = self.model, self.flow[self.arcs[idx]]
        used, now = x > 0, new > 0
        change = float((new - x) @ self.cost[idx]) + PAIR_CHARGE * (int(now.sum()) - int(used.sum()))
        groups = np.unique(self.group[idx])
        others = self.count[groups] - np.bincount(np.searchsorted(groups, self.group[idx][used]), minlength=len(groups))
        after = others + np.bincount(np.searchsorted(groups, self.group[idx][now]), minlength=len(groups))
        change += CLUSTER_CHARGE * (int((after > 0).sum()) - int((self.count[groups] > 0).sum()))
        if change >= -EPSILON_PENCE:
            return False
        suppliers = np.unique(self.supplier[idx])
        delta = np.bincount(np.searchsorted(suppliers, self.supplier[idx]), weights=new - x, minlength=len(suppliers))
        if (self.load[suppliers] + delta > model.supplier_capacity[suppliers]).any():
            return False
        self.load[suppliers] += delta.astype(np.int64)
        self.count[groups] = after
        self.flow[self.arcs[idx]] = new
        return True

    def _attempt(self, order: np.ndarray, moves) -> tuple[int, int]:
        """Try the moves `moves(i)` -> (local pairs, new hours) for i in `order`; return (made, tried)."""
        made = 0
        for i in order.tolist():
            made += self._try(*moves(i))
        return made, len(order)

    def _removal(self, x: np.ndarray) -> np.ndarray:
        """Return what each line's pairs cost now, with the group charges only it pays."""
        used = x > 0
        alone = used & (self.count[self.group] == 1)
        return np.bincount(self.line, weights=np.where(used, x * self.cost + PAIR_CHARGE, 0) + CLUSTER_CHARGE * alone,
                           minlength=len(self.hours))

    def _shift_gains(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return, per pair, what moving its whole line there saves (room aside), the room there, and whether it can."""
        t = self.hours[self.line]
        room = self.model.supplier_capacity[self.supplier] - self.load[self.supplier] + x
        gain = self._removal(x)[self.line] - (t * self.cost + PAIR_CHARGE + CLUSTER_CHARGE * (self.count[self.group] - (x > 0) == 0))
        return gain, room, (self.cap >= t) & (t > 0) & (x < t)

    def _whole(self, lines: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (local pairs, new hours) giving each of `lines` all its hours on its pair in `pairs`."""
        idx = np.concatenate([self._of_line(int(d)) for d in lines])
        new = np.zeros(len(idx), np.int64)
        for a in pairs.tolist():
            new[idx == a] = self.hours[self.line[a]]
        return idx, new

    def _shifts(self) -> tuple[int, int]:
        x = self.flow[self.arcs]
        gain, room, movable = self._shift_gains(x)
        gain[~movable | (room < self.hours[self.line])] = -np.inf
        return self._attempt(best_per(self.line, gain, EPSILON_PENCE),
                             lambda a: self._whole(self.line[[a]], np.array([a])))

    def _alone(self, x: np.ndarray, also=None) -> np.ndarray:
        """Return the pairs in use by lines served by that pair alone (and meeting `also`, per line)."""
        used = np.flatnonzero(x > 0)
        single = (np.bincount(self.line[used], minlength=len(self.hours)) == 1)[self.line[used]]
        return used[single if also is None else single & also[self.line[used]]]

    def _swaps(self) -> tuple[int, int]:
        x = self.flow[self.arcs]
        mine = self._alone(x)
        home = np.full(len(self.hours), -1)
        home[self.line[mine]] = self.supplier[mine]
        # a = (d1, s2): d1 served by s1 alone, d2 served by s2 alone, and b = (d2, s1).
        starts, order = groups_by(self.supplier[mine], len(self.model.supplier_capacity))
        first = np.flatnonzero((x == 0) & (home[self.line] >= 0))
        i, member = expand(starts, order, self.supplier[first])
        a, d2 = first[i], self.line[mine[member]]
        b = self._pair(d2, home[self.line[a]])
        ok = (b >= 0) & (d2 != self.line[a])
        a, b, d1, d2 = a[ok], b[ok], self.line[a[ok]], d2[ok]
        removal = self._removal(x)
        opens = CLUSTER_CHARGE * ((self.count[self.group[a]] == 0).astype(int) + (self.count[self.group[b]] == 0))
        gain = (removal[d1] + removal[d2] - self.hours[d1] * self.cost[a] - self.hours[d2] * self.cost[b]
                - 2 * PAIR_CHARGE - opens)
        return self._attempt(best_per(d1, gain, EPSILON_PENCE), lambda k: self._whole(np.r_[d1[k], d2[k]], np.r_[a[k], b[k]]))

    def _chains(self) -> tuple[int, int]:
        x = self.flow[self.arcs]
        t = self.hours[self.line]
        gain, room, movable = self._shift_gains(x)
        fits = np.flatnonzero(movable & (room >= t))
        fits = fits[np.lexsort((fits, -gain[fits], self.line[fits]))]
        fits = fits[np.r_[True, self.line[fits][1:] != self.line[fits][:-1]]] if len(fits) else fits
        best = np.full(len(self.hours), -1)
        best[self.line[fits]] = fits
        alone = self._alone(x, best >= 0)
        starts, order = groups_by(self.supplier[alone], len(self.model.supplier_capacity))
        first = np.flatnonzero(movable & (room < t))
        i, member = expand(starts, order, self.supplier[first])
        a, d2 = first[i], self.line[alone[member]]
        b = best[d2]
        ok = (t[a] - room[a] <= self.hours[d2]) & (d2 != self.line[a])
        a, b = a[ok], b[ok]
        return self._attempt(best_per(self.line[a], gain[a] + gain[b], EPSILON_PENCE),
                             lambda k: self._whole(self.line[[a[k], b[k]]], np.r_[a[k], b[k]]))

    def _parts(self) -> tuple[int, int]:
        """Move one part of a split line to another of the line's pairs with room."""
        x = self.flow[self.arcs]
        used = np.flatnonzero(x > 0)
        split = used[(np.bincount(self.line[used], minlength=len(self.hours)) > 1)[self.line[used]]]
        i, b = expand(self.starts, self.order, self.line[split])
        a = split[i]
        room = self.model.supplier_capacity[self.supplier[b]] - self.load[self.supplier[b]]
        ok = (b != a) & (room >= x[a]) & (self.cap[b] >= x[b] + x[a])
        a, b = a[ok], b[ok]
        saved = x[a] * self.cost[a] + PAIR_CHARGE + CLUSTER_CHARGE * (self.count[self.group[a]] == 1)
        paid = x[a] * self.cost[b] + (x[b] == 0) * (PAIR_CHARGE + CLUSTER_CHARGE * (self.count[self.group[b]] == 0))

        def move(k):
            idx = self._of_line(int(self.line[a[k]]))
            new = self.flow[self.arcs[idx]].copy()
            new[idx == b[k]] += new[idx == a[k]]
            new[idx == a[k]] = 0
            return idx, new

        return self._attempt(best_per(a, saved - paid, EPSILON_PENCE), move)

    def _groups(self) -> tuple[int, int]:
        """Move every part a supplier gives one cluster's lines to one other supplier."""
        x = self.flow[self.arcs]
        used = np.flatnonzero(x > 0)
        counts = np.bincount(self.group[used], minlength=self.model.n_groups)
        shared = used[counts[self.group[used]] >= 2]
        if not len(shared):
            return 0, 0
        starts, order = groups_by(self.group[shared], self.model.n_groups)
        moves, estimates = [], []
        for g in np.flatnonzero(np.diff(starts) >= 2).tolist():
            parts = shared[order[starts[g]:starts[g + 1]]]
            lines, hours = self.line[parts], x[parts]
            # Suppliers the first line could go to; each needs a pair with every line and room for all.
            options = self._of_line(int(lines[0]))
            options = options[self.supplier[options] != self.supplier[parts[0]]]
            target = self._pair(np.repeat(lines, len(options)), np.tile(self.supplier[options], len(lines))).reshape(len(lines), -1)
            room = self.model.supplier_capacity[self.supplier[options]] - self.load[self.supplier[options]]
            ok = (target >= 0).all(axis=0) & (room >= hours.sum())
            for j in np.flatnonzero(ok).tolist():
                to = target[:, j]
                if (self.cap[to] >= x[to] + hours).all():
                    moves.append((parts, to))
                    estimates.append(float(hours @ (self.cost[parts] - self.cost[to])) + CLUSTER_CHARGE)
        order_ = np.argsort(-np.asarray(estimates), kind="stable")
        order_ = order_[np.asarray(estimates)[order_] > 0] if len(order_) else order_

        def move(k):
            parts, to = moves[k]
            idx = np.concatenate([self._of_line(int(d)) for d in self.line[parts]])
            new = self.flow[self.arcs[idx]].copy()
            for a, b in zip(parts.tolist(), to.tolist()):
                new[idx == b] += new[idx == a][0]
                new[idx == a] = 0
            return idx, new

        return self._attempt(order_, move)

    def _ejections(self) -> tuple[int, int]:
        """Move lines along a path d1 -> the supplier of d2, d2 -> that of d3, ..., dk -> a supplier with room.

        Each d_i+1 is served by that supplier alone, and its leaving makes the room for d_i. The
        cheapest such paths (up to EJECTION_LENGTH lines) come from a few rounds of value iteration
        over the improvement graph, then are checked exactly.
        """
        x = self.flow[self.arcs]
        t = self.hours[self.line]
        gain, room, movable = self._shift_gains(x)
        lines = len(self.hours)
        # Ending where the line fits now.
        fits = np.flatnonzero(movable & (room >= t))
        fits = fits[np.lexsort((fits, -gain[fits], self.line[fits]))]
        fits = fits[np.r_[True, self.line[fits][1:] != self.line[fits][:-1]]] if len(fits) else fits
        end_pair = np.full(lines, -1)
        end_pair[self.line[fits]] = fits
        best = np.full(lines, np.inf)
        best[self.line[fits]] = -gain[fits]
        # Edges: pair a = (d, s), e served by s alone, and e's leaving makes room for d.
        alone = self._alone(x)
        starts, order = groups_by(self.supplier[alone], len(self.model.supplier_capacity))
        first = np.flatnonzero(movable & (room < t))
        k, member = expand(starts, order, self.supplier[first])
        a, e = first[k], self.line[alone[member]]
        ok = (room[a] + self.hours[e] >= t[a]) & (e != self.line[a])
        a, e = a[ok], e[ok]
        via_pair, via_line = np.full(lines, -1), np.full(lines, -1)
        for _ in range(EJECTION_LENGTH - 1):
            if not len(a):
                break
            through = -gain[a] + best[e]
            top = np.lexsort((a, through, self.line[a]))
            top = top[np.r_[True, self.line[a][top][1:] != self.line[a][top][:-1]]]
            d = self.line[a[top]]
            better = through[top] < best[d] - EPSILON_PENCE
            best[d[better]] = through[top][better]
            via_pair[d[better]], via_line[d[better]] = a[top][better], e[top][better]
        tried = made = 0
        for d in np.flatnonzero(best < -EPSILON_PENCE)[np.argsort(best[best < -EPSILON_PENCE], kind="stable")].tolist():
            path, seen = [], set()
            while d >= 0 and d not in seen and len(path) < EJECTION_LENGTH:
                seen.add(d)
                if via_pair[d] < 0:
                    path.append(int(end_pair[d]))
                    break
                path.append(int(via_pair[d]))
                d = int(via_line[d])
            if len(path) < 2 or path[-1] < 0 or len(set(self.line[path].tolist())) < len(path):
                continue
            tried += 1
            made += self._try(*self._whole(self.line[np.array(path)], np.array(path)))
        return made, tried


def groups_by(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (starts, order): the positions with key k are order[starts[k]:starts[k + 1]]."""
    order = np.argsort(keys, kind="stable")
    return np.searchsorted(keys[order], np.arange(n + 1)), order


def expand(starts: np.ndarray, order: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (i, member): each position i of `keys` once per member of its key's group (`groups_by`)."""
    counts = starts[keys + 1] - starts[keys]
    i = np.repeat(np.arange(len(keys)), counts)
    pos = np.repeat(starts[keys] - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(int(counts.sum()))
    return i, order[pos]


def best_per(keys: np.ndarray, gain: np.ndarray, floor: float) -> np.ndarray:
    """Return, for each key, the position of its largest gain above `floor`, largest gains first."""
    good = np.flatnonzero(gain > floor)
    good = good[np.lexsort((good, -gain[good], keys[good]))]
    good = good[np.r_[True, keys[good][1:] != keys[good][:-1]]] if len(good) else good
    return good[np.lexsort((good, -gain[good]))]
