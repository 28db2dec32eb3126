"""A member starts a payment into a pool on a 320 px screen, then thinks better of it and cancels it: axe-core
and no sideways scroll on each page, and the cancelled payment says so and can no longer be paid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, flash, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser

WIDTH = 320


def test_a_member_starts_a_payment_and_cancels_it_before_paying(browser, live_server):
    context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, live_server, "holder@riverside.example")
        page.wait_for_url(f"{live_server}/dashboard")
        page.goto(f"{live_server}/holders/1/top-up")
        page.locator("input[name=cluster]").first.check()
        page.get_by_label("How much to add, in pounds").fill("12.34")
        page.locator("input[name=method]").first.check()
        click_and_wait(page.get_by_role("button", name="Continue to payment"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Money on its way to a pool")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert axe_violations(page) == []
        click_and_wait(page.get_by_role("button", name="Cancel this payment of £12.34"))
        expect(flash(page)).to_contain_text("The payment of £12.34 is cancelled. Nothing was taken")
        expect(page.get_by_role("heading", level=1)).to_have_text("A payment that was cancelled")
        expect(page.get_by_role("button", name="Cancel this payment")).to_have_count(0)
        expect(page.get_by_role("button", name="Pay by card")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert axe_violations(page) == []
        # Off the dashboard's "Money on its way", on the list of payments as cancelled.
        page.goto(f"{live_server}/holders/1/top-up")
        expect(page.get_by_role("link", name=re.compile(r"^Cancelled ?: £12\.34 to "))).to_be_visible()
    finally:
        context.close()
