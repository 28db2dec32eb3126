"""Pure rules of contracts."""

from __future__ import annotations

import enum

from brokerage.errors import BrokerageError

MIN_VISIT_MINUTES = 30


class BadContractMove(BrokerageError):
    """A contract cannot move from its status to that one."""

    status = 409


class ContractStatus(str, enum.Enum):
    """Where a contract is. Contracts are made active; nothing yet ends one."""

    active = "active"


CONTRACT_MOVES: dict[str, set[str]] = {"active": set()}


def move_contract(current: str | enum.Enum, target: str | enum.Enum) -> ContractStatus:
    """Return the new contract status, or raise BadContractMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in CONTRACT_MOVES.get(current, set()):
        raise BadContractMove(f"A contract that is {current} cannot become {target}.")
    return ContractStatus(target)


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
