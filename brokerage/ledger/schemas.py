"""Marshmallow schemas for the ledger pages."""

from __future__ import annotations

from marshmallow import validate

from brokerage.validation import DayRangeFilters, Text
from brokerage.validation import load_filters as load_query


class EntryFilterSchema(DayRangeFilters):
    """Filters on the council's journal page (query string)."""

    kind = Text(load_default=None, validate=validate.Length(max=40, error="Choose a kind of entry from the list"), metadata={"description": "Entry kind"})
    account = Text(load_default=None, validate=validate.Length(max=80, error="Enter at most {max} characters of an account"),
                   metadata={"description": "Part of an account's name (a person, group or provider) or code"})


def load_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load filters from the query string; blank values mean no filter. Return (filters, errors)."""
    return load_query(EntryFilterSchema, args)

