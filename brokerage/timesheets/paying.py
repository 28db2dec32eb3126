"""Whether each approved week has been paid to its provider: a lookup the payments package registers in `brokerage.wiring`.

Approving a sheet moves the week's cost from the members' pool shares to what the group owes the provider; the
provider is paid later, by a payment run an officer releases (payments.remittance links each payment to the sheets it
pays). Payments sits above timesheets (issue 9's layers), so timesheets cannot ask it: it offers this registry, as
clusters does for leavers (clusters.leaver_holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from sqlmodel import Session

from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus


@dataclass(frozen=True)
class WeekPayment:
    """Where the money for an approved week is, in words, and the payment that pays it (when its provider may open it)."""

    paid: bool
    words: str
    line_id: int | None = None


NOT_IN_A_RUN = WeekPayment(paid=False, words="Waiting for the next payment run")

# lookup(session, timesheet ids) -> {timesheet id: WeekPayment} for the sheets a payment run has taken (one query).
PaymentLookup = Callable[[Session, Sequence[int]], "dict[int, WeekPayment]"]

_lookup: list[PaymentLookup] = []


def register_payment_lookup(lookup: PaymentLookup) -> None:
    """Register how to find the payments of approved sheets; a second call replaces the first."""
    _lookup[:] = [lookup]


def payments_of(session: Session, sheets: Iterable[Timesheet | None]) -> dict[int, WeekPayment]:
    """Return where the money of each approved sheet is, by sheet id (one query however many sheets); other sheets are left out."""
    ids = [sheet.id for sheet in sheets if sheet is not None and sheet.status == TimesheetStatus.approved]
    if not ids:
        return {}
    if not _lookup:
        raise RuntimeError("No lookup of timesheets' payments is registered: call brokerage.wiring.connect_domains() at start-up.")
    found = _lookup[0](session, ids)
    return {sheet_id: found.get(sheet_id, NOT_IN_A_RUN) for sheet_id in ids}
