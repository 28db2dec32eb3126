"""A council officer answers the audit question in two clicks from their dashboard, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_an_officer_finds_last_quarters_co_op_spend_and_unspent_money_in_two_clicks(page, live_server):
    sign_in(page, live_server, "officer@riverside.example")  # click 1: signing in lands on the dashboard
    page.wait_for_url(f"{live_server}/dashboard")
    # Was any of it unspent for more than 8 weeks? The dashboard says so itself, with the amount.
    unspent = page.locator("#unspent-beyond-rule + p")
    expect(unspent).to_have_text(re.compile(r"^(Yes: £[\d,]+\.\d\d in \d+ members?'s? shares? could be taken back|No: )"), use_inner_text=True)
    click_and_wait(page.get_by_role("link", name="Last quarter's spend by kind of provider"))  # click 2
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Spend by kind of provider"), use_inner_text=True)
    co_ops = page.get_by_role("row", name=re.compile(r"^Care co-operative"))
    expect(co_ops).not_to_have_count(0)
    expect(co_ops.first).to_have_text(re.compile(r"£[\d,]+\.\d\d"), use_inner_text=True)
    expect(page.locator("svg.app-svg-chart")).not_to_have_count(0)
    assert "pool:" not in page.content()  # names, never account codes
    assert axe_violations(page) == []
