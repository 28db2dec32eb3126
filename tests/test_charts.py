"""Server-drawn charts: named for screen readers, escaped, and drawn to scale."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import escape

from brokerage import charts


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def test_a_bar_chart_is_one_named_picture_with_bars_to_scale():
    svg = charts.bar_chart([("Co-ops", 30_000), ("Charities", 15_000)], title="Spend by kind", value_label=pounds)
    assert svg.startswith('<svg class="app-svg-chart"') and 'role="img"' in svg
    assert "<title" in svg and "Spend by kind" in svg
    widths = [int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', svg)]
    assert widths[0] == 2 * widths[1]
    assert "£300" in svg and "£150" in svg


def test_labels_are_escaped_and_long_ones_shortened():
    svg = charts.bar_chart([("<script>alert(1)</script> and a very long provider name indeed, and longer", 1)], title="<b>", value_label=str)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg
    assert "…" in svg


def test_a_bar_label_is_whole_and_starts_at_the_left_edge_above_its_bar():
    # Beside the bars, "Amina Hassan's share of Somali elders of Whitechapel" was cut to "…share of Somal…", and on a
    # phone its start fell off the left edge ("mina Hassan's…").
    name = "Amina Hassan's share of Somali elders of Whitechapel"
    svg = charts.bar_chart([(name, 100), ("Bo", 50)], title="Shares", value_label=str)
    assert f'<text x="0" y="' in svg and escape(name) in svg and "text-anchor=\"end\"" not in svg
    label_y, bar_y = int(re.search(r'<text x="0" y="(\d+)"', svg).group(1)), int(re.search(r'<rect x="0" y="(\d+)"', svg).group(1))
    assert label_y <= bar_y


def test_an_empty_chart_says_so():
    assert "Nothing to show" in charts.bar_chart([], title="Spend", value_label=str)


def test_a_line_chart_breaks_at_missing_months_and_tells_lines_apart_without_colour():
    svg = charts.line_chart(["Jan", "Feb", "Mar", "Apr"], [("Local", [10, None, 30, 40]), ("Co-ops", [5, 6, 7, 8])],
                            title="Shares", value_label=lambda v: f"{v:.0f}%", top=100)
    assert svg.count("<polyline") == 2  # Local's gap leaves only Mar–Apr as a line; Co-ops is one line
    dashes = set(re.findall(r'stroke-dasharray="([^"]*)"', svg))
    assert len(dashes) == 2
    assert "100%" in svg and "Local" in svg


def test_a_column_chart_scales_to_a_round_axis():
    svg = charts.column_chart(["Jul", "Aug"], [700, 0], title="Monthly", value_label=str)
    assert ">1000<" in svg
    assert charts.nice_ceiling(0) == 1 and charts.nice_ceiling(7) == 10 and charts.nice_ceiling(210) == 250 and charts.nice_ceiling(2000) == 2000


def test_the_axis_names_the_last_month_and_every_few_before_it_evenly():
    # Counted from the first, twelve months read Jan, Mar, May, Jul, Sep, Dec: the last gap was uneven (tester R6-10).
    shown = [i for i in range(12) if charts.shows_label(i, 12, 2)]
    assert shown == [1, 3, 5, 7, 9, 11]
    assert [i for i in range(5) if charts.shows_label(i, 5, 1)] == [0, 1, 2, 3, 4]
    assert [i for i in range(13) if charts.shows_label(i, 13, 2)] == [0, 2, 4, 6, 8, 10, 12]


def test_a_chart_of_nothing_names_its_gridlines_once_and_counts_its_lines_in_words():
    # All zeros read "£0 £0 £0 £0 £0" up the axis; one line was "1 lines" (tester R6-10).
    pounds = lambda value: f"£{value / 100:,.0f}"  # noqa: E731
    for svg in (charts.line_chart(["Jan", "Feb"], [("Spent", [0, 0])], title="Spent", value_label=pounds),
                charts.column_chart(["Jan", "Feb"], [0, 0], title="Spent", value_label=pounds)):
        assert svg.count(">£0<") == 1
    assert "1 line over 2 months;" in charts.line_chart(["Jan", "Feb"], [("Spent", [1.0, 2.0])], title="Spent", value_label=str)
    assert charts.tick_labels([0, 250, 500, 750, 1000], str) == ["0", "250", "500", "750", "1000"]


def test_line_and_column_charts_scroll_sideways_in_a_named_region_rather_than_shrink_their_text():
    # Scaled to a 320 px screen their 13-unit axis text was about 6 px high.
    line = charts.line_chart(["Jan", "Feb"], [("Spent", [1.0, 2.0])], title="Spent <by month>", value_label=str)
    column = charts.column_chart(["Jan", "Feb"], [1, 2], title="People", value_label=str)
    for svg, name in ((line, "Spent &lt;by month&gt; (chart)"), (column, "People (chart)")):
        assert svg.startswith(f'<div class="app-chart-scroll" role="region" tabindex="0" aria-label="{name}"><svg class="app-svg-chart"')
        assert svg.endswith("</svg></div>")
    assert charts.bar_chart([("Co-ops", 1)], title="Spend", value_label=str).startswith('<svg class="app-svg-chart"')
    css = (Path(__file__).parents[1] / "brokerage" / "static" / "app.css").read_text()
    assert re.search(r"\.app-chart-scroll \.app-svg-chart \{ min-width: 600px;", css)


def test_the_spend_chart_of_one_provider_is_titled_by_what_it_draws():
    # Filtered to one provider nothing is pooled in: the chart was headed "Pooled in and spent" over one "Spent"
    # line, said to be "1 lines" (tester R6-10).
    from datetime import date
    from types import SimpleNamespace

    from brokerage.spending.drawing import month_chart

    rows = [SimpleNamespace(key=date(2026, month, 1), figures=SimpleNamespace(spent_pence=100 * month, pooled_in_pence=0)) for month in (1, 2)]
    period = SimpleNamespace(label="January to February 2026")
    one = month_chart(SimpleNamespace(rows=rows, has_pooling=False, period=period))
    assert "Spent each month, January to February 2026" in one and "Pooled in" not in one and "1 line over 2 months;" in one
    both = month_chart(SimpleNamespace(rows=rows, has_pooling=True, period=period))
    assert "Pooled in and spent each month" in both and "2 lines over 2 months;" in both
