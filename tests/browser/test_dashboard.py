"""A broker signs in and sees an accessible dashboard, in a real browser."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def axe_violations(page) -> list[str]:
    """Run axe-core on the page and describe each violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results.response["violations"]]


def test_a_broker_signs_in_and_sees_the_dashboard_with_no_accessibility_violations(page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Broker dashboard"
    expect(page.get_by_text("Riverside Borough Council (demo)").first).to_be_visible()
    expect(page.get_by_text("Forming groups that need members")).to_be_visible()
    # The GOV.UK Frontend script ran under our CSP (no inline scripts allowed).
    assert "govuk-frontend-supported" in page.eval_on_selector("body", "b => b.className")
    assert axe_violations(page) == []


def test_the_sign_in_page_and_its_errors_are_accessible(page, live_server):
    page.goto(f"{live_server}/sign-in")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_text("Enter your email address").first).to_be_visible()
    assert axe_violations(page) == []


def test_a_wrong_password_is_explained_and_the_focus_can_reach_the_field(page, live_server):
    sign_in(page, live_server, "broker@riverside.example", "not the right password")
    assert page.get_by_text("The email address or password is not right.").first.is_visible()
    page.get_by_role("link", name="The email address or password is not right.").click()
    assert page.evaluate("document.activeElement.id") == "email"


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
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert axe_violations(page) == []


def test_the_ledger_pages_are_accessible(page, live_server):
    sign_in(page, live_server, "officer@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="Ledger", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ledger"
    # Other browser tests share this server and may have posted entries since the demo's last seal (tests run in
    # random order), so the status is either tag, never neither.
    sealed_row = page.locator(".govuk-summary-list__row", has_text="Sealed").first
    assert re.search(r"All sealed|\d+ waiting for the next seal", sealed_row.inner_text())
    assert axe_violations(page) == []
    page.get_by_role("link", name="Seals and checks").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Seals and checks"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Check the whole ledger now").click()
    expect(page.get_by_text("The ledger checks out")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="journal").click()
    # The demo sealed everything it posted; entries made a fortnight ago and before are its own, whatever ran first.
    page.fill("#filter-end", (date.today() - timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Filter entries").click()
    page.locator("#entries-caption ~ tbody a.govuk-link").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Entry ")
    assert axe_violations(page) == []
    page.get_by_role("link", name="The proof that this entry is sealed").click()
    expect(page.get_by_role("heading", name="The proof checks out")).to_be_visible()
    assert axe_violations(page) == []


def test_a_holder_reads_their_money_statement(page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="See your money, week by week").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your money"
    expect(page.get_by_text("Direct payment for").first).to_be_visible()
    assert axe_violations(page) == []
