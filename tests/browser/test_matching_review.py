"""The broker's matching review page in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, flash, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_a_broker_reviews_adjusts_and_sends_a_matching_run(page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Matching"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Matching")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("button", name="Run matching now"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("hours covered", use_inner_text=True)
    expect(page.get_by_text("Speaks Somali (required)").first).to_be_visible()
    expect(page.get_by_text("No vetted Somali-speaking provider")).to_be_visible()
    assert axe_violations(page) == []

    hours = page.get_by_label("Hours a week of home care from Hooyo Care Co-operative")
    hours.fill("500")
    click_and_wait(page.get_by_role("button", name="Change hours from Hooyo Care Co-operative"))
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Hours a week of home care from Hooyo Care Co-operative").fill("12")
    click_and_wait(page.get_by_role("button", name="Change hours from Hooyo Care Co-operative"))
    # Read from the page the change came back on (the old page holds the 12 just typed).
    expect(page.get_by_label("Hours a week of home care from Hooyo Care Co-operative")).to_have_value("12")

    # Lowered to 12 hours, the part lost Friday afternoon (its latest time): the broker moves 2 of Thursday's hours there.
    click_and_wait(page.get_by_role("link", name="Change times of home care from Hooyo Care Co-operative"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the times of home care from Hooyo Care Co-operative")
    assert axe_violations(page) == []
    page.get_by_label("Sunday evening hours").fill("2")
    click_and_wait(page.get_by_role("button", name="Save the times"))
    expect(page.get_by_role("alert")).to_contain_text("Sunday evening: the group did not ask for care then", use_inner_text=True)
    assert axe_violations(page) == []
    page.get_by_role("link", name="Sunday evening: the group did not ask for care then, or it is already covered").click()
    expect(page.get_by_label("Sunday evening hours")).to_be_focused()
    page.get_by_label("Sunday evening hours").fill("")
    page.get_by_label("Thursday morning hours").fill("1")
    page.get_by_label("Friday afternoon hours").fill("2")
    click_and_wait(page.get_by_role("button", name="Save the times"))
    expect(flash(page)).to_contain_text("The times were changed.", use_inner_text=True)
    expect(page.get_by_label("Hours a week of home care from Hooyo Care Co-operative")).to_have_value("12")
    expect(page.get_by_text("Thursday morning, 1 hour; Friday afternoon, 2 hours").first).to_be_visible()

    click_and_wait(page.get_by_role("button", name="Send to the groups to vote on"))
    expect(flash(page)).to_contain_text("Sent to", use_inner_text=True)
    page.goto(f"{live_server}/matching/gaps")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gap report")
    assert axe_violations(page) == []
