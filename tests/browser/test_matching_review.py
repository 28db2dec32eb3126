"""The broker's matching review page in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_a_broker_reviews_adjusts_and_sends_a_matching_run(page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="Matching").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Matching"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Run matching now").click()
    assert "hours covered" in page.get_by_role("heading", level=1).inner_text()
    expect(page.get_by_text("Speaks Somali (required)").first).to_be_visible()
    expect(page.get_by_text("No vetted Somali-speaking provider")).to_be_visible()
    assert axe_violations(page) == []

    hours = page.get_by_label("Hours of home care from Hooyo Care Co-operative")
    hours.fill("500")
    page.get_by_role("button", name="Change hours from Hooyo Care Co-operative").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Hours of home care from Hooyo Care Co-operative").fill("12")
    page.get_by_role("button", name="Change hours from Hooyo Care Co-operative").click()
    assert page.get_by_label("Hours of home care from Hooyo Care Co-operative").input_value() == "12"

    page.get_by_role("button", name="Send to the groups to vote on").click()
    assert "Sent to" in page.locator(".govuk-notification-banner__heading").first.inner_text()
    page.goto(f"{live_server}/matching/gaps")
    assert page.get_by_role("heading", level=1).inner_text() == "Gap report"
    assert axe_violations(page) == []
