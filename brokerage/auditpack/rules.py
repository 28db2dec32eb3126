"""Pure rules of audits: quarters in England, how urgent a piece of vetting is, names of accounts, the pack's files.

No Flask and no SQL: the services and the pack writer read the rows and ask these.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from brokerage import clock
from brokerage.errors import BrokerageError
from brokerage.formatting import long_date, weeks_for_people
from brokerage.ledger.kinds import kind_label

# --- quarters ---------------------------------------------------------------------------------------

# Only ASCII digits and a capital or small Q: "2026Q3", "2026q3".
QUARTER = re.compile(r"([0-9]{4})[Qq]([1-4])", flags=re.ASCII)
QUARTER_MESSAGE = "give a quarter like 2026Q3 (the year, Q, and 1 to 4)"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter in England: 2026Q3 is 1 July to 30 September 2026, from and to midnight in London."""

    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        """Return the quarter's first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        """Return the quarter's last day."""
        return self.next().first_day - timedelta(days=1)

    @property
    def start_at(self) -> datetime:
        """Return the UTC moment the quarter begins (midnight in London on its first day)."""
        return clock.start_of_day(self.first_day)

    @property
    def end_before(self) -> datetime:
        """Return the UTC moment the quarter ends (midnight in London after its last day); the quarter is before it."""
        return clock.end_of_day(self.last_day)

    @property
    def label(self) -> str:
        """Return the quarter for people: 'July to September 2026'."""
        return f"{MONTHS[3 * self.number - 3]} to {MONTHS[3 * self.number - 1]} {self.year}"

    def next(self) -> Quarter:
        """Return the quarter after this one."""
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        """Return the quarter before this one."""
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def weeks(self) -> list[str]:
        """Return the canonical ISO weeks ('2026-W27') whose Monday falls in the quarter, in order."""
        day = self.first_day + timedelta(days=(7 - self.first_day.weekday()) % 7)
        found = []
        while day <= self.last_day:
            year, week, _ = day.isocalendar()
            found.append(f"{year}-W{week:02d}")
            day += timedelta(days=7)
        return found


def parse_quarter(text: str) -> Quarter:
    """Read a quarter written like 2026Q3, or raise ValueError with a plain message."""
    match = QUARTER.fullmatch((text or "").strip())
    if not match or not 2000 <= int(match.group(1)) <= 2999:
        raise ValueError(QUARTER_MESSAGE)
    return Quarter(int(match.group(1)), int(match.group(2)))


def quarter_of(day: date) -> Quarter:
    """Return the quarter a day falls in."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def recent_quarters(today: date, count: int = 8) -> list[Quarter]:
    """Return this quarter and the ones before it, newest first: the quarters an officer may ask a pack of."""
    found = [quarter_of(today)]
    while len(found) < count:
        found.append(found[-1].previous())
    return found


# --- vetting: what to chase first -------------------------------------------------------------------


class Problem(str, enum.Enum):
    """What is wrong with one piece of a provider's vetting, most urgent first."""

    expired = "expired"
    missing = "missing"
    unverified = "unverified"
    expiring = "expiring"


# The order a page lists problems in: expired evidence (the longest overdue first), then missing evidence,
# evidence waiting for a broker's check, and last evidence about to run out (the soonest first).
PROBLEM_ORDER = {Problem.expired: 0, Problem.missing: 1, Problem.unverified: 2, Problem.expiring: 3}


@dataclass(frozen=True)
class VettingProblem:
    """One piece of evidence to chase: which, what is wrong, the date it runs or ran out, and days left (negative: overdue)."""

    provider_id: int
    kind: str
    problem: Problem
    expires_on: date | None = None
    days_left: int | None = None

    @property
    def stops_payment(self) -> bool:
        """Tell whether this problem makes the provider unvetted now (it can be neither matched nor paid)."""
        return self.problem != Problem.expiring

    @property
    def when(self) -> str:
        """Say how long is left, or how long it is overdue, in plain English."""
        if self.problem == Problem.missing:
            return "Never given"
        if self.problem == Problem.unverified:
            return "Waiting for a broker to check it"
        return days_phrase(self.days_left or 0)


def days_phrase(days_left: int) -> str:
    """Say a number of days left (negative: overdue) as people do: 'Runs out today', '1 day left', '3 days overdue'."""
    if days_left == 0:
        return "Runs out today"
    count = abs(days_left)
    unit = "day" if count == 1 else "days"
    return f"{count} {unit} left" if days_left > 0 else f"{count} {unit} overdue"


def urgency(problem: VettingProblem) -> tuple:
    """Return the sort key that puts the most urgent problem first."""
    return (PROBLEM_ORDER[problem.problem], problem.days_left if problem.days_left is not None else 0)


def problems_of(provider_id: int, state, today: date) -> list[VettingProblem]:
    """Turn a provider's judged vetting (providers.rules.VettingState) into the problems to chase, most urgent first.

    Which evidence is required, expired or expiring is the providers' rule; this only adds dates and days.
    """
    found = []
    for kind in state.expired:
        expires = state.expiry_of(kind)
        found.append(VettingProblem(provider_id, kind, Problem.expired, expires, (expires - today).days))
    found += [VettingProblem(provider_id, kind, Problem.missing) for kind in state.missing]
    found += [VettingProblem(provider_id, kind, Problem.unverified) for kind in state.unverified]
    for kind in state.expiring_soon:
        expires = state.expiry_of(kind)
        found.append(VettingProblem(provider_id, kind, Problem.expiring, expires, (expires - today).days))
    return sorted(found, key=lambda problem: (urgency(problem), problem.kind))


def why_unvetted(problems: list[VettingProblem], names: dict[str, str]) -> str:
    """Say in one sentence why a provider is not vetted: 'DBS check ran out on 3 June 2026; insurance never given.'"""
    parts = []
    for problem in problems:
        name = names.get(problem.kind, problem.kind)
        if problem.problem == Problem.expired:
            parts.append(f"{name} ran out on {long_date(problem.expires_on)}")
        elif problem.problem == Problem.missing:
            parts.append(f"{name} never given")
        elif problem.problem == Problem.unverified:
            parts.append(f"{name} not yet checked by a broker")
    sentence = "; ".join(parts)
    return sentence[:1].upper() + sentence[1:] + "." if sentence else ""


# --- the pack's words and numbers -------------------------------------------------------------------


def account_name(*, holder_name: str, group_name: str | None) -> str:
    """Name a holder's account for people: "Amina Hassan's wallet", "Amina Hassan's share of Somali elders of Whitechapel"."""
    if group_name is None:
        return f"{holder_name}'s wallet"
    return f"{holder_name}'s share of {group_name}"


def statement_what(memo: str | None, kind: str) -> str:
    """Say what a statement line was, as the statement page does: its memo with weeks for people, or its kind."""
    return weeks_for_people(memo) or kind_label(kind)


def gbp(pence: int) -> str:
    """Format integer pence as plain pounds for a spreadsheet, e.g. -1234 -> '-12.34'."""
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError("money must be integer pence")
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{part:02d}"


def hours(minutes: int) -> str:
    """Format minutes as hours with two decimals for a spreadsheet, e.g. 90 -> '1.50', 20 -> '0.33'."""
    hundredths = (minutes * 100 * 2 + 60) // 120  # minutes / 60 in hundredths, halves rounded up, in whole numbers
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def london_iso(moment: datetime | None) -> str:
    """Write a stored moment as its time in England with the offset, e.g. '2026-07-03T09:15:00+01:00'; blank for none."""
    if moment is None:
        return ""
    return clock.london(moment).isoformat(timespec="seconds")


def utc_iso(moment: datetime | None) -> str:
    """Write a stored moment in UTC, e.g. '2026-07-03T08:15:00+00:00'; blank for none."""
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def pack_file_name(*, council_slug: str, quarter: Quarter) -> str:
    """Return the name a pack is downloaded as: 'carepool-audit-riverside-2026Q3.zip'."""
    return f"carepool-audit-{council_slug}-{quarter}.zip"


def file_size(size_bytes: int) -> str:
    """Say a file's size for people: '800 bytes', '12 KB', '3.4 MB'."""
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    if size_bytes < 1_000_000:
        return f"{-(-size_bytes // 1000)} KB"
    return f"{size_bytes / 1_000_000:.1f} MB"


def manifest_line(name: str, sha256_hex: str) -> str:
    """Return one line of the manifest in the form `sha256sum -c` reads: the digest, two spaces, the name."""
    return f"{sha256_hex}  {name}\n"


# --- requests for a pack ----------------------------------------------------------------------------


class PackStatus(str, enum.Enum):
    """Where a requested pack is: queued, being built, ready to download, or failed."""

    queued = "queued"
    building = "building"
    ready = "ready"
    failed = "failed"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return {"queued": "Waiting to start", "building": "Being made", "ready": "Ready", "failed": "Failed"}[self.value]


class BadPackMove(BrokerageError):
    """A requested pack cannot move from its status to that one."""

    status = 409


# A pack is made once: a failed or stopped one is asked for again, as a new request.
PACK_MOVES: dict[str, set[str]] = {"queued": {"building", "failed"}, "building": {"ready", "failed"}, "ready": set(), "failed": set()}


def move_pack(current: str | enum.Enum, target: str | enum.Enum) -> PackStatus:
    """Return the new status of a requested pack, or raise BadPackMove (the only way it changes)."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in PACK_MOVES.get(current, set()):
        raise BadPackMove(f"A pack that is {current} cannot become {target}.")
    return PackStatus(target)


OPEN = (PackStatus.queued, PackStatus.building)
# A job runs for an hour at most (brokerage.jobs), so a pack still open after this has stopped and will not finish.
STALE_AFTER = timedelta(hours=2)


def shown_status(status: PackStatus, requested_at: datetime, now: datetime) -> PackStatus:
    """Return the status to show: a pack still open long after it was asked for has stopped, and shows as failed."""
    status = PackStatus(status)
    if status in OPEN and now - requested_at > STALE_AFTER:
        return PackStatus.failed
    return status
