"""Tables for narrow screens: each body cell is given its column's heading as data-label (the `label_cells` filter).

A bottom-layer module, like `brokerage.formatting` (which registers the filter): no Flask, no SQL.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_THEAD = re.compile(r"<thead\b.*?</thead>", re.DOTALL | re.IGNORECASE)
# A heading row's cells: an empty corner cell may be a td, and it still takes its column's place.
_HEADER_CELL = re.compile(r"<t[hd]\b([^>]*)>(.*?)</t[hd]>", re.DOTALL | re.IGNORECASE)
_TFOOT = re.compile(r"<tfoot\b", re.IGNORECASE)
_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL | re.IGNORECASE)
_CELL_OPENING = re.compile(r"<t([dh])(?=[\s>])([^>]*)>", re.IGNORECASE)
_COLSPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_HIDDEN = re.compile(r"""<span\b[^>]*\bclass=["'][^"']*\bgovuk-visually-hidden\b[^"']*["'][^>]*>.*?</span>""", re.DOTALL | re.IGNORECASE)


def _span(attributes: str) -> int:
    found = _COLSPAN.search(attributes)
    return max(1, int(found.group(1))) if found else 1


def label_table_cells(html: str) -> Markup:
    """Give each body cell of a table the text of its column's heading as data-label, for narrow screens.

    There the rows stack (static/app.css) and each cell shows its heading before its value. A column
    whose heading is visually hidden (buttons and links, an "Action" column) gets no label. A cell
    that spans every column (a "nothing yet" row) is a message and gets no label, and so does a
    row heading in the table's foot ("Total": it names its row, it is not a value of its column). A
    table without a heading row is returned as it was.
    """
    html = str(html)  # already safe HTML: plain str, so joining its pieces escapes nothing
    thead = _THEAD.search(html)
    if not thead:
        return Markup(html)
    labels: list[str] = []
    for attributes, inner in _HEADER_CELL.findall(thead.group(0)):
        # A heading only screen readers hear names a column of buttons and links (an "Action" column): they say
        # what they do, so on a phone its cells show no "Action:" label, as at desktop width they show no heading.
        shown = " ".join(_TAGS.sub(" ", _HIDDEN.sub(" ", inner)).split())
        text = " ".join(_TAGS.sub(" ", inner).split()) if shown else ""
        labels.extend([Markup(text).unescape()] * _span(attributes))

    def label_row(row: re.Match, in_foot: bool = False) -> str:
        column = 0

        def label_cell(cell: re.Match) -> str:
            nonlocal column
            kind, attributes = cell.groups()
            span = _span(attributes)
            label = labels[column] if span < len(labels) and column < len(labels) else ""
            column += span
            if not label or "data-label" in attributes or (in_foot and kind.lower() == "h"):
                return cell.group(0)
            return f'<t{kind}{attributes} data-label="{escape(label)}">'

        return _CELL_OPENING.sub(label_cell, row.group(0))

    head, rest = html[: thead.end()], html[thead.end():]
    foot = _TFOOT.search(rest)
    body, foot_and_after = (rest[: foot.start()], rest[foot.start():]) if foot else (rest, "")
    return Markup(head + _ROW.sub(label_row, body) + _ROW.sub(lambda row: label_row(row, in_foot=True), foot_and_after))


class Paging:
    """Where one page of a long list stands, for a dataclass with `total`, `page` and `per_page` (the pages' numbers, 1 first)."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return the number of pages (1 when nothing was found)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """Return the position of the first row on this page (0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        """Return the position of the last row on this page."""
        return min(self.total, self.page * self.per_page)
