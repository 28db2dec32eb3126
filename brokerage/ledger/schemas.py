"""Marshmallow schemas for the ledger pages."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema

from brokerage.validation import DateText, Text, WholeNumber


class EntryFilterSchema(Schema):
    """Filters on the council's journal page (query string)."""

    kind = Text(load_default=None, validate=validate.Length(max=40, error="Choose a kind of entry from the list"), metadata={"description": "Entry kind"})
    account = Text(load_default=None, validate=validate.Length(max=80, error="Enter at most {max} characters of an account"),
                   metadata={"description": "Part of an account's name (a person, group or provider) or code"})
    start = DateText(load_default=None, metadata={"description": "From this day (inclusive)"})
    end = DateText(load_default=None, metadata={"description": "To this day (inclusive)"})
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100_000))

    class Meta:
        unknown = "exclude"

    @validates_schema
    def check_range(self, data, **kwargs):
        """Refuse a range that ends before it starts."""
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("The end date must be on or after the start date.", "end")


def load_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load filters from the query string; blank values mean no filter. Return (filters, errors)."""
    raw = {key: value for key, value in args.items() if value not in ("", None)}
    try:
        return EntryFilterSchema().load(raw), {}
    except ValidationError as error:
        messages = {key: (value if isinstance(value, list) else [str(value)]) for key, value in error.messages.items()}
        if "page" in messages:
            messages["page"] = ["Enter a page number of 1 or more"]
        return EntryFilterSchema().load({}), messages

