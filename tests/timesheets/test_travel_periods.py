"""Travel time by the days the Ethical Care Charter was kept: re-ticking keeps a confirmed period, and the words say which days."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

import pytest

from brokerage.providers import charter
from brokerage.providers.models import Provider, ProviderKind
from brokerage.providers.services import update_profile
from brokerage.timesheets import approval, pages, queries, rules, sheets
from brokerage.timesheets import travel as travel_words
from brokerage.timesheets.rules import VisitIn
from tests import factories as f
from tests.timesheets.helpers import MONDAY, NOW, WEEK, make_care, visit
from tests.timesheets.test_travel import _app, set_charter  # noqa: F401 (_app: set_charter runs in the application, as mail needs)


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def a_visit(day=0, travel=30) -> VisitIn:
    return VisitIn(holder_id=1, visit_date=MONDAY + timedelta(days=day), start=time(9), minutes=120, travel_minutes=travel)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


# --- R5-4: re-ticking the charter -------------------------------------------------------------------


def test_reticking_on_the_day_a_confirmed_charter_was_given_up_keeps_its_travel_paid(session, freeze_clock):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week="2026-W50")
    # Wednesday 9 December, the day of the tick and the confirmation: 60 care + 30 travel minutes at £21.50.
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 9, start=time(7), minutes=60, travel=30))
    paid = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (paid.pay.travel_pence, paid.pay.total_pence) == (1075, 3225)
    set_charter(session, care, False)
    set_charter(session, care, True)
    provider = care.provider
    assert (provider.charter_since, provider.charter_until, provider.charter_confirmed_on) == (NOW.date(), None, NOW.date())
    again = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (again.pay.travel_pence, again.pay.total_pence) == (1075, 3225) and "not confirmed" not in again.travel
    assert provider not in charter.unconfirmed_charters(session=session, actor=care.broker)
    freeze_clock(datetime(2026, 12, 14, 10, 0, tzinfo=timezone.utc))
    sent = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sent.id)
    assert (approved.total_pence, approved.travel_pence) == (3225, 1075)


def test_reticking_on_a_later_day_waits_for_a_broker_again(session, freeze_clock):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    set_charter(session, care, False)
    freeze_clock(NOW + timedelta(days=1))
    set_charter(session, care, True)
    assert (care.provider.charter_since, care.provider.charter_confirmed_on) == (NOW.date() + timedelta(days=1), None)


def test_a_personal_assistant_confirmed_is_their_travel_not_its():
    pa = Provider(name="Nasima Khatun", kind=ProviderKind.pa, charter_since=NOW.date())
    assert charter.confirmed_words(pa) == ("Confirmed: Nasima Khatun keeps the Ethical Care Charter. "
                                           "Their travel time is paid for visits from today.")


# --- R5-5: the words ----------------------------------------------------------------------------------


def test_a_week_whose_travel_was_all_before_the_confirmation_says_none_is_paid_not_because_signed():
    thursday = rules.TravelTerms(paid=True, from_day=day(3))
    pay = rules.week_pay(visits=[a_visit(0, travel=35)], rate_pence=1750, travel_paid=thursday)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=thursday, pay=pay, to_provider=True) == (
        "Travel time is not paid on this timesheet: the 35 minutes of travel was on days before a broker confirmed the Ethical Care Charter "
        "(Thursday 3 December 2026).")


@pytest.mark.parametrize(("until", "kept"), [
    (0, "you kept the Ethical Care Charter on Monday 30 November 2026"),
    (1, "you kept the Ethical Care Charter from Monday 30 November 2026 to Tuesday 1 December 2026"),
])
def test_travel_after_unticking_is_paid_because_the_charter_was_kept_on_those_days(until, kept):
    given_up = rules.travel_terms(charter=False, since=day(0), until=day(until), confirmed=day(0))
    pay = rules.week_pay(visits=[a_visit(0)], rate_pence=2000, travel_paid=given_up)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=given_up, pay=pay, to_provider=True) == (
        f"Travel time is paid because {kept}: 30 minutes of travel at £20.00 an hour = £10.00.")


def test_a_charter_still_kept_is_said_to_be_kept_since_its_day():
    kept = rules.travel_terms(charter=True, since=day(0), until=None, confirmed=day(0))
    pay = rules.week_pay(visits=[a_visit(0)], rate_pence=2000, travel_paid=kept)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=kept, pay=pay).startswith(
        "Travel time is paid because Bridge Care has kept the Ethical Care Charter since Monday 30 November 2026: 30 minutes")


def test_fixed_when_sent_is_said_only_where_sending_later_would_have_paid_a_visit():
    waited = rules.TravelTerms(paid=False, awaiting=True)
    pay = rules.week_pay(visits=[a_visit(0), a_visit(3)], rate_pence=2000, travel_paid=waited)
    before = travel_words.travel_sentence(provider_name="Bridge Care", charter=waited, pay=pay, sent=True, confirmed_since=day(5),
                                          travel_days=[day(3), day(0)])
    assert before == ("Travel on Monday 30 November 2026 and Thursday 3 December 2026 is not paid: it was before a broker confirmed "
                      "the Ethical Care Charter on Saturday 5 December 2026.")
    after = travel_words.travel_sentence(provider_name="Bridge Care", charter=waited, pay=pay, sent=True, confirmed_since=day(3),
                                         travel_days=[day(0), day(3)])
    assert after.endswith("This week's pay was fixed when it was sent, so its travel stays unpaid; travel is paid for visits from that day.")


def test_a_week_sent_waiting_and_confirmed_after_its_visits_says_so_on_its_page_and_remittance(session):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=120, travel=45))
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    said = ("Travel on Monday 30 November 2026 is not paid: it was before a broker confirmed the Ethical Care Charter on "
            "Wednesday 9 December 2026.")
    assert pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id).travel == said
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    [item] = queries.approved_sheets(session=session, provider_id=care.provider.id)
    assert queries.sent_travel(item, care.provider, to_provider=True).words == said


# --- R5-13: travel's own words ------------------------------------------------------------------------


def test_an_hour_and_a_half_of_travel_is_refused_in_the_same_words_in_the_summary_and_by_the_field(client, session):
    care = make_care(session, charter=True)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    session.commit()
    assert client.post("/sign-in", data={"email": care.provider_user.email, "password": f.PASSWORD}).status_code == 302
    form = {"visit-holder_id": str(care.holders[0].id), "visit-visit_date": "2026-11-30", "visit-start": "9:30am", "visit-minutes": "120",
            "visit-travel_minutes": "90"}
    response = client.post(f"/timesheets/{sheet.id}/visits", data=form)
    assert response.status_code == 422
    shown = " ".join(response.text.split())
    assert "at most 1 hour" not in shown and len(re.findall("Travel to one visit can be at most 60 minutes", shown)) >= 2


def test_a_week_sent_after_the_confirmation_with_all_its_travel_before_it_says_none_was_paid_everywhere(client, session):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=120, travel=45))
    sent = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    # Paid from Wednesday 9 December; the Monday 30 November visit's travel is not: 120 care minutes at £21.50.
    assert (sent.travel_paid, sent.travel_pence, sent.total_pence) == (True, 0, 4300)
    said = ("Travel time is not paid on this timesheet: the 45 minutes of travel was on days before a broker confirmed the Ethical Care Charter "
            "(Wednesday 9 December 2026).")
    note = "Not paid: the travel was on days outside those the Ethical Care Charter was kept and confirmed"
    assert pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id).travel == said
    [row] = queries.waiting_for_staff(session=session, actor=care.broker)
    assert row.travel_note == note
    session.commit()
    assert client.post("/sign-in", data={"email": care.broker.email, "password": f.PASSWORD}).status_code == 302
    assert note in " ".join(client.get("/timesheets/waiting").text.split())
    assert said in " ".join(client.get(f"/timesheets/{sheet.id}").text.split())
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    [item] = queries.approved_sheets(session=session, provider_id=care.provider.id)
    assert queries.sent_travel(item, care.provider, to_provider=False).words == said


def test_a_charter_a_broker_gave_up_waits_for_a_broker_when_ticked_again_that_day(session):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    p = care.provider
    update_profile(session=session, actor=care.broker, provider_id=p.id, services=list(p.services), languages=list(p.languages),
                   staff_genders=list(p.staff_genders), capacity_hours=p.capacity_hours, slot_hours=dict(p.slot_hours) or None, slots=list(p.slots),
                   radius_km=p.radius_km, hourly_rate_pence=p.hourly_rate_pence, living_wage=p.living_wage, ethical_care_charter=False,
                   ownership_model=p.ownership_model)
    # The day it was kept and confirmed stays paid.
    assert (p.charter_until, p.charter_confirmed_on) == (NOW.date(), NOW.date())
    set_charter(session, care, True)
    assert (p.charter_since, p.charter_until, p.charter_confirmed_on) == (NOW.date(), None, None)
    assert p in charter.unconfirmed_charters(session=session, actor=care.broker)
