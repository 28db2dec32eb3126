"""A provider applies on the public form, confirms it with the link emailed to them, a broker verifies the evidence the applicant added and approves them, and they become matchable.

At 320 px wide, with axe on every page. The journey uses the demo's second council (Northfield), so the new
provider never changes what another browser test matches in Riverside; its names are its own, so it runs in
any order with the other tests on the shared live server.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations
from tests.browser.test_invitations import link_from_outbox

pytestmark = pytest.mark.browser

WIDTH = 320
PASSWORD = "lantern orchard copper 58"


def fits(page) -> list[str]:
    """Return what is wrong with the page at 320 px: sideways scrolling, and axe's violations."""
    problems = [f"{page.url}: {v}" for v in axe_violations(page)]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        problems.append(f"{page.url} is {width} px wide")
    return problems


def add_evidence(page, kind: str, reference: str) -> None:
    page.get_by_role("radio", name=kind, exact=True).check()
    page.get_by_label("Reference number").fill(reference)
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill(str(date.today().year + 2))  # evidence runs out within 5 years
    # The page posts back to its own address: wait for the new page, or the old one may be read.
    click_and_wait(page.get_by_role("button", name="Add evidence"))
    expect(page.get_by_text("was added. It counts once a broker has verified it.").first).to_be_visible()
    expect(page.get_by_text(reference).first).to_be_visible()


def test_a_provider_applies_a_broker_vets_them_and_they_become_matchable(browser, live_server):
    tag = uuid.uuid4().hex[:8]
    name, email = f"Headingley Home Help {tag}", f"applicant-{tag}@example.org"
    problems: list[str] = []
    applicant = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    broker = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 800})
    try:
        page = applicant.new_page()
        page.goto(f"{live_server}/")
        click_and_wait(page.get_by_role("link", name="offer their care to people in the area"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Offer care to people in your area")
        problems += fits(page)

        # Sent empty: every answer is asked for, beside its box and in the summary.
        click_and_wait(page.get_by_role("button", name="Send my application"))
        expect(page.get_by_role("alert")).to_be_visible()
        postcode_asked = page.get_by_role("link", name="Enter your postcode").or_(page.get_by_role("link", name="Enter a full UK postcode, like E1 6AN"))
        expect(postcode_asked.first).to_be_visible()
        problems += fits(page)

        page.get_by_label("Your full name").fill(f"Ruth Ambrose {tag}")
        page.get_by_label("Name people will see").fill(name)
        page.get_by_role("radio", name="Micro-provider").check()
        page.get_by_label("Your postcode").fill("ls6 3br")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Choose a password").fill(PASSWORD)
        page.get_by_role("checkbox", name="Companionship", exact=True).check()
        page.get_by_role("checkbox", name="English", exact=True).check()
        page.get_by_role("checkbox", name="Women", exact=True).check()
        page.get_by_label("How many people work with you").fill("3")
        # The fold of hours opens itself after a refused send (it had an error); open it if not.
        fold = page.locator("details").filter(has=page.locator("summary", has_text="Hours you can offer each week, by time of day"))
        if fold.get_attribute("open") is None:
            fold.locator("summary").click()
        page.get_by_label("Saturday afternoon hours").fill("12")
        page.get_by_label("How far you will travel, in kilometres").fill("3")
        page.get_by_label("Hourly rate").fill("21.40")
        page.get_by_role("checkbox", name=re.compile("real Living Wage")).check()
        click_and_wait(page.get_by_role("button", name="Send my application"))

        # Nothing is made yet: the email address is confirmed first, by the link in the mail.
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
        problems += fits(page)
        link = link_from_outbox(browser, live_server, email)
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Send your application to offer care")
        problems += fits(page)
        click_and_wait(page.get_by_role("button", name="Confirm and send my application"))

        # Signed in to the new account, on the provider's own page: what happens next.
        page.wait_for_url(re.compile(r".*/providers/\d+$"))
        provider_path = page.url.removeprefix(live_server)
        expect(page.get_by_text("Your application has been sent")).to_be_visible()
        expect(page.get_by_text("A broker has to review your application.")).to_be_visible()
        expect(page.get_by_text("Add your DBS check.")).to_be_visible()
        problems += fits(page)
        # The link worked once.
        used = applicant.new_page()
        used.goto(link)
        expect(used.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
        expect(used.get_by_role("link", name="Apply to offer care again")).to_be_visible()
        used.close()
        add_evidence(page, "DBS check", f"DBS{tag}")
        add_evidence(page, "Insurance", f"PL-{tag}")
        expect(page.get_by_text("A broker has to check and verify your DBS check.")).to_be_visible()
        problems += fits(page)
        page.goto(f"{live_server}/dashboard")
        expect(page.get_by_text("Your application is waiting for a broker's review.")).to_be_visible()
        problems += fits(page)

        # The council's broker: the application is on their dashboard and in the queue.
        staff = broker.new_page()
        sign_in(staff, live_server, "broker@northfield.example")
        staff.wait_for_url(f"{live_server}/dashboard")
        expect(staff.get_by_role("link", name=name)).to_be_visible()
        problems += fits(staff)
        staff.goto(f"{live_server}/providers/applications")
        problems += fits(staff)
        click_and_wait(staff.get_by_role("link", name=name))
        expect(staff).to_have_url(re.compile(f"{re.escape(provider_path)}$"))
        problems += fits(staff)
        # The applicant added both pieces of evidence, so this broker may verify them.
        for kind, reference in (("DBS check", f"DBS{tag}"), ("insurance", f"PL-{tag}")):
            click_and_wait(staff.get_by_role("button", name=f"Verify {kind} {reference}"))
            expect(staff.get_by_text(f"{reference} is verified.")).to_be_visible()
        expect(staff.get_by_text(f"The evidence is verified. {name} is not matched unless the application is approved.")).to_be_visible()
        problems += fits(staff)
        click_and_wait(staff.get_by_role("button", name="Approve the application"))
        expect(staff.get_by_text(f"{name} is approved.")).to_be_visible()
        expect(staff.get_by_text(f"{name} can be matched with groups, and paid once Stripe has checked the bank details")).to_be_visible()
        problems += fits(staff)
        staff.goto(f"{live_server}/providers/")
        expect(staff.get_by_role("link", name=name)).to_be_visible()

        # The applicant sees nothing left to do.
        page.goto(f"{live_server}{provider_path}")
        expect(page.get_by_text("You can be matched with groups, and paid once Stripe has checked the bank details")).to_be_visible()
        expect(page.get_by_text("Your application")).to_have_count(0)
        page.goto(f"{live_server}/dashboard")
        expect(page.locator("#application-status")).to_have_count(0)
        assert problems == []
    finally:
        applicant.close()
        broker.close()
