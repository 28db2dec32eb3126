"""A council officer answers the audit question in two clicks from their dashboard, in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_an_officer_finds_last_quarters_co_op_spend_and_unspent_money_in_two_clicks(page, live_server):
    sign_in(page, live_server, "officer@riverside.example")  # click 1: signing in lands on the dashboard
    page.wait_for_url(f"{live_server}/dashboard")
    # Was any of it unspent for more than 8 weeks? The dashboard says so itself, with the amount.
    unspent = page.locator("#unspent-beyond-rule + p").inner_text()
    assert re.match(r"(Yes: £[\d,]+\.\d\d in \d+ members?'s? shares? could be taken back|No: )", unspent), unspent
    page.get_by_role("link", name="Last quarter's spend by kind of provider").click()  # click 2
    assert page.get_by_role("heading", level=1).inner_text().startswith("Spend by kind of provider")
    co_ops = page.get_by_role("row", name=re.compile(r"^Care co-operative"))
    assert co_ops.count() >= 1
    assert re.search(r"£[\d,]+\.\d\d", co_ops.first.inner_text())
    assert page.locator("svg.app-svg-chart").count() >= 1
    assert "pool:" not in page.content()  # names, never account codes
    assert axe_violations(page) == []
