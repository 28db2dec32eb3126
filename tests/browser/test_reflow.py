"""Reflow at 320 CSS px (WCAG 2.2 1.4.10): no page scrolls sideways as a whole.

On a narrow screen a data table's rows stack, each cell labelled with its
column's heading; a table still too wide on a wider screen scrolls sideways
inside its own labelled region, which a keyboard can reach. Everything else
wraps to the width of the screen. Besides the pages listed here, every page
each demo person reaches from their dashboard is checked (tests/crawling.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations, load_axe_on_every_page
from tests.crawling import crawl, kind_of

pytestmark = pytest.mark.browser

WIDTH = 320

# Every page with a table (or a chart) that each role can reach in the demo data.
PAGES = {
    "admin@carepool.example": ["/dashboard", "/admin/users", "/admin/users?role=broker", ("/admin/users", r"/admin/users/\d+"), "/admin/councils",
                               "/admin/invitations", "/admin/outbox/", ("/admin/outbox/", r"/admin/outbox/\d+")],
    "broker@riverside.example": [
        "/dashboard",
        "/matching/",
        "/matching/runs/1",
        "/matching/gaps",
        "/providers/",
        "/providers/4",
        "/providers/applications",
        "/ledger/",
        "/ledger/?account=Amina",
        "/ledger/entries/1",
        "/ledger/entries/1/proof",
        "/ledger/seals",
        "/ledger/accounts",
        "/ledger/accounts?type=pool",
        "/ledger/holders/1",
        "/clusters/",
        "/clusters/1",
        "/clusters/2",
        "/clusters/find?within_km=50&near=E1+6AN",
        "/clusters/find?district=E1",
        "/clusters/new",
        "/holders/",
        "/holders/new",
        "/holders/1",
        "/providers/new",
        "/providers/4/edit",
        "/contracts/1",
        "/timesheets/waiting",
        "/timesheets/1",
        "/payments/runs",
        "/payments/runs/1",
        "/payments/lines/1",
        "/top-ups",
        "/community-wealth", "/compliance",
        "/invitations/",
    ],
    "officer@riverside.example": [
        "/dashboard", "/audit/access-log", "/audit/access-log?person=Amina", "/ledger/", "/ledger/seals", "/holders/", "/matching/", "/providers/4", "/clusters/1",
        "/payments/runs/2", "/payments/reconcile", "/contracts/1",
        "/spending/", "/spending/groups", "/spending/members", "/spending/providers", "/spending/services", "/spending/kinds-of-provider",
        "/community-wealth", "/community-wealth?start=2024-01", "/community-wealth/settings",
        "/surplus", "/surplus/settings", "/compliance", "/audit-pack",
    ],
    "holder@riverside.example": ["/dashboard", "/clusters/proposals/1", "/ledger/holders/1", "/clusters/1", "/clusters/find?within_km=50", "/holders/1/top-up",
                                 "/holders/1/record-views", "/holders/1", "/holders/1/representatives/invite", "/forgotten-password"],
    # The group's demand form, as Hodan's representative (the holder journey before this has Amina give notice).
    "rep@riverside.example": ["/dashboard", "/clusters/proposals/1", "/ledger/holders/1", "/holders/1/record-views", "/matching/clusters/1/demand"],
    # The personal assistant's own contract, timesheet and payment: their ids are decided by the story's months of
    # other providers' care, so each is the first link of its kind on the page that lists them.
    "provider@riverside.example": [
        "/dashboard", "/providers/9", "/timesheets/", ("/timesheets/", r"/timesheets/\d+"), ("/dashboard", r"/contracts/\d+"), "/payments/mine",
        ("/payments/mine", r"/payments/lines/\d+"),
    ],
}

FIRST_LINK = "pattern => [...document.querySelectorAll('main a')].map(a => a.getAttribute('href')).find(h => new RegExp(`^${pattern}$`).test(h))"


def _path(page, base_url: str, path: str | tuple[str, str]) -> str:
    """Return a page's path: a (listing, pattern) pair is the first link on the listing whose path matches the pattern."""
    if isinstance(path, str):
        return path
    listing, pattern = path
    page.goto(f"{base_url}{listing}")
    found = page.evaluate(FIRST_LINK, pattern)
    assert found, f"no link like {pattern} on {listing}"
    return found

# For each table: is it inside a named region, and can a keyboard reach it when it scrolls?
TABLE_PROBLEMS = """() => Array.from(document.querySelectorAll('table')).flatMap((table, i) => {
  const region = table.closest('.app-table-scroll');
  if (!region) return [`table ${i + 1} is not in a scroll region`];
  const problems = [];
  const label = document.getElementById(region.getAttribute('aria-labelledby') || '');
  if (region.getAttribute('role') !== 'region' || !label || !label.textContent.trim()) problems.push(`table ${i + 1}: region has no name`);
  if (region.children.length !== 1 || label !== table.caption) problems.push(`table ${i + 1}: region is not named by its table's caption`);
  if (region.scrollWidth > region.clientWidth && region.tabIndex !== 0) problems.push(`table ${i + 1}: scrolls but cannot be focused`);
  return problems;
})"""

# A line or column chart keeps its axis text readable on a phone (about 6 px high when the chart was scaled to fit):
# its region scrolls sideways instead, and a keyboard can reach it.
SMALL_CHART_TEXT = """() => [...document.querySelectorAll('svg.app-svg-chart')].flatMap((svg, i) => {
  if (!svg.querySelector('line, polyline') || svg.closest('.app-chart')) return [];
  const region = svg.closest('.app-chart-scroll');
  if (!region) return [`chart ${i + 1} is not in a scroll region`];
  if (region.tabIndex !== 0 || !region.getAttribute('aria-label')) return [`chart ${i + 1}: its region cannot be focused or has no name`];
  const small = [...svg.querySelectorAll('text')].filter(t => t.getBoundingClientRect().height < 11).length;
  return small ? [`chart ${i + 1}: ${small} labels smaller than 11 px`] : [];
})"""

DUPLICATE_IDS = "() => [...document.querySelectorAll('[id]')].map(e => e.id).filter((id, i, ids) => ids.indexOf(id) !== i)"

# At a narrow width a table with a heading row stacks: its rows (a total row in its foot too) are blocks, its headings
# are not shown, and each labelled cell shows its heading before its value.
UNSTACKED = """() => Array.from(document.querySelectorAll('table')).flatMap((table, i) => {
  if (!table.tHead) return [];
  const problems = [];
  if (getComputedStyle(table.tHead).display !== 'none') problems.push(`table ${i + 1}: its heading row is still shown`);
  for (const row of [...(table.tBodies[0] ? table.tBodies[0].rows : []), ...(table.tFoot ? table.tFoot.rows : [])]) {
    if (getComputedStyle(row).display !== 'block') { problems.push(`table ${i + 1}: its rows do not stack`); break; }
    const cell = row.querySelector('[data-label]');
    if (cell && !getComputedStyle(cell, '::before').content.includes(cell.dataset.label)) {
      problems.push(`table ${i + 1}: a cell does not show its heading`); break;
    }
  }
  return problems;
})"""


def _open_at_320(browser, live_server, email):
    context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    load_axe_on_every_page(context)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.wait_for_url(f"{live_server}/dashboard")
    return context, page


# Each person's pages, found from their dashboard: (email, at least this many kinds of page, kinds that must be among them).
# The browser tests share one demo, and the journeys before this one change it (a holder gives notice, say), so the
# counts leave room; the kinds named are there whatever ran first.
JOURNEYS = {
    "holder@riverside.example": (12, {"/clusters/N", "/clusters/proposals/N", "/holders/N/statement", "/holders/N/profile", "/holders/N/top-up"}),
    "rep@riverside.example": (12, {"/clusters/N", "/clusters/proposals/N", "/holders/N/statement", "/holders/N/profile", "/holders/N/top-up"}),
    "broker@riverside.example": (45, {"/matching/", "/matching/demand/N/edit", "/matching/runs/N", "/matching/assignments/N/times", "/matching/gaps", "/providers/N/edit",
                                      "/holders/N", "/ledger/entries/N", "/timesheets/N", "/payments/runs/N", "/clusters/new", "/providers/new"}),
    "officer@riverside.example": (40, {"/audit/access-log", "/surplus", "/spending/members?from_month&from_year&to_month&to_year", "/audit-pack"}),
    "provider@riverside.example": (8, {"/timesheets/", "/timesheets/N", "/payments/mine", "/providers/N/edit"}),
    "admin@carepool.example": (3, {"/admin/users", "/admin/councils"}),
}


@pytest.mark.long
@pytest.mark.parametrize("email", list(JOURNEYS))
def test_every_page_a_person_reaches_and_every_listed_page_fits_320_px_with_stacked_tables(browser, live_server, email):
    least, must = JOURNEYS[email]
    context, page = _open_at_320(browser, live_server, email)
    problems = []

    def fetch(path: str) -> str | None:
        response = page.goto(f"{live_server}{path}")
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            return None
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            problems.append(f"{path} is {width} px wide")
        problems.extend(f"{path}: {p}" for p in page.evaluate(TABLE_PROBLEMS) + page.evaluate(UNSTACKED) + page.evaluate(SMALL_CHART_TEXT))
        problems.extend(f"{path}: id {i} is used twice" for i in page.evaluate(DUPLICATE_IDS))
        problems.extend(f"{path}: {v}" for v in axe_violations(page))
        return page.content()

    try:
        reached = crawl(fetch, per_kind=2 if email in ("holder@riverside.example", "rep@riverside.example") else 1)
        kinds = {kind_of(path) for path in reached}
        # The pages with tables or charts listed above, where the crawl did not happen to open that very page.
        for listed in PAGES[email]:
            path = _path(page, live_server, listed)
            if path not in reached and fetch(path) is None:
                problems.append(f"{path} did not answer 200 with a page")
    finally:
        context.close()
    assert len(kinds) >= least and must <= kinds, sorted(kinds)
    assert problems == []


def test_an_account_is_found_and_its_buttons_fit_the_screen_at_320_px(browser, live_server):
    context, page = _open_at_320(browser, live_server, "admin@carepool.example")
    try:
        page.goto(f"{live_server}/admin/users")
        # The list changes nothing: no password box or button on any row.
        expect(page.locator("table")).not_to_have_count(0)  # the list itself, so what it lacks is read from it
        expect(page.locator("table").get_by_role("button")).to_have_count(0)
        page.get_by_label("Name or email address").fill("bola")
        click_and_wait(page.get_by_role("button", name="Find accounts"))
        expect(page).to_have_url(re.compile("q=bola"))
        click_and_wait(page.get_by_role("link", name="Bola Broker"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Bola Broker's account")
        for name in ("Reset the password", "Deactivate the account", "Change the role"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= WIDTH, name
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_table_that_fits_is_not_an_extra_tab_stop(browser, live_server):
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, live_server, "holder@riverside.example")
        page.wait_for_url(f"{live_server}/dashboard")
        region = page.get_by_role("region", name="Groups you belong to")
        region.wait_for()
        # app.js drops the tab stop once it has measured the table.
        page.wait_for_function("r => !r.hasAttribute('tabindex')", arg=region.element_handle(), timeout=5000)
        page.goto(f"{live_server}/ledger/holders/1")
        page.set_viewport_size({"width": WIDTH, "height": 800})
        tab_stops_match = "() => [...document.querySelectorAll('.app-table-scroll')].every(r => (r.scrollWidth > r.clientWidth) === (r.tabIndex === 0))"
        page.wait_for_function(tab_stops_match, timeout=5000)
    finally:
        context.close()
