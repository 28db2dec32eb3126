"""What the provider's pages say about a week: its pay lines, travel, visit messages, times and lengths."""

from __future__ import annotations

import html
import re
from datetime import time

from sqlmodel import select

from brokerage.timesheets import rules
from brokerage.timesheets.models import Visit
from brokerage.timesheets.rules import TimesheetStatus
from tests.timesheets.helpers import make_care
from tests.timesheets.test_views import _now, sign_in, start_week, visit_form  # noqa: F401 (the clock at NOW for every test)


def page_text(response) -> str:
    """Return a page's words, tags removed and entities read, with runs of space made one."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.data.decode())))


def test_a_61_minute_visit_with_13_of_travel_at_22_50_shows_lines_that_follow_the_sentence_beside_them(client, session):
    care = make_care(session, charter=True, rate=2250)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], minutes="61", travel="13")).status_code == 302
    shown = page_text(client.get(f"/timesheets/{sheet.id}"))
    assert "Care 1 hour 1 minute of 10 hours allowed this week: £22.87" in shown
    assert "Travel 13 minutes: £4.88" in shown and "Total for the week £27.75" in shown
    assert rules.PAY_RULE in shown and "Pay is the paid minutes times the hourly rate" not in shown
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302
    sign_in(client, care.broker)
    shown = page_text(client.get(f"/timesheets/{sheet.id}"))
    assert "Care £22.87 · Travel £4.88 · Total £27.75. Care is the total less travel, as said under Pay above." in shown
    assert rules.PAY_RULE in page_text(client.get("/timesheets/waiting"))


def test_paid_travel_with_none_recorded_says_none_recorded_yet_and_unpaid_travel_says_not_paid(client, session):
    paid = make_care(session, charter=True)
    session.commit()
    sign_in(client, paid.provider_user)
    sheet = start_week(client, paid, session)
    shown = page_text(client.get(f"/timesheets/{sheet.id}"))
    assert "Travel None recorded yet" in shown and "Travel Not paid" not in shown

    unpaid = make_care(session, charter=False)
    session.commit()
    sign_in(client, unpaid.provider_user)
    sheet = start_week(client, unpaid, session)
    assert "Travel Not paid" in page_text(client.get(f"/timesheets/{sheet.id}"))


def test_travel_below_zero_is_told_only_that_and_travel_over_the_hour_only_that(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    below, over = "Enter travel time of 0 minutes or more", "Travel to one visit can be at most 60 minutes: agree a longer journey"
    for travel, says, not_says in (("-5", below, over), ("-99999999999", below, over), ("61", over, below)):
        refused = client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], travel=travel))
        assert refused.status_code == 422
        body = html.unescape(refused.data.decode())
        assert body.count(says) == 2 and not_says not in body, travel  # once in the summary, once beside the box
    assert session.exec(select(Visit).where(Visit.timesheet_id == sheet.id)).first() is None


def test_lengths_are_written_in_words_and_the_change_form_writes_the_start_as_the_list_does(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], start="14:00", minutes="61")).status_code == 302
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[1], start="midday", minutes="60")).status_code == 302
    shown = page_text(client.get(f"/timesheets/{sheet.id}"))
    assert "Shortest visit 1 hour" in shown and " 2pm 1 hour 1 minute " in shown and " midday 1 hour " in shown
    assert not re.search(r"\b[0-9]+ (h|min)\b", shown)
    first = session.exec(select(Visit).where(Visit.timesheet_id == sheet.id, Visit.start_time == time(14))).one()
    form = client.get(f"/timesheets/visits/{first.id}/edit").data.decode()
    assert 'value="2pm"' in form and 'value="14:00"' not in form
    # Sent back unchanged, the start written as the form showed it is the same time: nothing changes.
    saved = client.post(f"/timesheets/visits/{first.id}/edit", data={
        "holder_id": str(care.holders[0].id), "visit_date": "2026-11-30", "start": "2pm", "minutes": "61", "travel_minutes": "0"}, follow_redirects=True)
    assert "Nothing was changed" in saved.data.decode()
    assert "1 hour 1 minute" in page_text(client.get(f"/timesheets/visits/{first.id}/remove"))


def test_a_paid_week_says_it_is_paid_and_an_approved_one_that_it_is_approved():
    assert rules.why_fixed(TimesheetStatus.approved, paid=True).startswith("This timesheet is paid, so it cannot change.")
    assert rules.why_fixed(TimesheetStatus.approved).startswith("This timesheet is approved, so it cannot change.")
    assert rules.why_fixed(TimesheetStatus.draft, paid=False) is None


def test_start_times_in_words_and_four_figures_are_read():
    for text, expected in (("noon", time(12)), ("12 noon", time(12)), ("Midday", time(12)), ("12 midday", time(12)),
                           ("midnight", time(0)), ("0930", time(9, 30)), ("1400", time(14)), ("0930am", time(9, 30))):
        assert rules.parse_start(text) == expected, text
    for text in ("930", "0960", "2500", "noon time"):
        try:
            rules.parse_start(text)
        except ValueError:
            continue
        raise AssertionError(f"{text} was read as a time")


def test_a_paid_weeks_visit_says_the_timesheet_is_paid_where_it_cannot_change(client, session, monkeypatch):
    from brokerage.timesheets import approval, paying

    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0])).status_code == 302
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    session.commit()
    first = session.exec(select(Visit).where(Visit.timesheet_id == sheet.id)).one()
    # A payment run has paid the week (the payments package answers through the registry it fills in).
    monkeypatch.setattr(paying, "_lookup", [lambda _session, ids: {i: paying.WeekPayment(paid=True, words="Paid to you") for i in ids}])
    shown = page_text(client.get(f"/timesheets/visits/{first.id}/edit"))
    assert "This timesheet is paid, so it cannot change." in shown and "is approved, so it cannot change" not in shown
    refused = client.post(f"/timesheets/visits/{first.id}/remove", follow_redirects=True)
    assert "This timesheet is paid, so it cannot change." in page_text(refused)
