"""What each payment pays for: the approved timesheets a line covers, and the provider's payments and remittances.

A line pays the provider's payable balance. When a run is prepared, the line is linked to the provider's
approved timesheets that no other line has paid or plans to pay (a failed, reversed or held line, or a
line of a cancelled run, lets its timesheets go to the next run), so the remittance says which
contracts, which weeks and which visits the money is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404
from brokerage.accounts.models import User
from brokerage.audit.rules import REMITTANCE
from brokerage.audit.services import log_accesses
from brokerage.errors import NotFound
from brokerage.payments.run_models import PaymentLine, PaymentLineTimesheet, PaymentRun
from brokerage.payments.run_rules import MONEY_OUT, NEXT_RUN_AFTER_FAILURE, NOT_PAID, OPEN_RUN, LineStatus, RunStatus, week_payment_words
from brokerage.providers.models import Provider
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.paying import WeekPayment
from brokerage.timesheets.queries import ApprovedSheet, SentTravel, approved_sheets, sent_travel, sheet_travel_flag
from brokerage.timesheets.rules import TimesheetStatus
from brokerage.types import Role

# A provider sees a payment once an officer has released its run.
SHOWN_TO_PROVIDER = (RunStatus.released, RunStatus.paying, RunStatus.paid, RunStatus.paid_with_failures)


def unpaid_timesheets(*, session: Session, council_id: int, provider_id: int) -> list[tuple[int, int]]:
    """Return (timesheet id, total in pence) of a provider's approved timesheets no line has paid or plans to pay."""
    taken = (
        select(PaymentLineTimesheet.timesheet_id)
        .join(PaymentLine, PaymentLine.id == PaymentLineTimesheet.line_id)
        .join(PaymentRun, PaymentRun.id == PaymentLine.run_id)
        .where(
            PaymentLine.council_id == council_id, PaymentLine.provider_id == provider_id,
            or_(PaymentLine.status.in_(MONEY_OUT), and_(PaymentLine.status == LineStatus.planned, PaymentRun.status.in_(OPEN_RUN))),
        )
    )
    rows = session.exec(
        select(Timesheet.id, Timesheet.total_pence)
        .where(Timesheet.council_id == council_id, Timesheet.provider_id == provider_id, Timesheet.status == TimesheetStatus.approved,
               Timesheet.id.not_in(taken))
        .order_by(Timesheet.week, Timesheet.id)
    ).all()
    return [(timesheet_id, int(total)) for timesheet_id, total in rows]


def week_payments(session: Session, timesheet_ids: Sequence[int]) -> dict[int, WeekPayment]:
    """Return where the money of each of these approved timesheets is, for the sheets a payment run has taken, in one query.

    The payment that pays a sheet now is the newest line sending or paying it, or planning to in an open run; a sheet
    whose only lines were not paid (refused, taken back, held) waits for the next run, and says its last payment did not
    go through. The payment is linked once its run is released, when its provider may open it (SHOWN_TO_PROVIDER).
    """
    rows = session.exec(
        select(PaymentLineTimesheet.timesheet_id, PaymentLine, PaymentRun.status)
        .join(PaymentLine, PaymentLine.id == PaymentLineTimesheet.line_id).join(PaymentRun, PaymentRun.id == PaymentLine.run_id)
        .where(PaymentLineTimesheet.timesheet_id.in_(list(timesheet_ids) or [-1])).order_by(PaymentLine.id)
    ).all()
    paying: dict[int, WeekPayment] = {}
    failed: dict[int, WeekPayment] = {}
    for sheet_id, line, run_status in rows:  # oldest first, so the newest line of each kind is kept
        shown = line.id if run_status in SHOWN_TO_PROVIDER else None
        words = week_payment_words(line.status, run_status, line.sent_at or line.updated_at)
        if words:
            paying[sheet_id] = WeekPayment(paid=line.status == LineStatus.paid, words=words, line_id=shown)
        elif line.status in NOT_PAID:
            failed[sheet_id] = WeekPayment(paid=False, words=NEXT_RUN_AFTER_FAILURE, line_id=shown)
    return failed | paying


@dataclass
class PaymentsPage:
    """A provider's payments, newest first, each with its run."""

    provider: Provider
    payments: list[tuple[PaymentLine, PaymentRun]]


def payments_page(*, session: Session, actor: User) -> PaymentsPage:
    """Return the signed-in provider's payments from released runs."""
    if actor.role != Role.provider or actor.provider_id is None:
        raise NotFound()
    provider = get_or_404(session, actor, Provider, actor.provider_id, what="provider")
    rows = session.exec(
        select(PaymentLine, PaymentRun).join(PaymentRun, PaymentRun.id == PaymentLine.run_id)
        .where(PaymentLine.council_id == provider.council_id, PaymentLine.provider_id == provider.id, PaymentRun.status.in_(SHOWN_TO_PROVIDER))
        .order_by(PaymentRun.released_at.desc(), PaymentLine.id.desc())
    ).all()
    return PaymentsPage(provider=provider, payments=[(line, run) for line, run in rows])


@dataclass
class Remittance:
    """What one payment to a provider is for."""

    line: PaymentLine
    run: PaymentRun
    provider: Provider
    sheets: list[ApprovedSheet]
    amounts: dict[int, int]  # what the line counted for each timesheet, in pence
    # Each timesheet's travel in plain words, by the terms fixed on it when it was sent, by timesheet id.
    travel: dict[int, SentTravel] = field(default_factory=dict)

    @property
    def covered_pence(self) -> int:
        """Return the total of the timesheets listed, in pence."""
        return sum(self.amounts.values())

    @property
    def travel_pence(self) -> int:
        """Return the travel pay within the timesheets listed, in pence (sheets that kept no travel pay count none)."""
        return sum(item.sheet.travel_pence or 0 for item in self.sheets)

    @property
    def travel_flags(self) -> dict[int, str]:
        """Return a warning for each listed timesheet whose paid travel is large beside its care, by timesheet id."""
        return {item.sheet.id: flag for item in self.sheets if (flag := sheet_travel_flag(item.sheet))}


def remittance(*, session: Session, actor: User, line_id: int) -> Remittance:
    """Return a payment's remittance: for its provider, or for staff of its council (NotFound for anyone else).

    It names each member's care visits: a staff read is logged for each of them (brokerage.audit), as the timesheet page is.
    """
    line = get_or_404(session, actor, PaymentLine, line_id, what="payment")
    run = session.get(PaymentRun, line.run_id)
    if actor.role == Role.provider:
        if actor.provider_id != line.provider_id or run.status not in SHOWN_TO_PROVIDER:
            raise NotFound()
    elif actor.role not in (Role.broker, Role.council_officer):
        raise NotFound()
    provider = session.get(Provider, line.provider_id)
    amounts = dict(session.exec(
        select(PaymentLineTimesheet.timesheet_id, PaymentLineTimesheet.amount_pence).where(PaymentLineTimesheet.line_id == line.id)
    ).all())
    sheets = approved_sheets(session=session, provider_id=line.provider_id, ids=list(amounts)) if amounts else []
    if actor.role in STAFF:
        log_accesses(session=session, actor=actor, council_id=line.council_id, what=REMITTANCE,
                     holder_ids=[row.visit.holder_id for sheet in sheets for row in sheet.visits])
    own = actor.role == Role.provider
    travel = {item.sheet.id: words for item in sheets if (words := sent_travel(item, provider, to_provider=own))}
    return Remittance(line=line, run=run, provider=provider, sheets=sheets, amounts={k: int(v) for k, v in amounts.items()}, travel=travel)
