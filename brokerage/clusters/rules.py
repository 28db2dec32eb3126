"""Pure rules of clusters: counting votes, pledge limits, membership moves and suggestions."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Iterable, Sequence

from brokerage.clusters.errors import BadTransition
from brokerage.formatting import km_away, long_date, plural, words_list
from brokerage.geo import haversine_km


class ProposalKind(str, enum.Enum):
    """What a proposal would do if it passes."""

    admit_member = "admit_member"
    accept_match = "accept_match"
    change_pledges = "change_pledges"
    remove_member = "remove_member"
    dissolve = "dissolve"
    free_text = "free_text"
    # Timesheets' own: registered in brokerage.wiring (brokerage.timesheets.approvers).
    choose_approver = "choose_approver"
    # Change a contract's hours, rate, end date or how its cost is shared (contracts' action, registered in wiring).
    change_contract = "change_contract"

    @property
    def label(self) -> str:
        """Return the kind in plain English."""
        return {
            "admit_member": "Let someone join",
            "accept_match": "Accept a care match",
            "change_pledges": "Change weekly pledges",
            "remove_member": "Ask a member to leave",
            "dissolve": "Close the group",
            "free_text": "A decision for the group",
            "choose_approver": "Choose who approves timesheets",
            "change_contract": "Change the care arranged",
        }[self.value]


class ProposalStatus(str, enum.Enum):
    """Where a proposal is."""

    open = "open"
    passed = "passed"
    rejected = "rejected"
    # Decided, but what it asked for could no longer be done (the member had already left, say).
    lapsed = "lapsed"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return {"open": "Open", "passed": "Passed", "rejected": "Not passed", "lapsed": "No longer needed"}[self.value]


class Choice(str, enum.Enum):
    """A member's vote."""

    yes = "yes"
    no = "no"
    abstain = "abstain"


@dataclass(frozen=True)
class VotingRule:
    """Quorum and majority: more than `quorum` of members must vote; yes must beat `majority` of yes+no."""

    quorum: Fraction = Fraction(1, 2)
    majority: Fraction = Fraction(1, 2)
    # A strict majority is "more than"; a supermajority such as two thirds is "at least".
    majority_inclusive: bool = False


def voting_rule(*, kind: ProposalKind, quorum_percent: int, majority_percent: int, dissolve_numerator: int, dissolve_denominator: int) -> VotingRule:
    """Return the council's rule for a kind of proposal (dissolving needs a supermajority)."""
    if kind == ProposalKind.dissolve:
        return VotingRule(Fraction(quorum_percent, 100), Fraction(dissolve_numerator, dissolve_denominator), True)
    return VotingRule(Fraction(quorum_percent, 100), Fraction(majority_percent, 100), False)


@dataclass(frozen=True)
class Tally:
    """The count of a proposal, and whether it is decided."""

    eligible: int
    yes: int
    no: int
    abstain: int
    quorate: bool
    carried: bool
    decided: bool
    passed: bool

    @property
    def voted(self) -> int:
        """Return how many members have voted."""
        return self.yes + self.no + self.abstain


def _quorate(voted: int, eligible: int, rule: VotingRule) -> bool:
    return eligible > 0 and Fraction(voted, eligible) > rule.quorum


def _carried(yes: int, no: int, rule: VotingRule) -> bool:
    if yes + no == 0:
        return False
    share = Fraction(yes, yes + no)
    return share >= rule.majority if rule.majority_inclusive else share > rule.majority


def tally(*, eligible: int, yes: int, no: int, abstain: int, rule: VotingRule, closed: bool = False) -> Tally:
    """Count votes: decided early once no remaining votes could change the result, or when closed."""
    if min(eligible, yes, no, abstain) < 0 or yes + no + abstain > eligible:
        raise ValueError("vote counts must be non-negative and no more than the eligible members")
    remaining = eligible - yes - no - abstain
    quorate = _quorate(yes + no + abstain, eligible, rule)
    carried = _carried(yes, no, rule)
    passes_now = quorate and carried
    # Certain to pass: it passes even if every remaining member votes no.
    certain_pass = _quorate(yes + no + abstain, eligible, rule) and _carried(yes, no + remaining, rule)
    # Certain to fail: even if every remaining member votes yes, it would not pass.
    certain_fail = not (_quorate(eligible, eligible, rule) and _carried(yes + remaining, no, rule))
    if certain_pass:
        decided, passed = True, True
    elif certain_fail:
        decided, passed = True, False
    elif closed or remaining == 0:
        decided, passed = True, passes_now
    else:
        decided, passed = False, False
    return Tally(eligible, yes, no, abstain, quorate, carried, decided, passed)


def pledge_headroom(allocation: int, other_pledges: Iterable[int]) -> int:
    """Return how much more a holder can pledge, given their allocation and other pledges."""
    return allocation - sum(other_pledges)


def check_pledge(*, allocation: int, other_pledges: Sequence[int], pledge: int) -> None:
    """Raise ValueError unless the pledge is whole pence, not negative, and within the allocation."""
    if isinstance(pledge, bool) or not isinstance(pledge, int):
        raise ValueError("a pledge is a whole number of pence")
    if pledge < 0:
        raise ValueError("a pledge cannot be negative")
    headroom = pledge_headroom(allocation, other_pledges)
    if pledge > headroom:
        raise ValueError(f"that is more than you have left to pledge ({max(headroom, 0)}p a week)")


PLEDGE_ABOVE_ZERO = "Enter a weekly pledge of more than £0"
# Said to a member changing their pledge, who may mean to stop paying in.
PLEDGE_ABOVE_ZERO_MEMBER = f"{PLEDGE_ABOVE_ZERO}. To stop paying in, give notice to leave the group"


def check_pledge_above_zero(pledge: int, *, member: bool = False) -> None:
    """Raise ValueError unless a pledge a member chooses is more than £0 (joining, founding, or changing it: `member`)."""
    if isinstance(pledge, bool) or not isinstance(pledge, int) or pledge <= 0:
        raise ValueError(PLEDGE_ABOVE_ZERO_MEMBER if member else PLEDGE_ABOVE_ZERO)


MEMBERSHIP_MOVES = {
    "requested": {"admitted", "left"},
    "admitted": {"active", "leaving", "left"},
    "active": {"leaving", "left"},
    "leaving": {"left"},
    "left": set(),
}

CLUSTER_MOVES = {
    "forming": {"active", "closing", "closed"},
    "active": {"closing"},
    "closing": {"closed"},
    "closed": set(),
}


PROPOSAL_MOVES = {
    "open": {"passed", "rejected", "lapsed"},
    "passed": set(),
    "rejected": set(),
    "lapsed": set(),
}


def move_proposal(current: str | enum.Enum, target: str | enum.Enum) -> str:
    """Return the new proposal status, or raise BadTransition (a proposal is decided once)."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in PROPOSAL_MOVES.get(current, set()):
        raise BadTransition(f"A proposal that is {current} cannot become {target}.")
    return target


def move_membership(current: str | enum.Enum, target: str | enum.Enum) -> str:
    """Return the new membership status, or raise BadTransition."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in MEMBERSHIP_MOVES.get(current, set()):
        raise BadTransition(f"A membership that is {current} cannot become {target}.")
    return target


def move_cluster(current: str | enum.Enum, target: str | enum.Enum) -> str:
    """Return the new cluster status, or raise BadTransition."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in CLUSTER_MOVES.get(current, set()):
        raise BadTransition(f"A group that is {current} cannot become {target}.")
    return target


def notice_weeks_of(cluster_status: str | enum.Enum, council_weeks: int) -> int:
    """Return the weeks of notice a member gives to leave a group: the council's, or none in a group that has not started.

    A forming group collects no pledges and has no care arranged (matching needs an active group), so nobody
    relies on a member's notice there; a lone founder was held for four weeks in a group that never began.
    """
    return 0 if getattr(cluster_status, "value", cluster_status) == "forming" else council_weeks


def notice_end(given_on: date, weeks: int) -> date:
    """Return the last day of a notice period."""
    return given_on + timedelta(weeks=weeks)


# --- who shares a cost from now on --------------------------------------------------------------


@dataclass(frozen=True)
class Sharing:
    """Who of the members a care cost is for share it from today: staying, on notice (each with their last day), or gone."""

    staying: tuple[int, ...]
    # (holder id, last day), soonest first: they pay their part until that day, then the others share it.
    leaving: tuple[tuple[int, date], ...]
    # In the group no longer, or past their last day: they pay nothing from now on.
    gone: tuple[int, ...]


def who_shares(member_ids: Iterable[int], live: dict[int, date | None], today: date) -> Sharing:
    """Split the members a cost is for by `live` ({holder id: last day if on notice, else None} of the group's live members)."""
    staying, leaving, gone = [], [], []
    for member in sorted(set(member_ids)):
        if member not in live:
            gone.append(member)
        elif live[member] is None:
            staying.append(member)
        elif live[member] >= today:
            leaving.append((member, live[member]))
        else:
            gone.append(member)
    return Sharing(staying=tuple(staying), leaving=tuple(sorted(leaving, key=lambda pair: (pair[1], pair[0]))), gone=tuple(gone))


def sharing_words(sharing: Sharing) -> str:
    """Say who shares a cost, e.g. "shared by 3 members (and 1 leaving the group on 12 January 2027, who pays until then)"."""
    days = sorted({day for _, day in sharing.leaving})
    count = len(sharing.leaving)
    on = f"on {long_date(days[0])}" if len(days) == 1 else "on " + words_list(long_date(day) for day in days)
    pays = "pays" if count == 1 else "pay"
    if sharing.staying:
        words = f"shared by {plural(len(sharing.staying), 'member')}"
        if count:
            words += f" (and {count} leaving the group {on}, who {pays} until then)"
    elif count:
        words = f"for {plural(count, 'member')} leaving the group {on}, who {pays} until then; nobody shares it after that"
    else:
        words = "shared by nobody in the group now"
    if sharing.gone:
        gone = len(sharing.gone)
        words += f"; {plural(gone, 'member')} it was for {'has' if gone == 1 else 'have'} left the group"
    return words


# A run may name a week from this many weeks back to this many ahead of the current week: far
# enough back to catch up after a missed run, never so far that a typo posts money for another year.
PERIOD_WEEKS_BACK = 8
PERIOD_WEEKS_AHEAD = 1

# [0-9] and re.ASCII: \d would also match other scripts' digits ('２０２６', '٤٩'), and each
# spelling would be a different idempotency key for the same week.
_PERIOD = re.compile(r"([0-9]{4})-W([0-9]{2})", re.ASCII)


def period_of(day: date) -> str:
    """Return the ISO week a day falls in, e.g. '2026-W48'."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def parse_period(text: str) -> tuple[date, date]:
    """Return the Monday and Sunday of an ISO week written exactly like '2026-W48', or raise ValueError.

    Only one spelling is accepted, because the period is part of idempotency keys.
    """
    match = _PERIOD.fullmatch(text) if isinstance(text, str) else None
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1) if match else None
        sunday = monday + timedelta(days=6) if monday else None
    except (ValueError, OverflowError):
        monday = sunday = None
    if monday is None or period_of(monday) != text:
        raise ValueError(f"{str(text)[:20]!r} is not an ISO week like 2026-W48")
    return monday, sunday


def run_period(text: str, *, today: date) -> tuple[date, date]:
    """Return the Monday and Sunday of a week a money run may post for, or raise ValueError.

    The week must be written like '2026-W48' and lie within PERIOD_WEEKS_BACK weeks before and
    PERIOD_WEEKS_AHEAD weeks after the week of `today`.
    """
    monday, sunday = parse_period(text)
    this_monday = today - timedelta(days=today.weekday())
    first, last = this_monday - timedelta(weeks=PERIOD_WEEKS_BACK), this_monday + timedelta(weeks=PERIOD_WEEKS_AHEAD)
    if not first <= monday <= last:
        raise ValueError(
            f"{text} is outside the weeks a run may use: from {period_of(first)} to {period_of(last)} "
            f"({PERIOD_WEEKS_BACK} weeks back to {PERIOD_WEEKS_AHEAD} ahead)"
        )
    return monday, sunday


def covers_week(*, start: date | None, end: date | None, monday: date, sunday: date) -> bool:
    """Tell whether a membership (or budget) running from start to end, inclusive, covers any day of a week.

    A missing start or end means the record gives none: the week is not limited on that side.
    """
    return (start is None or start <= sunday) and (end is None or end >= monday)


@dataclass(frozen=True)
class Suggestion:
    """A cluster suggested to a holder, with a score and a one-line reason."""

    cluster_id: int
    score: float
    reason: str


def suggest(
    *,
    holder_languages: Sequence[str],
    holder_needs: Sequence[str],
    holder_location: tuple[float, float],
    clusters: Sequence[dict],
    language_name=lambda code: code,
    service_name=lambda token: token,
    limit: int = 5,
    whose: str = "your",
) -> list[Suggestion]:
    """Rank open clusters for a holder by shared language, shared needs, nearness and room to join.

    Each cluster dict has: id, lat, lon, kinds, member_languages (list of codes, one per member),
    member_needs (list of service tokens, one per member's need), members, max_size. `whose` is how
    the reader says the holder's ("your", or "Amina Hassan's" to someone acting for her).
    """
    results = []
    for cluster in clusters:
        if cluster["members"] >= cluster["max_size"]:
            continue
        reasons = []
        score = 0.0
        speakers = {code: sum(1 for c in cluster["member_languages"] if c == code) for code in holder_languages}
        best_language = max(speakers.items(), key=lambda item: (item[1], item[0] != "en"), default=(None, 0))
        if best_language[1]:
            weight = 1.0 if best_language[0] == "en" else 3.0
            score += weight * min(best_language[1], 5)
            noun = "member speaks" if best_language[1] == 1 else "members speak"
            reasons.append(f"{best_language[1]} {noun} {language_name(best_language[0])}")
        shared = sorted(set(holder_needs) & set(cluster["member_needs"]))
        if shared:
            score += 2.0 * len(shared)
            reasons.append(f"shares {whose} need for " + " and ".join(service_name(s) for s in shared[:2]))
        if cluster.get("lat") is not None and holder_location:
            km = haversine_km(holder_location[0], holder_location[1], cluster["lat"], cluster["lon"])
            score += max(0.0, 5.0 - km)
            reasons.append(km_away(km))
        if cluster["members"] < 2:
            reasons.append("just starting")
        if score <= 0:
            continue
        results.append(Suggestion(cluster_id=cluster["id"], score=round(score, 6), reason="; ".join(reasons)))
    results.sort(key=lambda s: (-s.score, s.cluster_id))
    return results[:limit]
