"""Input of the community-wealth pages: the period filter (query string), the settings form, and the CSV files."""

from __future__ import annotations

import csv
import io
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate
from wtforms import BooleanField, StringField
from wtforms.validators import StopValidation

from brokerage.forms import BaseForm
from brokerage.transparency import periods
from brokerage.transparency.rules import LOCAL_DISTANCE_MAX, LOCAL_DISTANCE_MIN
from brokerage.validation import Text, parse_decimal

CHARTS = ("local", "ownership", "fair-work")  # the officer page's charts, each with its own CSV file
PUBLIC_TABLES = ("money", "kinds", "services", "wealth")  # the public report's tables, each with its own CSV file
DISTANCE_MESSAGE = f"Enter a distance from {LOCAL_DISTANCE_MIN:g} to {LOCAL_DISTANCE_MAX:g} km, like 5 or 7.5, or leave it blank"


class MonthText(Text):
    """A month typed as 'April 2025', '4 2025' or '2025-04', read as its first day."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return periods.parse_month(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class PeriodSchema(Schema):
    """The months the figures cover (query string): from `start` to `end`, both included."""

    start = MonthText(load_default=None, metadata={"description": "The first month, like 2025-04"})
    end = MonthText(load_default=None, metadata={"description": "The last month, like 2026-03"})
    chart = fields.String(load_default="local", validate=validate.OneOf(CHARTS, error="Choose a chart from the page"))

    class Meta:
        unknown = "exclude"


def load_period(args, *, today: date, with_chart: bool = False) -> tuple[date, date, str, dict[str, list[str]]]:
    """Load the period (blank: the last 12 months), and the chart when `with_chart`, from the query string; return (start, end, chart, errors by field)."""
    _, default_start, default_end = periods.presets(today)[0]
    raw = {key: value for key, value in args.items() if value not in ("", None) and (with_chart or key != "chart")}
    try:
        data = PeriodSchema().load(raw)
    except ValidationError as error:
        messages = {key: (value if isinstance(value, list) else [str(value)]) for key, value in error.messages.items()}
        return default_start, default_end, "local", messages
    start, end = data["start"] or default_start, data["end"] or default_end
    problems = periods.check_period(start, end, today=today)
    if problems:
        return default_start, default_end, data["chart"], {key: [message] for key, message in problems.items()}
    return start, end, data["chart"], {}


class PublicTableSchema(Schema):
    """Which table of the public report to download."""

    table = fields.String(load_default="money", validate=validate.OneOf(PUBLIC_TABLES))

    class Meta:
        unknown = "exclude"


def load_public_table(args) -> str | None:
    """Return the public table asked for, or None when it is not one of the report's."""
    try:
        return PublicTableSchema().load(dict(args))["table"]
    except ValidationError:
        return None


class DistanceField(StringField):
    """A distance in km typed as a plain number (blank: none); what is not a number is shown back as typed."""

    def process_formdata(self, valuelist):
        self.invalid = False
        text = ((valuelist[0] if valuelist else "") or "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_decimal(text)
        except ValueError:
            self.data, self.invalid = text, True

    def pre_validate(self, form):
        if getattr(self, "invalid", False) or (self.data is not None and not LOCAL_DISTANCE_MIN <= self.data <= LOCAL_DISTANCE_MAX):
            self.data = (self.raw_data or [""])[0]  # shown back as typed
            raise StopValidation(DISTANCE_MESSAGE)


class SettingsForm(BaseForm):
    """A council's community-wealth settings."""

    local_distance_km = DistanceField(
        "Also count providers within this distance, in kilometres (optional)",
        description="Measured from the centre of your council's postcode districts. Leave it blank to count only providers in your districts.",
    )
    publish_report = BooleanField("Publish our public report of pooled spending")

    def fill(self, council) -> None:
        """Show the council's current settings."""
        self.local_distance_km.data = f"{council.local_distance_km:g}" if council.local_distance_km is not None else None
        self.publish_report.data = council.publish_report


def csv_text(head: list[str], rows: list[list[str]]) -> str:
    """Return a table as CSV text, with a byte-order mark so spreadsheets read the £ sign."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue()
