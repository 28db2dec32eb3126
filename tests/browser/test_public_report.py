"""The demo council's public report, read by anyone in a real browser: accessible, and no sideways scrolling at 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_dashboard import axe_violations
from tests.browser.test_reflow import DUPLICATE_IDS, TABLE_PROBLEMS, WIDTH

pytestmark = pytest.mark.browser


def test_the_public_report_reads_well_on_a_small_screen_without_signing_in(browser, live_server):
    context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    try:
        response = page.goto(f"{live_server}/public/riverside")
        assert response.status == 200
        assert response.headers["cache-control"] == "public, max-age=300"
        expect(page.get_by_role("heading", level=1)).to_have_text("Where pooled care money goes")
        expect(page.get_by_role("heading", name="How we protect privacy")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert page.evaluate(TABLE_PROBLEMS) == []
        assert page.evaluate(DUPLICATE_IDS) == []
        assert axe_violations(page) == []
        # Northfield has not opted in: its report is not there, exactly as an address that never was.
        assert page.goto(f"{live_server}/public/northfield").status == 404
    finally:
        context.close()
