"""Formatting for the edge: money in pounds, dates in plain English, and the template filters.

A bottom-layer module: the pure matching engine imports it too, so it imports no Flask and no SQL
at run time (Flask appears only in a type hint). The names of languages and services are words, not
formatting: they live in `brokerage.vocabulary`, and this module only registers them as filters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from brokerage import clock
from brokerage.tables import label_table_cells
from brokerage.vocabulary import DAY_NAMES, DAYS, HOURLY_RATE_MAX_PENCE, NATIONAL_LIVING_WAGE_PENCE, PARTS, clock_words, group_kinds_words, language_name, service_name, vetting_names

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


def km_away(km: float) -> str:
    """Return a distance in words, e.g. "2.2 km away"; under 0.05 km, "less than 0.1 km away" (not "0.0 km away")."""
    return "less than 0.1 km away" if km < 0.05 else f"{km:.1f} km away"


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
    """Format a time of day (no date) the GOV.UK way: '9am', '9:30am', '2:05pm', 'midday', 'midnight'."""
    return clock_words(value.hour, value.minute)


def end_words(value: datetime) -> str:
    """Say when something ends by England's wall clock: "11pm on Sunday 6 December 2026"; at 00:00, "midnight at the end of" the day before."""
    if value.time() == time(0):
        return f"midnight at the end of {weekday_date((value - timedelta(days=1)).date())}"
    return f"{time_of_day(value.time())} on {weekday_date(value.date())}"


def minutes_words(minutes: int | None) -> str:
    """Format a length of time in minutes for people, in words: 90 -> '1 hour 30 minutes', 61 -> '1 hour 1 minute', 120 -> '2 hours'."""
    if minutes is None:
        return "–"
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError("a length of time is whole minutes")
    sign = "−" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if not hours:
        return f"{sign}{plural(rest, 'minute')}"
    return f"{sign}{plural(hours, 'hour')}" + (f" {plural(rest, 'minute')}" if rest else "")


def clock_time(value: datetime) -> str:
    """Format a moment's time of day in England the GOV.UK way: '5pm', '5:05pm', 'midday', 'midnight'."""
    return time_of_day(clock.london(value).time())


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


# After these words a week reads "the week of …": "Pledge for the week of 30 November 2026".
_BEFORE_THE_WEEK = re.compile(r"\b(?:for|in|of|from|to|until|during|by|since|after|before)\s$", re.IGNORECASE)


def weeks_for_people(text: str | None) -> str | None:
    """Replace every canonical ISO week in a stored text (such as a ledger memo) with '(the) week of …'."""
    if not text:
        return text

    def words(match: re.Match) -> str:
        said = week_of(match.group(0))
        if said != match.group(0) and _BEFORE_THE_WEEK.search(text[: match.start()]):
            return f"the {said}"
        return said

    return ISO_WEEK.sub(words, text)


def so_far(name: str, month: date, today: date) -> str:
    """Return a month's name, adding '(so far)' when it is the month of `today`, not yet over."""
    return name + (" (so far)" if (month.year, month.month) == (today.year, today.month) else "")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return a count with its noun, e.g. (1, "group") -> "1 group", (3, "group") -> "3 groups", (2, "entry", "entries")."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError("a count is a whole number")
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"


def how_often(count: int) -> str:
    """Return how many times, as people say it: "once", "twice", "3 times"."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError("a count is a whole number")
    return {1: "once", 2: "twice"}.get(count, f"{count:,} times")


def words_list(items, last: str = "and") -> str:
    """Join words the way a sentence does: "a", "a and b", "a, b and c"."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


_PART_WORDS = {"am": "mornings", "pm": "afternoons", "eve": "evenings"}
_WEEKDAYS, _WEEKEND = DAYS[:5], DAYS[5:]


def _days_phrase(days: tuple[str, ...]) -> str:
    if days == DAYS:
        return "every day"
    if days == _WEEKDAYS:
        return "on weekdays"
    if days == _WEEKEND:
        return "at weekends"
    return "on " + words_list(DAY_NAMES[day] for day in days)


def times_words(slots) -> str:
    """Say in plain words when care is needed, e.g. ["mon_am", "wed_am"] -> "Mornings on Monday and Wednesday".

    Days that want the same parts of the day are said together: "Mornings and afternoons on weekdays;
    evenings on Saturday". No slots at all reads "No times given".
    """
    wanted: dict[str, set[str]] = {}
    for slot in slots or []:
        day, _, part = slot.partition("_")
        wanted.setdefault(day, set()).add(part)
    by_parts: dict[tuple[str, ...], list[str]] = {}
    for day in DAYS:
        if wanted.get(day):
            parts = tuple(part for part in PARTS if part in wanted[day])
            by_parts.setdefault(parts, []).append(day)
    if not by_parts:
        return "No times given"
    phrases = [f"{words_list(_PART_WORDS[p] for p in parts)} {_days_phrase(tuple(days))}" for parts, days in by_parts.items()]
    sentence = "; ".join(phrases)
    return sentence[:1].upper() + sentence[1:]


def _day_runs(days: list[str]) -> list[str]:
    """Name days, three or more in a row as "Monday to Thursday"."""
    runs: list[list[int]] = []
    for index in sorted(DAYS.index(day) for day in days):
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    names = []
    for run in runs:
        if len(run) >= 3:
            names.append(f"{DAY_NAMES[DAYS[run[0]]]} to {DAY_NAMES[DAYS[run[-1]]]}")
        else:
            names.extend(DAY_NAMES[DAYS[index]] for index in run)
    return names


def slot_hours_words(slot_hours: Mapping[str, int] | None) -> str:
    """Say hours per time of day in plain words, e.g. "Monday to Thursday mornings, 3 hours each; Friday afternoon, 2 hours".

    Times of day with the same hours are said together, in the order of the week. None at all reads "No times given".
    """
    groups: dict[tuple[str, int], list[str]] = {}
    for day in DAYS:
        for part in PARTS:
            hours = (slot_hours or {}).get(f"{day}_{part}", 0)
            if hours:
                groups.setdefault((part, hours), []).append(day)
    if not groups:
        return "No times given"
    phrases = []
    for (part, hours), days in groups.items():
        several = len(days) > 1
        part_words = _PART_WORDS[part] if several else _PART_WORDS[part][:-1]
        phrases.append(f"{words_list(_day_runs(days))} {part_words}, {plural(hours, 'hour')}{' each' if several else ''}")
    return "; ".join(phrases)


def when_words(times) -> str:
    """Say when care is wanted or given: hours per time of day (a mapping) or just the times (a list of slots)."""
    if isinstance(times, Mapping):
        return slot_hours_words(times)
    return times_words(times)


def capitalize_first(text: object) -> str:
    """Start a sentence with a capital and leave the rest alone ("week of…" -> "Week of…"; Jinja's capitalize lowers the rest)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def possessive(name: str) -> str:
    """Return a name's possessive: "Amina Hassan" -> "Amina Hassan's", "James" -> "James's" (GOV.UK style)."""
    return f"{name}'s"


def its(kind) -> str:
    """Return the possessive for a provider of this kind: "their" for a personal assistant (a person), "its" for an organisation."""
    return "their" if getattr(kind, "value", kind) == "pa" else "its"


def quote_words(text: object, end: str = ".") -> str:
    """Quote someone's typed words in a sentence and end it, unless the words end it already: "…travel.”", never "…travel.”."."""
    text = str(text).strip()
    return f"“{text}”" + ("" if text.endswith((".", "!", "?", "…")) else end)


def quoted(text: object, end: str = ".") -> Markup:
    """Quote someone's typed words on a page, as `quote_words` does, keeping them apart as the user's own text."""
    text = str(text).strip()
    return Markup('“<span class="app-user-text">{}</span>”').format(text) + quote_words(text, end)[len(text) + 2:]


class Voice:
    """The words a page about one person uses for them: "you" and "your" when they read it, their name otherwise.

    A broker or a representative reading Amina's money statement reads "Amina Hassan's wallet"; Amina
    reads "Your wallet". Capitalised forms start a sentence.
    """

    def __init__(self, name: str, own: bool):
        self.name, self.own = name, own
        self.you = "you" if own else name
        self.your = "your" if own else possessive(name)
        self.you_have = "you have" if own else f"{name} has"
        self.they = "you" if own else "they"
        self.their = "your" if own else "their"

    @property
    def You(self) -> str:  # noqa: N802 (reads like the word it starts a sentence with)
        """Return "You" or the name, to start a sentence."""
        return self.you[:1].upper() + self.you[1:]

    @property
    def Your(self) -> str:  # noqa: N802
        """Return "Your" or the name's possessive, to start a sentence."""
        return self.your[:1].upper() + self.your[1:]

    @property
    def You_have(self) -> str:  # noqa: N802
        """Return "You have" or "<name> has", to start a sentence."""
        return self.you_have[:1].upper() + self.you_have[1:]


def voice(holder, reader) -> Voice:
    """Return the words for a holder as this reader reads them: "your" for the holder themselves, their name for anyone else.

    `holder` is a holder record, or a mapping with its "id" and "name" where a page has only those.
    """
    holder_id, name = (holder["id"], holder["name"]) if isinstance(holder, Mapping) else (holder.id, holder.name)
    return Voice(name, own=getattr(reader, "holder_id", None) is not None and reader.holder_id == holder_id)


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


def _printed(refuse_none: bool):
    """Return Jinja's finalize: a value of None prints as nothing, never as the word "None" (in tests it is refused, to be found)."""

    def finalize(value):
        if value is None:
            if refuse_none:
                raise ValueError("a template printed None: give the page words for a missing value")
            return ""
        return value

    return finalize


def init_app(app: Flask) -> None:
    """Register the template filters, and print nothing (not "None") for a missing value."""
    app.jinja_env.finalize = _printed(bool(app.config.get("TEMPLATES_REFUSE_NONE")))
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
    app.add_template_filter(plural, "plural")
    app.add_template_filter(how_often, "how_often")
    app.add_template_filter(times_words, "times")
    app.add_template_filter(when_words, "when")
    app.add_template_filter(words_list, "words_list")
    app.add_template_filter(voice, "voice")
    app.add_template_filter(group_kinds_words, "group_kinds")
    app.add_template_filter(capitalize_first, "capitalize_first")
    app.add_template_filter(quoted, "quoted")
    app.add_template_filter(label_table_cells, "label_cells")
    app.add_template_filter(its, "its")


# The most an amount typed in pounds may be (seven figures of pounds): each form checks its own, lower, limit after this.
POUNDS_MOST = "£9,999,999.99"


# The one way every form says an hourly rate is too high (a provider's rate, a contract's, the most a group will pay).
HOURLY_RATE_TOO_HIGH = f"Enter an hourly rate of {pounds(HOURLY_RATE_MAX_PENCE)} or less"
# The floor of every hourly rate: a provider's, a contract's and the most a group's request will pay.
HOURLY_RATE_TOO_LOW = f"Enter at least {pounds(NATIONAL_LIVING_WAGE_PENCE)} an hour: no carer can be paid less than the National Living Wage"


class AmountTooLarge(ValueError):
    """An amount typed in pounds that is a real amount, only too big to read (more than seven figures of pounds)."""


class AmountNegative(ValueError):
    """An amount typed in pounds with a minus sign: a real amount, below any money box's own lowest amount."""


def parse_pounds(text: str) -> int:
    """Parse an amount typed in pounds ('12', '12.50', '£1,234.56') into integer pence, or raise ValueError
    (AmountTooLarge for more than seven figures of pounds, AmountNegative for one with a minus sign).

    A comma is read only between thousands ('1,250'): '12,50' (a decimal comma) and '12 50' were read as £1,250,
    a hundred times what was meant, so they are refused with what to type instead.
    """
    cleaned = (text or "").strip()
    if cleaned.startswith("£"):
        cleaned = cleaned[1:].lstrip()
    # [0-9] with re.ASCII: \d and int() also take other scripts' digits ('١٢', '１２').
    if re.fullmatch(r"[-−–]\s*£?[0-9][0-9,]*(?:\.[0-9]+)?", cleaned):  # a minus sign (typed, or a dash) before an amount
        raise AmountNegative("Enter an amount of £0 or more, without a minus sign")
    if re.fullmatch(r"[0-9]+,[0-9]{1,2}", cleaned, flags=re.ASCII):
        raise ValueError("Use a full stop for pence, like 12.50")
    if "," in cleaned:
        if not re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?", cleaned, flags=re.ASCII):
            raise ValueError("Use commas only between thousands, like 1,250.50")
        cleaned = cleaned.replace(",", "")
    match = re.fullmatch(r"([0-9]{1,7})(?:\.([0-9]{1,2}))?", cleaned, flags=re.ASCII)
    if not match:
        if re.fullmatch(r"[0-9]{8,}(?:\.[0-9]{1,2})?", cleaned, flags=re.ASCII):  # a real amount, only too big to be money here
            raise AmountTooLarge(f"Enter an amount of {POUNDS_MOST} or less")
        raise ValueError("Enter an amount in pounds, like 25 or 25.50")
    whole, part = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(whole) * 100 + int(part)
