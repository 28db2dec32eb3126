"""Marshmallow schemas for the access log's filters (query string), read like the journal's (brokerage.ledger.schemas)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema

from brokerage.audit.rules import WHAT_LABELS
from brokerage.validation import DateText, Text, WholeNumber


class AccessLogFilterSchema(Schema):
    """Filters on the officers' access log: who looked, whose record, what, and from/to days in England."""

    staff = WholeNumber(load_default=None, validate=validate.Range(min=1, error="Choose a member of staff from the list"),
                        metadata={"description": "The member of staff who looked (their account id)"})
    person = Text(load_default=None, validate=validate.Length(max=120, error="Enter at most {max} characters of a name"),
                  metadata={"description": "Part of the name of the person whose record was looked at"})
    what = Text(load_default=None, validate=validate.OneOf(list(WHAT_LABELS), error="Choose what was looked at from the list"),
                metadata={"description": "What was looked at"})
    start = DateText(load_default=None, metadata={"description": "From this day in England (inclusive)"})
    end = DateText(load_default=None, metadata={"description": "To this day in England (inclusive)"})
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100_000))

    class Meta:
        unknown = "exclude"

    @validates_schema
    def check_range(self, data, **kwargs):
        """Refuse a range that ends before it starts."""
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("The end date must be on or after the start date.", "end")


def load_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load the access log's filters from the query string; blank values mean no filter. Return (filters, errors)."""
    raw = {key: value for key, value in args.items() if value not in ("", None)}
    try:
        return AccessLogFilterSchema().load(raw), {}
    except ValidationError as error:
        messages = {key: (value if isinstance(value, list) else [str(value)]) for key, value in error.messages.items()}
        if "page" in messages:
            messages["page"] = ["Enter a page number of 1 or more"]
        if "staff" in messages:
            messages["staff"] = ["Choose a member of staff from the list"]
        return AccessLogFilterSchema().load({}), messages

