"""The provider's side of a timesheet: start a week's sheet, record, change and remove visits, and submit it.

Every change to a sheet's visits is made under the sheet's row lock (`locks.lock_row`), so two requests
adding visits at once cannot take the week past the contract's hours between them. Services flush,
never commit.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF, get_or_404
from brokerage.accounts.models import Role, User
from brokerage.clusters.members import LIVE_MEMBERSHIP, visible_holder_ids
from brokerage.clusters.models import Membership
from brokerage.contracts.models import Contract
from brokerage.contracts.services import terms_on
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import week_of, weekday_date
from brokerage.holders.models import Holder, Power
from brokerage.locks import insert_once, lock_row
from brokerage.providers.models import Provider
from brokerage.providers.rules import periods_to_json
from brokerage.types import utcnow

from brokerage.timesheets import pricing, rules
from brokerage.timesheets.approvers import acts_as_approver
from brokerage.timesheets.errors import SheetNotOpen
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.paying import payments_of
from brokerage.timesheets.rules import Terms, TimesheetStatus, VisitIn, why_fixed

# --- reading what a sheet is about ----------------------------------------------------------------


def member_names(session: Session, contract: Contract) -> dict[int, str]:
    """Return the names of the members a contract serves, by holder id."""
    ids = [int(h) for h in contract.member_shares]
    return dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_(ids or [-1]), Holder.council_id == contract.council_id)).all())


def visits_of(session: Session, timesheet_id: int) -> list[Visit]:
    """Return a sheet's visits by day and start time."""
    return list(session.exec(select(Visit).where(Visit.timesheet_id == timesheet_id).order_by(Visit.visit_date, Visit.start_time, Visit.id)))


def visit_in(visit: Visit) -> VisitIn:
    """Return a stored visit as the rules read it."""
    return VisitIn(holder_id=visit.holder_id, visit_date=visit.visit_date, start=visit.start_time, minutes=visit.minutes,
                   travel_minutes=visit.travel_minutes)


def is_own_provider(actor: User, provider_id: int) -> bool:
    """Tell whether the actor is a user of this provider."""
    return actor.role == Role.provider and actor.provider_id is not None and actor.provider_id == provider_id


def may_read(session: Session, actor: User, sheet: Timesheet) -> bool:
    """Tell whether the actor may see a sheet: its provider, the council's staff, the group's members and its chosen approver."""
    if actor.role in STAFF:
        return True
    if actor.role == Role.provider:
        return is_own_provider(actor, sheet.provider_id)
    return may_read_groups(session, actor, sheet.cluster_id)


def may_read_groups(session: Session, actor: User, cluster_id: int) -> bool:
    """Tell whether a member (or their representative) may see a group's timesheets: a member of it, or its chosen approver."""
    if actor.role not in (Role.holder, Role.representative):
        return False
    # Timesheets are care: a representative needs the member's leave to manage it.
    mine = visible_holder_ids(session=session, actor=actor, power=Power.care)
    member = session.exec(select(Membership.id).where(
        Membership.cluster_id == cluster_id, Membership.holder_id.in_(mine or [-1]), Membership.status.in_(LIVE_MEMBERSHIP),
    )).first()
    return member is not None or acts_as_approver(session=session, actor=actor, cluster_id=cluster_id)


def get_sheet(*, session: Session, actor: User, timesheet_id: int) -> Timesheet:
    """Return a timesheet the actor may see, or raise NotFound (another council's, or not theirs)."""
    sheet = get_or_404(session, actor, Timesheet, timesheet_id, what="timesheet")
    if not may_read(session, actor, sheet):
        raise NotFound()
    return sheet


def _own_sheet(session: Session, actor: User, timesheet_id: int) -> Timesheet:
    """Return the provider's own sheet, locked; anyone else's is NotFound, anyone but its provider NotAllowed."""
    sheet = get_sheet(session=session, actor=actor, timesheet_id=timesheet_id)
    if not is_own_provider(actor, sheet.provider_id):
        raise NotAllowed("Only the provider records visits on its timesheets.")
    return lock_row(session, Timesheet, sheet.id)


def _editable(sheet: Timesheet, session: Session) -> None:
    payment = payments_of(session, [sheet]).get(sheet.id)
    why = why_fixed(sheet.status, paid=bool(payment and payment.paid))
    if why:
        raise SheetNotOpen(why)


def own_visit(*, session: Session, actor: User, visit_id: int) -> tuple[Visit, Timesheet]:
    """Return one of the provider's visits with its sheet; anyone else's is NotFound."""
    visit = get_or_404(session, actor, Visit, visit_id, what="visit")
    sheet = get_sheet(session=session, actor=actor, timesheet_id=visit.timesheet_id)
    if not is_own_provider(actor, sheet.provider_id):
        raise NotFound()
    return visit, sheet


# --- starting a week ------------------------------------------------------------------------------


def start_sheet(*, session: Session, actor: User, contract_id: int, week: str) -> Timesheet:
    """Return the provider's sheet for a contract's week, starting a draft if there is none (a week once begun, within the contract)."""
    contract = get_or_404(session, actor, Contract, contract_id, what="contract")
    if not is_own_provider(actor, contract.provider_id):
        raise NotFound() if actor.role == Role.provider else NotAllowed("Only the provider keeps timesheets for its contracts.")
    try:
        days = rules.week_days(week)
    except ValueError:
        raise ValidationFailed({"week": "Choose a week from the list"}) from None
    if days[0] > clock.today():
        raise ValidationFailed({"week": f"The {week_of(week)} has not begun yet"})
    if days[-1] < contract.start_date or (contract.end_date is not None and days[0] > contract.end_date):
        raise ValidationFailed({"week": f"The contract does not cover the {week_of(week)}"})
    existing = session.exec(select(Timesheet).where(Timesheet.contract_id == contract.id, Timesheet.week == week)).first()
    if existing is not None:
        return existing
    sheet = Timesheet(council_id=contract.council_id, contract_id=contract.id, provider_id=contract.provider_id,
                      cluster_id=contract.cluster_id, week=week)
    try:
        with insert_once(session, SheetNotOpen("started elsewhere")):
            session.add(sheet)
    except SheetNotOpen:
        # Another request started the same week first: theirs is the week's one sheet.
        return session.exec(select(Timesheet).where(Timesheet.contract_id == contract.id, Timesheet.week == week)).one()
    return sheet


# --- visits ---------------------------------------------------------------------------------------


def booked_around(session: Session, sheet: Timesheet, *, leaving_out: int | None = None) -> list[rules.Booked]:
    """Return the provider's visits on any of its timesheets from the day before the sheet's week to the day after it.

    The days either side hold the visits that run past midnight into the week, or from it.
    """
    days = rules.week_days(sheet.week)
    rows = session.exec(
        select(Visit, Holder.name).join(Timesheet, Timesheet.id == Visit.timesheet_id).join(Holder, Holder.id == Visit.holder_id).where(
            Timesheet.provider_id == sheet.provider_id, Timesheet.council_id == sheet.council_id,
            Visit.visit_date >= days[0] - timedelta(days=1), Visit.visit_date <= days[-1] + timedelta(days=1),
        )
    )
    return [rules.Booked(visit=visit_in(v), member=name) for v, name in rows if v.id != leaving_out]


def _check_visit(session: Session, sheet: Timesheet, visit: VisitIn, *, leaving_out: int | None = None) -> Contract:
    contract = session.get(Contract, sheet.contract_id)
    others = [visit_in(v) for v in visits_of(session, sheet.id) if v.id != leaving_out]
    problems = rules.visit_problems(terms=pricing.visit_terms(session, contract, sheet), week=sheet.week, visit=visit, others=others,
                                    now=clock.wall_clock(), names=member_names(session, contract))
    if not problems:
        # The provider's row is locked, so two of its sheets cannot each take its last free carer at the same moment.
        provider = lock_row(session, Provider, sheet.provider_id)
        clash = rules.carers_problem(visit=visit, booked=booked_around(session, sheet, leaving_out=leaving_out), carers=provider.staff_count)
        if clash:
            problems["start"] = clash
    if problems:
        raise ValidationFailed(problems)
    return contract


def add_visit(
    *, session: Session, actor: User, timesheet_id: int, holder_id: int, visit_date: date, start: time, minutes: int, travel_minutes: int = 0,
) -> Visit:
    """Record a visit on the provider's draft or sent-back sheet; refuse one the contract or the week does not allow (ValidationFailed)."""
    sheet = _own_sheet(session, actor, timesheet_id)
    _editable(sheet, session)
    entered = VisitIn(holder_id=holder_id, visit_date=visit_date, start=start, minutes=minutes, travel_minutes=travel_minutes or 0)
    _check_visit(session, sheet, entered)
    visit = Visit(council_id=sheet.council_id, timesheet_id=sheet.id, holder_id=holder_id, visit_date=visit_date, start_time=start,
                  minutes=minutes, travel_minutes=travel_minutes or 0)
    session.add(visit)
    session.flush()
    return visit


def change_visit(
    *, session: Session, actor: User, visit_id: int, holder_id: int, visit_date: date, start: time, minutes: int, travel_minutes: int = 0,
) -> Visit:
    """Change a visit on the provider's draft or sent-back sheet, with the same checks as recording it."""
    visit, sheet = own_visit(session=session, actor=actor, visit_id=visit_id)
    sheet = _own_sheet(session, actor, sheet.id)
    _editable(sheet, session)
    entered = VisitIn(holder_id=holder_id, visit_date=visit_date, start=start, minutes=minutes, travel_minutes=travel_minutes or 0)
    _check_visit(session, sheet, entered, leaving_out=visit.id)
    visit.holder_id, visit.visit_date, visit.start_time = holder_id, visit_date, start
    visit.minutes, visit.travel_minutes = minutes, travel_minutes or 0
    session.add(visit)
    session.flush()
    return visit


def remove_visit(*, session: Session, actor: User, visit_id: int) -> Timesheet:
    """Remove a visit from the provider's draft or sent-back sheet; return the sheet."""
    visit, sheet = own_visit(session=session, actor=actor, visit_id=visit_id)
    sheet = _own_sheet(session, actor, sheet.id)
    _editable(sheet, session)
    session.delete(visit)
    session.flush()
    return sheet


# --- submitting -----------------------------------------------------------------------------------


def submit(*, session: Session, actor: User, timesheet_id: int) -> Timesheet:
    """Send the provider's sheet for approval, fixing on it the week's terms and each member's part (see `pricing`).

    Every visit is checked again against the week's terms; raises ValidationFailed, or CannotShare when
    nobody the contract serves was in the group that week.
    """
    sheet = _own_sheet(session, actor, timesheet_id)
    _editable(sheet, session)
    contract = session.get(Contract, sheet.contract_id)
    visits = [visit_in(v) for v in visits_of(session, sheet.id)]
    if not visits:
        raise SheetNotOpen("Record at least one visit before sending the timesheet.")
    sendable = sendable_from(sheet, contract)
    if clock.today() < sendable:
        raise SheetNotOpen(f"You can send this timesheet from {weekday_date(sendable)}, once the {week_of(sheet.week)} is over: "
                           "until then there may be more visits to record.")
    # Sent again after being sent back: priced again, by the same week's terms.
    terms = terms_on(session=session, contract=contract, day=rules.week_days(sheet.week)[-1])
    problems = week_problems(session, sheet, contract, visits, pricing.visit_terms(session, contract, sheet, terms))
    if problems:
        raise ValidationFailed({"": problems}, message=" ".join(problems))
    provider = session.get(Provider, sheet.provider_id)
    # Travel is paid only for visits on days the provider kept the charter: fixed on the sheet with its other terms.
    travel = pricing.provider_travel(provider, week=sheet.week)
    cost = pricing.week_cost(session=session, contract=contract, sheet=sheet, terms=terms, travel_paid=travel, visits=visits)
    sheet.total_pence, sheet.travel_pence = cost.pay.total_pence, cost.pay.travel_pence
    sheet.travel_paid, sheet.travel_from, sheet.travel_until, sheet.travel_awaiting = travel.paid, travel.from_day, travel.until_day, travel.awaiting
    sheet.travel_earlier = periods_to_json(travel.earlier)
    sheet.rate_pence, sheet.hours_per_week, sheet.allocation_rule = terms.rate_pence, terms.hours_per_week, terms.allocation_rule
    sheet.parts = {str(holder): part for holder, part in sorted(cost.parts.items())}
    sheet.status = rules.move_timesheet(sheet.status, TimesheetStatus.submitted)
    sheet.submitted_at = utcnow()
    session.add(sheet)
    session.flush()
    return sheet


def sendable_from(sheet: Timesheet, contract: Contract) -> date:
    """Return the first day a week's sheet may be sent: the day after the week ends, or after the contract ends if sooner."""
    last = rules.week_days(sheet.week)[-1]
    if contract.end_date is not None:
        last = min(last, contract.end_date)
    return last + timedelta(days=1)


def week_problems(session: Session, sheet: Timesheet, contract: Contract, visits: list[VisitIn], terms: Terms) -> list[str]:
    """Return a sentence for each visit the week's terms do not allow (checked again at submission and approval)."""
    names = member_names(session, contract)
    found = []
    for index, visit in enumerate(visits):
        # Each visit against the ones before it: the week's hours are counted once, in order.
        problems = rules.visit_problems(terms=terms, week=sheet.week, visit=visit, others=visits[:index], now=clock.wall_clock(), names=names)
        for message in problems.values():
            found.append(f"The visit to {names.get(visit.holder_id, 'a member')} on {weekday_date(visit.visit_date)}: {message}.")
    return found

