"""Rules for what people type: text without control characters, one date parser, and bounded ids.

Forms, marshmallow schemas, query strings and the command line all use these, so the same input is
refused the same way everywhere and on both databases. Nothing here imports Flask or SQL.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

ID_MAX = 2**31 - 1  # ids are 32-bit integers in the database, as in the URL converter

CONTROL_MESSAGE = "Remove the hidden characters (such as a null or control character) and type it again"
# Line breaks and tabs are allowed only in boxes of several lines; everything else of category Cc
# (C0, DEL and C1) is refused. PostgreSQL cannot store NUL at all, and the rest is never typed.
MULTILINE_ALLOWED = frozenset("\n\r\t")

EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)
DATE_EXAMPLE = "27 3 2027"
DATE_MESSAGE = f"Enter a real date, for example {DATE_EXAMPLE}"
ISO_DATE_MESSAGE = "Enter a real date as year-month-day, for example 2027-03-27"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", re.ASCII)
TYPED_DATE_MESSAGE = "Enter a real date, for example 27/3/2027 or 27 March 2027"
# A day, a month (a number or a name) and a four-figure year, apart by slashes, dots, dashes or spaces.
_TYPED_DATE = re.compile(r"([0-9]{1,2})[ /.-]+([A-Za-z]{3,9}\.?|[0-9]{1,2})[ /.-]+([0-9]{4})", re.ASCII)
_PART_MAX = {"day": 2, "month": 9, "year": 4}  # "september" is the longest month name
MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1)
    for name in names}  # fmt: skip


# Bidirectional embeddings, overrides and isolates make text display in another order than it is
# stored ("Tea \u202egnos" shows as "Tea song"): a way to disguise a name or a title, never typed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Tell whether text holds a control character, a bidirectional override or a lone surrogate (line breaks and tabs pass in multi-line text)."""
    for char in text:
        if char in BIDI_CONTROLS:
            return True
        category = unicodedata.category(char)
        # A lone surrogate (Cs) is what a command line's bytes that are not UTF-8 become: no database can store it.
        if category == "Cs" or category == "Cc" and not (multiline and char in MULTILINE_ALLOWED):
            return True
    return False


def control_character_problem(value, *, multiline: bool = False) -> str | None:
    """Return the plain message for a value with control characters, or None when it is clean."""
    if isinstance(value, str) and has_control_characters(value, multiline=multiline):
        return CONTROL_MESSAGE
    return None


def _ascii_number(text: str, *, max_digits: int) -> int | None:
    # str.isdigit() accepts "²" and other scripts' digits; int() of thousands of digits is slow or refused.
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}", re.ASCII)
_DECIMAL_NUMBER = re.compile(r"-?(?:[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})", re.ASCII)


def person_name_problem(name: str, *, empty: str, most: int = 120) -> str | None:
    """Return what is wrong with a person's name, already stripped, in words for the form (None when it will do).

    It is there (`empty` says what to enter), at most `most` characters, and has at least one letter of any
    script: "12345" or "--" is a slip, not a name.
    """
    if not name:
        return empty
    if len(name) > most:
        return f"Use {most} characters or fewer"
    if not any(character.isalpha() for character in name):
        return "Enter a name with at least one letter"
    return None


def parse_whole_number(text: str) -> int:
    """Return a whole number written in ASCII digits (an optional minus, at most 9 digits), or raise ValueError.

    int() alone would take "１２" (other scripts' digits), "1_000" and thousands of digits.
    """
    text = (text or "").strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ValueError("not a whole number")
    return int(text)


def page_number(args, *, name: str = "page", last: int = 100_000) -> int:
    """Return the page number in a query string: anything but a whole number from 1 to `last` is page 1."""
    try:
        number = parse_whole_number(args.get(name) or "1")
    except ValueError:
        return 1
    return number if 1 <= number <= last else 1


def parse_decimal(text: str) -> float:
    """Return a plain decimal number like 7.5 or -0.059 in ASCII digits, or raise ValueError.

    float() alone would take "nan", "inf", "1e400" and other scripts' digits; NaN then passes every range check.
    """
    text = (text or "").strip()
    if not _DECIMAL_NUMBER.fullmatch(text):
        raise ValueError("not a number")
    return float(text)


def _in_range(day: date, earliest: date, latest: date) -> date:
    if not earliest <= day <= latest:
        raise ValueError(f"Enter a date between {earliest.year} and {latest.year}")
    return day


def parse_date_parts(
    day: str, month: str, year: str, *, earliest: date = EARLIEST, latest: date = LATEST
) -> date:
    """Return the date from day, month and year boxes, or raise ValueError with a plain message."""
    parts = {"day": (day or "").strip(), "month": (month or "").strip(), "year": (year or "").strip()}
    missing = [name for name, text in parts.items() if not text]
    if len(missing) == 3:
        raise ValueError(DATE_MESSAGE)
    if missing:
        raise ValueError(f"The date must include a {' and a '.join(missing)}")
    if any(len(text) > _PART_MAX[name] for name, text in parts.items()):
        raise ValueError(DATE_MESSAGE)
    month_text = parts["month"].lower().rstrip(".")
    month_number = MONTHS.get(month_text) if month_text.isascii() else None
    if month_number is None:
        month_number = _ascii_number(month_text, max_digits=2)
    day_number = _ascii_number(parts["day"], max_digits=2)
    year_number = _ascii_number(parts["year"], max_digits=4)
    if day_number is None or month_number is None or year_number is None:
        raise ValueError(DATE_MESSAGE)
    if len(parts["year"]) != 4:
        raise ValueError("The year must include 4 numbers")
    try:
        value = date(year_number, month_number, day_number)
    except ValueError:
        raise ValueError(DATE_MESSAGE) from None
    return _in_range(value, earliest, latest)


def parse_typed_date(text: str, *, earliest: date = EARLIEST, latest: date = LATEST) -> date:
    """Return a date typed as people in England write it (27/3/2027, 27 March 2027) or as YYYY-MM-DD; ValueError with a plain message."""
    text = (text or "").strip()
    if _ISO_DATE.fullmatch(text):
        return parse_date(text, earliest=earliest, latest=latest)
    match = _TYPED_DATE.fullmatch(text) if len(text) <= 20 else None
    if match is None:
        raise ValueError(TYPED_DATE_MESSAGE)
    try:
        return parse_date_parts(*match.groups(), earliest=earliest, latest=latest)
    except ValueError as error:
        if str(error) == DATE_MESSAGE:  # its example is of three boxes ("27 3 2027"); this is one box
            raise ValueError(TYPED_DATE_MESSAGE) from None
        raise


def parse_date(text: str, *, earliest: date = EARLIEST, latest: date = LATEST) -> date:
    """Return the date written as YYYY-MM-DD (ASCII digits only), or raise ValueError with a plain message."""
    text = (text or "").strip()
    if len(text) > 10 or not _ISO_DATE.fullmatch(text):
        raise ValueError(ISO_DATE_MESSAGE)
    year, month, day = (int(part) for part in text.split("-"))
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueError(ISO_DATE_MESSAGE) from None
    return _in_range(value, earliest, latest)


def parse_id(text, *, what: str = "id") -> int:
    """Return a database id (ASCII digits, 1 to ID_MAX), or raise ValueError with a plain message."""
    text = str(text).strip()
    number = _ascii_number(text, max_digits=len(str(ID_MAX)))
    if number is None or not 1 <= number <= ID_MAX:
        raise ValueError(f"{what} must be a whole number from 1 to {ID_MAX}")
    return number


DISTRICT_MESSAGE = "Enter postcode districts like E1 E14 separated by spaces"
_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?", re.ASCII)
SLUG_MESSAGE = "Use lower-case letters, numbers and hyphens only"
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z", re.ASCII)  # match() with \Z: "$" would let a final line break through


def normalise_district(text: str) -> str:
    """Return a postcode district in capitals without spaces, as councils list them."""
    return "".join((text or "").split()).upper()


def is_district(text: str) -> bool:
    """Tell whether text is one postcode district in capitals, like E1, LS6 or SW1A."""
    return bool(_DISTRICT.fullmatch(text or ""))


def parse_districts(text: str) -> list[str]:
    """Return the postcode districts in a space-separated list, or raise ValueError with a plain message."""
    districts = [d.upper() for d in (text or "").split()]
    if any(not is_district(d) for d in districts):
        raise ValueError(DISTRICT_MESSAGE)
    if len(set(districts)) != len(districts):
        raise ValueError("List each postcode district once")
    return districts


# --- marshmallow fields: the same rules for schemas shared by forms, the API and the command line ---

from marshmallow import ValidationError as _SchemaError  # noqa: E402
from marshmallow import fields as _fields  # noqa: E402


class Text(_fields.String):
    """A string field that refuses control characters (line breaks and tabs only when `multiline`)."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = control_character_problem(text, multiline=self.multiline)
        if problem:
            raise _SchemaError(problem)
        return text


class DateText(_fields.Field):
    """A date written as YYYY-MM-DD in ASCII digits, read with the one date parser."""

    parse, message = staticmethod(parse_date), ISO_DATE_MESSAGE

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise _SchemaError(self.message)
        try:
            return self.parse(value)
        except ValueError as error:
            raise _SchemaError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


class WholeNumber(_fields.Integer):
    """An integer field that takes only ASCII digits (marshmallow's Integer uses int(), which takes "١" and "1_0")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = parse_whole_number(value)
            except ValueError:
                raise self.make_error("invalid") from None
        return super()._deserialize(value, attr, data, **kwargs)


from marshmallow import Schema as _Schema  # noqa: E402
from marshmallow import validate as _validate  # noqa: E402
from marshmallow import validates_schema as _validates_schema  # noqa: E402


class TypedDateText(DateText):
    """A date typed into a page's box: as people in England write it (27/3/2027, 27 March 2027) or as YYYY-MM-DD."""

    parse, message = staticmethod(parse_typed_date), TYPED_DATE_MESSAGE


class DayRangeFilters(_Schema):
    """Filters of a list page read from the query string: from/to days in England (both included) and a page number."""

    start = TypedDateText(load_default=None, metadata={"description": "From this day in England (inclusive)"})
    end = TypedDateText(load_default=None, metadata={"description": "To this day in England (inclusive)"})
    page = WholeNumber(load_default=1, validate=_validate.Range(min=1, max=100_000))

    class Meta:
        unknown = "exclude"

    @_validates_schema
    def check_range(self, data, **kwargs):
        """Refuse a range that ends before it starts."""
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise _SchemaError("The end date must be on or after the start date.", "end")


def load_filters(schema: type[_Schema], args, *, messages: dict[str, str] | None = None) -> tuple[dict, dict[str, list[str]]]:
    """Load a page's filters from the query string (blank means no filter); return (filters, errors by field).

    Filters that cannot be read come back as the defaults, with the errors: the page then lists nothing.
    `messages` replaces marshmallow's words for a field with the page's own (e.g. {"page": "Enter a page number…"}).
    """
    # Blank means no filter, spaces too (a date box of spaces said "Enter a real date"), as on every form (forms.blank_as_empty).
    raw = {key: value for key, value in args.items() if value is not None and not (isinstance(value, str) and not value.strip())}
    try:
        return schema().load(raw), {}
    except _SchemaError as error:
        found = {key: (value if isinstance(value, list) else [str(value)]) for key, value in error.messages.items()}
        for field, message in {"page": "Enter a page number of 1 or more", **(messages or {})}.items():
            if field in found:
                found[field] = [message]
        return schema().load({}), found
