"""The holder's journey in a real browser: find, join, vote, pledge, and see my money; also a representative and a broker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def flash(page) -> str:
    return page.locator(".govuk-notification-banner__heading").first.inner_text()


def test_a_holder_finds_a_group_asks_to_join_votes_changes_a_pledge_and_sees_their_money(page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="Find a group", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Find a group"
    expect(page.get_by_text("km away").first).to_be_visible()
    assert axe_violations(page) == []

    # Search by keyboard-friendly form controls, then open a forming group.
    page.get_by_label("Kind of group").select_option("goal")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("table").get_by_role("link", name="Polish companions").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Polish companions"
    assert axe_violations(page) == []
    page.get_by_label("Weekly pledge in pounds").fill("a lot")
    page.get_by_role("button", name="Ask to join").click()
    assert page.get_by_text("Enter an amount in pounds, like 25 or 25.50").first.is_visible()
    assert axe_violations(page) == []
    page.get_by_label("Weekly pledge in pounds").fill("20")
    page.get_by_role("button", name="Ask to join").click()
    assert "sent" in flash(page) or "first member" in flash(page)

    # Vote on the open request to join my own group.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Somali elders of Whitechapel").click()
    page.get_by_role("link", name="Let ").first.click()
    assert axe_violations(page) == []
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Cast vote").click()
    assert "Your vote has been counted" in flash(page)
    expect(page.get_by_role("cell", name="Amina Hassan").first).to_be_visible()

    # Change my pledge: too much first, then a sensible amount.
    page.get_by_role("link", name="Somali elders of Whitechapel").click()
    page.get_by_label("New weekly pledge in pounds").fill("5000")
    page.get_by_role("button", name="Change pledge").click()
    expect(page.get_by_text("cannot add up to more than your weekly budget").first).to_be_visible()
    page.get_by_label("New weekly pledge in pounds").fill("30")
    page.get_by_role("button", name="Change pledge").click()
    assert "Your weekly pledge has been changed" in flash(page)

    # Giving notice asks first, in plain words, and can be abandoned.
    page.get_by_role("button", name="Give notice to leave").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Give notice to leave?"
    assert axe_violations(page) == []
    page.get_by_role("link", name="No, go back").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Somali elders of Whitechapel"

    # See my money.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="See your money, week by week").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your money"
    # The weekly collection's own words (the demo's money comes from the weekly runs, which name the group).
    expect(page.get_by_text("Pledge to Somali elders of Whitechapel").first).to_be_visible()
    assert axe_violations(page) == []


def test_a_representative_votes_for_the_person_they_act_for(page, live_server):
    sign_in(page, live_server, "rep@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="Somali elders of Whitechapel").first.click()
    page.get_by_role("link", name="Move Friday visits to the afternoon").click()
    voting_for = page.get_by_label("Voting for")
    assert voting_for.locator("option").count() == 2
    voting_for.select_option(label="Hodan Warsame")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Cast vote").click()
    assert "Hodan Warsame's vote has been counted" in flash(page)
    row = page.get_by_role("row").filter(has_text="Hodan Warsame")
    assert "(representative)" in row.inner_text()
    assert axe_violations(page) == []


def test_a_broker_starts_a_group(page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.get_by_role("link", name="Find or start a group").click()
    expect(page.get_by_text("Forming groups that need members")).to_be_visible()
    page.get_by_role("link", name="Start a new group").click()
    page.get_by_role("button", name="Start the group").click()
    expect(page.get_by_text("Enter a name for the group").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Name of the group").fill("Limehouse carers' circle")
    page.get_by_label("Care need – the same kind of care").check()
    page.get_by_label("Weekly pledge in pounds").fill("0")
    page.get_by_role("button", name="Start the group").click()
    # With nobody in it yet, the group is placed by its area: the broker is asked for one.
    expect(page.get_by_text("Choose the districts the group covers").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("group", name="Area").get_by_label("E14").check()
    page.get_by_role("button", name="Start the group").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Limehouse carers' circle"
    assert "has started" in flash(page)
