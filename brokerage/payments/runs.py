"""Preparing, releasing and cancelling payment runs (maker-checker), and the pages that show them.

A broker or a council officer prepares a run: a line for every vetted provider of the council with
payouts enabled and money waiting in `provider:{p}:payable`. A council officer who did not prepare it
releases it; at release each provider's vetting and payouts are checked again, and a provider that no
longer qualifies is held, with the reason. The release queues the `payments.execute_run` job
(`transfers.py`), which moves the money. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF, get_or_404
from brokerage.accounts.models import User
from brokerage.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import clock_time
from brokerage.ledger import services as ledger
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.rules import AccountType
from brokerage.locks import insert_once, lock_row
from brokerage.payments import remittance
from brokerage.payments.run_models import PaymentLine, PaymentLineTimesheet, PaymentRun
from brokerage.payments.run_rules import (
    CANCEL_REASON_MAX,
    CHECKABLE_LINE,
    OPEN_RUN,
    LineStatus,
    RunStatus,
    run_label,
    amount_to_pay,
    is_claimed,
    move_payment_line,
    move_payment_run,
    vetting_reason,
)
from brokerage.providers.models import Provider
from brokerage.providers.services import VETTING_WORDS, vetting_summary
from brokerage.types import Role, utcnow
from brokerage.validation import control_character_problem

PREPARERS = (Role.broker, Role.council_officer)
RELEASERS = (Role.council_officer,)


class RunStillOpen(Conflict):
    """The council already has a payment run that is not finished."""


class NothingToPay(Conflict):
    """No provider qualifies for a run."""

    status = 422


class SamePerson(NotAllowed):
    """Maker-checker: the person who prepared a run cannot release it."""


NOTHING_TO_PAY = (
    "There is nothing to pay. A run pays providers whose vetting is valid, whose payouts Stripe has enabled, "
    "and who have approved work not yet paid; none has all three today."
)
SAME_PERSON = "You prepared this payment run, so you cannot release it. Another council officer must check and release it."


def _open_run(session: Session, council_id: int) -> PaymentRun | None:
    return session.exec(
        select(PaymentRun).where(PaymentRun.council_id == council_id, PaymentRun.status.in_(OPEN_RUN)).order_by(PaymentRun.id)
    ).first()


def _still_open_error(run: PaymentRun | None) -> RunStillOpen:
    number = f"Payment run {run.id}" if run else "Another payment run"
    return RunStillOpen(f"{number} is not finished yet. Release or cancel it (or restart it, if it stopped) before preparing another.")


def payable_balances(*, session: Session, council_id: int) -> dict[int, int]:
    """Return each provider's `payable` balance in the council, in pence (providers with no account are left out)."""
    rows = session.exec(
        select(LedgerAccount.provider_id, LedgerAccount.balance_pence).where(
            LedgerAccount.council_id == council_id, LedgerAccount.account_type == AccountType.payable
        )
    ).all()
    return {provider_id: int(balance) for provider_id, balance in rows if provider_id is not None}


def reserved_by_open_runs(*, session: Session, council_id: int) -> dict[int, int]:
    """Return what unfinished runs plan to pay each provider and have not yet moved out of `payable`, in pence."""
    rows = session.exec(
        select(PaymentLine.provider_id, func.sum(PaymentLine.amount_pence))
        .join(PaymentRun, PaymentRun.id == PaymentLine.run_id)
        .where(PaymentLine.council_id == council_id, PaymentRun.status.in_(OPEN_RUN), PaymentLine.status == LineStatus.planned)
        .group_by(PaymentLine.provider_id)
    ).all()
    return {provider_id: int(total) for provider_id, total in rows}


@dataclass
class PlannedLine:
    """A provider a run would pay, and how much."""

    provider: Provider
    amount_pence: int


def plan_lines(*, session: Session, council_id: int) -> list[PlannedLine]:
    """Return a line for every provider of the council that is vetted today, has payouts enabled and money waiting."""
    states = vetting_summary(session=session, council_id=council_id, today=clock.today())
    payable = payable_balances(session=session, council_id=council_id)
    reserved = reserved_by_open_runs(session=session, council_id=council_id)
    providers = session.exec(select(Provider).where(Provider.council_id == council_id).order_by(Provider.name, Provider.id)).all()
    lines = []
    for provider in providers:
        amount = amount_to_pay(payable.get(provider.id, 0), reserved.get(provider.id, 0))
        if amount > 0 and provider.payouts_enabled and provider.stripe_account_id and states[provider.id].valid:
            lines.append(PlannedLine(provider=provider, amount_pence=amount))
    return lines


def _lock_payables(session: Session, council_id: int) -> None:
    """Lock the council's payable accounts (ledger order), so no approval lands between reading what a provider is owed and the timesheets that make it up.

    An approval posts to its provider's payable account, so it waits for the run here, or the run waits for it
    and then reads both the new balance and the new approved timesheet (each statement reads what is committed
    when it starts). Without the lock a line could pay the balance from before an approval and list its sheet.
    """
    codes = session.exec(
        select(LedgerAccount.code).where(LedgerAccount.council_id == council_id, LedgerAccount.account_type == AccountType.payable)
    ).all()
    ledger.lock_accounts(session=session, council_id=council_id, codes=codes)


def prepare_run(*, session: Session, actor: User) -> PaymentRun:
    """Prepare the actor's council's next payment run; raise RunStillOpen, NothingToPay or NotAllowed."""
    if actor.role not in PREPARERS:
        raise NotAllowed("Only a broker or a council officer can prepare a payment run.")
    council_id = actor.council_id
    # Locked first: a preparer who waited here then finds the other's run, committed, and says so.
    _lock_payables(session, council_id)
    if (existing := _open_run(session, council_id)) is not None:
        raise _still_open_error(existing)
    planned = plan_lines(session=session, council_id=council_id)
    if not planned:
        raise NothingToPay(NOTHING_TO_PAY)
    run = PaymentRun(
        council_id=council_id, status=RunStatus.prepared, prepared_by_id=actor.id, prepared_at=utcnow(),
        total_pence=sum(p.amount_pence for p in planned),
    )
    # The partial unique index allows one open run per council: a broker preparing at the same moment loses here.
    with insert_once(session, _still_open_error(None)):
        session.add(run)
    for item in planned:
        line = PaymentLine(council_id=council_id, run_id=run.id, provider_id=item.provider.id, amount_pence=item.amount_pence)
        session.add(line)
        session.flush()
        for timesheet_id, amount in remittance.unpaid_timesheets(session=session, council_id=council_id, provider_id=item.provider.id):
            session.add(PaymentLineTimesheet(line_id=line.id, timesheet_id=timesheet_id, council_id=council_id, amount_pence=amount))
    session.flush()
    return run


def release_run(*, session: Session, actor: User, run_id: int) -> PaymentRun:
    """Release a prepared run as a council officer who did not prepare it; hold lines whose provider no longer qualifies.

    Raises NotAllowed for other roles, SamePerson for the preparer, BadPaymentMove when it is not waiting for release.
    The caller queues the `payments.execute_run` job after committing.
    """
    if actor.role not in RELEASERS:
        raise NotAllowed("Only a council officer can release a payment run.")
    get_or_404(session, actor, PaymentRun, run_id, what="payment run")
    # The run's row guards its status: of two officers releasing at once, the second waits here and then
    # finds it released.
    run = lock_row(session, PaymentRun, run_id)
    if run.prepared_by_id == actor.id:
        raise SamePerson(SAME_PERSON)
    if run.status != RunStatus.prepared:
        raise RunStillOpen(f"Payment run {run.id} is not waiting for release: it is {run.status.label.lower()}.")
    run.status = move_payment_run(run.status, RunStatus.released)
    run.released_by_id, run.released_at = actor.id, utcnow()
    states = vetting_summary(session=session, council_id=run.council_id, today=clock.today())
    lines = session.exec(select(PaymentLine).where(PaymentLine.run_id == run.id).order_by(PaymentLine.id)).all()
    providers = {p.id: p for p in session.exec(select(Provider).where(Provider.id.in_([line.provider_id for line in lines])))}
    for line in lines:
        state = states.get(line.provider_id)
        provider = providers[line.provider_id]
        if state is None or not state.valid:
            reason = vetting_reason(state.missing if state else (), state.expired if state else (), state.unverified if state else (), VETTING_WORDS)
        elif not (provider.payouts_enabled and provider.stripe_account_id):
            reason = "Stripe has not enabled payouts for this provider, so it cannot be paid yet."
        else:
            continue
        line.status = move_payment_line(line.status, LineStatus.held)
        line.reason, line.updated_at = reason[:500], utcnow()
    session.flush()
    return run


def cancel_run(*, session: Session, actor: User, run_id: int, reason: str = "") -> PaymentRun:
    """Cancel a run that is still waiting for release (staff only), keeping why; nothing was paid, so nothing is undone.

    Raises ValidationFailed naming `reason` (empty, too long, control characters), NotAllowed, NotFound, RunStillOpen.
    """
    if actor.role not in STAFF:
        raise NotAllowed("Only a broker or a council officer can cancel a payment run.")
    get_or_404(session, actor, PaymentRun, run_id, what="payment run")
    reason = (reason or "").strip()
    problem = ("Say why you are cancelling this payment run" if not reason else
               f"Use {CANCEL_REASON_MAX} characters or fewer" if len(reason) > CANCEL_REASON_MAX else
               control_character_problem(reason, multiline=True))
    if problem:
        raise ValidationFailed({"reason": problem})
    run = lock_row(session, PaymentRun, run_id)
    if run.status != RunStatus.prepared:
        raise RunStillOpen(f"Payment run {run.id} cannot be cancelled: it is {run.status.label.lower()}.")
    run.status = move_payment_run(run.status, RunStatus.cancelled)
    run.cancelled_by_id, run.finished_at, run.cancel_reason = actor.id, utcnow(), reason
    session.flush()
    return run


def ensure_restartable(run: PaymentRun) -> PaymentRun:
    """Return a run that has been released, may have lines left to send and no job is paying; raise RunStillOpen otherwise."""
    if run.status not in (RunStatus.released, RunStatus.paying):
        raise RunStillOpen(f"Payment run {run.id} has nothing left to send: it is {run.status.label.lower()}.")
    if is_claimed(run.claimed_until, utcnow()):
        raise RunStillOpen(f"Payment run {run.id} is being paid right now, so it cannot be started again. "
                           f"If it seems stuck, it can be restarted after {clock_time(run.claimed_until)}.")
    return run


def check_restartable(*, session: Session, actor: User, run_id: int) -> PaymentRun:
    """Return a released run this officer may (re)start; raise NotAllowed, NotFound or RunStillOpen. Reads only."""
    if actor.role not in RELEASERS:
        raise NotAllowed("Only a council officer can restart a payment run.")
    return ensure_restartable(get_or_404(session, actor, PaymentRun, run_id, what="payment run"))


# --- pages --------------------------------------------------------------------------------------


@dataclass
class RunsPage:
    """The council's payment runs, newest first, and whether the reader may prepare one."""

    runs: list[PaymentRun]
    line_counts: dict[int, int]
    open_run: PaymentRun | None
    may_prepare: bool
    waiting_counts: dict[int, int] = field(default_factory=dict)  # per run: payments sent, Stripe still to confirm them

    def status_label(self, run: PaymentRun) -> str:
        """Return a run's status in words, with the payments Stripe has still to confirm."""
        return run_label(run.status, waiting_for_stripe=self.waiting_counts.get(run.id, 0))


def runs_page(*, session: Session, actor: User) -> RunsPage:
    """Return the payment runs page for staff of the council."""
    if actor.role not in STAFF:
        raise NotFound()
    runs = list(session.exec(select(PaymentRun).where(PaymentRun.council_id == actor.council_id).order_by(PaymentRun.id.desc())))
    counts = dict(session.exec(
        select(PaymentLine.run_id, func.count()).where(PaymentLine.council_id == actor.council_id).group_by(PaymentLine.run_id)
    ).all())
    waiting = dict(session.exec(
        select(PaymentLine.run_id, func.count())
        .where(PaymentLine.council_id == actor.council_id, PaymentLine.status == LineStatus.sent).group_by(PaymentLine.run_id)
    ).all())
    open_run = _open_run(session, actor.council_id)
    return RunsPage(runs=runs, line_counts=counts, open_run=open_run, may_prepare=actor.role in PREPARERS and open_run is None,
                    waiting_counts=waiting)


@dataclass
class RunPage:
    """One run: its lines with each provider's name, who prepared and released it, and what the reader may do."""

    run: PaymentRun
    lines: list[tuple[PaymentLine, str]]
    people: dict[int, str]
    to_pay_pence: int
    held_pence: int
    may_release: bool
    may_cancel: bool
    may_restart: bool
    counts: dict[str, int] = field(default_factory=dict)
    being_paid: bool = False  # a job holds the run now
    may_check: bool = False  # the reader may check its sending or unsure lines with Stripe
    checkable: tuple[str, ...] = CHECKABLE_LINE

    @property
    def status_label(self) -> str:
        """Return the run's status in words, with the payments Stripe has still to confirm."""
        return run_label(self.run.status, waiting_for_stripe=sum(line.status == LineStatus.sent for line, _ in self.lines))


def run_page(*, session: Session, actor: User, run_id: int) -> RunPage:
    """Return one run's page for staff of its council."""
    if actor.role not in STAFF:
        raise NotFound()
    run = get_or_404(session, actor, PaymentRun, run_id, what="payment run")
    rows = session.exec(
        select(PaymentLine, Provider.name).join(Provider, Provider.id == PaymentLine.provider_id)
        .where(PaymentLine.run_id == run.id).order_by(Provider.name, PaymentLine.id)
    ).all()
    ids = {i for i in (run.prepared_by_id, run.released_by_id, run.cancelled_by_id) if i}
    people = dict(session.exec(select(User.id, User.name).where(User.id.in_(sorted(ids)))).all()) if ids else {}
    held = sum(line.amount_pence for line, _ in rows if line.status == LineStatus.held)
    counts: dict[str, int] = {}
    for line, _ in rows:
        counts[line.status.value] = counts.get(line.status.value, 0) + 1
    is_officer = actor.role in RELEASERS
    being_paid = is_claimed(run.claimed_until, utcnow())
    return RunPage(
        run=run, lines=[(line, name) for line, name in rows], people=people,
        to_pay_pence=sum(line.amount_pence for line, _ in rows) - held, held_pence=held,
        may_release=is_officer and run.status == RunStatus.prepared and run.prepared_by_id != actor.id,
        may_cancel=run.status == RunStatus.prepared,
        may_restart=is_officer and run.status in (RunStatus.released, RunStatus.paying) and not being_paid,
        counts=counts, being_paid=being_paid, may_check=is_officer and not being_paid,
    )


def runs_waiting_on(session: Session, user: User) -> list[str]:
    """Return a sentence for each payment run this person prepared that still waits for release (it keeps them in their role)."""
    runs = session.exec(
        select(PaymentRun.id).where(PaymentRun.prepared_by_id == user.id, PaymentRun.status == RunStatus.prepared).order_by(PaymentRun.id)
    ).all()
    return [f"They prepared payment run {run_id}, which is waiting to be released or cancelled." for run_id in runs]
