"""Charts drawn on the server as SVG: no script, no CDN, and they scale down to a phone's width.

Each function returns safe markup for a template. A chart is one picture with a title and a short
description for screen readers (`role="img"`); the page always puts the same figures in a table
below it, and offers them as CSV. Colours are GOV.UK Frontend's, and lines also differ by dash and
marker, so no series is told apart by colour alone.
"""

from __future__ import annotations

from typing import Callable, Sequence
from uuid import uuid4

from markupsafe import Markup, escape

from brokerage.formatting import plural

COLOURS = ("#1d70b8", "#00703c", "#d4351c", "#4c2c92", "#f47738", "#28a197", "#d53880", "#505a5f")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 2", "12 2", "6 2 2 2")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square", "diamond", "triangle")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"'


def nice_ceiling(value: float) -> float:
    """Return a round number at or above `value` for an axis top (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def shows_label(index: int, count: int, every: int) -> bool:
    """Tell whether the axis names label `index` of `count`: the last and every `every`th before it, evenly spaced.

    Counted back from the last (the newest month), so the gaps are all the same: counted from the first, twelve months
    read Jan, Mar, May, Jul, Sep, Dec, and November's point looked like December's (tester R6-10).
    """
    return (count - 1 - index) % every == 0


def tick_labels(values: Sequence[float], value_label: Callable) -> list[str]:
    """Return each gridline's label, bottom up, leaving out one that repeats the one below (a chart of nothing read "£0" five times)."""
    said: list[str] = []
    for value in values:
        text = value_label(value)
        said.append("" if text in said else text)
    return said


def _open(width: int, height: int, title: str, description: str, *, scrolls: bool = False) -> tuple[str, str]:
    """Return the SVG's opening (title and description for screen readers) and closing.

    `scrolls`: the chart keeps a smallest width (`.app-chart-scroll` in app.css) inside a region that scrolls sideways
    on a narrow screen. A line or column chart scaled down to a phone's width had axis text about 6 px high; its
    figures are in the table below it either way.
    """
    ident = f"chart-{uuid4().hex[:8]}"
    head = (
        f'<svg class="app-svg-chart" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" focusable="false" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
    )
    if not scrolls:
        return head, "</svg>"
    region = f'<div class="app-chart-scroll" role="region" tabindex="0" aria-label="{escape(title)} (chart)">'
    return region + head, "</svg></div>"


def bar_chart(rows: Sequence[tuple[str, int]], *, title: str, value_label: Callable[[int], str], description: str = "") -> Markup:
    """Draw horizontal bars, one per (label, value), largest first as given; values are whole numbers (pence, people)."""
    rows = list(rows)
    # Each label sits on its own line above its bar, from the left edge: beside the bars a long label was cut short,
    # and on a phone, where the picture scales down, its start fell off the left edge. The text is large for the same
    # reason (18 of 640 units is about 9 px on a 320 px screen).
    width, label_height, bar_height, gap, font = 640, 22, 22, 14, 18
    row_height = label_height + bar_height + gap
    height = max(1, len(rows)) * row_height + gap
    head, tail = _open(width, height, title, description or f"{len(rows)} bars; the table below the chart has the figures.")
    parts = [head]
    top = max([value for _, value in rows] + [0])
    scale = nice_ceiling(top)
    room = width - 150  # the rest holds the value after the longest bar
    for index, (label, value) in enumerate(rows):
        y = gap + index * row_height
        bar_y = y + label_height
        length = 0 if value <= 0 else max(2, round(room * value / scale))
        short = label if len(label) <= 62 else label[:61] + "…"
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="{font}" fill="#0b0c0c">{escape(short)}</text>'
            f'<rect x="0" y="{bar_y}" width="{length}" height="{bar_height}" fill="{COLOURS[0]}"></rect>'
            f'<text x="{length + 6}" y="{bar_y + 17}" font-size="{font}" fill="#0b0c0c">{escape(value_label(value))}</text>'
        )
    if not rows:
        parts.append('<text x="10" y="20" font-size="14" fill="#505a5f">Nothing to show for this period.</text>')
    parts.append(tail)
    return Markup("".join(parts))


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"></rect>'
    if shape == "diamond":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}" fill="{colour}"></polygon>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}" fill="{colour}"></polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"></circle>'


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
    value_label: Callable[[float], str], top: float | None = None, description: str = "",
) -> Markup:
    """Draw one line per (name, values) over the labels (months); None leaves a gap. `top` fixes the axis (100 for shares)."""
    width, height, left, right, upper, lower = 640, 300, 70, 20, 20, 60
    legend_height = 22 * len(series)
    head, tail = _open(width, height + legend_height, title, description or f"{plural(len(series), 'line')} over {plural(len(labels), 'month')}; the table below the chart has the figures.",
                       scrolls=True)
    values = [v for _, vs in series for v in vs if v is not None]
    axis_top = top if top is not None else nice_ceiling(max(values + [0]))
    plot_w, plot_h = width - left - right, height - upper - lower
    step = plot_w / max(1, len(labels) - 1)
    parts = [head]
    for tick, text in enumerate(tick_labels([axis_top * tick / 4 for tick in range(5)], value_label)):
        y = upper + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b1b4b6" stroke-width="1"></line>')
        if text:
            parts.append(f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="13" fill="#0b0c0c">{escape(text)}</text>')
    every = max(1, -(-len(labels) // 8))
    for index, label in enumerate(labels):
        if shows_label(index, len(labels), every):
            x = left + step * index if len(labels) > 1 else left + plot_w / 2
            # The last label ends at its point, so it is never cut off at the chart's right edge.
            anchor = "end" if index == len(labels) - 1 and len(labels) > 1 else "middle"
            parts.append(f'<text x="{x:.1f}" y="{height - lower + 20}" text-anchor="{anchor}" font-size="13" fill="#0b0c0c">{escape(label)}</text>')
    for number, (name, points) in enumerate(series):
        colour, dash, shape = COLOURS[number % 8], DASHES[number % 8], MARKERS[number % 8]
        segment: list[str] = []
        dots = []
        for index, value in enumerate(points):
            x = left + step * index if len(labels) > 1 else left + plot_w / 2
            if value is None:
                if len(segment) > 1:
                    parts.append(_path(segment, colour, dash))
                segment = []
                continue
            y = upper + plot_h - plot_h * min(value, axis_top) / axis_top
            segment.append(f"{x:.1f},{y:.1f}")
            dots.append(_marker(shape, x, y, colour))
        if len(segment) > 1:
            parts.append(_path(segment, colour, dash))
        parts.extend(dots)
        legend_y = height + 22 * number
        parts.append(f'<line x1="{left}" x2="{left + 30}" y1="{legend_y - 5}" y2="{legend_y - 5}" stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"></line>')
        parts.append(_marker(shape, left + 15, legend_y - 5, colour))
        parts.append(f'<text x="{left + 40}" y="{legend_y}" font-size="14" fill="#0b0c0c">{escape(name)}</text>')
    parts.append(tail)
    return Markup("".join(parts))


def _path(points: list[str], colour: str, dash: str) -> str:
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"></polyline>'


def column_chart(labels: Sequence[str], values: Sequence[int], *, title: str, value_label: Callable[[int], str], description: str = "") -> Markup:
    """Draw one column per label (a month's total, say); values are whole numbers and may be zero."""
    width, height, left, lower, upper = 640, 280, 80, 50, 20
    head, tail = _open(width, height, title, description or f"{len(values)} columns; the table below the chart has the figures.", scrolls=True)
    axis_top = nice_ceiling(max(list(values) + [0]))
    plot_w, plot_h = width - left - 10, height - upper - lower
    slot = plot_w / max(1, len(values))
    parts = [head]
    for tick, text in enumerate(tick_labels([round(axis_top * tick / 4) for tick in range(5)], value_label)):
        y = upper + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b1b4b6" stroke-width="1"></line>')
        if text:
            parts.append(f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="13" fill="#0b0c0c">{escape(text)}</text>')
    every = max(1, -(-len(labels) // 8))
    for index, (label, value) in enumerate(zip(labels, values)):
        bar = max(0.0, plot_h * value / axis_top)
        x = left + slot * index + slot * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{upper + plot_h - bar:.1f}" width="{slot * 0.7:.1f}" height="{bar:.1f}" fill="{COLOURS[0]}"></rect>')
        if shows_label(index, len(labels), every):
            parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - lower + 20}" text-anchor="middle" font-size="13" fill="#0b0c0c">{escape(label)}</text>')
    parts.append(tail)
    return Markup("".join(parts))
