"""The forms with long lists of checkboxes fold each list away, so a keyboard user passes it with one Tab (issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser

OPEN_EVERY_LIST = "() => document.querySelectorAll('details.app-choices').forEach(d => { d.open = true; })"


def tabs_to(page, first, last, limit: int = 400) -> int:
    """Count the Tab presses a keyboard user needs from a form's first field to its button."""
    first.focus()
    for presses in range(1, limit):
        page.keyboard.press("Tab")
        if last.evaluate("b => b === document.activeElement"):
            return presses
    pytest.fail(f"Tab never reached the button in {limit} presses")


def _open(page, live_server, email, path):
    sign_in(page, live_server, email)
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}{path}")


@pytest.mark.parametrize(("email", "path", "button", "bound", "saved"), [
    # The demand form from a group's page: over 60 presses with every list open.
    ("holder@riverside.example", "/matching/clusters/1/demand", "Send to the broker", 14, 50),
    ("broker@riverside.example", "/providers/new", "Register", 25, 50),
    ("holder@riverside.example", "/holders/1/profile", "Save changes", 25, 30),
    ("broker@riverside.example", "/holders/new", "Add them", 25, 30),
    # Starting a group: the council's districts (six in the demo, dozens in a real borough).
    ("holder@riverside.example", "/clusters/new", "Start the group", 15, 5),
])
def test_a_keyboard_user_passes_each_long_list_with_one_tab(page, live_server, email, path, button, bound, saved):
    _open(page, live_server, email, path)
    start = page.locator("main form").first.locator("select, input:not([type=hidden]), textarea, summary").first
    end = page.get_by_role("button", name=button)
    folded = tabs_to(page, start, end)
    page.evaluate(OPEN_EVERY_LIST)
    unfolded = tabs_to(page, start, end)
    assert folded <= bound, f"{folded} Tab presses"
    assert unfolded - folded >= saved, (folded, unfolded)


def test_a_folded_list_opens_from_the_keyboard_and_says_what_is_ticked(page, live_server):
    _open(page, live_server, "holder@riverside.example", "/matching/clusters/1/demand")
    summary = page.locator("details summary").filter(has_text="Hours of care needed each week, by time of day")
    expect(summary).to_contain_text("No hours given yet", use_inner_text=True)
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Monday morning hours")).to_be_focused()
    page.keyboard.type("3")
    expect(page.get_by_label("Monday morning hours")).to_have_value("3")
    expect(summary).to_contain_text("3 hours a week", use_inner_text=True)
    assert axe_violations(page) == []
