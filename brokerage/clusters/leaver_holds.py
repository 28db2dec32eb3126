"""What still needs a leaver's pool share: a registry the packages above clusters fill in `brokerage.wiring`.

A member's notice ends on `leaves_on`; the daily settle run (`membership.settle_leavers`) then returns
what is left of their pool share to their wallet and marks them left. Care given during the notice is
paid from that share when its timesheet is approved, which can be days later, so settling waits while any
registered hold gives a reason (timesheets registers one: a sheet for a week up to the leaving day that is
not yet approved or sent back). Meanwhile the member stays "leaving" and their page says they are waiting
for the last timesheets; once nothing holds the share, the next run returns only what is left in it.

Clusters sits below timesheets, so it cannot ask them itself (issue 9's layers): it offers this registry.
"""

from __future__ import annotations

from datetime import date
from typing import Callable

from sqlmodel import Session

from brokerage.clusters.models import Membership

# hold(session=, membership=, today=) -> a short reason the share must wait ("waiting for the last timesheets"), or None.
Hold = Callable[..., "str | None"]

_HOLDS: dict[str, Hold] = {}

WAITING_FOR_SHEETS = "waiting for the last timesheets"


def register_hold(name: str, hold: Hold) -> None:
    """Register something that can make a leaver's settlement wait; registering the same hold again changes nothing."""
    current = _HOLDS.get(name)
    if current is not None and current is not hold:
        raise ValueError(f"another hold is already registered as {name}")
    _HOLDS[name] = hold


def reasons_to_wait(*, session: Session, membership: Membership, today: date) -> list[str]:
    """Return why a leaver's share cannot be returned yet (empty when it can), by every registered hold, in name order."""
    reasons = []
    for name in sorted(_HOLDS):
        reason = _HOLDS[name](session=session, membership=membership, today=today)
        if reason:
            reasons.append(reason)
    return reasons
