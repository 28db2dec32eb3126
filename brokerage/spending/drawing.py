"""The spend reports' charts (brokerage.charts), drawn from the same rows the tables beside them show."""

from __future__ import annotations

from markupsafe import Markup

from brokerage import charts
from brokerage.formatting import plural, pounds
from brokerage.spending.rules import TOP, TITLES, Dimension, month_short
from brokerage.spending.services import SpendReport

WHAT = {
    Dimension.group: "groups", Dimension.holder: "members' shares", Dimension.provider: "providers",
    Dimension.service: "services", Dimension.ownership: "kinds of provider",
}  # fmt: skip


def axis_pounds(value: float) -> str:
    """Label an axis tick in whole pounds, like '£1,250' (ticks fall between pennies)."""
    return f"£{round(value / 100):,}"


def breakdown_chart(report: SpendReport) -> Markup:
    """Draw bars for a breakdown's first rows: what each spent (or, ordered by it, held unspent) in the period."""
    unspent = report.has_pooling and report.order == "unspent"
    value = (lambda row: row.unspent_pence or 0) if unspent else (lambda row: row.figures.spent_pence)
    rows = [(row.name, value(row)) for row in report.rows[:TOP]]
    measure = "Unspent at the end of the period" if unspent else "Spent"
    title = f"{measure}, by {TITLES[report.dimension].removeprefix('Spend by ')}, {report.period.label}"
    if report.row_count > TOP:
        description = f"The {TOP} {WHAT[report.dimension]} with the most of {report.row_count}; the table below has every one."
    else:
        description = f"{len(rows)} bars, largest first; the table below has the same figures."
    return charts.bar_chart(rows, title=title, value_label=pounds, description=description)


def month_chart(report: SpendReport) -> Markup:
    """Draw lines over the period's months: money pooled in and money spent each month."""
    labels = [month_short(row.key) for row in report.rows]
    series = [("Spent", [row.figures.spent_pence for row in report.rows])]
    if report.has_pooling:
        series.insert(0, ("Pooled in", [row.figures.pooled_in_pence for row in report.rows]))
    # Filtered to one provider (or service) nothing is pooled in, only spent: the title names what is drawn.
    what = "Pooled in and spent" if report.has_pooling else "Spent"
    return charts.line_chart(
        labels, series, title=f"{what} each month, {report.period.label}", value_label=axis_pounds,
        description=f"{plural(len(series), 'line')} over {plural(len(labels), 'month')}; the table below has the figures.",
    )


def unspent_chart(groups: list[tuple[int, str, int]]) -> Markup:
    """Draw bars for the groups whose pool shares hold the most now."""
    return charts.bar_chart(
        [(name, pence) for _, name, pence in groups], title="Groups holding the most unspent money now", value_label=pounds,
        description=f"{len(groups)} groups, most first; the table below has the same figures.",
    )
