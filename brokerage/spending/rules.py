"""Pure rules of the spend reports: months and quarters in England, periods, and what each kind of entry counts as.

Months are always named by their first day (`date(2026, 4, 1)` is April 2026), the way the pool
summary (`ledger_pool_month`) stores them. Quarters are the calendar's three-month blocks (January to
March, April to June...), which are also the council's financial quarters, only numbered differently;
so the pages name them by their months, never "Q1".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from brokerage.formatting import possessive
from brokerage.validation import MONTHS
from brokerage.vocabulary import PROVIDER_KIND_LABELS, PROVIDER_KINDS, service_name

# What each kind of entry on a pool share counts as (brokerage.ledger.kinds; "clawback" returns money to the council).
POOLED_IN = ("pledge_collected", "topup", "topup_refund")
SPENT = ("care_cost",)
RETURNED_TO_MEMBERS = ("member_left", "member_refund")
RETURNED_TO_COUNCIL = ("clawback",)
COUNTED = POOLED_IN + SPENT + RETURNED_TO_MEMBERS + RETURNED_TO_COUNCIL  # anything else (an adjustment) is "other"

MAX_MONTHS = 120  # the longest period a report covers: ten years
EARLIEST_YEAR = 2000
TOP = 10  # bars in a chart of a long breakdown; the table below it and the CSV have every row
PAGE_SIZE = 50  # rows of a long breakdown's table per page


class Dimension(str, enum.Enum):
    """What a spend report is broken down by."""

    group = "group"
    holder = "holder"
    provider = "provider"
    service = "service"
    ownership = "ownership"
    month = "month"

    @property
    def has_pooling(self) -> bool:
        """Tell whether money in, returned and unspent belong to this breakdown (spend alone does for providers)."""
        return self in (Dimension.group, Dimension.holder, Dimension.month)

    @property
    def is_long(self) -> bool:
        """Tell whether the breakdown may have hundreds or thousands of rows (paged, with a top-ten chart)."""
        return self in (Dimension.group, Dimension.holder, Dimension.provider)


TITLES = {
    Dimension.group: "Spend by group",
    Dimension.holder: "Spend by member's share",
    Dimension.provider: "Spend by provider",
    Dimension.service: "Spend by service",
    Dimension.ownership: "Spend by kind of provider",
    Dimension.month: "Pooled money by month",
}
SLUGS = {
    Dimension.group: "groups", Dimension.holder: "members", Dimension.provider: "providers", Dimension.service: "services",
    Dimension.ownership: "kinds-of-provider", Dimension.month: "months",
}  # fmt: skip


def add_months(month: date, count: int) -> date:
    """Return the first day of the month `count` months after (or before, if negative) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_span(start: date, end: date) -> int:
    """Return how many months run from `start` to `end`, both included (0 if `end` is before `start`)."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


def months_of(start: date, end: date) -> list[date]:
    """Return the first day of every month from `start` to `end`, both included."""
    return [add_months(start, i) for i in range(month_span(start, end))]


def month_name(month: date) -> str:
    """Name a month for people, like 'April 2026'."""
    return f"{month:%B} {month.year}"


def unspent_label(period: "Period", today: date | None) -> str:
    """Name the period's closing figure: "Unspent at the end of March 2026", or "Unspent now" while its last month is not over (on `today`)."""
    if today is not None and (period.end.year, period.end.month) >= (today.year, today.month):
        return "Unspent now"
    return f"Unspent at the end of {month_name(period.end)}"


def month_short(month: date) -> str:
    """Name a month briefly for a chart's axis, like 'Apr 26'."""
    return f"{month:%b} {month:%y}"


@dataclass(frozen=True)
class Period:
    """Whole months in England, from `start` to `end` (first days; both included)."""

    start: date
    end: date

    @property
    def months(self) -> list[date]:
        """Return the first day of each month of the period."""
        return months_of(self.start, self.end)

    @property
    def label(self) -> str:
        """Name the period for people: 'March 2026', 'January to March 2026', 'April 2025 to March 2026'."""
        if self.start == self.end:
            return month_name(self.start)
        if self.start.year == self.end.year:
            return f"{self.start:%B} to {month_name(self.end)}"
        return f"{month_name(self.start)} to {month_name(self.end)}"

    @property
    def slug(self) -> str:
        """Name the period in a file name, like '2025-04-to-2026-03'."""
        return f"{self.start:%Y-%m}-to-{self.end:%Y-%m}"

    def args(self) -> dict[str, int]:
        """Return the query-string values that choose this period on a report page."""
        return {"from_month": self.start.month, "from_year": self.start.year, "to_month": self.end.month, "to_year": self.end.year}


def quarter_of(month: date) -> Period:
    """Return the quarter (January to March, April to June...) a month falls in."""
    first = date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    return Period(first, add_months(first, 2))


def this_month(today: date) -> Period:
    """Return the month of `today` (a date in England)."""
    return Period(today.replace(day=1), today.replace(day=1))


def this_quarter(today: date) -> Period:
    """Return the quarter `today` falls in."""
    return quarter_of(today.replace(day=1))


def last_quarter(today: date) -> Period:
    """Return the quarter before the one `today` falls in."""
    return quarter_of(add_months(this_quarter(today).start, -1))


def last_12_months(today: date) -> Period:
    """Return the twelve months up to and including this one: the reports' default period."""
    end = today.replace(day=1)
    return Period(add_months(end, -11), end)


def quick_periods(today: date) -> list[tuple[str, Period]]:
    """Return the periods offered as links above every report, with their names."""
    return [("This quarter", this_quarter(today)), ("Last quarter", last_quarter(today)), ("Last 12 months", last_12_months(today))]


def reckon_from_start(period: Period, *, first: date | None, last: date | None) -> bool:
    """Tell whether fewer months of money lie before the period's end than after it (so adding up from the start is cheaper)."""
    if first is None or last is None:
        return False
    return month_span(first, period.end) < month_span(add_months(period.end, 1), last)


def month_number(text: str) -> int | None:
    """Read a month typed as a number (4, 04) or a name (april, Apr); None if it is neither."""
    text = (text or "").strip().lower().rstrip(".")
    if not text or len(text) > 9 or not text.isascii():
        return None
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(text)


def year_number(text: str, *, latest: int) -> int | None:
    """Read a year typed as four ASCII digits from 2000 to `latest`; None otherwise."""
    text = (text or "").strip()
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        return None
    year = int(text)
    return year if EARLIEST_YEAR <= year <= latest else None


def read_period(values: dict[str, str], *, today: date) -> tuple[Period | None, dict[str, list[str]]]:
    """Read a period from its four boxes (from_month, from_year, to_month, to_year): (period, errors by 'from'/'to').

    All four empty means the last 12 months. Years run from 2000 to next year.
    """
    texts = {name: (values.get(name) or "").strip() for name in ("from_month", "from_year", "to_month", "to_year")}
    if not any(texts.values()):
        return last_12_months(today), {}
    latest = today.year + 1
    errors: dict[str, list[str]] = {}
    ends: dict[str, date] = {}
    for side, words in (("from", "start"), ("to", "end")):
        month_text, year_text = texts[f"{side}_month"], texts[f"{side}_year"]
        if not month_text and not year_text:
            errors[side] = [f"Enter the month and year the period {'starts' if side == 'from' else 'ends'}"]
            continue
        month, year = month_number(month_text), year_number(year_text, latest=latest)
        if month is None:
            errors[side] = [f"Enter the {words} month as a number from 1 to 12, or its name"]
        elif year is None:
            errors[side] = [f"Enter the {words} year as 4 digits, from {EARLIEST_YEAR} to {latest}"]
        else:
            ends[side] = date(year, month, 1)
    if errors:
        return None, errors
    if ends["from"] > today.replace(day=1):
        # Nothing can be known yet about a month not begun; the community-wealth page refuses it in the same words.
        return None, {"from": ["The first month must be this month or earlier"]}
    if ends["to"] < ends["from"]:
        return None, {"to": ["The end of the period must be the same month as the start or after it"]}
    if month_span(ends["from"], ends["to"]) > MAX_MONTHS:
        return None, {"to": [f"Choose a period of at most {MAX_MONTHS // 12} years"]}
    return Period(ends["from"], ends["to"]), {}


def ownership_label(kind: str | None) -> str:
    """Name a provider's kind (its ownership model) for people; unknown or missing kinds say so."""
    if kind is None:
        return "Provider not recorded"
    return PROVIDER_KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def service_label(service: str | None) -> str:
    """Name a contract's service for people, with a capital: 'Home care'."""
    if not service:
        return "Service not recorded"
    words = service_name(service)
    return words[:1].upper() + words[1:]


def share_label(name: str, group: str) -> str:
    """Name a member's pool share the way people say it: "Amina Hassan's share of Somali elders of Whitechapel".

    The apostrophe is the straight one `formatting.possessive` and people's names use: "Margaret O'Brien’s" mixed
    the two, and a spreadsheet search for "O'Brien's" missed it (tester R6-10).
    """
    return f"{possessive(name)} share of {group}"


def percent(part: int, whole: int) -> str:
    """Show `part` as a share of `whole` with one decimal, like '41.5%'; '–' when there is no whole."""
    if whole <= 0:
        return "–"
    tenths = (part * 1000 * 2 + whole) // (whole * 2)  # rounded half up, in whole tenths of a percent
    return f"{tenths // 10}.{tenths % 10}%"


def csv_pounds(pence: int) -> str:
    """Write pence as pounds with two decimals and no £ sign or commas, for a spreadsheet: 123456 -> '1234.56'."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def csv_filename(*, council_slug: str, dimension: Dimension, period: Period) -> str:
    """Name a report's CSV file after the council, the breakdown and the period."""
    return f"pooled-spend-{council_slug}-by-{SLUGS[dimension]}-{period.slug}.csv"
