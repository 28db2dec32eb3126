"""Walk every page a signed-in person can reach by following links from their dashboard.

Used by the plain-words checks (with the test client) and the reflow checks (in Chromium). Pages of
the same kind (the same path with other ids or query values) are opened at most `per_kind` times, so a
ledger of thousands of entries is a handful of pages, and every kind of page is still reached.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from html import unescape
from urllib.parse import urljoin, urlsplit

LINK = re.compile(r"<a\b([^>]*)>", re.IGNORECASE)
HREF = re.compile(r'\bhref="([^"#]*)', re.IGNORECASE)
DOWNLOAD = re.compile(r"\sdownload(?:[\s=>]|$)", re.IGNORECASE)
# Downloads, the sign-out button's target and static files are not pages to read.
NOT_PAGES = re.compile(r"\.(?:csv|json|zip)$|/download$|^/static/|^/sign-out$|^/stripe/")


def kind_of(path: str) -> str:
    """Return what kind of page a path is: its path with every number as N, and the names of its query values."""
    parts = urlsplit(path)
    names = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(names) if names else "")


def links_of(html: str, here: str) -> list[str]:
    """Return the local page paths (with their queries) that a page links to."""
    found = []
    for attributes in LINK.findall(html):
        href = HREF.search(attributes)
        if href is None or DOWNLOAD.search(attributes):
            continue
        url = urlsplit(urljoin("http://site" + here, unescape(href.group(1))))
        if url.netloc != "site" or NOT_PAGES.search(url.path) or "format=" in url.query:
            continue
        found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def crawl(fetch: Callable[[str], str | None], start: str = "/dashboard", *, per_kind: int = 2, limit: int = 400) -> dict[str, str]:
    """Return {path: html} of every page reachable from `start`; `fetch(path)` returns a page's HTML, or None for no page."""
    pages: dict[str, str] = {}
    seen, queue, kinds = {start}, deque([start]), Counter()
    while queue and len(pages) < limit:
        path = queue.popleft()
        kinds[kind_of(path)] += 1
        if kinds[kind_of(path)] > per_kind:
            continue
        html = fetch(path)
        if html is None:
            continue
        pages[path] = html
        for link in links_of(html, path):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return pages
