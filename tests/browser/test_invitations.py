"""Bringing people in, in a real browser: invitations followed from the outbox page, and a forgotten password.

Each journey makes its own people (an address no other test uses), so the tests can run in any order on
the one live server with the demo data. Every page on the way is checked with axe and at 320 px wide.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, flash, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser

WIDTH = 320
PASSWORD = "otter meadow lantern 2026"


def problems(page) -> list[str]:
    """Return what is wrong with the page: axe's violations, and sideways scrolling at 320 px."""
    found = axe_violations(page)
    size = page.viewport_size
    page.set_viewport_size({"width": WIDTH, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        found.append(f"{page.url} is {width} px wide at {WIDTH} px")
    found += [f"320 px: {v}" for v in axe_violations(page)]
    page.set_viewport_size(size)
    return found


def new_page(browser):
    """Open a page in a browser of its own (another person, on another device)."""
    context = browser.new_context(locale="en-GB")
    return context, context.new_page()


def unique_email(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:10]}@journeys.example"


def link_from_outbox(browser, live_server, to: str) -> str:
    """Sign in as the administrator, find the newest message to this address in the outbox, and return the link in it."""
    context, page = new_page(browser)
    try:
        sign_in(page, live_server, "admin@carepool.example")
        page.wait_for_url(f"{live_server}/dashboard")
        click_and_wait(page.get_by_role("link", name="Outbox"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
        assert problems(page) == []
        click_and_wait(page.locator(".app-outbox__item", has_text=to).first.get_by_role("link"))
        assert problems(page) == []
        link = page.locator(".app-mail-body a").first
        href = link.get_attribute("href")
        assert href.startswith(live_server), href  # the links point at the server the demo runs on
        return href
    finally:
        context.close()


@pytest.mark.long
def test_a_broker_invites_a_holder_who_accepts_from_the_outbox_and_signs_in(browser, page, live_server):
    sign_in(page, live_server, "broker@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="People"))
    page.wait_for_url(f"{live_server}/holders/")  # read the list's links only once the list has come back
    # A holder who cannot sign in yet: the last in the list whose page offers an invitation.
    paths = page.evaluate("[...document.querySelectorAll('main a')].map(a => a.getAttribute('href')).filter(h => /^\\/holders\\/\\d+$/.test(h))")
    for path in reversed(paths):
        page.goto(f"{live_server}{path}")
        if page.get_by_role("link", name="Invite them to sign in").count():
            break
    else:
        pytest.fail("no holder left to invite")
    name = page.get_by_role("heading", level=1).inner_text()
    click_and_wait(page.get_by_role("link", name="Invite them to sign in"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invite {name} to sign in")
    assert problems(page) == []
    # The form starts from what the broker wrote down when adding them; with both cleared it says what it needs.
    page.get_by_label("Email address", exact=True).fill("")
    page.locator("input[name=phone]").fill("")
    click_and_wait(page.get_by_role("button", name="Send the invitation"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_text("Enter their email address, or a phone number").first).to_be_visible()
    assert problems(page) == []
    email = unique_email("holder")
    page.get_by_label("Email address", exact=True).fill(email)
    click_and_wait(page.get_by_role("button", name="Send the invitation"))
    expect(flash(page)).to_contain_text(f"We have emailed {name} a link")
    click_and_wait(page.get_by_role("link", name="Invitations"))
    expect(page.locator(".app-invitations__item", has_text=email)).to_have_count(1)
    assert problems(page) == []

    link = link_from_outbox(browser, live_server, email)
    context, holder = new_page(browser)
    try:
        holder.goto(link)
        expect(holder.get_by_role("heading", level=1)).to_have_text("Make your carepool account")
        assert problems(holder) == []
        holder.get_by_label("Choose a password").fill("short")
        click_and_wait(holder.get_by_role("button", name="Make my account"))
        expect(holder.get_by_text("Use a password of at least 12 characters").first).to_be_visible()
        assert problems(holder) == []
        holder.get_by_label("Choose a password").fill(PASSWORD)
        click_and_wait(holder.get_by_role("button", name="Make my account"))
        holder.wait_for_url(f"{live_server}/dashboard")
        expect(flash(holder)).to_contain_text("Welcome to carepool")
        assert problems(holder) == []
        # Signed out, they sign in with the password they chose; the link no longer works.
        click_and_wait(holder.get_by_role("button", name="Sign out"))
        sign_in(holder, live_server, email, PASSWORD)
        holder.wait_for_url(f"{live_server}/dashboard")
        expect(holder.locator(".app-account-bar")).to_contain_text(name, use_inner_text=True)
        holder.goto(link)
        expect(holder.get_by_role("heading", level=1)).to_have_text("This link does not work")
        assert problems(holder) == []
        # ...and, their own account made, they ask to join a group like anyone else.
        holder.goto(f"{live_server}/dashboard")
        click_and_wait(holder.get_by_role("link", name="Find a group", exact=True))
        holder.get_by_label("Kind of group").select_option("goal")
        click_and_wait(holder.get_by_role("button", name="Search"))
        click_and_wait(holder.get_by_role("table").get_by_role("link", name="Polish companions"))
        holder.get_by_label("Weekly pledge in pounds").fill("10")
        click_and_wait(holder.get_by_role("button", name="Ask to join"))
        expect(flash(holder)).to_contain_text(re.compile("sent|first member"))
    finally:
        context.close()


def test_a_holder_asks_someone_to_act_for_them_who_accepts(browser, page, live_server):
    sign_in(page, live_server, "holder@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/holders/1")
    click_and_wait(page.get_by_role("link", name="Ask a family member or carer to act for you"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask someone to act for you")
    assert problems(page) == []
    email = unique_email("carer")
    page.get_by_label("Their name").fill("Sahra Warsame")
    page.get_by_label("Their email address").fill(email)
    page.get_by_label("How you know them (optional)").fill("carer")
    click_and_wait(page.get_by_role("button", name="Send the invitation"))
    expect(page.get_by_text("Choose at least one thing they may do").first).to_be_visible()
    assert problems(page) == []
    page.get_by_label("Vote and join groups for me").check()
    page.get_by_label("Manage care: timesheets, care requests and my care profile").check()
    click_and_wait(page.get_by_role("button", name="Send the invitation"))
    expect(flash(page)).to_contain_text("We have emailed Sahra Warsame a link")
    expect(page.locator(".app-invitations__item", has_text=email)).to_have_count(1)
    assert problems(page) == []

    link = link_from_outbox(browser, live_server, email)
    context, carer = new_page(browser)
    try:
        carer.goto(link)
        expect(carer.get_by_role("heading", level=1)).to_have_text("Act for Amina Hassan")
        # The carer reads what they may do for Amina: "for them", not Amina's own "for me".
        expect(carer.get_by_text("Vote and join groups for them")).to_be_visible()
        expect(carer.get_by_text("See money and statements")).to_have_count(0)
        assert problems(carer) == []
        carer.get_by_label("Choose a password").fill(PASSWORD)
        click_and_wait(carer.get_by_role("button", name="Make my account and accept"))
        carer.wait_for_url(f"{live_server}/dashboard")
        expect(carer.get_by_role("heading", level=1)).to_have_text("People you act for")
        click_and_wait(carer.get_by_role("link", name="Amina Hassan").first)
        expect(carer.get_by_role("heading", level=1)).to_have_text("Amina Hassan")
        expect(carer.get_by_role("link", name=re.compile("money, week by week"))).to_have_count(0)  # Amina did not let her see money
        assert problems(carer) == []
    finally:
        context.close()
    # Amina now sees her among the people who can act for her, with what she may do.
    page.reload()
    person = page.locator(".app-representative", has_text="Sahra Warsame")
    expect(person).to_have_count(1)
    expect(person).to_contain_text("Vote and join groups for me", use_inner_text=True)


@pytest.mark.long
def test_someone_who_forgot_their_password_chooses_a_new_one_and_their_other_session_ends(browser, page, live_server):
    # A new officer of Riverside, invited by the administrator, so no demo login's password changes.
    email = unique_email("officer")
    sign_in(page, live_server, "admin@carepool.example")
    page.wait_for_url(f"{live_server}/dashboard")
    click_and_wait(page.get_by_role("link", name="Invitations"))
    assert problems(page) == []
    page.get_by_label("Full name").fill("Olu Officer")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Role").select_option(label="Council officer")
    page.get_by_label("Council").select_option(label="Riverside Borough Council (demo)")
    click_and_wait(page.get_by_role("button", name="Send the invitation"))
    expect(flash(page)).to_contain_text("We have emailed Olu Officer a link")
    other_context, elsewhere = new_page(browser)
    try:
        elsewhere.goto(link_from_outbox(browser, live_server, email))
        elsewhere.get_by_label("Choose a password").fill(PASSWORD)
        click_and_wait(elsewhere.get_by_role("button", name="Make my account"))
        elsewhere.wait_for_url(f"{live_server}/dashboard")

        context, officer = new_page(browser)
        try:
            officer.goto(f"{live_server}/sign-in")
            click_and_wait(officer.get_by_role("link", name="Forgotten your password?"))
            expect(officer.get_by_role("heading", level=1)).to_have_text("Forgotten your password?")
            assert problems(officer) == []
            click_and_wait(officer.get_by_role("button", name="Send me a link"))
            expect(officer.get_by_text("Enter your email address").first).to_be_visible()
            assert problems(officer) == []
            officer.get_by_label("Email address").fill(email)
            click_and_wait(officer.get_by_role("button", name="Send me a link"))
            expect(officer.get_by_role("heading", level=1)).to_have_text("Check your email")
            assert problems(officer) == []
            officer.goto(link_from_outbox(browser, live_server, email))
            expect(officer.get_by_role("heading", level=1)).to_have_text("Choose a new password")
            assert problems(officer) == []
            new_password = "heron quarry violet 77"
            officer.get_by_label("New password").fill(new_password)
            click_and_wait(officer.get_by_role("button", name="Change my password"))
            officer.wait_for_url(f"{live_server}/dashboard")
            expect(flash(officer)).to_contain_text("signed out everywhere else")
            # The session on the other device has ended.
            elsewhere.goto(f"{live_server}/dashboard")
            expect(elsewhere).to_have_url(re.compile(r"/sign-in"))
            sign_in(elsewhere, live_server, email, new_password)
            elsewhere.wait_for_url(f"{live_server}/dashboard")
        finally:
            context.close()
    finally:
        other_context.close()
