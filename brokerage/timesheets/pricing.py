"""What a week of care costs and who pays what, by the week's own terms. Nothing here writes.

A week is priced under the terms the contract had on the week's last day (`contracts.services.terms_on`:
changes passed since then are undone from the contract's history), so a change of rate or sharing rule
voted after the week never reprices it. Submission fixes those terms and each member's part on the sheet;
approval pays exactly what was fixed (a sheet sent back and sent again is priced again, by the same week's
terms). A change passed during a week applies to the whole of that week.

Who shares a week: the members the contract serves who are in the group that week (a member on notice
until their last day; none after it). The split is the contracts' one rule (`contracts.rules.weekly_parts`),
the same the contract and vote pages show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from brokerage.clusters.members import LIVE_MEMBERSHIP
from brokerage.clusters.models import Membership
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule, WeekTerms
from brokerage.contracts.services import member_pledges, terms_on
from brokerage.providers.models import Provider
from brokerage.providers.rules import periods_from_json

from brokerage.timesheets import rules
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import Pay, Terms, TravelTerms, VisitIn


@dataclass(frozen=True)
class WeekCost:
    """What a week costs and who pays what: pence by member holder id (members with nothing to pay left out), and the rule used."""

    pay: Pay
    parts: dict[int, int]
    rule: AllocationRule


def members_in_week(session: Session, contract: Contract, week: str) -> dict[int, date | None]:
    """Return the members a contract serves who are in its group during the week, each with their last day if on notice (else None)."""
    monday = rules.week_monday(week)
    served = [int(h) for h in contract.member_shares]
    rows = session.exec(select(Membership.holder_id, Membership.leaves_on).where(
        Membership.cluster_id == contract.cluster_id, Membership.holder_id.in_(served or [-1]), Membership.status.in_(LIVE_MEMBERSHIP),
    ))
    return {holder_id: leaves_on for holder_id, leaves_on in rows if leaves_on is None or leaves_on >= monday}


def week_terms(session: Session, contract: Contract, sheet: Timesheet) -> WeekTerms:
    """Return the terms the sheet's week is priced under: those fixed on it when sent, else the contract's on the week's last day."""
    if sheet.rate_pence is not None and sheet.hours_per_week is not None and sheet.allocation_rule is not None:
        return WeekTerms(hours_per_week=sheet.hours_per_week, rate_pence=sheet.rate_pence, allocation_rule=AllocationRule(sheet.allocation_rule))
    return terms_on(session=session, contract=contract, day=rules.week_days(sheet.week)[-1])


def visit_terms(session: Session, contract: Contract, sheet: Timesheet, terms: WeekTerms | None = None) -> Terms:
    """Return what the contract allows in the sheet's week, as the visit checks need it (members in the group that week)."""
    terms = terms or week_terms(session, contract, sheet)
    members = members_in_week(session, contract, sheet.week)
    return Terms(
        members=frozenset(members), hours_per_week=terms.hours_per_week, min_visit_minutes=contract.min_visit_minutes,
        start_date=contract.start_date, end_date=contract.end_date, last_days={h: day for h, day in members.items() if day is not None},
    )


def provider_travel(provider: Provider, *, week: str | None = None) -> TravelTerms:
    """Return when the provider's travel is paid now: the days it has kept the Ethical Care Charter, in every period a broker confirmed.

    `week`: keep only the earlier periods that share a day with it (its visits' pay is the same; its words name fewer periods).
    """
    terms = rules.travel_terms(charter=provider.ethical_care_charter, since=provider.charter_since, until=provider.charter_until,
                               confirmed=provider.charter_confirmed_on, earlier=periods_from_json(provider.charter_earlier))
    if week is None:
        return terms
    days = rules.week_days(week)
    return terms.within(days[0], days[-1])


def sheet_travel(sheet: Timesheet) -> TravelTerms:
    """Return the travel terms fixed on a sent sheet (a sheet sent before the days were kept paid travel on every visit)."""
    return TravelTerms(paid=sheet.travel_paid, from_day=sheet.travel_from, until_day=sheet.travel_until, awaiting=sheet.travel_awaiting,
                       earlier=periods_from_json(sheet.travel_earlier))


def confirmed_since(sheet: Timesheet, provider: Provider) -> date | None:
    """Return the day a broker confirmed the charter after this sheet was sent waiting for it, or None.

    A sheet sent while the charter waited keeps that (its pay is fixed when sent); a confirmation the provider has now
    came after it was sent, since a provider's own tick always waits afresh.
    """
    if not sheet.travel_awaiting or not provider.ethical_care_charter:
        return None
    return provider.charter_confirmed_on


def week_cost(*, session: Session, contract: Contract, sheet: Timesheet, terms: WeekTerms, travel_paid: bool | TravelTerms,
              visits: list[VisitIn]) -> WeekCost:
    """Return the week's pay at the terms' rate and its split by the terms' rule between the members in the group that week (raises CannotShare)."""
    pay = rules.week_pay(visits=visits, rate_pence=terms.rate_pence, travel_paid=travel_paid)
    if not pay.total_pence:
        return WeekCost(pay=pay, parts={}, rule=terms.allocation_rule)
    minutes: dict[int, int] = {}
    for visit in visits:
        minutes[visit.holder_id] = minutes.get(visit.holder_id, 0) + rules.paid_minutes_of(visit, travel_paid)
    pledges = {int(holder): pence for holder, pence in member_pledges(session=session, contract=contract).items()}
    parts = rules.split_cost(total_pence=pay.total_pence, rule=terms.allocation_rule, members=members_in_week(session, contract, sheet.week),
                             paid_minutes=minutes, pledges=pledges)
    return WeekCost(pay=pay, parts=parts, rule=terms.allocation_rule)


def fixed_cost(sheet: Timesheet, visits: list[VisitIn]) -> WeekCost | None:
    """Return the cost fixed on a sheet when it was sent (its rate, travel and parts), or None if it keeps none."""
    if sheet.parts is None or sheet.rate_pence is None or sheet.allocation_rule is None:
        return None
    pay = rules.week_pay(visits=visits, rate_pence=sheet.rate_pence, travel_paid=sheet_travel(sheet))
    return WeekCost(pay=pay, parts={int(holder): part for holder, part in sheet.parts.items()}, rule=AllocationRule(sheet.allocation_rule))
