"""The demo's clock and cast: the story is played through the real services, weeks ago to now.

The services check "now" (a group formed weeks ago, a week's direct payment for a holder registered
before it, a vote that closed five days ago), so the story moves `brokerage.clock` forward the way the
tests freeze it (replacing `clock.now`) and gives the real clock back when it ends. Every record is
then dated when it happened in the story, and nothing is written that the product would not write.

Loading moves the clock of the whole process: load the demo from `brokerage demo` (its own process)
or before a test server starts serving, never inside a serving process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from brokerage import clock
from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.holders.models import Holder
from brokerage.providers.models import Provider

TICK = timedelta(seconds=1)  # each reading of the story's clock is a second after the one before


class StoryError(RuntimeError):
    """A step of the demo's story did not turn out as the story says (a service changed under it)."""


class StoryClock:
    """Move `brokerage.clock.now` through the story, only forwards and never past the real moment."""

    def __init__(self) -> None:
        self._real: Callable[[], datetime] = clock.now
        self.real_now = self._real()
        self._last: datetime | None = None

    @property
    def today(self) -> date:
        """Return the real today in England (the day the story ends)."""
        return clock.london(self.real_now).date()

    @property
    def this_monday(self) -> date:
        """Return the Monday of the real current week."""
        return self.today - timedelta(days=self.today.weekday())

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        """Set the story's time to a wall-clock time in England on a day before today."""
        self._set(datetime.combine(day, time(hour, minute), tzinfo=clock.LONDON).astimezone(timezone.utc))

    def later(self, *, hours: int = 0, minutes: int = 0) -> None:
        """Move the story's time on from where it is."""
        if self._last is None:
            raise ValueError("set the story's time with at() first")
        self._set(self._last + TICK + timedelta(hours=hours, minutes=minutes))

    def _set(self, moment: datetime) -> None:
        if moment >= self.real_now:
            raise ValueError(f"the story must stay in the past: {moment} is not before {self.real_now}")
        if self._last is not None and moment <= self._last:
            raise ValueError(f"the story runs forwards: {moment} is not after {self._last}")
        self._last = moment - TICK

        def story_now() -> datetime:
            self._last += TICK
            return self._last

        clock.now = story_now

    def back_to_now(self) -> None:
        """Give the real clock back (the story's last steps happen now)."""
        clock.now = self._real

    def __enter__(self) -> StoryClock:
        return self

    def __exit__(self, *exc_info) -> None:
        self.back_to_now()


@dataclass
class Care:
    """A contract the story has made, its provider, and the visits the provider makes in a week of care: (weekday, start, minutes)."""

    contract: Contract
    provider: Provider
    visits: list[tuple[int, time, int]]
    every: int = 1  # a week of care every this many weeks, counted from the week the contract starts


@dataclass
class Cast:
    """Everyone in the story, as the later steps need them."""

    council: Council
    other: Council
    staff: dict[str, User] = field(default_factory=dict)  # by email
    holders: list[Holder] = field(default_factory=list)
    accounts: dict[int, User] = field(default_factory=dict)  # holders' own logins, by holder id
    providers: list[Provider] = field(default_factory=list)
    clusters: dict[str, Cluster] = field(default_factory=dict)  # by name
    members: dict[str, list[Holder]] = field(default_factory=dict)  # each group's members, in the order they joined
    care: dict[str, Care] = field(default_factory=dict)  # the contracts made so far, by provider name, oldest first
    provider_logins: dict[int, User] = field(default_factory=dict)  # the login of each provider with care to record, by provider id

    def user(self, email: str) -> User:
        """Return a staff member's, the representative's or another printed login's account."""
        return self.staff[email]

    def holders_speaking(self, lang: str) -> list[Holder]:
        """Return the holders whose first language is this one, in the order they were registered."""
        return [h for h in self.holders if h.languages[0] == lang]
