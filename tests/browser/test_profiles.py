"""Profile pages people fill in themselves, checked in a real browser with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_a_holder_changes_their_profile_and_an_error_is_explained(page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="Change your profile").click()
    assert axe_violations(page) == []
    page.get_by_label("Your culture (optional)").fill("Somali")
    page.get_by_role("button", name="Save").first.click()
    assert page.get_by_text("Tick the box to agree, or leave this empty").first.is_visible()
    assert axe_violations(page) == []


def test_a_provider_updates_their_availability(page, live_server):
    sign_in(page, live_server, "provider@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="See your full profile").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Update profile").click()
    assert axe_violations(page) == []
    page.get_by_label("Hours available each week").fill("-4")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []
