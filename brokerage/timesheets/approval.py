"""Deciding a submitted timesheet: approve it (one ledger entry pays for the week from the members' pool shares) or send it back.

Lock order: the timesheet row first, then the ledger accounts (`ledger.services.post_entry` locks those
in id order). Two approvers at once take turns on the sheet's lock; the second finds it approved. The
entry's idempotency key names the contract's week (`care:{contract}:{week}`), so even without the lock
the week could be paid once only.
"""

from __future__ import annotations

from sqlmodel import Session

from brokerage.accounts.models import Role, User
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import date_time, pounds
from brokerage.holders.models import Power
from brokerage.holders.services import refuse_lost_power
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.errors import Overdraft
from brokerage.ledger.services import balance, post_entry
from brokerage.locks import lock_row
from brokerage.providers.models import Provider
from brokerage.types import utcnow

from brokerage.timesheets import pricing, rules
from brokerage.timesheets.approvers import acts_as_approver, approver_of
from brokerage.timesheets.errors import SheetNotOpen, ShareTooSmall
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus
from brokerage.timesheets.sheets import get_sheet, member_names, visit_in, visits_of, week_problems

REASON_LIMIT = 1000


def may_decide(session: Session, actor: User, sheet: Timesheet) -> bool:
    """Tell whether the actor may approve or send back a sheet: the council's broker, or the group's chosen approver."""
    return actor.role == Role.broker or acts_as_approver(session=session, actor=actor, cluster_id=sheet.cluster_id)


def _refuse_if_care_taken(session: Session, actor: User, timesheet_id: int, *, approving: bool) -> None:
    """Raise PowerRemoved if the actor still represents the group's approver, who no longer lets them manage their care."""
    sheet = session.get(Timesheet, timesheet_id)
    if sheet is None or sheet.council_id != actor.council_id:
        return
    # Only as the approver's representative could they decide: anyone else still finds nothing, or is told who decides.
    approver = approver_of(session=session, cluster_id=sheet.cluster_id)
    if approver is not None:
        refuse_lost_power(session=session, actor=actor, holder_ids=[approver.id], power=Power.care,
                          undone=f"the timesheet was not {'approved' if approving else 'sent back'}")


def _waiting_sheet(session: Session, actor: User, timesheet_id: int, *, approving: bool) -> Timesheet:
    try:
        sheet = get_sheet(session=session, actor=actor, timesheet_id=timesheet_id)
    except NotFound:
        _refuse_if_care_taken(session, actor, timesheet_id, approving=approving)
        raise
    if not may_decide(session, actor, sheet):
        _refuse_if_care_taken(session, actor, sheet.id, approving=approving)
        raise NotAllowed("Only the broker, or the member the group chose to approve timesheets, can approve or send back a timesheet.")
    sheet = lock_row(session, Timesheet, sheet.id)
    if sheet.status != TimesheetStatus.submitted:
        raise SheetNotOpen(not_waiting_words(session, actor, sheet, approving=approving))
    return sheet


def not_waiting_words(session: Session, actor: User, sheet: Timesheet, *, approving: bool) -> str:
    """Say why a sheet no longer waiting cannot be approved or sent back: who decided it and when, and what can be done now."""
    if sheet.status == TimesheetStatus.draft:
        return "This timesheet is not waiting for approval: the provider has not sent it yet."
    decider = session.get(User, sheet.decided_by_id) if sheet.decided_by_id else None
    who = "you" if decider is not None and decider.id == actor.id else (decider.name if decider else "someone")
    when = f"by {who} on {date_time(sheet.decided_at)}" if sheet.decided_at else f"by {who}"
    if sheet.status == TimesheetStatus.approved:
        if approving:
            return f"This timesheet was already approved {when}, so its cost was not taken from the pool again."
        # Approved is final (rules.TIMESHEET_MOVES): nothing here undoes it, so a mistake goes to the council.
        return (f"This timesheet was approved {when}, so it can no longer be sent back. "
                "If something in it is wrong, contact the council: an approved week cannot be changed here.")
    if approving:
        return (f"This timesheet was sent back to the provider {when}, so it cannot be approved now. "
                "It waits for approval again once the provider corrects it and sends it again.")
    return f"This timesheet was already sent back to the provider {when}, so it was not sent back again."


def _shortfalls(session: Session, actor: User, sheet: Timesheet, parts: dict[int, int], names: dict[int, str]) -> list[str]:
    found = []
    for holder_id, part in sorted(parts.items(), key=lambda item: names.get(item[0], "")):
        has = balance(session=session, actor=actor, council_id=sheet.council_id, code=ledger_rules.pool_code(sheet.cluster_id, holder_id))
        if has < part:
            found.append(f"{names.get(holder_id, 'A member')}'s share of the pool has {pounds(has)}; their part is {pounds(part)}.")
    return found


def approve(*, session: Session, actor: User, timesheet_id: int) -> Timesheet:
    """Approve a submitted sheet: post one care_cost entry moving each member's part from their pool share to the provider's payable.

    The week is paid by the terms fixed on the sheet when it was sent (its rate, travel and each member's
    part; see `pricing`), whatever the contract says now. Refused, with nothing posted or changed: a visit
    the week's terms do not allow, or a member's share that cannot cover their part (ShareTooSmall, naming
    the member and the shortfall).
    """
    sheet = _waiting_sheet(session, actor, timesheet_id, approving=True)
    contract = session.get(Contract, sheet.contract_id)
    provider = session.get(Provider, sheet.provider_id)
    cluster = session.get(Cluster, sheet.cluster_id)
    visits = [visit_in(v) for v in visits_of(session, sheet.id)]
    if not visits:
        raise SheetNotOpen("This timesheet has no visits, so there is nothing to approve.")
    terms = pricing.week_terms(session, contract, sheet)
    problems = week_problems(session, sheet, contract, visits, pricing.visit_terms(session, contract, sheet, terms))
    if problems:
        raise ValidationFailed({"": problems}, message=" ".join(problems))
    # A sheet sent before the terms were kept on it is priced as approval always priced it: now.
    cost = pricing.fixed_cost(sheet, visits) or pricing.week_cost(
        session=session, contract=contract, sheet=sheet, terms=terms, travel_paid=pricing.sheet_travel(sheet), visits=visits,
    )
    names = member_names(session, contract)
    short = _shortfalls(session, actor, sheet, cost.parts, names)
    if short:
        raise ShareTooSmall(" ".join(short) + " Nothing was paid: the members can add to their shares, or the broker can talk to the provider.")
    postings = [(ledger_rules.pool_code(sheet.cluster_id, holder_id), -part) for holder_id, part in sorted(cost.parts.items())]
    postings.append((ledger_rules.payable_code(sheet.provider_id), cost.pay.total_pence))
    try:
        entry = post_entry(
            session=session, actor=actor, council_id=sheet.council_id, kind=kinds.EntryKind.care_cost, postings=postings,
            idempotency_key=kinds.care_cost_key(contract_id=contract.id, week=sheet.week),
            memo=f"Care from {provider.name} for {cluster.name}, {sheet.week}",
        )
    except Overdraft:
        # A share fell between the check and the post (another approval took from it): say whose, plainly.
        short = _shortfalls(session, actor, sheet, cost.parts, names)
        raise ShareTooSmall(" ".join(short) or "A member's share of the pool cannot cover their part. Nothing was paid.") from None
    sheet.status = rules.move_timesheet(sheet.status, TimesheetStatus.approved)
    sheet.care_entry_id, sheet.total_pence, sheet.travel_pence = entry.id, cost.pay.total_pence, cost.pay.travel_pence
    sheet.decided_at, sheet.decided_by_id = utcnow(), actor.id
    session.add(sheet)
    session.flush()
    return sheet


def reject(*, session: Session, actor: User, timesheet_id: int, reason: str) -> Timesheet:
    """Send a submitted sheet back to its provider with a reason (required), so they can correct it and send it again."""
    sheet = _waiting_sheet(session, actor, timesheet_id, approving=False)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Say why you are sending the timesheet back, so the provider can correct it"})
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed({"reason": f"Use {REASON_LIMIT} characters or fewer"})
    sheet.status = rules.move_timesheet(sheet.status, TimesheetStatus.rejected)
    sheet.rejection_reason, sheet.decided_at, sheet.decided_by_id = reason, utcnow(), actor.id
    session.add(sheet)
    session.flush()
    return sheet
