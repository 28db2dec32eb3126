"""The spend reports' query string: the period's four boxes, the filters, the order, the page and the format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from marshmallow import EXCLUDE, Schema, ValidationError, validate

from brokerage.errors import NotFound
from brokerage.spending.rules import Period, read_period
from brokerage.validation import Text, parse_id

BOX = validate.Length(max=20, error="Enter at most {max} characters")


class ReportQuerySchema(Schema):
    """A report's query string as typed or linked: every value is text, read by the rules."""

    from_month = Text(load_default="", validate=BOX)
    from_year = Text(load_default="", validate=BOX)
    to_month = Text(load_default="", validate=BOX)
    to_year = Text(load_default="", validate=BOX)
    group = Text(load_default="")
    holder = Text(load_default="")
    provider = Text(load_default="")
    order = Text(load_default="spent")
    page = Text(load_default="1")
    format = Text(load_default="html")

    class Meta:
        unknown = EXCLUDE


@dataclass
class ReportQuery:
    """What a report page was asked for: a period (None when the boxes were refused), errors beside the boxes, filters."""

    period: Period | None
    errors: dict[str, list[str]]
    boxes: dict[str, str]  # as typed, to show again
    group_id: int | None = None
    holder_id: int | None = None
    provider_id: int | None = None
    order: str = "spent"
    page: int = 1
    wants_csv: bool = False
    filters: dict[str, int] = field(default_factory=dict)  # the filters as query-string values, for links


def _id_or_404(text: str) -> int | None:
    if not text:
        return None
    try:
        return parse_id(text)
    except ValueError:
        raise NotFound() from None  # a filter id that cannot be a record answers like a missing record


def load_report_query(args, *, today: date) -> ReportQuery:
    """Read a report's query string; bad period boxes give errors by box ('from', 'to'), a bad id or page gives NotFound."""
    try:
        data = ReportQuerySchema().load({key: value for key, value in args.items()})
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        boxes = {key: str(args.get(key, "")) for key in ("from_month", "from_year", "to_month", "to_year")}
        refused = {("to" if key.startswith("to_") else "from"): ["Remove the hidden characters and type it again"]
                   for key in messages if key in boxes}
        if not refused:
            raise NotFound() from None  # only the period is typed; anything else wrong came from an altered link
        return ReportQuery(period=None, errors=refused, boxes=boxes)
    boxes = {key: data[key] for key in ("from_month", "from_year", "to_month", "to_year")}
    period, errors = read_period(boxes, today=today)
    page_text = data["page"].strip() or "1"
    if not (page_text.isascii() and page_text.isdigit() and len(page_text) <= 6 and int(page_text) >= 1):
        raise NotFound()
    query = ReportQuery(
        period=period, errors=errors, boxes=boxes, group_id=_id_or_404(data["group"].strip()), holder_id=_id_or_404(data["holder"].strip()),
        provider_id=_id_or_404(data["provider"].strip()), order="unspent" if data["order"] == "unspent" else "spent", page=int(page_text),
        wants_csv=data["format"] == "csv",
    )
    query.filters = {name: value for name, value in (("group", query.group_id), ("holder", query.holder_id), ("provider", query.provider_id))
                     if value is not None}
    return query
