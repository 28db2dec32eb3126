"""The holder's journey in a real browser: find, join, vote, pledge, and see my money; also a representative and a broker."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, flash, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def test_a_holder_finds_a_group_asks_to_join_votes_changes_a_pledge_and_sees_their_money(page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Find a group", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a group")
    expect(page.get_by_text("km away").first).to_be_visible()
    assert axe_violations(page) == []

    # Search by keyboard-friendly form controls, then open a forming group.
    page.get_by_label("Kind of group").select_option("goal")
    click_and_wait(page.get_by_role("button", name="Search"))
    click_and_wait(page.get_by_role("table").get_by_role("link", name="Polish companions"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Polish companions")
    assert axe_violations(page) == []
    page.get_by_label("Weekly pledge in pounds").fill("a lot")
    click_and_wait(page.get_by_role("button", name="Ask to join"))
    expect(page.get_by_text("Enter an amount in pounds, like 25 or 25.50").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Weekly pledge in pounds").fill("20")
    click_and_wait(page.get_by_role("button", name="Ask to join"))
    expect(flash(page)).to_contain_text(re.compile("sent|first member"))

    # Vote on the open request to join my own group.
    click_and_wait(page.get_by_role("link", name="Dashboard"))
    click_and_wait(page.get_by_role("link", name="Somali elders of Whitechapel", exact=True))
    click_and_wait(page.get_by_role("link", name="Let ").first)
    assert axe_violations(page) == []
    page.get_by_label("Yes", exact=True).check()
    click_and_wait(page.get_by_role("button", name="Cast vote"))
    expect(flash(page)).to_contain_text("Your vote has been counted")
    expect(page.get_by_role("cell", name="Amina Hassan").first).to_be_visible()

    # Change my pledge: too much first, then a sensible amount.
    click_and_wait(page.get_by_role("link", name="Somali elders of Whitechapel", exact=True))
    page.get_by_label("New weekly pledge in pounds").fill("5000")
    click_and_wait(page.get_by_role("button", name="Change pledge"))
    expect(page.get_by_text("cannot add up to more than your weekly budget").first).to_be_visible()
    page.get_by_label("New weekly pledge in pounds").fill("30")
    click_and_wait(page.get_by_role("button", name="Change pledge"))
    expect(flash(page)).to_contain_text("Your weekly pledge has been changed")

    # Giving notice asks first, in plain words, and can be abandoned.
    click_and_wait(page.get_by_role("button", name="Give notice to leave"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Give notice to leave?")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name="No, go back"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Somali elders of Whitechapel")

    # See my money.
    click_and_wait(page.get_by_role("link", name="Dashboard"))
    click_and_wait(page.get_by_role("link", name="See your money, week by week"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your money")
    # The weekly collection's own words (the demo's money comes from the weekly runs, which name the group).
    expect(page.get_by_text("Pledge to Somali elders of Whitechapel").first).to_be_visible()
    assert axe_violations(page) == []


def test_a_representative_votes_for_the_person_they_act_for(page, live_server):
    sign_in(page, live_server, "rep@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Somali elders of Whitechapel", exact=True).first)
    click_and_wait(page.get_by_role("link", name="Move Friday visits to the afternoon"))
    voting_for = page.get_by_label("Voting for")
    # She acts for two members: nobody is chosen for her until she picks one.
    expect(voting_for.locator("option")).to_have_text(["Choose whom you are voting for", "Amina Hassan", "Hodan Warsame"])
    expect(voting_for).to_have_value("")
    voting_for.select_option(label="Hodan Warsame")
    page.get_by_label("No", exact=True).check()
    click_and_wait(page.get_by_role("button", name="Cast vote"))
    expect(flash(page)).to_contain_text("Hodan Warsame's vote has been counted")
    row = page.get_by_role("row").filter(has_text="Hodan Warsame")
    expect(row).to_contain_text("(representative)", use_inner_text=True)
    assert axe_violations(page) == []


def test_a_broker_starts_a_group(page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Find or start a group"))
    expect(page.get_by_text("Forming groups that need members")).to_be_visible()
    click_and_wait(page.get_by_role("link", name="Start a new group"))
    click_and_wait(page.get_by_role("button", name="Start the group"))
    expect(page.get_by_text("Enter a name for the group").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Name of the group").fill("Limehouse carers' circle")
    page.get_by_label("Care need – the same kind of care").check()
    page.get_by_label("Weekly pledge in pounds").fill("0")
    click_and_wait(page.get_by_role("button", name="Start the group"))
    # With nobody in it yet, the group is placed by its area: the broker is asked for one.
    expect(page.get_by_text("Choose the districts the group covers").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("group", name="Area").get_by_label("E14").check()
    click_and_wait(page.get_by_role("button", name="Start the group"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Limehouse carers' circle")
    expect(flash(page)).to_contain_text("has started")
