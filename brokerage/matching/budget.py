"""The deterministic work budget of `improve.py`, and what its steps are charged.

A work unit is about a millisecond of one core on the reference machine (the 2-core machine the
project is measured on). Nothing here reads the clock: the charges are worked out from the sizes of
the problems (before a step, so as not to start what the budget cannot pay for) or from what the
solvers report they did (after it), so the same instance and time limit spend the budget the same way.
"""

from __future__ import annotations

from brokerage.matching.lagrangian import FULL_EVERY

# In format 2 the Lagrangian's first multipliers cost one work unit per this many units, and the
# rounding of its guess (up to three min-cost flows) one per ROUNDING_UNITS_PER_UNIT.
STARTING_UNITS_PER_UNIT, ROUNDING_UNITS_PER_UNIT = 1000, 800


class Budget:
    """Work units left and spent; a step is taken only when the units left pay for it."""

    def __init__(self, units: int) -> None:
        self.left, self.spent = units, 0

    def take(self, units: int) -> bool:
        """Spend `units` and return True, or return False and spend nothing when fewer are left."""
        if units > self.left:
            return False
        self.left -= units
        self.spent += units
        return True


def mip_work(variables: int) -> int:
    """The least work a MIP with this many hour variables is likely to take (its real work is charged after)."""
    return 5 + variables * variables // 300


def lagrange_start(units: int, slots: bool) -> int:
    """Work a Lagrangian pays before its first bound: format 2's start (Bellman-Ford), rounding and first steps.

    Without them it keeps its flow bound: on a big slot network they cost far more than a small share.
    Format 1's fit in the setup work: 0.
    """
    if not slots:
        return 0
    return units // STARTING_UNITS_PER_UNIT + units // ROUNDING_UNITS_PER_UNIT + lagrange_work(units, slots)


def lagrange_work(arcs: int, slots: bool = False) -> int:
    """Work of FULL_EVERY Lagrangian steps over this many units (format 2's units, slot arcs, cost more: their pairs share caps,
    and each step also solves the strong subproblem, about half as dear again)."""
    return 1 + FULL_EVERY * arcs // (10_500 if slots else 28_000)
