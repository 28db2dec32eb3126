"""Every page of the demo, as each person reads it: weeks in words, no internal words on holders' pages, counts that agree
with their nouns, and pages that say "you" only to the person they are about (issue 12, plain English).

The pages are found by following links from each person's dashboard (tests/crawling.py), so a new page is checked as
soon as something links to it.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.crawling import crawl
from tests.demo_support import PASSWORD

EVERYONE = ["holder@riverside.example", "rep@riverside.example", "broker@riverside.example", "officer@riverside.example",
            "provider@riverside.example", "admin@carepool.example"]
MEMBERS = ["holder@riverside.example", "rep@riverside.example"]

ISO_WEEK = re.compile(r"\b\d{4}-W\d{2}\b")
# Words of the code, the file format and the ledger that a budget holder would not use.
JARGON = re.compile(
    r"\bdemand\b|\bsuppliers?\b|\bKinds\b|\bby pledge\b|\bclusters?\b|\bslots?\b|\bassignments?\b|\bidempotency\b|\bpostings?\b|"
    r"\bpayable\b|\btenure\b|\bquorum\b|\ballocation\b|\bunmet\b|\bcap\b|\d/h\b",
    re.IGNORECASE,
)
NOUNS = ("hour", "member", "group", "week", "day", "minute", "provider", "contract", "timesheet", "seal", "time", "vote", "request",
         "council", "account", "payment", "transfer", "visit", "row", "problem", "month", "second")
ONE_OF_MANY = re.compile(r"\b1 (?:" + "|".join(f"{n}s" for n in NOUNS) + r"|entries|people)\b|\w\(s\)")
# A number that is not the end of an amount (£139.75) or a code (provider:1:payable), then a noun in the singular.
MANY_OF_ONE = re.compile(r"(?<![\d.,£:])\b(?:0|[2-9]|[1-9][\d,]*\d) (?:" + "|".join(NOUNS) + r"|entry|person)\b(?![-'’:])")
# What a page says about a holder's own things when it speaks to them.
YOURS = re.compile(r"\bYour (?:wallet|money|share|record|information|profile|broker|culture|faith|heritage|vote|place)\b|"
                   r"\bLanguages you speak\b|\bThe care you need\b|\bI agree that carepool\b|\bmoney you have not pledged\b|"
                   r"\bshares your need\b|\bof your weekly budget\b")


def visible_text(html: str) -> str:
    """Return what a person reads on a page: its text, without scripts, styles and machine codes in <code>."""
    html = re.sub(r"<(script|style|head|code)\b.*?</\1>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture()
def app(demo_app):
    """The demo, loaded once per process (tests/demo_support.py), in a rolled-back transaction."""
    return demo_app


@pytest.fixture()
def demo_pages(app):
    """Return a function giving {path: visible text} of every page a demo person reaches."""

    def pages_of(email: str) -> dict[str, str]:
        client = app.test_client()
        assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302

        def fetch(path: str) -> str | None:
            response = client.get(path)
            assert response.status_code in (200, 302, 403, 404), f"{email} {path}: {response.status_code}"
            return response.get_data(as_text=True) if response.status_code == 200 and response.mimetype == "text/html" else None

        return {path: visible_text(html) for path, html in crawl(fetch, per_kind=4 if email in MEMBERS else 2).items()}

    return pages_of


def _found(pattern: re.Pattern, pages: dict[str, str], who: str) -> list[str]:
    return [f"{who} {path}: …{text[max(0, m.start() - 50):m.end() + 30]}…" for path, text in pages.items() for m in pattern.finditer(text)]


def test_no_page_shows_an_iso_week_or_a_count_that_disagrees_with_its_noun(demo_pages):
    weeks, counts, opened = [], [], 0
    for email in EVERYONE:
        pages = demo_pages(email)
        opened += len(pages)
        weeks += _found(ISO_WEEK, pages, email)
        counts += _found(ONE_OF_MANY, pages, email) + _found(MANY_OF_ONE, pages, email)
    assert opened > 150
    assert not weeks, "say 'week of 30 November 2026':\n" + "\n".join(weeks)
    assert not counts, "use the plural filter:\n" + "\n".join(counts)


def test_holders_and_representatives_read_no_internal_words(demo_pages):
    found, opened = [], 0
    for email in MEMBERS:
        pages = demo_pages(email)
        opened += len(pages)
        # The group page, the decisions (a care match explains itself), the money, the care asked for and arranged.
        assert any(path.startswith("/clusters/proposals/") for path in pages) and any(path.endswith("/demand") for path in pages)
        found += _found(JARGON, pages, email)
    assert opened > 30
    assert not found, "use words a holder would use:\n" + "\n".join(found)


def test_pages_about_a_holder_say_you_only_to_them(demo_pages):
    holder = demo_pages("holder@riverside.example")
    statement = next(text for path, text in holder.items() if re.fullmatch(r"/holders/\d+/statement", path))
    assert "Your money" in statement and "Your wallet" in statement
    found, about_holders = [], 0
    for email in ("broker@riverside.example", "officer@riverside.example", "rep@riverside.example"):
        pages = {path: text for path, text in demo_pages(email).items()
                 if re.match(r"/holders/\d+|/ledger/holders/\d+|/clusters/\d+$|/clusters/proposals/\d+|/clusters/find|/clusters/new", path)}
        about_holders += len(pages)
        found += _found(YOURS, pages, email)
    assert about_holders > 10
    assert not found, "name the person the page is about:\n" + "\n".join(found)


def test_counts_go_through_the_plural_helper_not_an_inline_s():
    from pathlib import Path

    from tests.test_words import _messages

    root = Path(__file__).resolve().parent.parent
    inline = re.compile(r"""else\s+['"]s['"]|['"]s['"]\s+if\b|\w\(s\)""")
    found = [f"{path.relative_to(root)}: {m.group(0)!r}" for path in sorted((root / "templates").rglob("*.html"))
             for m in inline.finditer(path.read_text())]
    found += [f"{path.relative_to(root)}:{line}: {text!r}" for path in sorted((root / "brokerage").rglob("*.py"))
              if "migrations" not in path.parts for line, text in _messages(path) if inline.search(text)]
    # f-strings hide their pieces from _messages: look at the source of each module too.
    found += [f"{path.relative_to(root)}: {m.group(0)!r}" for path in sorted((root / "brokerage").rglob("*.py"))
              for m in re.finditer(r"""\{[^{}]*['"]s['"][^{}]*\}""", path.read_text())]
    assert not found, "use formatting.plural (the plural filter):\n" + "\n".join(found)

