"""Pure rules of timesheets: statuses, weeks, what a visit may be, pay, and how the cost is shared. No Flask, no SQL."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping, Sequence

from brokerage.clusters.rules import parse_period, period_of
from brokerage.contracts.rules import weekly_parts
from brokerage.errors import BrokerageError
from brokerage.formatting import end_words, minutes_words, plural, pounds, time_of_day, week_of, weekday_date
from brokerage.ledger.rules import allocate_shared_cost
# When travel is paid (re-exported: the week's pay below, and callers, read them here).
from brokerage.timesheets.travel_terms import Period, TravelTerms, travel_terms  # noqa: F401
from brokerage.vocabulary import DAYS, PART_HOURS

# The longest a single visit may be: a day.
MAX_VISIT_MINUTES = 24 * 60
# The most travel time one visit may claim: an hour, and never more than the visit itself. Councils paying travel
# under the Ethical Care Charter pay the journey between two visits in the provider's own area (UKHCA costing models
# allow minutes, not hours, per visit); a longer journey is agreed with the broker beforehand, not added to a timesheet.
MAX_TRAVEL_MINUTES = 60
# Said both by the field and in the error summary, in the minutes the field asks for.
TRAVEL_TOO_LONG = f"Travel to one visit can be at most {MAX_TRAVEL_MINUTES} minutes: agree a longer journey with the broker before the visit"
TRAVEL_NEGATIVE = "Enter travel time of 0 minutes or more"


class BadTimesheetMove(BrokerageError):
    """A timesheet cannot move from its status to that one."""

    status = 409


class TimesheetStatus(str, enum.Enum):
    """Where a week's timesheet is: the provider drafts it, submits it, and it is approved or sent back."""

    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return {"draft": "Not sent yet", "submitted": "Waiting for approval", "approved": "Approved", "rejected": "Sent back"}[self.value]


# Approved is final: the week's cost left the pool for the provider's next payment run. A rejected sheet is corrected and sent again.
TIMESHEET_MOVES: dict[str, set[str]] = {
    "draft": {"submitted"},
    "submitted": {"approved", "rejected"},
    "rejected": {"submitted"},
    "approved": set(),
}

# The provider may change the visits only while the sheet is with them.
EDITABLE = frozenset({TimesheetStatus.draft, TimesheetStatus.rejected})


def why_fixed(status: TimesheetStatus, *, paid: bool = False) -> str | None:
    """Return why a sheet cannot change now (its visits, or sending it), in plain words, or None while it is with the provider.

    `paid`: an approved sheet whose payment reached the provider, which is said as such.
    """
    if status in EDITABLE:
        return None
    if status == TimesheetStatus.approved and paid:
        return "This timesheet is paid, so it cannot change. Its payment to you is shown on the timesheet."
    if status == TimesheetStatus.approved:
        return "This timesheet is approved, so it cannot change. Its payment to you is shown on the timesheet."
    return "This timesheet has been sent for approval: it can change only if it is sent back to you."


def move_timesheet(current: str | enum.Enum, target: str | enum.Enum) -> TimesheetStatus:
    """Return the new timesheet status, or raise BadTimesheetMove (the only way a timesheet's status changes)."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in TIMESHEET_MOVES.get(current, set()):
        raise BadTimesheetMove(f"A timesheet that is {current} cannot become {target}.")
    return TimesheetStatus(target)


# --- weeks ------------------------------------------------------------------------------------------

def week_monday(week: str) -> date:
    """Return the Monday of a canonical ISO week ('2026-W49'), or raise ValueError (the money runs' rule: clusters.rules.parse_period)."""
    return parse_period(week)[0]


# The canonical ISO week of a date, like '2026-W49': the same spelling the money runs put in their keys.
week_of_day = period_of


def week_days(week: str) -> list[date]:
    """Return the seven dates of an ISO week, Monday first."""
    monday = week_monday(week)
    return [monday + timedelta(days=i) for i in range(7)]


def weeks_between(first: date, last: date) -> list[str]:
    """Return the ISO weeks from the one holding `first` to the one holding `last`, newest first."""
    weeks, monday = [], first - timedelta(days=first.weekday())
    while monday <= last:
        weeks.append(week_of_day(monday))
        monday += timedelta(days=7)
    return list(reversed(weeks))


def weeks_over(start: date, end: date | None, today: date) -> list[str]:
    """Return the ISO weeks of a contract that are over by today (its sheets may be sent), newest first.

    A week is over once its Sunday has passed, or the contract's last day has if sooner.
    """
    last = end if end is not None and end < today else today - timedelta(days=today.weekday() + 1)
    return weeks_between(start, last) if start <= last else []


TIME = re.compile(r"([0-9]{1,2})(?:[:.]?([0-9]{2}))?\s*(am|pm)?", re.ASCII | re.IGNORECASE)
# Times said in words, as the pages show them (formatting.time_of_day says 12:00 "midday" and 00:00 "midnight").
NAMED_TIMES = {"noon": time(12), "12noon": time(12), "midday": time(12), "12midday": time(12), "midnight": time(0), "12midnight": time(0)}


def parse_start(text: str) -> time:
    """Parse a start time typed as '9:30', '09:30', '0930', '14:00', '9.30am', '2pm', 'midday' or 'noon', or raise ValueError."""
    typed = (text or "").strip().replace(" ", "")
    if typed.lower() in NAMED_TIMES:
        return NAMED_TIMES[typed.lower()]
    match = TIME.fullmatch(typed)
    if not match or (len(match.group(1)) == 1 and match.group(2) and not re.search("[:.]", typed)):
        raise ValueError("Enter a start time like 9:30am or 14:00")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise ValueError("Enter a start time like 9:30am or 14:00")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match.group(2) is None:
        raise ValueError("Enter a start time like 9:30am or 14:00")
    if hour > 23 or minute > 59:
        raise ValueError("Enter a real time of day, like 9:30am or 14:00")
    return time(hour, minute)


# --- what a visit may be -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """What a contract allows in a week, as the visit checks need it.

    `members`: those it serves who are in the group that week; `last_days`: the last day of those on notice.
    """

    members: frozenset[int]
    hours_per_week: int
    min_visit_minutes: int
    start_date: date
    end_date: date | None
    last_days: Mapping[int, date] = field(default_factory=dict)


@dataclass(frozen=True)
class VisitIn:
    """A visit as the provider entered it."""

    holder_id: int
    visit_date: date
    start: time
    minutes: int
    travel_minutes: int = 0


def visit_begins(visit: VisitIn) -> datetime:
    """Return when a visit begins, as wall-clock time in England (naive)."""
    return datetime.combine(visit.visit_date, visit.start)


def visit_ends(visit: VisitIn) -> datetime:
    """Return when a visit ends, as wall-clock time in England (naive): it may run past midnight into the next day."""
    return visit_begins(visit) + timedelta(minutes=visit.minutes)


def overlaps(one: VisitIn, other: VisitIn) -> bool:
    """Tell whether two visits share any minute, whatever day each starts on (a late visit runs on past midnight)."""
    return visit_begins(one) < visit_ends(other) and visit_begins(other) < visit_ends(one)


def visit_problems(*, terms: Terms, week: str, visit: VisitIn, others: Sequence[VisitIn], now: datetime, names: Mapping[int, str]) -> dict[str, str]:
    """Return {field: message} for every way a visit breaks the contract or the week; empty when it may be recorded.

    `others` are the week's other visits (without the one being changed); `now` is wall-clock time in
    England (naive), and a visit is recorded only once it has ended.
    """
    problems: dict[str, str] = {}
    if visit.holder_id not in terms.members:
        problems["holder_id"] = "Choose a member this contract serves"
    days = week_days(week)
    last_day = terms.last_days.get(visit.holder_id)
    if not days[0] <= visit.visit_date <= days[-1]:
        problems["visit_date"] = f"Choose a day in the {week_of(week)}, from {weekday_date(days[0])} to {weekday_date(days[-1])}"
    elif last_day is not None and visit.visit_date > last_day:
        problems["visit_date"] = (
            f"{names.get(visit.holder_id, 'This member')} left the group after {weekday_date(last_day)}: "
            "a visit after then is not paid from the group's pool"
        )
    elif visit.visit_date < terms.start_date:
        problems["visit_date"] = f"The contract starts on {weekday_date(terms.start_date)}: a visit before then is not under this contract"
    elif terms.end_date is not None and visit.visit_date > terms.end_date:
        problems["visit_date"] = f"The contract ended on {weekday_date(terms.end_date)}: a visit after then is not under this contract"
    elif visit.visit_date > now.date():
        problems["visit_date"] = "Record a visit once it has happened: this day has not come yet"
    if visit.minutes < terms.min_visit_minutes:
        problems["minutes"] = (
            # The contract's own term, whether or not the provider has signed the Ethical Care Charter: no charter is cited.
            f"A visit under this contract lasts at least {minutes_words(terms.min_visit_minutes)}: "
            "the contract does not pay for rushed short visits"
        )
    elif visit.minutes > MAX_VISIT_MINUTES:
        problems["minutes"] = "A visit cannot last more than a day; record each day's visit separately"
    travel = travel_problem(visit)
    if travel:
        problems["travel_minutes"] = travel
    if "minutes" not in problems:
        week_minutes = sum(v.minutes for v in others) + visit.minutes
        if week_minutes > terms.hours_per_week * 60:
            problems["minutes"] = (
                f"This visit would make the week's care {minutes_words(week_minutes)}, more than the contract's "
                f"{plural(terms.hours_per_week, 'hour')} a week"
            )
    if not problems and visit_ends(visit) > now:
        # Not "midnight tomorrow": a visit ending at 00:00 ends with the day it started, as people say it.
        ends = visit_ends(visit)
        when = f"{time_of_day(ends.time())} today" if ends.date() == now.date() and ends.time() != time(0) else end_words(ends)
        problems["start"] = f"Record a visit once it has happened: this one ends at {when}"
    if not problems:
        for other in others:
            if other.holder_id == visit.holder_id and overlaps(visit, other):
                problems["start"] = (
                    f"This visit overlaps the visit to {names.get(visit.holder_id, 'this member')} "
                    f"at {time_of_day(other.start)} on {weekday_date(other.visit_date)}"
                )
                break
    return problems


def travel_limit(minutes: int) -> int:
    """Return the most travel time a visit of this length may claim: the visit's own length, and at most MAX_TRAVEL_MINUTES."""
    return max(0, min(MAX_TRAVEL_MINUTES, minutes))


def travel_problem(visit: VisitIn) -> str | None:
    """Return why a visit's travel time cannot be recorded (negative, over an hour, or longer than the visit), or None."""
    if visit.travel_minutes < 0:
        return TRAVEL_NEGATIVE
    if visit.travel_minutes > MAX_TRAVEL_MINUTES:
        return TRAVEL_TOO_LONG
    if visit.travel_minutes > visit.minutes:
        return (f"Travel to this visit can be at most {minutes_words(travel_limit(visit.minutes))}, "
                "no longer than the visit itself")
    return None


@dataclass(frozen=True)
class Booked:
    """One of the provider's recorded visits, on any of its timesheets, as the carers' check needs it."""

    visit: VisitIn
    member: str


def carers_problem(*, visit: VisitIn, booked: Sequence[Booked], carers: int) -> str | None:
    """Return why a visit needs more carers than the provider has at some moment it overlaps, or None.

    `booked` are the provider's other visits on any timesheet (without the one being changed); `carers`
    is the provider's staff count: a personal assistant working alone cannot be at two visits at once.
    """
    clashing = [b for b in booked if overlaps(visit, b.visit)]
    if not clashing:
        return None
    # The most visits under way at once during this one: at some visit's start the count is highest.
    moments = [visit_begins(visit)] + [max(visit_begins(visit), visit_begins(b.visit)) for b in clashing]
    busiest = max(sum(1 for b in clashing if visit_begins(b.visit) <= moment < visit_ends(b.visit)) for moment in moments)
    if busiest < carers:
        return None
    first = min(clashing, key=lambda b: visit_begins(b.visit))
    where = f"the visit to {first.member} at {time_of_day(first.visit.start)} on {weekday_date(first.visit.visit_date)}"
    if carers == 1:
        return f"This visit overlaps {where}: one carer working alone cannot be at two visits at once"
    return f"This visit overlaps {where} and others: {plural(carers, 'carer')} cannot be at {busiest + 1} visits at once"


# --- pay ---------------------------------------------------------------------------------------------


def pay_for(minutes: int, rate_pence: int) -> int:
    """Return the pay in whole pence for minutes at an hourly rate: minutes × rate / 60, rounded half up.

    Half a penny or more rounds up, less rounds down (integers only: (m × r + 30) // 60).
    """
    for value in (minutes, rate_pence):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("minutes and the rate are whole, non-negative numbers")
    return (minutes * rate_pence + 30) // 60


# How a week's pay is worked out, said beside every place that shows it split into care and travel. The ledger posts
# the total, rounded once; travel is priced alone by the same rule, and care is the rest, so the lines add up to the total.
PAY_RULE = ("Pay for the week is all its paid minutes, care and travel together, times the hourly rate, divided by 60 and rounded once "
            "to the nearest penny (half a penny rounds up). Travel is its paid minutes priced the same way, and care is the rest of the "
            "total, so care and travel always add up to it: care can be a penny more or less than its own minutes priced alone.")


def _terms(travel_paid: bool | TravelTerms) -> TravelTerms:
    return travel_paid if isinstance(travel_paid, TravelTerms) else TravelTerms(paid=bool(travel_paid))


@dataclass(frozen=True)
class Pay:
    """A week's pay: care and travel time, what is paid, and the total in pence."""

    care_minutes: int
    travel_minutes: int
    travel_paid: bool
    rate_pence: int
    total_pence: int
    travel_pence: int
    # The travel minutes that are paid: those of visits on days the charter covered.
    paid_travel_minutes: int = 0

    @property
    def paid_minutes(self) -> int:
        """Return the minutes that are paid: care, and travel where it is paid."""
        return self.care_minutes + self.paid_travel_minutes

    @property
    def care_pence(self) -> int:
        """Return the part of the total for care time: the total less travel, so the two always add up (PAY_RULE)."""
        return self.total_pence - self.travel_pence


def paid_travel_of(visit: VisitIn, travel_paid: bool | TravelTerms) -> int:
    """Return the travel minutes of one visit that are paid (none on a day the charter did not cover)."""
    return visit.travel_minutes if _terms(travel_paid).covers(visit.visit_date) else 0


def week_pay(*, visits: Iterable[VisitIn], rate_pence: int, travel_paid: bool | TravelTerms) -> Pay:
    """Return the week's pay: all paid minutes at the rate, rounded once (half up); travel counts only on days it is paid."""
    visits, terms = list(visits), _terms(travel_paid)
    care = sum(v.minutes for v in visits)
    travel = sum(v.travel_minutes for v in visits)
    paid_travel = sum(paid_travel_of(v, terms) for v in visits)
    return Pay(
        care_minutes=care, travel_minutes=travel, travel_paid=terms.paid, rate_pence=rate_pence,
        total_pence=pay_for(care + paid_travel, rate_pence), travel_pence=pay_for(paid_travel, rate_pence), paid_travel_minutes=paid_travel,
    )


def paid_minutes_of(visit: VisitIn, travel_paid: bool | TravelTerms) -> int:
    """Return the paid minutes of one visit."""
    return visit.minutes + paid_travel_of(visit, travel_paid)


def visit_pay(*, visits: Sequence[VisitIn], total_pence: int, travel_paid: bool | TravelTerms) -> list[int]:
    """Split the week's total over its visits by paid minutes (largest remainder), so the visits' pay adds up to the total."""
    weights = [paid_minutes_of(v, travel_paid) for v in visits]
    if not visits or sum(weights) == 0:
        return [0 for _ in visits]
    return allocate_shared_cost(total_pence, weights)


# Travel paid for more than a quarter of the care time is flagged to whoever approves or releases the money:
# travel between visits in one area is usually minutes, so a bigger share is worth checking with the provider.
TRAVEL_SHARE_FLAGGED = 4


def travel_flag(*, care_pence: int, travel_pence: int) -> str | None:
    """Return a warning when paid travel is more than a quarter of the care it went with, or None."""
    if travel_pence and travel_pence * TRAVEL_SHARE_FLAGGED > care_pence:
        return (f"Check the travel: {pounds(travel_pence)} of travel is more than a quarter of the "
                f"{pounds(care_pence)} of care. Ask the provider about the journeys before paying.")
    return None


# --- who pays what -----------------------------------------------------------------------------------


class CannotShare(BrokerageError):
    """The week's cost cannot be shared: the contract serves nobody who is in the group for that week."""

    status = 422


def split_cost(*, total_pence: int, rule: str, members: Iterable[int], paid_minutes: Mapping[int, int], pledges: Mapping[int, int]) -> dict[int, int]:
    """Split the week's total between these members by the contract's one split rule; members with no part are left out.

    The rule is `contracts.rules.weekly_parts`, the same the contract and vote pages show: by_hours weighs
    the paid minutes each member received this week; by_pledge each member's pledge, and equal parts if
    nobody pledges anything; any rule with nothing to weigh falls back to equal parts. Raises CannotShare
    with no member.
    """
    members = sorted(set(members))
    if not members:
        raise CannotShare("There is nobody to share this week's cost with: no member this contract serves was in the group that week.")
    parts = weekly_parts(total_pence, rule, {str(h): int(paid_minutes.get(h, 0)) for h in members},
                         {str(h): int(pledges.get(h, 0)) for h in members})
    return {int(holder): part for holder, part in parts.items() if part}


def visit_slot(visit_date: date, start: time) -> str | None:
    """Return the time of day a visit starts in ("tue_am"), by vocabulary.PART_HOURS; None at night (10pm to 6am)."""
    day = DAYS[visit_date.weekday()]
    for part, (first, last) in PART_HOURS.items():
        if first <= start.hour < last:
            return f"{day}_{part}"
    return None


def outside_agreed_times(visits: Sequence, agreed: Mapping[str, int] | None) -> list:
    """Return the visits (with .visit_date and .start_time) that start outside the contract's agreed times; none when no times were agreed."""
    if not agreed:
        return []
    return [v for v in visits if visit_slot(v.visit_date, v.start_time) not in agreed]
