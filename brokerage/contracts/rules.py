"""Pure rules of contracts."""

from __future__ import annotations

import enum

MIN_VISIT_MINUTES = 30


class AllocationRule(str, enum.Enum):
    """How a contract's cost is shared between the members it serves."""

    equal = "equal"
    by_hours = "by_hours"
    by_pledge = "by_pledge"

    @property
    def label(self) -> str:
        """Return the rule in plain English."""
        return {"equal": "Shared equally", "by_hours": "By hours each member uses", "by_pledge": "In proportion to pledges"}[self.value]


def check_min_visit(minutes: int) -> None:
    """Raise ValueError unless visits are at least 30 minutes (Ethical Care Charter: no 15-minute visits)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < MIN_VISIT_MINUTES:
        raise ValueError(f"visits must be at least {MIN_VISIT_MINUTES} minutes")
