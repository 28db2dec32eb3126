"""Profile pages people fill in themselves, checked in a real browser with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_a_holder_changes_their_profile_and_an_error_is_explained(page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Change your profile"))
    assert axe_violations(page) == []
    page.get_by_label("Your culture (optional)").fill("Somali")
    click_and_wait(page.get_by_role("button", name="Save").first)
    expect(page.get_by_text("Tick the box to agree, or leave this empty").first).to_be_visible()
    assert axe_violations(page) == []


def test_a_provider_updates_their_availability(page, live_server):
    sign_in(page, live_server, "provider@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="See your full profile"))
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name="Update your profile"))
    assert axe_violations(page) == []
    page.get_by_label("Most hours you will take each week (optional)").fill("-4")
    click_and_wait(page.get_by_role("button", name="Save").first)
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []
