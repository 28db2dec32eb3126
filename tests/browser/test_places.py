"""Postcodes in a real browser at 320 px: a broker adds a holder and starts a group by district, and nobody types a latitude."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser

WIDTH = 320


@pytest.fixture()
def narrow(browser):
    context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_broker_adds_a_holder_by_postcode_and_an_unknown_one_is_explained(narrow, live_server):
    page = narrow
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/holders/")
    click_and_wait(page.get_by_role("link", name="Add a budget holder"))
    expect(page.get_by_label("Postcode")).to_be_visible()  # the form itself, so what it lacks is read from it
    expect(page.locator("input[name=lat], input[name=lon]")).to_have_count(0)
    page.get_by_label("Full name").fill("Halima Jama")
    page.get_by_label("Weekly care budget").fill("310")
    page.get_by_label("Postcode").fill("e9 9zz")
    page.locator("summary", has_text="Languages they speak").click()  # the long list is folded away
    page.get_by_role("group", name="Languages they speak").get_by_label("Somali").check()
    page.get_by_label("Phone number").fill("07700 900123")
    click_and_wait(page.get_by_role("button", name="Add them"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_text("We do not know where E9 9ZZ is. Check it is right. If it is, ask a carepool administrator to add it").first).to_be_visible()
    assert axe_violations(page) == [] and fits(page)
    page.get_by_label("Postcode").fill("E1 4NS")  # one of the demo's own postcodes
    click_and_wait(page.get_by_role("button", name="Add them"))
    expect(page.get_by_role("heading", name="Halima Jama", exact=True)).to_be_visible()
    expect(page.get_by_text("The next step is to invite them")).to_be_visible()
    expect(page.get_by_text("E1 4NS").first).to_be_visible()
    assert axe_violations(page) == [] and fits(page)


def test_a_broker_starts_a_group_for_some_of_the_councils_districts(narrow, live_server):
    page = narrow
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/clusters/new")
    page.locator("summary", has_text="Area").click()  # the council's districts are folded away
    area = page.get_by_role("group", name="Area")
    assert [box.get_attribute("value") for box in area.get_by_role("checkbox").all()] == ["E1", "E1W", "E2", "E3", "E14", "E15"]
    page.get_by_label("Name of the group").fill("Wapping and Shadwell neighbours")
    page.get_by_role("group", name="What brings the group together").get_by_label("Neighbours").check()
    area.get_by_label("E1W").check()
    area.get_by_label("E1", exact=True).check()
    click_and_wait(page.get_by_role("button", name="Start the group"))
    expect(page.get_by_role("heading", name="Wapping and Shadwell neighbours", exact=True)).to_be_visible()
    expect(page.get_by_text("E1, E1W")).to_be_visible()
    assert axe_violations(page) == [] and fits(page)
