"""The one source of time: now in UTC for storage, today and deadlines in England.

Every "today", deadline, expiry and notice end is a date in Europe/London; only storage is in UTC.
Tests freeze time by replacing `now` (monkeypatch.setattr(clock, "now", ...)); everything else here,
and `brokerage.types.utcnow`, reads the time through it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def now() -> datetime:
    """Return the current moment, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def london(moment: datetime) -> datetime:
    """Return a stored (UTC) moment as wall-clock time in England."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
    return moment.astimezone(LONDON)


def wall_clock() -> datetime:
    """Return the time in England now, without its zone: to compare with a day and a time people typed (a visit's start)."""
    return london(now()).replace(tzinfo=None)


def today() -> date:
    """Return today's date in England."""
    return london(now()).date()


def start_of_day(day: date) -> datetime:
    """Return the UTC moment at which a day begins in England (midnight, London time)."""
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(timezone.utc)


def end_of_day(day: date) -> datetime:
    """Return the UTC moment at which a day ends in England (the next day's midnight)."""
    return start_of_day(day + timedelta(days=1))


def years_after(day: date, years: int) -> date:
    """Return the same day `years` later (29 February becomes 28 February in a year without it)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
