"""What the timesheet pages show: the provider's contracts and weeks, and one sheet with its visits, pay and split.

Nothing here writes, except the access log: staff who open a sheet have seen the care each member it names was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF
from brokerage.accounts.models import Role, User
from brokerage.audit.rules import TIMESHEET
from brokerage.audit.services import log_accesses
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule
from brokerage.errors import NotAllowed
from brokerage.holders.models import Holder
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import entry_postings
from brokerage.providers.models import Provider

from brokerage.timesheets import pricing, rules
from brokerage.timesheets.approval import may_decide
from brokerage.timesheets.approvers import approver_of
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.paying import WeekPayment, payments_of
from brokerage.timesheets.rules import CannotShare, Pay, TimesheetStatus, why_fixed
from brokerage.timesheets.sheets import get_sheet, is_own_provider, member_names, own_visit, sendable_from, visit_in, visits_of
from brokerage.timesheets.travel import travel_sentence

# How many of the latest weeks the provider's list shows in full; every earlier week with no sheet is offered too, in one list.
RECENT_WEEKS = 8


@dataclass
class WeekRow:
    """One week of a contract, with its sheet if one was started."""

    week: str
    sheet: Timesheet | None
    # Where an approved week's money is (paid, or waiting for a payment run); None for any other week.
    payment: WeekPayment | None = None
    # The week's pay in pence: as sent, or, while the sheet is with the provider, as its page shows it now; None with no sheet.
    pay_pence: int | None = None


@dataclass
class ContractWeeks:
    """One of the provider's contracts with its weeks, newest first."""

    contract: Contract
    group: str
    members: list[str]
    weeks: list[WeekRow] = field(default_factory=list)
    # The contract's earlier weeks (before the latest RECENT_WEEKS) with no sheet yet, newest first: still the provider's to claim.
    earlier: list[str] = field(default_factory=list)


def provider_weeks(*, session: Session, actor: User) -> list[ContractWeeks]:
    """Return the provider's contracts, each with its recent weeks, every sheet it has, and its earlier weeks with no sheet."""
    if actor.role != Role.provider:
        raise NotAllowed("Only providers keep timesheets.")
    if actor.provider_id is None:
        return []
    today = clock.today()
    found = []
    contracts = session.exec(
        select(Contract, Cluster.name).join(Cluster, Cluster.id == Contract.cluster_id)
        .where(Contract.provider_id == actor.provider_id, Contract.council_id == actor.council_id).order_by(Contract.start_date, Contract.id)
    )
    for contract, group in contracts:
        sheets = {s.week: s for s in session.exec(select(Timesheet).where(Timesheet.contract_id == contract.id))}
        last = min(today, contract.end_date) if contract.end_date else today
        first = max(contract.start_date, last - timedelta(weeks=RECENT_WEEKS - 1))
        weeks = set(rules.weeks_between(first, last)) if first <= last else set()
        every = rules.weeks_between(contract.start_date, last) if contract.start_date <= last else []
        names = member_names(session, contract)
        found.append(ContractWeeks(
            contract=contract, group=group, members=sorted(names.values()),
            weeks=[WeekRow(week, sheets.get(week)) for week in sorted(weeks | set(sheets), reverse=True)],
            earlier=[week for week in every if week not in weeks and week not in sheets],
        ))
    rows = [row for item in found for row in item.weeks]
    paid = payments_of(session, (row.sheet for row in rows))  # one query for every approved week on the page
    unsent = _unsent_pay(session, [(row.sheet, item.contract) for item in found for row in item.weeks
                                   if row.sheet and row.sheet.status in rules.EDITABLE])
    for row in rows:
        row.payment = paid.get(row.sheet.id) if row.sheet else None
        row.pay_pence = unsent.get(row.sheet.id, row.sheet.total_pence) if row.sheet else None
    return found


def _unsent_pay(session: Session, sheets: list[tuple[Timesheet, Contract]]) -> dict[int, int]:
    """Return the pay in pence of each sheet still with its provider (not sent, or sent back), as its page shows it now.

    Such a sheet's total is stored only when it is sent: one query reads all their visits, and a week with visits is priced
    by its own terms and the provider's travel now, as `sheet_page` prices it.
    """
    if not sheets:
        return {}
    visits: dict[int, list] = {sheet.id: [] for sheet, _ in sheets}
    for stored in session.exec(select(Visit).where(Visit.timesheet_id.in_(list(visits)))):
        visits[stored.timesheet_id].append(visit_in(stored))
    travel_paid = pricing.provider_travel(session.get(Provider, sheets[0][0].provider_id))
    return {sheet.id: rules.week_pay(visits=visits[sheet.id], rate_pence=pricing.week_terms(session, contract, sheet).rate_pence,
                                     travel_paid=travel_paid).total_pence if visits[sheet.id] else 0
            for sheet, contract in sheets}


@dataclass
class VisitRow:
    """One visit on the sheet page."""

    visit: Visit
    member: str
    pay_pence: int
    # Whether this visit's travel is paid (its day was one the charter covered).
    travel_paid: bool = True


@dataclass
class SheetPage:
    """Everything the sheet page shows one actor."""

    sheet: Timesheet
    contract: Contract
    provider: Provider
    group: str
    visits: list[VisitRow]
    pay: Pay
    travel: str
    # (member's name, their part in pence), by name; posted parts once approved, else what approval would post now.
    split: list[tuple[str, int]]
    split_problem: str | None
    # How the week's cost is shared (the week's own terms), and whether this reader may see who pays what (never a provider).
    rule: AllocationRule
    shows_split: bool
    hours_per_week: int
    members: list[tuple[int, str]]
    days: list[date]
    approver: str | None
    decided_by: str | None
    may_edit: bool
    # Why the sheet cannot change now (sent, or approved), or None while it is with the provider.
    why_fixed: str | None
    may_decide: bool
    is_provider: bool
    # The first day the sheet may be sent: once its week (or the contract, if sooner) is over; and whether that day has come.
    sendable_from: date
    may_send: bool
    # Where the approved week's money is (paid to the provider, or waiting for a payment run), for its provider and staff.
    payment: WeekPayment | None = None
    # The visits that start outside the contract's agreed days and times (none when no times were agreed).
    outside: list[VisitRow] = field(default_factory=list)
    # A warning when paid travel is large beside the care (rules.travel_flag), for whoever approves it.
    travel_flag: str | None = None


def _posted_parts(session: Session, sheet: Timesheet) -> dict[int, int]:
    """Return what each member paid by the sheet's care entry, by holder id."""
    parts = {}
    prefix = f"pool:{sheet.cluster_id}:"
    for code, amount in entry_postings(session=session, entry_id=sheet.care_entry_id):
        if code.startswith(prefix) and ledger_rules.type_of_code(code) == ledger_rules.AccountType.pool:
            parts[int(code[len(prefix):])] = -amount
    return parts


def sheet_page(*, session: Session, actor: User, timesheet_id: int) -> SheetPage:
    """Return a timesheet's page for someone who may see it (its provider, the council's staff, the group's members, its approver)."""
    sheet = get_sheet(session=session, actor=actor, timesheet_id=timesheet_id)
    contract = session.get(Contract, sheet.contract_id)
    provider = session.get(Provider, sheet.provider_id)
    group = session.get(Cluster, sheet.cluster_id).name
    names = member_names(session, contract)
    stored = visits_of(session, sheet.id)
    if actor.role in STAFF:
        log_accesses(session=session, actor=actor, council_id=sheet.council_id, holder_ids=[v.holder_id for v in stored], what=TIMESHEET)
    visits = [visit_in(v) for v in stored]
    approved = sheet.status == TimesheetStatus.approved
    own = is_own_provider(actor, sheet.provider_id)
    terms = pricing.week_terms(session, contract, sheet)
    sent = sheet.status in (TimesheetStatus.submitted, TimesheetStatus.approved)
    # Sent: its own travel and terms, fixed at submission; still with the provider: as it would be sent now.
    travel_paid = pricing.sheet_travel(sheet) if sent else pricing.provider_travel(provider, week=sheet.week)
    fixed = pricing.fixed_cost(sheet, visits) if sent else None
    pay = fixed.pay if fixed else rules.week_pay(visits=visits, rate_pence=terms.rate_pence, travel_paid=travel_paid)
    split_problem = None
    if actor.role == Role.provider:
        # What each member pays is the group's business, as on the contract page: never shown to the provider.
        parts = {}
    elif approved:
        parts = _posted_parts(session, sheet)
    elif fixed:
        parts = fixed.parts
    else:
        try:
            parts = pricing.week_cost(session=session, contract=contract, sheet=sheet, terms=terms, travel_paid=travel_paid, visits=visits).parts
        except CannotShare as error:
            parts, split_problem = {}, error.message
    if parts and not names.keys() >= parts.keys():
        names.update(dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_(list(parts)))).all()))
    each = rules.visit_pay(visits=visits, total_pence=pay.total_pence, travel_paid=travel_paid)
    approver = approver_of(session=session, cluster_id=sheet.cluster_id)
    decider = session.get(User, sheet.decided_by_id) if sheet.decided_by_id else None
    rows = [VisitRow(v, names.get(v.holder_id, "A former member"), p, rules.paid_travel_of(i, travel_paid) > 0 or not i.travel_minutes)
            for v, i, p in zip(stored, visits, each)]
    outside = {v.id for v in rules.outside_agreed_times(stored, contract.slot_hours)}
    sendable = sendable_from(sheet, contract)
    payment = payments_of(session, [sheet]).get(sheet.id)
    fixed_why = why_fixed(sheet.status, paid=bool(payment and payment.paid))
    return SheetPage(
        sheet=sheet, contract=contract, provider=provider, group=group,
        visits=rows,
        pay=pay, travel=travel_sentence(provider_name=provider.name, charter=travel_paid, pay=pay, to_provider=own, sent=sent,
                                        confirmed_since=pricing.confirmed_since(sheet, provider) if sent else None,
                                        travel_days=[v.visit_date for v in visits if v.travel_minutes]),
        split=sorted(((names.get(h, "A former member"), part) for h, part in parts.items()), key=lambda row: row[0]),
        split_problem=split_problem, rule=fixed.rule if fixed else terms.allocation_rule, shows_split=actor.role != Role.provider,
        hours_per_week=terms.hours_per_week, members=sorted(names.items(), key=lambda item: item[1]),
        days=rules.week_days(sheet.week), approver=approver.name if approver else None, decided_by=decider.name if decider else None,
        may_edit=own and fixed_why is None, why_fixed=fixed_why,
        may_decide=sheet.status == TimesheetStatus.submitted and may_decide(session, actor, sheet),
        is_provider=own, sendable_from=sendable, may_send=clock.today() >= sendable,
        outside=[row for row in rows if row.visit.id in outside],
        payment=payment if own or actor.role in STAFF else None,
        travel_flag=rules.travel_flag(care_pence=pay.care_pence, travel_pence=pay.travel_pence),
    )


def visit_page(*, session: Session, actor: User, visit_id: int) -> tuple[Visit, SheetPage]:
    """Return one of the provider's visits with its sheet's page, for changing it."""
    visit, sheet = own_visit(session=session, actor=actor, visit_id=visit_id)
    return visit, sheet_page(session=session, actor=actor, timesheet_id=sheet.id)
