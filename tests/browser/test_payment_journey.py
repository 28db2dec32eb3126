"""Paying for care in a real browser: the provider records a visit, the broker approves the timesheet,
a broker prepares a payment run, an officer who did not prepare it releases it, Stripe (the local
server) makes the transfer and confirms it by a signed webhook, and the provider sees the payment and
its remittance."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

import pytest
from playwright.sync_api import expect

from brokerage import clock
from brokerage.formatting import long_date
from tests.browser.conftest import click_and_wait, sign_in
from tests.browser.test_dashboard import axe_violations

pytestmark = pytest.mark.browser


def sign_out(page) -> None:
    click_and_wait(page.get_by_role("button", name="Sign out"))


def week_of(day: date) -> str:
    monday = day.fromordinal(day.toordinal() - day.weekday())
    return f"week of {long_date(monday)}"


def test_care_recorded_by_the_provider_is_approved_released_and_paid_with_a_remittance(page, live_server, freeze_clock):
    today = clock.today()
    this_week = week_of(today)
    monday = today - timedelta(days=today.weekday())
    # A timesheet is sent once its week is over: the journey happens next Monday morning (the live server reads the same clock).
    freeze_clock(datetime.combine(monday + timedelta(days=7), time(10), tzinfo=clock.LONDON).astimezone(timezone.utc))

    # The provider records this Monday's visit on this week's timesheet and sends it once the week is over.
    sign_in(page, live_server, "provider@riverside.example")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/timesheets/")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("button", name=re.compile(f"Start the timesheet for the {this_week}", re.I)))
    assert axe_violations(page) == []
    # The list starts on "Choose the member visited" (nobody is chosen for the provider): choose the first member.
    expect(page.get_by_label("Member visited")).to_have_value("")
    page.get_by_label("Member visited").select_option(index=1)
    page.get_by_label("Day").select_option(monday.isoformat())
    page.get_by_label("Start time").fill("07:00")
    page.get_by_label("Length in minutes").fill("15")
    click_and_wait(page.get_by_role("button", name="Record the visit"))
    # Never 15-minute visits (the contract's shortest visit is an hour): the refusal is beside the field, and nothing is recorded.
    expect(page.locator(".govuk-error-message").filter(has_text="at least").first).to_be_visible()
    page.get_by_label("Length in minutes").fill("90")
    click_and_wait(page.get_by_role("button", name="Record the visit"))
    expect(page.get_by_text("1 hour 30 minutes").first).to_be_visible()
    click_and_wait(page.get_by_role("button", name="Send for approval"))
    expect(page.get_by_text("Waiting for approval").first).to_be_visible()
    sign_out(page)

    # The broker approves it: the members' parts move from their pool shares to what the provider is owed.
    sign_in(page, live_server, "broker@riverside.example")
    page.goto(f"{live_server}/timesheets/waiting")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name=re.compile(this_week, re.I)).first)
    click_and_wait(page.get_by_role("button", name="Approve the timesheet"))
    expect(page.get_by_text("Approved").first).to_be_visible()
    sign_out(page)

    # The run the broker prepared last week is released by an officer; then the broker prepares this week's.
    sign_in(page, live_server, "officer@riverside.example")
    page.goto(f"{live_server}/payments/runs")
    assert axe_violations(page) == []
    click_and_wait(page.locator(".govuk-inset-text").get_by_role("link", name=re.compile("Payment run")))
    click_and_wait(page.get_by_role("button", name="Release and pay"))
    sign_out(page)

    sign_in(page, live_server, "broker@riverside.example")
    page.goto(f"{live_server}/payments/runs")
    click_and_wait(page.get_by_role("button", name="Prepare a payment run"))
    page.wait_for_url(re.compile(r"/payments/runs/\d+$"))
    expect(page.get_by_role("cell", name="Nasima Khatun (PA)").first).to_be_visible()
    run_url = page.url
    # The broker who prepared it cannot release it.
    expect(page.get_by_role("button", name="Release and pay")).to_have_count(0)
    run_number = run_url.rstrip("/").rsplit("/", 1)[1]
    sign_out(page)

    # A different officer releases it; the job sends the transfer; Stripe's signed event confirms it.
    sign_in(page, live_server, "officer2@riverside.example")
    page.goto(run_url)
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("button", name="Release and pay"))
    page.goto(run_url)
    for _ in range(40):  # the local Stripe server delivers its event about a second later
        if page.get_by_text("Paid", exact=True).count():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(page.get_by_text("Paid", exact=True).first).to_be_visible()
    sign_out(page)

    # The provider sees the payment and, in its remittance, the week and the visit it pays for.
    sign_in(page, live_server, "provider@riverside.example")
    page.goto(f"{live_server}/payments/mine")
    assert axe_violations(page) == []
    click_and_wait(page.get_by_role("link", name=f"Payment run {run_number}", exact=True))
    expect(page.get_by_text(re.compile(this_week, re.I)).first).to_be_visible()
    expect(page.get_by_text("Bengali women's care circle").first).to_be_visible()
    assert axe_violations(page) == []
