"""Months and quarters in England for the community-wealth figures: pure (no Flask, no SQL).

A month is named by its first day (as the pool summary, `ledger_pool_month`, stores it); a quarter by the
first day of its first month. Quarters are calendar quarters (January to March, ...); a financial year
starts in April.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from brokerage.validation import MONTHS

MAX_MONTHS = 36  # the longest period the figures page shows at once
MONTH_EXAMPLE = "April 2025"
MONTH_MESSAGE = f"Enter a month and year, for example {MONTH_EXAMPLE}"
_NUMERIC = re.compile(r"([0-9]{4})-([0-9]{1,2})|([0-9]{1,2})[/ ]([0-9]{4})", re.ASCII)
_NAMED = re.compile(r"([a-z]{3,9})\.? ([0-9]{4})", re.ASCII)
NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def add_months(month: date, count: int) -> date:
    """Return the first day of the month `count` months after (or before) the month of `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_of(day: date) -> date:
    """Return the first day of the month a day falls in."""
    return day.replace(day=1)


def months_between(start: date, end: date) -> list[date]:
    """Return the first days of every month from start's month to end's month, both included (empty if end is before)."""
    months, month = [], month_of(start)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def parse_month(text: str) -> date:
    """Read a month typed as 'April 2025', 'Apr 2025', '4 2025', '04/2025' or '2025-04'; return its first day or raise ValueError."""
    cleaned = " ".join((text or "").strip().lower().replace(",", " ").split())
    if len(cleaned) > 20:
        raise ValueError(MONTH_MESSAGE)
    numeric = _NUMERIC.fullmatch(cleaned)
    named = _NAMED.fullmatch(cleaned)
    if numeric:
        year, number = (numeric.group(1), numeric.group(2)) if numeric.group(1) else (numeric.group(4), numeric.group(3))
        year, number = int(year), int(number)
    elif named and named.group(1) in MONTHS:
        year, number = int(named.group(2)), MONTHS[named.group(1)]
    else:
        raise ValueError(MONTH_MESSAGE)
    if not 1 <= number <= 12 or not 2000 <= year <= 2999:
        raise ValueError(MONTH_MESSAGE)
    return date(year, number, 1)


def month_text(month: date) -> str:
    """Return a month as it is typed back into the filter ('2025-04')."""
    return f"{month.year:04d}-{month.month:02d}"


def month_name(month: date) -> str:
    """Return a month as people say it ('April 2025')."""
    return f"{NAMES[month.month - 1]} {month.year}"


def short_month(month: date) -> str:
    """Return a month short enough for a chart's axis ('Apr 2025')."""
    return f"{NAMES[month.month - 1][:3]} {month.year}"


def quarter_of(month: date) -> date:
    """Return the first day of the calendar quarter a month falls in."""
    return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)


def quarter_name(quarter: date) -> str:
    """Return a quarter as people say it ('January to March 2026')."""
    last = add_months(quarter, 2)
    return f"{NAMES[quarter.month - 1]} to {NAMES[last.month - 1]} {quarter.year}"


def short_quarter(quarter: date) -> str:
    """Return a quarter short enough for a chart's axis ('Jan–Mar 2026')."""
    last = add_months(quarter, 2)
    return f"{NAMES[quarter.month - 1][:3]}–{NAMES[last.month - 1][:3]} {quarter.year}"


def quarters_span(first: date, last: date) -> str:
    """Return what a run of quarters covers, as people say it: 'April to June 2026', or '2 quarters, from April 2026 to September 2026'."""
    if first == last:
        return quarter_name(first)
    count = ((last.year - first.year) * 12 + last.month - first.month) // 3 + 1
    return f"{count} quarters, from {month_name(first)} to {month_name(add_months(last, 2))}"


def quarter_columns(quarter: date) -> list[str]:
    """Return a quarter as the CSV files give it: its name, first day and last day (['April to June 2026', '2026-04-01', '2026-06-30']).

    Not "2026-Q2": calendar quarters are the council's financial quarters numbered differently (April to June is
    its Q1), so a number would be read two ways; the days sort and read one way.
    """
    return [quarter_name(quarter), quarter.isoformat(), (add_months(quarter, 3) - timedelta(days=1)).isoformat()]


def complete_quarters(today: date, count: int) -> list[date]:
    """Return the last `count` quarters that ended before today's quarter, oldest first."""
    this = quarter_of(month_of(today))
    return [add_months(this, -3 * n) for n in range(count, 0, -1)]


def financial_year_start(today: date) -> date:
    """Return the first day of the financial year (April to March) that today falls in."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def presets(today: date) -> list[tuple[str, date, date]]:
    """Return the ready-made periods the figures page offers: (name, first month, last month); the first is the default."""
    this = month_of(today)
    year = financial_year_start(today)
    last_quarter = add_months(quarter_of(this), -3)
    return [
        ("Last 12 months", add_months(this, -11), this),
        ("Last 24 months", add_months(this, -23), this),
        ("Last quarter", last_quarter, add_months(last_quarter, 2)),
        ("This financial year", year, this),
        ("Last financial year", add_months(year, -12), add_months(year, -1)),
    ]


def check_period(start: date, end: date, *, today: date) -> dict[str, str]:
    """Return the problems with a period of months, by field ('start', 'end'); empty when it can be shown."""
    this = month_of(today)
    if start > this:
        return {"start": "The first month must be this month or earlier"}
    if end > this:
        return {"end": "The last month must be this month or earlier"}
    if end < start:
        return {"end": "The last month must be the same as the first month or after it"}
    if len(months_between(start, end)) > MAX_MONTHS:
        return {"end": f"Choose a period of {MAX_MONTHS} months or fewer"}
    return {}
