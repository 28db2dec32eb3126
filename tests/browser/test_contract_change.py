"""A broker proposes a change to a contract's days and times on a 320 px screen: the folded boxes, their error and axe-core.

Nothing is put to the vote (the form is sent only with times that do not add up), so the shared demo stays as it was.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser

WIDTH = 320


def test_a_broker_changes_the_days_and_times_and_a_wrong_sum_is_explained_beside_the_boxes(browser, live_server):
    context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, live_server, "broker@riverside.example")
        page.goto(f"{live_server}/contracts/1")
        click_and_wait(page.get_by_role("link", name="Propose a change"))
        summary = page.locator("details summary").filter(has_text="Days and times")
        expect(summary).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert axe_violations(page) == []
        # The fold opens from the keyboard; the boxes are emptied, then one hour is typed for a week of 40.
        summary.focus()
        page.keyboard.press("Enter")
        for box in page.locator("details.app-slot-hours-fold input[inputmode=numeric]").all():
            box.fill("")
        expect(summary).to_contain_text("No change to the days and times", use_inner_text=True)
        page.get_by_label("Hours a week").fill("40")
        page.get_by_label("Monday morning hours").fill("1")
        expect(summary).to_contain_text("1 hour a week", use_inner_text=True)
        # A box that is not a whole number must not read as "no change" (the server's summary says the same).
        page.get_by_label("Tuesday morning hours").fill("two")
        expect(summary).to_contain_text("Some hours need correcting", use_inner_text=True)
        page.get_by_label("Tuesday morning hours").fill("")
        expect(summary).to_contain_text("1 hour a week", use_inner_text=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert axe_violations(page) == []
        click_and_wait(page.get_by_role("button", name="Put the change to the group"))
        message = "The times add up to 1 hour a week, not the 40 hours a week of the care."
        expect(page.get_by_role("alert")).to_contain_text(message)
        expect(page.locator("#slot_hours-error-1")).to_contain_text(message)
        page.get_by_role("alert").get_by_role("link", name=message[:40]).click()
        expect(page.get_by_label("Monday morning hours")).to_be_focused()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert axe_violations(page) == []
    finally:
        context.close()
