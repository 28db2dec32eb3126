"""The community-wealth pages' charts, tables and CSV rows, made from the services' plain figures.

Every chart (brokerage.charts) has the same figures in a table below it and in a CSV file. Money is
formatted here, at the edge; a figure the public report suppresses arrives as None and is shown as [c].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from brokerage import charts
from brokerage.formatting import pounds, so_far
from brokerage.transparency import periods
from brokerage.transparency.report import PublicPeriod
from brokerage.transparency.rules import MEASURE_HEADINGS, SUPPRESSED, percent, share_tenths
from brokerage.vocabulary import PROVIDER_KIND_LABELS, service_name

# chart key -> (caption, measures): the officer page and the public report show the same three charts.
SHARE_CHARTS = {
    "local": ("Share of care spend with local providers", ("local",)),
    "ownership": ("Share of care spend with co-operatives, community interest companies, charities and providers with 5 staff or fewer",
                  ("coop", "cic", "charity", "micro")),
    "fair-work": ("Share of care spend with Living Wage employers and Ethical Care Charter signatories", ("living_wage", "ethical_care")),
}
HIDDEN = Markup('[c]<span class="govuk-visually-hidden"> (kept confidential)</span>')


@dataclass
class Table:
    """A chart with its figures as a table, ready for the chart_with_table macro (the CSV link is added by the view)."""

    key: str
    caption: str
    chart: Markup
    head: list[str]
    rows: list[list]


def plain_pounds(pence: int) -> str:
    """Format pence as a plain decimal number of pounds for a spreadsheet ('-1234.50'), without floats."""
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{part:02d}"


def _percent_axis(value: float) -> str:
    return f"{value:g}%"


def _pounds_axis(value: float) -> str:
    return f"£{value:,.0f}" if value >= 10 or value == 0 else f"£{value:,.2f}"


def _share_points(shares: list[int | None]) -> list[float | None]:
    return [None if tenths is None else tenths / 10 for tenths in shares]


# --- the officer page ------------------------------------------------------------------------------


def month_label(month: date, today: date) -> str:
    """Return a month's name, saying 'so far' for the month not yet over."""
    return so_far(periods.month_name(month), month, today)


def wealth_tables(trend, *, today: date) -> list[Table]:
    """Return the officer page's three share charts, each with a table of shares and the pounds behind them."""
    labels = [periods.short_month(month) for month in trend.months]
    tables = []
    for key, (caption, measures) in SHARE_CHARTS.items():
        series = [(MEASURE_HEADINGS[m], _share_points([trend.share(m, month) for month in trend.months])) for m in measures]
        chart = charts.line_chart(labels, series, title=caption, value_label=_percent_axis, top=100,
                                  description=f"{len(series)} {'line' if len(series) == 1 else 'lines'} of percentages over {len(labels)} months; "
                                              "a month with no spend is a gap. The table below the chart has the figures.")
        rows = [
            [month_label(month, today), pounds(trend.spend[month]),
             *[_share_cell(trend.share(m, month), trend.measures[m][month]) for m in measures]]
            for month in trend.months
        ]
        tables.append(Table(key, caption, chart, ["Month", "Care spend", *[MEASURE_HEADINGS[m] for m in measures]], rows))
    return tables


def _share_cell(tenths: int | None, pence: int | None) -> str:
    if pence is None:
        return HIDDEN
    if tenths is None:
        return "no spend"
    return f"{percent(tenths)} ({pounds(pence)})"


def wealth_csv(trend, chart: str) -> tuple[list[str], list[list[str]]]:
    """Return one chart's figures as CSV rows: each month's care spend, and each measure's pounds and share."""
    _, measures = SHARE_CHARTS[chart]
    head = ["Month", "Care spend (£)"]
    for measure in measures:
        head += [f"{MEASURE_HEADINGS[measure]} (£)", f"{MEASURE_HEADINGS[measure]} (% of care spend)"]
    rows = []
    for month in trend.months:
        row = [periods.month_text(month), plain_pounds(trend.spend[month])]
        for measure in measures:
            tenths = trend.share(measure, month)
            row += [plain_pounds(trend.measures[measure][month]), "" if tenths is None else percent(tenths).replace("−", "-").rstrip("%")]
        rows.append(row)
    return head, rows


def period_summary(trend) -> list[tuple[str, str]]:
    """Return the whole period's care spend and each measure's share of it, as (name, figure) rows."""
    total = trend.total
    rows = [("Care spend", pounds(total))]
    for measure, heading in MEASURE_HEADINGS.items():
        rows.append((heading, _share_cell(share_tenths(trend.measure_total(measure), total), trend.measure_total(measure))))
    return rows


# --- the public report -----------------------------------------------------------------------------


def _shown(pence: int | None) -> str:
    return HIDDEN if pence is None else pounds(pence)


def _points(values: list[int | None]) -> list[float | None]:
    return [None if pence is None else pence / 100 for pence in values]


def kind_heading(kind: str) -> str:
    """Return a kind of provider as a column heading."""
    return PROVIDER_KIND_LABELS.get(kind, "Other or several providers")


def service_heading(service: str) -> str:
    """Return a service as a column heading."""
    return "Other or not recorded" if service == "other" else service_name(service).capitalize()


def public_tables(report) -> list[Table]:
    """Return the public report's tables: money pooled and spent, spend by kind of provider, by service, and the shares."""
    quarters: list[PublicPeriod] = report.periods
    labels = [periods.short_quarter(p.start) for p in quarters]
    names = [periods.quarter_name(p.start) for p in quarters]
    money = charts.line_chart(labels, [("Money pooled", _points([p.pooled.pence for p in quarters])),
                                       ("Spent on care", _points([p.spent.pence for p in quarters]))],
                              title="Money pooled and spent on care, by quarter", value_label=_pounds_axis,
                              description="2 lines of pounds over the quarters; a kept-confidential figure is a gap. The table has the figures.")
    tables = [Table("money", "Money pooled and spent on care, by quarter", money,
                    ["Quarter", "Money pooled", "People pooling", "Spent on care", "People whose care it paid for"],
                    [[name, _shown(p.pooled.pence), _people(p.pooled.people, p.pooled.hidden), _shown(p.spent.pence), _people(p.spent.people, p.spent.hidden)]
                     for name, p in zip(names, quarters)])]
    for key, caption, columns, heading, part in (
        ("kinds", "Care spend by kind of provider, by quarter", report.kinds, kind_heading, lambda p, c: p.kinds[c]),
        ("services", "Care spend by service, by quarter", report.services, service_heading, lambda p, c: p.services[c]),
    ):
        chart = charts.line_chart(labels, [(heading(c), _points([part(p, c).pence for p in quarters])) for c in columns], title=caption,
                                  value_label=_pounds_axis,
                                  description=f"{len(columns)} lines of pounds over the quarters; a kept-confidential figure is a gap. "
                                              "The table has the figures.")
        tables.append(Table(key, caption, chart, ["Quarter", *[heading(c) for c in columns], "All care spend"],
                            [[name, *[_shown(part(p, c).pence) for c in columns], _shown(p.spent.pence)] for name, p in zip(names, quarters)]))
    for key, (caption, measures) in SHARE_CHARTS.items():
        chart = charts.line_chart(labels, [(MEASURE_HEADINGS[m], _share_points([p.share(m) for p in quarters])) for m in measures],
                                  title=f"{caption}, by quarter", value_label=_percent_axis, top=100,
                                  description=f"{len(measures)} {'line' if len(measures) == 1 else 'lines'} of percentages over the quarters; "
                                              "a kept-confidential figure is a gap. The table has the figures.")
        rows = [[name, *[_public_share(p, m) for m in measures]] for name, p in zip(names, quarters)]
        tables.append(Table(f"wealth-{key}", f"{caption}, by quarter", chart, ["Quarter", *[MEASURE_HEADINGS[m] for m in measures]], rows))
    return tables


def _people(people: int | None, hidden: bool) -> str:
    return HIDDEN if hidden else str(people)


def _public_share(period: PublicPeriod, measure: str):
    part = period.measures[measure]
    if part.hidden or period.spent.hidden:
        return HIDDEN
    return _share_cell(period.share(measure), part.pence)


# Each row's quarter: in words, as the page names it, then its first and last day.
QUARTER_HEAD = ["Quarter", "First day", "Last day"]


def public_csv(report, table: str) -> tuple[list[str], list[list[str]]]:
    """Return one public table as CSV rows, with [c] for each figure kept confidential."""
    quarters: list[PublicPeriod] = report.periods

    def money(pence: int | None) -> str:
        return SUPPRESSED if pence is None else plain_pounds(pence)

    if table == "money":
        head = [*QUARTER_HEAD, "Money pooled (£)", "People pooling", "Spent on care (£)", "People whose care it paid for"]
        rows = [[*periods.quarter_columns(p.start), money(p.pooled.pence), SUPPRESSED if p.pooled.hidden else str(p.pooled.people),
                 money(p.spent.pence), SUPPRESSED if p.spent.hidden else str(p.spent.people)] for p in quarters]
    elif table in ("kinds", "services"):
        columns = report.kinds if table == "kinds" else report.services
        heading = kind_heading if table == "kinds" else service_heading
        head = [*QUARTER_HEAD, *[f"{heading(c)} (£)" for c in columns], "All care spend (£)"]
        rows = [[*periods.quarter_columns(p.start), *[money((p.kinds if table == "kinds" else p.services)[c].pence) for c in columns], money(p.spent.pence)]
                for p in quarters]
    else:
        measures = [m for _, ms in SHARE_CHARTS.values() for m in ms]
        head = [*QUARTER_HEAD, "All care spend (£)"]
        for measure in measures:
            head += [f"{MEASURE_HEADINGS[measure]} (£)", f"{MEASURE_HEADINGS[measure]} (% of care spend)"]
        rows = []
        for p in quarters:
            row = [*periods.quarter_columns(p.start), money(p.spent.pence)]
            for measure in measures:
                tenths = p.share(measure)
                hidden = p.measures[measure].hidden or p.spent.hidden
                row += [money(None if hidden else p.measures[measure].pence),
                        SUPPRESSED if hidden else ("" if tenths is None else percent(tenths).replace("−", "-").rstrip("%"))]
            rows.append(row)
    return head, rows
