"""Pure rules of mail: a message, and the links in a plain-text body."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A web address in a plain-text body, up to the first space or angle bracket; a full stop or comma that
# ends the sentence is not part of it.
_LINK = re.compile(r"https?://[^\s<>\"']+", re.ASCII)
_TRAILING = ".,;:!?)"


@dataclass(frozen=True)
class Message:
    """An email to one person: plain text, in plain English."""

    to: str
    subject: str
    body: str


def split_links(text: str) -> list[tuple[str, bool]]:
    """Split plain text into (piece, is_link) pairs, in order, so a page can show each web address as a link."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        start, end = match.start(), match.start() + len(link)
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((link, True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def one_line(text: str, *, limit: int = 200) -> str:
    """Return text as a single line no longer than the limit: a subject line cannot hold a line break."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
