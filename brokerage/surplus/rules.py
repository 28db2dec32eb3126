"""Pure rules of surplus: how much of a member's pool share a council's rule counts as unspent, in words,
the statuses of flags and clawbacks with their transition functions, and the checks of a rule's settings.

No Flask, no SQL: tested without a database (tests/surplus/test_rules.py has worked examples).
The definitions are written out for people in docs/surplus.md.

Rule A, "unspent for more than N weeks" (the default): spending takes the oldest money in a share first
(first in, first out). Money that came in more than N weeks ago (on a day more than 7N days before today,
in England) and is still in the share is unspent. With spending taking the oldest money first, what is
left is the newest money, so the unspent part is exactly

    unspent = max(0, balance - money that came in from the day 7N days ago up to today)

Rule B, "above N weeks of pledges for 12 weeks": if the share held more than N times the member's weekly
pledge at every moment of the last 12 weeks (84 days, today included), the part above that can be taken back:

    unspent = balance - N * weekly pledge   when the lowest balance of the 84 days > N * weekly pledge, else 0
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from brokerage.formatting import long_date, plural, pounds
from brokerage.surplus.errors import BadClawbackMove, BadFlagMove

DEFAULT_WEEKS = 8  # Council.surplus_weeks: rule A's N
DEFAULT_MULTIPLE = 8  # rule B's N
DEFAULT_NOTICE_DAYS = 28
WINDOW_WEEKS = 12  # rule B looks at the share's lowest balance over this many weeks
WEEKS_RANGE = (1, 52)
MULTIPLE_RANGE = (1, 52)
NOTICE_RANGE = (7, 365)  # a holder always gets at least a week between a flag and any clawback
REASON_LIMIT = 500


class RuleKind(str, enum.Enum):
    """Which surplus rule a council uses."""

    unspent_weeks = "unspent_weeks"
    above_pledges = "above_pledges"

    @property
    def label(self) -> str:
        """Return the rule in plain English, without its numbers."""
        return RULE_WORDS[self.value]


RULE_WORDS = {
    "unspent_weeks": "Money left unspent for more than a number of weeks",
    "above_pledges": "A balance above a number of weeks of pledges, every day for 12 weeks",
}


@dataclass(frozen=True)
class RuleSettings:
    """A council's surplus rule: its kind, rule A's weeks, rule B's multiple of the weekly pledge, and the notice in days."""

    kind: RuleKind = RuleKind.unspent_weeks
    weeks: int = DEFAULT_WEEKS
    multiple: int = DEFAULT_MULTIPLE
    notice_days: int = DEFAULT_NOTICE_DAYS

    def describe(self) -> str:
        """Return the rule in one plain sentence, with its numbers."""
        if self.kind == RuleKind.above_pledges:
            return (f"A member's share that stays above {plural(self.multiple, 'week')} of their pledges on every day for "
                    f"{WINDOW_WEEKS} weeks is flagged; the part above that could be taken back "
                    f"{plural(self.notice_days, 'day')} after the flag at the earliest.")
        return (f"Money in a member's share that has not been spent for more than {plural(self.weeks, 'week')} is flagged, "
                f"and could be taken back {plural(self.notice_days, 'day')} after the flag at the earliest.")


# The number each rule reads; the other rule's number may be left out (None), and the stored one stays.
NUMBER_OF_RULE = {RuleKind.unspent_weeks.value: "weeks", RuleKind.above_pledges.value: "multiple"}


def check_settings(*, kind: str | None, weeks: int | None, multiple: int | None, notice_days: int | None) -> dict[str, str]:
    """Return {field: problem} for a rule's settings; empty when they may be saved.

    Only the chosen rule's number is needed: the other rule's may be None (kept as it is), or a number in its range.
    """
    problems = {}
    if kind not in {k.value for k in RuleKind}:
        problems["kind"] = "Choose which rule the council uses"
    for name, value, bounds, what in (
        ("weeks", weeks, WEEKS_RANGE, "the number of weeks"),
        ("multiple", multiple, MULTIPLE_RANGE, "the number of weeks of pledges"),
        ("notice_days", notice_days, NOTICE_RANGE, "the days of clawback notice"),
    ):
        if value is None and name in NUMBER_OF_RULE.values() and NUMBER_OF_RULE.get(kind) != name:
            continue
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            problems[name] = f"Enter {what} as a whole number"
        elif not bounds[0] <= value <= bounds[1]:
            problems[name] = f"Enter {what} between {bounds[0]} and {bounds[1]}"
    return problems


# --- what is unspent ------------------------------------------------------------------------------


def first_day_needed(settings: RuleSettings, today: date) -> date:
    """Return the first day (in England) whose postings the rule reads; earlier ones count only as the opening balance."""
    if settings.kind == RuleKind.above_pledges:
        return today - timedelta(days=7 * WINDOW_WEEKS - 1)
    return today - timedelta(days=7 * settings.weeks)


def unspent_for_weeks(*, balance: int, movements: Iterable[tuple[date, int]], today: date, weeks: int) -> int:
    """Return the pence of a share that came in more than `weeks` weeks ago and is still there (spending takes the oldest first).

    `movements` are (day in England, pence) of the share's postings. Money in (positive) from the day
    7 × weeks days ago up to today is recent: on a Monday, a pledge collected eight Mondays ago is not yet
    more than eight weeks old. Earlier or negative movements change nothing here.
    """
    first_recent = today - timedelta(days=7 * weeks)
    recent = sum(amount for day, amount in movements if amount > 0 and first_recent <= day <= today)
    return max(0, balance - recent)


def lowest_balance(opening: int, amounts: Iterable[int]) -> int:
    """Return the lowest balance a share had: the opening balance, and after each movement in order."""
    lowest = running = opening
    for amount in amounts:
        running += amount
        lowest = min(lowest, running)
    return lowest


def above_pledges(*, balance: int, lowest: int, weekly_pledge: int, multiple: int) -> int:
    """Return the pence above `multiple` weekly pledges when the share never went down to that over the window, else 0.

    `lowest` is the lowest balance of the window, now included, so it is never more than `balance`.
    """
    threshold = multiple * weekly_pledge
    if lowest <= threshold:
        return 0
    return balance - threshold


@dataclass(frozen=True)
class Assessment:
    """What the rule finds in one share: the pence that could be taken back, and why, in plain English."""

    amount: int
    reason: str


def assess(
    *, settings: RuleSettings, today: date, opening: int, movements: list[tuple[date, int]], weekly_pledge: int,
) -> Assessment | None:
    """Apply the council's rule to one share; return None when nothing in it counts as unspent.

    `opening` is the balance at the start of `first_day_needed(settings, today)`, and `movements` the
    (day, pence) postings since, oldest first.
    """
    balance = opening + sum(amount for _, amount in movements)
    if settings.kind == RuleKind.above_pledges:
        amount = above_pledges(balance=balance, lowest=lowest_balance(opening, [a for _, a in movements]),
                               weekly_pledge=weekly_pledge, multiple=settings.multiple)
        return Assessment(amount, above_pledges_reason(amount, weekly_pledge, settings.multiple)) if amount else None
    amount = unspent_for_weeks(balance=balance, movements=movements, today=today, weeks=settings.weeks)
    return Assessment(amount, unspent_reason(amount, settings.weeks)) if amount else None


def unspent_reason(amount: int, weeks: int) -> str:
    """Say why rule A flags a share."""
    return (f"{pounds(amount)} of this share came in more than {plural(weeks, 'week')} ago and has not been spent on care. "
            f"The council's rule is that money left unspent for more than {plural(weeks, 'week')} can be taken back.")


def above_pledges_reason(amount: int, weekly_pledge: int, multiple: int) -> str:
    """Say why rule B flags a share."""
    if weekly_pledge == 0:
        return (f"This member pledges nothing each week now, and the share has held money on every day of the last "
                f"{WINDOW_WEEKS} weeks. The council's rule is that money above {plural(multiple, 'week')} of pledges "
                f"can be taken back: here that is all {pounds(amount)}.")
    return (f"This share has held more than {pounds(multiple * weekly_pledge)} ({plural(multiple, 'week')} of the "
            f"{pounds(weekly_pledge)} weekly pledge) on every day of the last {WINDOW_WEEKS} weeks. The council's rule is "
            f"that the part above that, {pounds(amount)}, can be taken back.")


NO_LONGER_UNSPENT = "The share no longer holds money the council's rule counts as unspent."
RULE_CHANGED = "The council changed its surplus rule; any money still unspent is flagged again under the new rule, with new clawback notice."


def member_gone_reason(name: str, group: str) -> str:
    """Say why a flag closed when its member is leaving or has left, or the group is closing."""
    return f"{name} is no longer an active member of {group}, so the share goes back to them, not to the council."


def clawback_from(raised_on: date, notice_days: int) -> date:
    """Return the first day the council could take money back under a flag raised on `raised_on`."""
    return raised_on + timedelta(days=notice_days)


def notice_problem(*, today: date, from_day: date) -> str | None:
    """Return why a clawback cannot be proposed yet, or None once its clawback notice has ended.

    "Notice" alone read as a member's notice to leave the group: the words say it is the council's clawback notice.
    """
    if today >= from_day:
        return None
    return (f"The clawback notice given to the member is still running. The council can take money back from {long_date(from_day)}, "
            f"not before.")


def leaving_words(*, name: str, group: str, leaves_on: date | None) -> str:
    """Say that a flagged member is leaving the group, and so that nothing can be taken back under the flag.

    One answer, said alike to the member and to the officer: the daily review applies the rule only to active
    members, so notice to leave ends the flag (the share goes back to the member when they leave), whatever the
    clawback notice's date. The pages once told the member the council could still take money back.
    """
    when = f"{name} has given notice to leave {group}" + (f" and leaves on {long_date(leaves_on)}" if leaves_on else "")
    return f"{when}. A leaving member's share goes back to them, so nothing can be taken back under this flag: the next daily review closes it."


AMOUNT_TOO_LITTLE = "Enter an amount of at least 1p"


def amount_problem(amount: int | None, unspent: int) -> str | None:
    """Return what is wrong with an amount to take back (pence), or None when it is between 1p and the unspent amount."""
    if amount is None:
        return "Enter the amount to take back, like 25 or 25.50"
    if amount <= 0:
        return AMOUNT_TOO_LITTLE
    if amount > unspent:
        return f"Enter no more than the unspent amount, {pounds(unspent)}"
    return None


def reason_problem(reason: str | None) -> str | None:
    """Return what is wrong with the reason for a clawback, or None."""
    text = (reason or "").strip()
    if not text:
        return "Say why the council is taking this money back"
    if len(text) > REASON_LIMIT:
        return f"Use {REASON_LIMIT} characters or fewer"
    return None


# --- statuses ---------------------------------------------------------------------------------


class FlagStatus(str, enum.Enum):
    """A flag is open while the rule finds unspent money in the share; closed ever after (it is never deleted)."""

    open = "open"
    closed = "closed"


FLAG_MOVES: dict[str, set[str]] = {"open": {"closed"}, "closed": set()}


def move_flag(current: str | enum.Enum, target: str | enum.Enum) -> FlagStatus:
    """Return the flag's new status, or raise BadFlagMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in FLAG_MOVES.get(current, set()):
        raise BadFlagMove(f"A flag that is {current} cannot become {target}.")
    return FlagStatus(target)


class ClawbackStatus(str, enum.Enum):
    """Where a clawback is: proposed by one officer, then approved or rejected by another, or withdrawn (cancelled)."""

    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return CLAWBACK_WORDS[self.value]


CLAWBACK_WORDS = {
    "proposed": "Waiting for a second officer",
    "approved": "Approved: the money was taken back",
    "rejected": "Rejected: nothing was taken back",
    "cancelled": "Withdrawn: nothing was taken back",
}

CLAWBACK_MOVES: dict[str, set[str]] = {
    "proposed": {"approved", "rejected", "cancelled"},
    "approved": set(),
    "rejected": set(),
    "cancelled": set(),
}


def move_clawback(current: str | enum.Enum, target: str | enum.Enum) -> ClawbackStatus:
    """Return the clawback's new status, or raise BadClawbackMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in CLAWBACK_MOVES.get(current, set()):
        raise BadClawbackMove(f"A clawback that is {current} cannot become {target}.")
    return ClawbackStatus(target)


def decided_problem(status: str | enum.Enum) -> str | None:
    """Return why a clawback can no longer be decided or withdrawn, in plain words; None while it waits."""
    status = ClawbackStatus(status)
    if status == ClawbackStatus.proposed:
        return None
    return f"This clawback is already decided ({status.label.lower()}), so nothing more was done."
