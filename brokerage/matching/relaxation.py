"""The strong LP bound for `improve.py`, and the fractional answer that guides its search.

A relaxation of the exact model (`improve.py`), a proven lower bound for a component (for a
component too big for the LP, `lagrangian.py`):

- The strong LP, tightened by rounds of cutting planes.
  Each round solves the LP (warm from the last basis with SciPy's HiGHS bindings; interior point
  first for a big one), then, when a next round can be paid for, adds the inequalities the
  fractional answer violates most:
  * covers of each line-side row (a line, or a line's slot; `hours` its hours, `cap_u` the most
    unit u can carry): for a set S of its units with room mu = hours - cap(S) > 0 left over,
    x(row) - sum_{u not in S} min(cap_u, mu) y_u <= cap(S), as the hours beyond what S carries
    come from other open pairs, each giving at most min(cap_u, mu) of what is needed;
  * the same for several line-side rows D sharing a full supplier-side row, whose units S in it
    carry at most cap(S) = min(the supplier's hours, their caps) together;
  * on each supplier-side row and, in format 1, each (cluster, supplier) group's row, the
    complemented mixed-integer rounding (c-MIR) of the row after each x_u is written as
    cap_u y_u minus a slack, for a few divisors (Marchand and Wolsey's procedure).
  All are valid for every integer answer (and a cut the current answer breaks is dropped).

Everything here is deterministic: no clock, fixed orders, HiGHS on one thread.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix, vstack

from brokerage.matching.errors import MatchingError
from brokerage.matching.fixed_charge import build_mip, highs_bindings, highs_model, Model, Spare


# Cuts must be violated by at least this much (hours) to be added.
MIN_VIOLATION = 1e-3
# At most this many units of a line-side row form the set S of a cover.
COVER_SIZE = 4
# Values closer than this to 0 or 1 count as integral.
EPS = 1e-6
# The strong LP of a component with more hour variables than this is solved by interior point first.
IPM_HOURS = 6000
# Format 1's warm re-solve after cuts costs about 1/WARM_SHARE of the solve before it. Format 2's
# costs about 1/SLOT_WARM_SHARE of the first solve, every round: measured at S seeds 1-3, the first
# warm solve took 0.33-0.63 of the first solve's time and the second 0.34-0.39 (the first solve,
# interior point and crossover, 2.5-3.7 s on the reference machine).
WARM_SHARE, SLOT_WARM_SHARE = 6, 2

def lp_work(hours: int) -> int:
    """Work units (about a millisecond each) of solving a component's strong LP with this many hour variables."""
    return 1 + int(130 * (hours / 3300) ** 2.2)


def _safe(value: float) -> float:
    """Lower an LP optimum by the solver's round-off, so that it stays a bound."""
    return value * (1 - 1e-9) - 1e-6


class _LP:
    """One component's strong LP, solved again after cuts are added."""

    def __init__(self, c, bounds: Bounds, constraints: LinearConstraint, hours: int, slots: bool = False) -> None:
        self.c, self.bounds = c, bounds
        self.matrix, self.lo, self.hi = csr_matrix(constraints.A), constraints.lb, constraints.ub
        self.work = self.first_work = lp_work(hours)
        self.slots = slots
        # With SciPy's HiGHS bindings the LP is solved again warm after cuts; without, each round starts cold.
        self.highs = None if highs_bindings is None else highs_model(c, bounds, constraints)
        if self.highs is not None and hours > IPM_HOURS:  # big: interior point, then a basis by crossover
            self.highs.setOptionValue("solver", "ipm")

    def solve(self) -> tuple[float, np.ndarray, int]:
        """Return (optimum in pence, answer, work units spent)."""
        if self.highs is None:
            res = milp(self.c, integrality=np.zeros(len(self.c)), bounds=self.bounds,
                       constraints=LinearConstraint(self.matrix, self.lo, self.hi))
            if res.status != 0:
                raise MatchingError(f"the LP bound failed ({res.message})")
            return res.fun, res.x, self.work
        self.highs.run()
        if self.highs.getModelStatus() != highs_bindings.HighsModelStatus.kOptimal:
            raise MatchingError("the LP bound failed")
        work, self.work = self.work, self.next_work()  # later solves start from this basis
        self.highs.setOptionValue("solver", "simplex")
        return self.highs.getInfo().objective_function_value, np.array(self.highs.getSolution().col_value), work

    def next_work(self) -> int:
        """Return the work of the solve after the coming one (`work`), warm from its basis after cuts."""
        if self.highs is None:  # without SciPy's HiGHS bindings every solve starts cold
            return self.work
        if self.slots:
            return 1 + self.first_work // SLOT_WARM_SHARE
        return 1 + self.work // WARM_SHARE

    def add(self, cuts: csr_matrix, rhs: np.ndarray) -> None:
        self.matrix = vstack([self.matrix, cuts]).tocsr()
        self.lo, self.hi = np.r_[self.lo, np.full(len(rhs), -np.inf)], np.r_[self.hi, rhs]
        if self.highs is not None:
            self.highs.addRows(len(rhs), np.full(len(rhs), -np.inf), rhs, cuts.nnz, cuts.indptr[:-1].astype(np.int32),
                               cuts.indices.astype(np.int32), cuts.data)


class StrongLP:
    """The strong LP of a whole component with its cutting-plane rounds.

    Columns: the units' hours x, then y per pair, then z per (cluster, supplier) group.
    """

    def __init__(self, model: Model, arcs: np.ndarray, total: int) -> None:
        spare = Spare(model.row_cap, model.col_cap, model.supplier_capacity)
        c, bounds, constraints, units = build_mip(model, arcs, spare, np.zeros(0, np.int64), total)
        self.model, self.arcs, self.units = model, arcs, units
        self.n, self.npairs = len(units), len(arcs)
        self.pair_of = np.searchsorted(arcs, model.unit_pair[units])
        self.cap = bounds.ub[:self.n]
        _, self.group_of = np.unique(model.group[arcs], return_inverse=True)
        # As in build_mip: what the supplier can give the group's pairs.
        week = model.supplier_capacity[model.supplier[arcs]]
        pair_cap = np.minimum(np.bincount(self.pair_of, weights=self.cap, minlength=self.npairs), week)
        ng = int(self.group_of.max()) + 1 if len(arcs) else 0
        g_week = np.zeros(ng)
        g_week[self.group_of] = week
        self.group_cap = np.minimum(np.bincount(self.group_of, weights=pair_cap, minlength=ng), g_week)
        self.lp = _LP(c, bounds, constraints, len(units), slots=model.slots is not None)
        self.bound = -np.inf
        self.x = None  # the last LP answer's hours per unit
        self.y = None
        self.rows = [_row_groups(model.unit_row[units]), _row_groups(model.unit_col[units])]
        self.row_rhs = [model.row_cap, model.col_cap]
        self.row_key = [model.unit_row[units], model.unit_col[units]]
        self.cuts = 0

    def round(self, incumbent: np.ndarray | None, cut: bool = True) -> tuple[bool, int]:
        """Solve the LP and (if `cut`) add its violated cuts; return (whether any were added, work units spent).

        `incumbent`, the hours of a known answer on the units, guards against adding an invalid cut.
        """
        fun, values, work = self.lp.solve()
        self.bound = max(self.bound, _safe(fun))
        n, npairs = self.n, self.npairs
        self.x, self.y, z = values[:n], values[n:n + npairs], values[n + npairs:]
        if not cut:
            return False, work
        cuts, rhs, checked = self._separate(z)
        work += 1 + checked // 50
        if not rhs:
            return False, work
        matrix = vstack(cuts).tocsr()
        rhs = np.asarray(rhs)
        if incumbent is not None:  # a valid cut never cuts off a real answer
            matrix, rhs = _keep_valid(matrix, rhs, self._point(incumbent))
        if not len(rhs):
            return False, work
        self.lp.add(matrix, rhs)
        self.cuts += len(rhs)
        return True, work

    def _point(self, hours: np.ndarray) -> np.ndarray:
        used = np.bincount(self.pair_of, weights=hours, minlength=self.npairs) > 0
        groups = np.zeros(self.group_of.max() + 1 if self.npairs else 0)
        groups[self.group_of[used]] = 1
        return np.r_[hours, used.astype(float), groups]

    def _separate(self, z: np.ndarray) -> tuple[list, list, int]:
        x, y, cap, pair_of = self.x, self.y, self.cap, self.pair_of
        yu = y[pair_of]
        fractional = (yu > EPS) & (yu < 1 - EPS)
        cuts, rhs, checked = [], [], 0
        size = self.n + self.npairs + len(z)

        def add(units, x_coef, y_coef, bound, group=None, z_coef=0.0):
            cols = np.r_[units, self.n + pair_of[units]]
            vals = np.r_[x_coef, y_coef]
            if group is not None:
                cols, vals = np.r_[cols, self.n + self.npairs + group], np.r_[vals, z_coef]
            cuts.append(csr_matrix((vals, (np.zeros(len(cols), np.int64), cols)), shape=(1, size)))
            rhs.append(bound)

        # Line-side rows: covers. Supplier-side rows: c-MIR (their pairs are distinct in both formats).
        for side, (starts, order) in enumerate(self.rows):
            has = np.add.reduceat(fractional[order].astype(np.int64), starts[:-1]) if len(order) else np.zeros(0)
            for k in np.flatnonzero(has > 0):
                units = order[starts[k]:starts[k + 1]]
                limit = float(self.row_rhs[side][self.row_key[side][units[0]]])
                checked += len(units)
                if side == 0:
                    cut = _cover(x[units], yu[units], cap[units], limit)
                    if cut is not None:
                        add(units, np.ones(len(units)), cut[0], cut[1])
                else:
                    cut = _cmir(x[units], yu[units], cap[units], limit)
                    if cut is not None:
                        add(units, cut[0], cut[1], cut[3])
                    for cover in self._shared(units, limit):
                        add(*cover)
        if self.model.slots is None:  # format 1: each group's row, sum x <= cap_g z_g
            starts, order = _row_groups(self.group_of)
            zfrac = (z > EPS) & (z < 1 - EPS)
            has = np.add.reduceat(fractional[order].astype(np.int64), starts[:-1]) + zfrac
            for g in np.flatnonzero(has > 0):
                units = order[starts[g]:starts[g + 1]]
                checked += len(units)
                cut = _cmir(x[units], yu[units], cap[units], 0.0, -float(self.group_cap[g]), float(z[g]))
                if cut is not None:
                    add(units, cut[0], cut[1], cut[3], g, cut[2])
        return cuts, rhs, checked

    def _shared(self, units: np.ndarray, limit: float) -> list:
        """Return covers of the line-side rows a full supplier-side row serves: (units, x, y coefficients, bound).

        For line-side rows D served by the supplier-side row, S their units in it: S carries at most
        cap(S) = min(limit, sum of their caps), so the rows' other units bring mu = hours(D) - cap(S)
        or more, and x(D) - sum_{u of D not in S} min(cap_u, mu) y_u <= cap(S).
        """
        x, yu, cap = self.x, self.y[self.pair_of], self.cap
        if x[units].sum() < limit - 1e-6:
            return []
        served = units[x[units] > EPS]
        rows = self.row_key[0][served]
        if len(np.unique(rows)) < 2:
            return []
        starts, order = self.rows[0]
        keys = self.row_key[0][order[starts[:-1]]]
        found = []
        heaviest = rows[np.argsort(-x[served], kind="stable")]
        for chosen in (np.unique(rows), np.unique(heaviest[:2])):
            at = np.searchsorted(keys, chosen)
            members = np.concatenate([order[starts[k]:starts[k + 1]] for k in at.tolist()])
            inside = np.isin(members, units)
            carry = min(limit, float(cap[members[inside]].sum()))
            room = float(self.row_rhs[0][chosen].sum()) - carry
            if room <= EPS:
                continue
            y_coef = np.where(inside, 0.0, -np.minimum(cap[members], room))
            if x[members].sum() + (y_coef * yu[members]).sum() - carry > MIN_VIOLATION:
                found.append((members, np.ones(len(members)), y_coef, carry))
        return found


def _row_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (starts, order): the positions with equal keys are order[starts[k]:starts[k + 1]]."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1, len(keys)]
    return starts, order


def _keep_valid(matrix: csr_matrix, rhs: np.ndarray, point: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    ok = matrix @ point <= rhs + 1e-6 * (1 + np.abs(rhs))
    return matrix[np.flatnonzero(ok)], rhs[ok]


def _cover(x: np.ndarray, y: np.ndarray, cap: np.ndarray, hours: float):
    """Return (y coefficients, right-hand side) of the most violated cover of a line-side row, or None.

    The cut is sum x - sum_{u not in S} min(cap_u, mu) y_u <= cap(S), mu = hours - cap(S) > 0.
    """
    order = np.lexsort((-cap, -y))
    best, best_score = None, MIN_VIOLATION
    total = x.sum()
    for k in range(1, min(COVER_SIZE, len(x) - 1) + 1):
        inside = order[:k]
        room = hours - cap[inside].sum()
        if room <= EPS:
            break
        coef = -np.minimum(cap, room)
        coef[inside] = 0.0
        violation = total + (coef * y).sum() - cap[inside].sum()
        if violation / room > best_score:
            best, best_score = (coef, float(cap[inside].sum())), violation / room
    return best


def _cmir(x: np.ndarray, y: np.ndarray, cap: np.ndarray, limit: float, z_coef: float = 0.0, z: float = 0.0):
    """Return (x, y, z coefficients, right-hand side) of the most violated c-MIR cut of one row, or None.

    The row is sum x_u + z_coef z <= limit with x_u <= cap_u y_u, y and z binary (z_coef 0: no z).
    Each x_u with y_u > 0 is written cap_u y_u - t_u (t_u >= 0), the others are dropped; the
    integer part is scaled by a divisor delta, variables at 1/2 or more complemented, and rounded.
    """
    sub = y > EPS
    if not sub.any():
        return None
    slack = float((cap[sub] * y[sub] - x[sub]).sum())
    a = np.r_[cap[sub], [z_coef] if z_coef else []]
    v = np.r_[y[sub], [z] if z_coef else []]
    flip = v >= 0.5
    candidates = np.unique(np.r_[cap[sub], [-z_coef] if z_coef else []])
    best, best_violation = None, MIN_VIOLATION
    for base in candidates.tolist():
        for delta in (base, base / 2, base / 4):
            if delta <= EPS:
                continue
            scaled = a / delta
            beta = limit / delta - scaled[flip].sum()
            f0 = beta - np.floor(beta)
            if f0 < 1e-3 or f0 > 1 - 1e-3:
                continue
            coef = np.where(flip, -scaled, scaled)
            rounded = np.floor(coef) + np.maximum(coef - np.floor(coef) - f0, 0) / (1 - f0)
            values = np.where(flip, 1 - v, v)
            # Violation in hours: the cut times delta (1 - f0).
            violation = ((rounded * values).sum() - slack / (delta * (1 - f0)) - np.floor(beta)) * delta * (1 - f0)
            if violation > best_violation:
                best, best_violation = (delta, f0, rounded, float(np.floor(beta))), violation
    if best is None:
        return None
    delta, f0, rounded, floor_beta = best
    scale = delta * (1 - f0)
    integer = np.where(flip, -rounded, rounded) * scale
    bound = (floor_beta - rounded[flip].sum()) * scale
    k = len(cap[sub])
    x_coef, y_coef = np.zeros(len(x)), np.zeros(len(x))
    x_coef[sub] = 1.0
    y_coef[sub] = integer[:k] - cap[sub]
    return x_coef, y_coef, (integer[k] if z_coef else 0.0), bound
