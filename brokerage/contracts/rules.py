"""Pure rules of contracts: statuses and their one transition, the weekly cost and its split, notice."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Iterable, Mapping

from brokerage.clock import years_after
from brokerage.errors import BrokerageError
from brokerage.formatting import HOURLY_RATE_TOO_HIGH, HOURLY_RATE_TOO_LOW, long_date, plural
from brokerage.ledger.rules import allocate_shared_cost
from brokerage.slot_hours import PROVIDER_SLOT_MAX, in_week_order, people_slot_limit, slot_hours_problems, total
from brokerage.vocabulary import HOURLY_RATE_MAX_PENCE, NATIONAL_LIVING_WAGE_PENCE

MIN_VISIT_MINUTES = 30


class BadContractMove(BrokerageError):
    """A contract cannot move from its status to that one."""

    status = 409


class ContractStatus(str, enum.Enum):
    """Where a contract is: made active; ending once notice is given (an end date is set); ended after its end date."""

    active = "active"
    ending = "ending"
    ended = "ended"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return {"active": "In place", "ending": "Ending: notice given", "ended": "Ended"}[self.value]


CONTRACT_MOVES: dict[str, set[str]] = {"active": {"ending"}, "ending": {"ended"}, "ended": set()}


def move_contract(current: str | enum.Enum, target: str | enum.Enum) -> ContractStatus:
    """Return the new contract status, or raise BadContractMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in CONTRACT_MOVES.get(current, set()):
        raise BadContractMove(f"A contract that is {current} cannot become {target}.")
    return ContractStatus(target)


def status_on(status: str | enum.Enum, end_date: date | None, today: date) -> ContractStatus:
    """Return the status a contract has on `today`: an ending contract whose end date has passed has ended.

    The daily run (`contracts.services.end_due_contracts`) stores the move; until it runs, pages and
    the hours count read the status through this, so they never depend on when the run last ran.
    """
    status = ContractStatus(getattr(status, "value", status))
    if status == ContractStatus.ending and end_date is not None and end_date < today:
        return ContractStatus.ended
    return status


class AllocationRule(str, enum.Enum):
    """How a contract's cost is shared between the members it serves."""

    equal = "equal"
    by_hours = "by_hours"
    by_pledge = "by_pledge"

    @property
    def label(self) -> str:
        """Return the rule in plain English."""
        return {"equal": "Shared equally", "by_hours": "By hours each member uses", "by_pledge": "In proportion to pledges"}[self.value]


class ContractEventKind(str, enum.Enum):
    """What happened to a contract, for its history."""

    made = "made"
    change_proposed = "change_proposed"
    change_passed = "change_passed"
    change_rejected = "change_rejected"
    change_lapsed = "change_lapsed"
    notice_given = "notice_given"
    ended = "ended"


def check_min_visit(minutes: int) -> None:
    """Raise ValueError unless visits are at least 30 minutes (Ethical Care Charter: no 15-minute visits)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < MIN_VISIT_MINUTES:
        raise ValueError(f"visits must be at least {MIN_VISIT_MINUTES} minutes")


def weekly_cost(hours_per_week: int, rate_pence: int) -> int:
    """Return a contract's weekly cost in pence: hours a week times the hourly rate."""
    return hours_per_week * rate_pence


def pledges_all_zero(rule: AllocationRule | str, shares: Mapping[str, int], pledges: Mapping[str, int]) -> bool:
    """Tell whether a split by pledge falls back to equal parts because no member served pledges anything."""
    return AllocationRule(rule) == AllocationRule.by_pledge and not any(pledges.get(str(m), 0) for m in shares)


def weekly_parts(total_pence: int, rule: AllocationRule | str, shares: dict[str, int], pledges: dict[str, int]) -> dict[str, int]:
    """Split a weekly cost in pence between the members served (the keys of `shares`), by largest remainder.

    equal: equal weights; by_hours: each member's expected hours share; by_pledge: each member's current
    weekly pledge to the group (members with no pledge weigh 0; if every pledge is 0, equal parts, see
    `pledges_all_zero`). The parts sum exactly to the total. Raises ValueError with no member.
    """
    members = [str(m) for m in shares]
    if not members:
        raise ValueError("a contract serves at least one member")
    rule = AllocationRule(rule)
    if rule == AllocationRule.by_hours:
        weights = {m: int(shares[m]) for m in members}
    elif rule == AllocationRule.by_pledge and not pledges_all_zero(rule, shares, pledges):
        weights = {m: int(pledges.get(m, 0)) for m in members}
    else:
        weights = {m: 1 for m in members}
    if not any(weights.values()):
        weights = {m: 1 for m in members}
    return allocate_shared_cost(total_pence, weights)


@dataclass(frozen=True)
class WeekTerms:
    """The terms a week of care is priced under: hours a week, the hourly rate in pence, and how the cost is shared."""

    hours_per_week: int
    rate_pence: int
    allocation_rule: AllocationRule


def terms_before(current: WeekTerms, later_changes: Iterable[Mapping[str, list]]) -> WeekTerms:
    """Return the terms before some passed changes, undoing them newest first (each {term: [was, new]}, as the history keeps them)."""
    terms = current
    for changes in later_changes:
        was = {name: pair[0] for name, pair in changes.items() if name in ("hours_per_week", "rate_pence", "allocation_rule") and pair and pair[0] is not None}
        if "allocation_rule" in was:
            was["allocation_rule"] = AllocationRule(was["allocation_rule"])
        terms = replace(terms, **{name: (value if name == "allocation_rule" else int(value)) for name, value in was.items()})
    return terms


def earliest_end(today: date, notice_weeks: int) -> date:
    """Return the first day a contract may end on when notice is given today: the council's notice period ahead."""
    return today + timedelta(weeks=notice_weeks)


# The furthest ahead a last day of care may be set, in years from today.
END_YEARS_AHEAD = 5


def end_date_problem(end_date: date, *, today: date, notice_weeks: int, start_date: date) -> str | None:
    """Return why a contract may not end on this date, or None.

    Not inside the notice period, not before the care starts, and not more than END_YEARS_AHEAD years from today:
    a last day of care in 2999 was taken, and pushed a notice's end out by 972 years.
    """
    first = earliest_end(today, notice_weeks)
    if end_date < first:
        notice = plural(notice_weeks, "week's", "weeks'")
        return f"Ending needs {notice} notice: choose {long_date(first)} or later"
    if end_date < start_date:
        return f"The care starts on {long_date(start_date)}; choose an end date after that"
    latest = years_after(today, END_YEARS_AHEAD)
    if end_date > latest:
        return f"Choose a last day of care up to {long_date(latest)}, {END_YEARS_AHEAD} years from today. Check the year"
    return None


def change_problems(*, hours_per_week: int | None, rate_pence: int | None) -> dict[str, str]:
    """Return {field: message} for new hours or a new rate a contract cannot have (none is less than one)."""
    errors = {}
    if hours_per_week is not None and (isinstance(hours_per_week, bool) or not isinstance(hours_per_week, int) or hours_per_week <= 0):
        errors["hours_per_week"] = "A contract is for at least one hour a week"
    if rate_pence is not None and (isinstance(rate_pence, bool) or not isinstance(rate_pence, int)):
        errors["hourly_rate"] = "Enter an hourly rate, like 22.50"
    elif rate_pence is not None and rate_pence < NATIONAL_LIVING_WAGE_PENCE:  # £0 too: one lowest rate for the box
        # The floor a provider's own rate and a group's request have too.
        errors["hourly_rate"] = HOURLY_RATE_TOO_LOW
    elif rate_pence is not None and rate_pence > HOURLY_RATE_MAX_PENCE:
        errors["hourly_rate"] = HOURLY_RATE_TOO_HIGH
    return errors


def times_limit(people: int | None, now: Mapping[str, int] | None = None) -> dict:
    """Return the limit of each time of day of a contract serving `people` members whose times are `now`, as keyword arguments.

    At most `slot_hours.people_slot_limit(people)` (6 hours each, as a group's request), unless `now` already holds
    more there (kept); PROVIDER_SLOT_MAX when the members are not known. For `times_problem` and the form's boxes.
    """
    most, why = people_slot_limit(people) if people else (PROVIDER_SLOT_MAX, "")
    return {"most": most, "why": why, "kept": in_week_order(now)}


def times_problem(slot_hours: object, *, hours_per_week: int | None, remedy: str = "", limit: dict | None = None) -> str | None:
    """Return why times cannot be those of a contract of these hours a week, in words for the form (None when they can).

    Each time of day holds a whole number of hours from 0 to PROVIDER_SLOT_MAX, as a provider's offer may, or
    within `limit` (`times_limit`); they add up to the hours a week. With `hours_per_week` None (the hours are
    wrong themselves) the sum is not checked. `remedy` follows the message about a wrong sum.
    """
    problem = slot_hours_problems(slot_hours, **(limit or {"most": PROVIDER_SLOT_MAX}))
    if problem is None and hours_per_week is not None and total(slot_hours) != hours_per_week:
        problem = (f"The times add up to {plural(total(slot_hours), 'hour')} a week, not the {plural(hours_per_week, 'hour')} a week "
                   f"of the care{'. ' + remedy if remedy else ''}")
    return problem
