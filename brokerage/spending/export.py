"""A report's table, for the page and for its CSV file: the same columns and figures, formatted for each.

The page shows money as '£1,234.56'; the CSV file in pounds with two decimals and no sign or commas
('1234.56'), which its headings say. Names are written as people read them, never account codes;
a name a spreadsheet could take for a formula starts with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Callable

from brokerage.formatting import pounds
from brokerage.spending.rules import Dimension, csv_pounds, percent
from brokerage.spending.services import SpendReport, SpendRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NAMES = {
    Dimension.group: ["Group"],
    Dimension.holder: ["Member's share", "Member", "Group"],
    Dimension.provider: ["Provider", "Kind of provider"],
    Dimension.service: ["Service"],
    Dimension.ownership: ["Kind of provider"],
    Dimension.month: ["Month"],
}


def _names(report: SpendReport, row: SpendRow) -> list[str]:
    if report.dimension == Dimension.holder:
        return [row.name, row.member, row.group]
    if report.dimension == Dimension.provider:
        return [row.name, row.detail]
    return [row.name]


def money_columns(report: SpendReport) -> list[tuple[str, Callable[[SpendRow], int | str]]]:
    """Return the report's figure columns: (heading, the row's value in pence, or a share as text)."""
    if not report.has_pooling:
        total = report.totals.spent_pence
        return [("Spent", lambda row: row.figures.spent_pence), ("Share of spend", lambda row: percent(row.figures.spent_pence, total))]
    columns: list[tuple[str, Callable[[SpendRow], int | str]]] = [
        ("Pooled in", lambda row: row.figures.pooled_in_pence),
        ("Spent", lambda row: row.figures.spent_pence),
        ("Returned to members", lambda row: row.figures.returned_to_members_pence),
    ]
    if report.totals.returned_to_council_pence or any(row.figures.returned_to_council_pence for row in report.rows):
        columns.append(("Returned to the council", lambda row: row.figures.returned_to_council_pence))
    if report.totals.other_pence or any(row.figures.other_pence for row in report.rows):
        columns.append(("Adjustments", lambda row: row.figures.other_pence))
    end = "Unspent at the end of the month" if report.dimension == Dimension.month else "Unspent at the end of the period"
    columns.append((end, lambda row: row.unspent_pence or 0))
    return columns


def headings(report: SpendReport, *, in_csv: bool = False) -> list[str]:
    """Return the table's headings; in a CSV file each money heading says it is in pounds."""
    money = [heading if (heading == "Share of spend" or not in_csv) else f"{heading} (£)" for heading, _ in money_columns(report)]
    names = NAMES[report.dimension]
    return (names if in_csv else names[:1]) + money


def cells(report: SpendReport, row: SpendRow, *, in_csv: bool = False, columns: list | None = None) -> list[str]:
    """Return one row's cells as the page (or, `in_csv`, the CSV file) shows them; `columns` saves working them out again."""
    money = csv_pounds if in_csv else pounds
    values = [value if isinstance(value, str) else money(value) for value in (get(row) for _, get in (columns or money_columns(report)))]
    names = _names(report, row) if in_csv else [row.name]
    return names + values


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def report_csv(report: SpendReport) -> str:
    """Return every row of a report as CSV text, with a byte-order mark so spreadsheets read the £ sign in the headings."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings(report, in_csv=True))
    name_count = len(NAMES[report.dimension])
    columns = money_columns(report)  # once: which columns appear depends on every row
    for row in report.rows:
        values = cells(report, row, in_csv=True, columns=columns)
        writer.writerow([_safe(value) for value in values[:name_count]] + values[name_count:])
    return out.getvalue()
