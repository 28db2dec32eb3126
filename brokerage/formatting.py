"""Formatting for the edge: money in pounds, dates in plain English, and the template filters.

A bottom-layer module: the pure matching engine imports it too, so it imports no Flask and no SQL
at run time (Flask appears only in a type hint). The names of languages and services are words, not
formatting: they live in `brokerage.vocabulary`, and this module only registers them as filters.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from brokerage import clock
from brokerage.vocabulary import language_name, service_name, vetting_names

if TYPE_CHECKING:
    from flask import Flask


def pounds(pence: int | None) -> str:
    """Format integer pence as pounds, e.g. 123456 -> '£1,234.56'."""
    if pence is None:
        return "–"
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError("money must be integer pence")
    sign = "−" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def long_date(value: date | datetime | None) -> str:
    """Format a date like '22 November 2026'; a stored moment counts by its date in England."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = clock.london(value)
    return f"{value.day} {value.strftime('%B %Y')}"


def weekday_date(value: date) -> str:
    """Format a date with its day of the week, like 'Monday 30 November 2026'."""
    if isinstance(value, datetime):
        value = clock.london(value).date()
    return f"{value.strftime('%A')} {long_date(value)}"


def time_of_day(value: time) -> str:
    """Format a time of day (no date) the GOV.UK way: '9:30am', '2:05pm', 'midday', 'midnight'."""
    if (value.hour, value.minute) == (0, 0):
        return "midnight"
    if (value.hour, value.minute) == (12, 0):
        return "midday"
    return f"{(value.hour - 1) % 12 + 1}:{value.minute:02d}{'am' if value.hour < 12 else 'pm'}"


def minutes_words(minutes: int | None) -> str:
    """Format a length of time in minutes for people: 90 -> '1 h 30 min', 45 -> '45 min', 120 -> '2 h'."""
    if minutes is None:
        return "–"
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError("a length of time is whole minutes")
    sign = "−" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if not hours:
        return f"{sign}{rest} min"
    return f"{sign}{hours} h {rest} min" if rest else f"{sign}{hours} h"


def clock_time(value: datetime) -> str:
    """Format a moment's time of day in England the GOV.UK way: '5:05pm', 'midday', 'midnight'."""
    local = clock.london(value)
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    return f"{(local.hour - 1) % 12 + 1}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


def date_time(value: datetime | None) -> str:
    """Format a stored moment as a person in England reads it, like '22 November 2026 at 5:05pm'."""
    if value is None:
        return "–"
    return f"{long_date(value)} at {clock_time(value)}"


# Only ASCII digits: the canonical form machines use, e.g. '2026-W49'.
ISO_WEEK = re.compile(r"\b([0-9]{4})-W([0-9]{2})\b")


def week_of(period: str) -> str:
    """Show a canonical ISO week ('2026-W49') to a person as 'week of 30 November 2026'."""
    match = ISO_WEEK.fullmatch(period or "")
    if not match:
        return period
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return period
    return f"week of {long_date(monday)}"


def weeks_for_people(text: str | None) -> str | None:
    """Replace every canonical ISO week in a stored text (such as a ledger memo) with 'week of …'."""
    if not text:
        return text
    return ISO_WEEK.sub(lambda match: week_of(match.group(0)), text)


_BREAK_AFTER = re.compile(r"([@.:/_-])")


def breakable(text: object) -> Markup:
    """Escape an email, account code or reference and let it wrap after @ . : / _ or -.

    A narrow screen then breaks "broker@riverside.example" at its parts, not
    letter by letter, and a table column holding it need not be wider than its
    longest part (WCAG 1.4.10 Reflow). Screen readers ignore <wbr>.
    """
    if text is None:
        return Markup("")
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(text))))


def init_app(app: Flask) -> None:
    """Register the template filters."""
    app.add_template_filter(pounds, "pounds")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(date_time, "date_time")
    app.add_template_filter(week_of, "week_of")
    app.add_template_filter(weekday_date, "weekday_date")
    app.add_template_filter(time_of_day, "time_of_day")
    app.add_template_filter(minutes_words, "minutes")
    app.add_template_filter(weeks_for_people, "weeks_for_people")
    app.add_template_filter(language_name, "language")
    app.add_template_filter(service_name, "service")
    app.add_template_filter(vetting_names, "vetting_names")
    app.add_template_filter(breakable, "breakable")


def parse_pounds(text: str) -> int:
    """Parse an amount typed in pounds ('12', '12.50', '£1,234.56') into integer pence, or raise ValueError."""
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    if cleaned.startswith("£"):
        cleaned = cleaned[1:]
    # [0-9] with re.ASCII: \d and int() also take other scripts' digits ('١٢', '１２').
    match = re.fullmatch(r"([0-9]{1,7})(?:\.([0-9]{1,2}))?", cleaned, flags=re.ASCII)
    if not match:
        raise ValueError("Enter an amount in pounds, like 25 or 25.50")
    whole, part = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(whole) * 100 + int(part)
