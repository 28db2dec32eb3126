"""Marshmallow schemas for the access log's filters (query string), read like the journal's (brokerage.ledger.schemas)."""

from __future__ import annotations

from marshmallow import validate

from brokerage.audit.rules import WHAT_LABELS
from brokerage.validation import DayRangeFilters, Text, WholeNumber
from brokerage.validation import load_filters as load_query


class AccessLogFilterSchema(DayRangeFilters):
    """Filters on the officers' access log: who looked, whose record, what, and from/to days in England."""

    staff = WholeNumber(load_default=None, validate=validate.Range(min=1, error="Choose a member of staff from the list"),
                        metadata={"description": "The member of staff who looked (their account id)"})
    person = Text(load_default=None, validate=validate.Length(max=120, error="Enter at most {max} characters of a name"),
                  metadata={"description": "Part of the name of the person whose record was looked at"})
    what = Text(load_default=None, validate=validate.OneOf(list(WHAT_LABELS), error="Choose what was looked at from the list"),
                metadata={"description": "What was looked at"})


def load_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load the access log's filters from the query string; blank values mean no filter. Return (filters, errors)."""
    return load_query(AccessLogFilterSchema, args, messages={"staff": "Choose a member of staff from the list"})
