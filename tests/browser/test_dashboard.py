"""A broker signs in and sees an accessible dashboard, in a real browser."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in

pytestmark = pytest.mark.browser

# What Playwright says when a script runs while the page's document is being replaced: axe found no document yet,
# the old document's context went away mid-run, or axe was put into the old document and run in the new one.
NAVIGATING = (
    "reading 'documentElement'",
    "Execution context was destroyed",
    "Cannot find context with specified id",
    "axe is not defined",
)


def axe_violations(page, attempts: int = 3) -> list[str]:
    """Run axe-core on the loaded page and describe each violation.

    axe runs once the page has loaded. If a navigation still replaces the document under it, axe is run again on
    the new page, at most `attempts` times in all; any other error, and every violation found, is reported as is.
    A page whose context loads axe on every document (`load_axe_on_every_page`) is not sent its 570 kB again.
    """
    from axe_playwright_python.base import AXE_SCRIPT
    from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS
    from playwright.sync_api import Error

    for attempt in range(1, attempts + 1):
        page.wait_for_load_state("load")
        try:
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.evaluate(AXE_SCRIPT)
            violations = page.evaluate("options => axe.run(document, options).then(results => results.violations)", DEFAULT_OPTIONS)
            break
        except Error as error:
            if attempt == attempts or not any(sign in error.message for sign in NAVIGATING):
                raise
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in violations]


def load_axe_on_every_page(context) -> None:
    """Have every document this browser context loads run axe-core's script first, for contexts that check every page."""
    from axe_playwright_python.base import AXE_FILE_PATH

    context.add_init_script(path=str(AXE_FILE_PATH))


@pytest.mark.parametrize("preloaded", [False, True], ids=["sent", "preloaded"])
def test_axe_finds_a_violation_whether_it_is_sent_or_preloaded(browser, preloaded):
    context = browser.new_context(locale="en-GB")
    if preloaded:
        load_axe_on_every_page(context)
    page = context.new_page()
    try:
        page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>')
        assert page.evaluate("typeof axe !== 'undefined'") is preloaded
        assert any(v.startswith("image-alt:") for v in axe_violations(page))
    finally:
        context.close()


def test_a_broker_signs_in_and_sees_the_dashboard_with_no_accessibility_violations(page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Broker dashboard")
    expect(page.get_by_text("Riverside Borough Council (demo)").first).to_be_visible()
    expect(page.get_by_text("Forming groups that need members")).to_be_visible()
    # The GOV.UK Frontend script ran under our CSP (no inline scripts allowed).
    expect(page.locator("body")).to_have_class(re.compile(r"(^|\s)govuk-frontend-supported(\s|$)"))
    assert axe_violations(page) == []


def test_the_sign_in_page_and_its_errors_are_accessible(page, live_server):
    page.goto(f"{live_server}/sign-in")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_text("Enter your email address").first).to_be_visible()
    assert axe_violations(page) == []


def test_a_wrong_password_is_explained_and_the_focus_can_reach_the_field(page, live_server):
    sign_in(page, live_server, "broker@riverside.example", "not the right password")
    expect(page.get_by_text("The email address or password is not right.").first).to_be_visible()
    # The error summary's link moves the focus to the field itself (GOV.UK Frontend's script), without a new page.
    page.get_by_role("link", name="The email address or password is not right.").click()
    expect(page.locator("#email")).to_be_focused()


@pytest.mark.parametrize(
    "email,heading",
    [
        ("holder@riverside.example", "Hello, Amina Hassan"),
        ("rep@riverside.example", "People you act for"),
        ("officer@riverside.example", "Council audit dashboard"),
        ("provider@riverside.example", "Nasima Khatun (PA)"),
        ("admin@carepool.example", "Administration"),
    ],
)
def test_every_role_dashboard_is_accessible(page, live_server, email, heading):
    sign_in(page, live_server, email)
    page.wait_for_url(f"{live_server}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert axe_violations(page) == []


def test_the_ledger_pages_are_accessible(page, live_server):
    sign_in(page, live_server, "officer@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Ledger", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ledger")
    # Other browser tests share this server and may have posted entries since the demo's last seal (tests run in
    # random order), so the status is either tag, never neither.
    sealed_row = page.locator(".govuk-summary-list__row", has_text="Sealed").first
    expect(sealed_row).to_have_text(re.compile(r"All sealed|\d+ waiting for the next seal"), use_inner_text=True)
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name="Seals and checks"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Seals and checks")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("button", name="Check the whole ledger now"))
    expect(page.get_by_text("The ledger checks out")).to_be_visible()
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name="journal"))
    # The demo sealed everything it posted; entries made a fortnight ago and before are its own, whatever ran first.
    page.fill("#filter-end", (date.today() - timedelta(days=14)).isoformat())
    click_and_wait(page.get_by_role("button", name="Filter entries"))
    click_and_wait(page.locator("#entries-caption ~ tbody a.govuk-link").first)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Entry "))
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name="The proof that this entry is sealed"))
    expect(page.get_by_role("heading", name="The proof checks out")).to_be_visible()
    assert axe_violations(page) == []


def test_a_holder_reads_their_money_statement(page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="See your money, week by week"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your money")
    expect(page.get_by_text("Direct payment for").first).to_be_visible()
    assert axe_violations(page) == []
