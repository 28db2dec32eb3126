"""Travel time: paid only for visits on days the provider kept the Ethical Care Charter, limited per visit, and shown apart from care."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlmodel import select

from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.providers import charter
from brokerage.providers.models import Provider
from brokerage.providers.services import update_profile
from brokerage.timesheets import approval, pages, queries, rules, sheets
from brokerage.timesheets import travel as travel_words
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import VisitIn
from tests import factories as f
from tests.timesheets.helpers import MONDAY, NOW, WEEK, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


_APP: list = []


@pytest.fixture(autouse=True)
def _app(app):
    # A provider's own tick emails the council's brokers (providers.charter.tell_brokers): set_charter runs it in the application.
    _APP.append(app)
    yield
    _APP.pop()


def a_visit(day=0, minutes=120, travel=0) -> VisitIn:
    return VisitIn(holder_id=1, visit_date=MONDAY + timedelta(days=day), start=time(9), minutes=minutes, travel_minutes=travel)


# --- the pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "travel", "allowed"), [
    (120, 60, True), (120, 61, False), (120, 600, False), (30, 30, True), (30, 31, False), (90, 0, True), (90, -1, False),
])
def test_travel_to_a_visit_is_at_most_an_hour_and_never_longer_than_the_visit(minutes, travel, allowed):
    assert (rules.travel_problem(a_visit(minutes=minutes, travel=travel)) is None) is allowed


def test_the_visit_checks_refuse_ten_hours_of_travel_for_a_two_hour_visit_beside_the_travel_field():
    terms = rules.Terms(members=frozenset({1}), hours_per_week=10, min_visit_minutes=60, start_date=MONDAY, end_date=None)
    problems = rules.visit_problems(terms=terms, week=WEEK, visit=a_visit(minutes=120, travel=600), others=[],
                                    now=NOW.replace(tzinfo=None), names={1: "Amina"})
    assert problems == {"travel_minutes": "Travel to one visit can be at most 60 minutes: agree a longer journey with the broker before the visit"}
    problems = rules.visit_problems(terms=terms, week=WEEK, visit=a_visit(minutes=60, travel=60), others=[],
                                    now=NOW.replace(tzinfo=None), names={1: "Amina"})
    assert problems == {}


def test_travel_is_paid_only_for_visits_from_the_day_the_charter_was_agreed():
    visits = [a_visit(day=0, minutes=60, travel=30), a_visit(day=3, minutes=60, travel=30)]
    thursday = rules.TravelTerms(paid=True, from_day=MONDAY + timedelta(days=3))
    pay = rules.week_pay(visits=visits, rate_pence=2000, travel_paid=thursday)
    # 120 care + 30 paid travel minutes at £20 = £50; Monday's travel is before the charter.
    assert (pay.paid_travel_minutes, pay.travel_pence, pay.total_pence, pay.care_pence) == (30, 1000, 5000, 4000)
    assert rules.visit_pay(visits=visits, total_pence=pay.total_pence, travel_paid=thursday) == [2000, 3000]
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=thursday, pay=pay).endswith(
        "30 minutes of travel is not paid: it was on days before a broker confirmed the Ethical Care Charter (Thursday 3 December 2026).")


def test_giving_up_the_charter_stops_travel_for_visits_after_that_day_only():
    given_up = rules.travel_terms(charter=False, since=None, until=MONDAY + timedelta(days=1))
    assert [given_up.covers(MONDAY + timedelta(days=d)) for d in range(3)] == [True, True, False]
    assert not rules.travel_terms(charter=False, since=None, until=None).covers(MONDAY)
    assert rules.travel_terms(charter=True, since=None, until=MONDAY).covers(MONDAY + timedelta(days=5))


def test_travel_more_than_a_quarter_of_the_care_is_flagged():
    assert rules.travel_flag(care_pence=4000, travel_pence=1000) is None
    assert rules.travel_flag(care_pence=4000, travel_pence=1001).startswith("Check the travel: £10.01 of travel is more than a quarter")
    assert rules.travel_flag(care_pence=4000, travel_pence=0) is None


# --- with the database ------------------------------------------------------------------------------


def set_charter(session, care, charter: bool) -> Provider:
    """Tick or untick the charter on the provider's own profile page's service, changing nothing else."""
    p = care.provider
    with _APP[-1].app_context():
        return update_profile(session=session, actor=care.provider_user, provider_id=p.id, services=list(p.services), languages=list(p.languages),
                              staff_genders=list(p.staff_genders), capacity_hours=p.capacity_hours, slot_hours=dict(p.slot_hours) or None, slots=list(p.slots),
                              radius_km=p.radius_km, hourly_rate_pence=p.hourly_rate_pence, living_wage=p.living_wage,
                              ethical_care_charter=charter, ownership_model=p.ownership_model)


def week_with_travel(session, care, travel=45):
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=120, travel=travel))
    return sheet


def test_ticking_the_charter_does_not_pay_travel_for_a_week_already_worked_even_when_sent_back_and_resent(session):
    care = make_care(session, charter=False)
    sheet = week_with_travel(session, care)
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert sheet.total_pence == 4300 and sheet.travel_pence == 0
    approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Check the Monday visit")
    provider = set_charter(session, care, True)
    assert provider.charter_since == NOW.date() and provider.charter_until is None
    # On the draft page and when sent again, the Monday visit (before the tick) earns no travel.
    page = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (page.pay.travel_pence, page.pay.total_pence) == (0, 4300) and not page.visits[0].travel_paid
    resent = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (resent.total_pence, resent.travel_pence) == (4300, 0)


def test_unticking_keeps_travel_for_visits_made_while_the_charter_was_kept_and_an_approved_week_never_changes(session):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    care.provider.charter_since = care.provider.charter_confirmed_on = MONDAY  # agreed and confirmed on the Monday of the week
    sheet = week_with_travel(session, care)
    set_charter(session, care, False)
    assert care.provider.charter_until == NOW.date()
    # 120 care + 45 travel minutes at £21.50 = £59.125 → £59.13
    sent = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (sent.total_pence, sent.travel_pence) == (5913, 1613)
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    set_charter(session, care, True)
    session.flush()
    session.expire_all()
    approved = session.get(Timesheet, sheet.id)
    page = pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert (approved.total_pence, approved.travel_pence, page.pay.total_pence, page.pay.travel_pence) == (5913, 1613, 5913, 1613)


def test_ten_hours_of_travel_for_a_two_hour_visit_is_refused_by_the_service(session):
    care = make_care(session, charter=True)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=120, travel=600))
    assert set(refused.value.errors) == {"travel_minutes"}
    assert session.exec(select(Timesheet).where(Timesheet.id == sheet.id)).one().total_pence == 0


def test_the_approver_sees_travel_apart_from_care_with_a_flag_where_it_is_large(session):
    care = make_care(session, charter=True)
    sheet = week_with_travel(session, care, travel=60)
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    page = pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id)
    # 60 travel minutes beside 120 of care: half, so flagged.
    assert page.pay.travel_pence == 2150 and page.travel_flag.startswith("Check the travel: £21.50 of travel")
    [row] = queries.waiting_for_staff(session=session, actor=care.broker)
    assert row.sheet.travel_pence == 2150 and row.travel_flag == page.travel_flag


def test_the_pages_show_travel_apart_from_care(client, session):
    care = make_care(session, charter=True)
    sheet = week_with_travel(session, care, travel=60)
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    session.commit()
    assert client.post("/sign-in", data={"email": care.broker.email, "password": f.PASSWORD}).status_code == 302
    shown = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "Care £43.00 · Travel £21.50 · Total £64.50." in shown and 'id="travel-flag"' in shown
    waiting = re.sub(r"\s+", " ", client.get("/timesheets/waiting").data.decode())
    assert "£43.00</td>" in waiting and "£21.50<br><strong class=\"govuk-tag govuk-tag--red\">Check travel</strong>" in waiting


def test_the_visit_form_says_beside_the_travel_field_why_ten_hours_is_refused(client, session):
    care = make_care(session, charter=True)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    session.commit()
    assert client.post("/sign-in", data={"email": care.provider_user.email, "password": f.PASSWORD}).status_code == 302
    form = {"visit-holder_id": str(care.holders[0].id), "visit-visit_date": "2026-11-30", "visit-start": "9:30am", "visit-minutes": "120",
            "visit-travel_minutes": "600"}
    response = client.post(f"/timesheets/{sheet.id}/visits", data=form)
    assert response.status_code == 422
    assert re.search(r'id="visit-travel_minutes-error-1" class="govuk-error-message">.*Travel to one visit can be at most 60 minutes', response.text)
    assert "At most 60 minutes, and no longer than the visit itself." in response.text


def test_travel_waits_for_a_broker_to_confirm_the_charter_and_is_paid_from_the_later_day():
    waiting = rules.travel_terms(charter=True, since=MONDAY, until=None, confirmed=None)
    assert waiting.awaiting and not waiting.covers(MONDAY + timedelta(days=3))
    confirmed = rules.travel_terms(charter=True, since=MONDAY, until=None, confirmed=MONDAY + timedelta(days=2))
    assert [confirmed.covers(MONDAY + timedelta(days=d)) for d in range(4)] == [False, False, True, True]
    pay = rules.week_pay(visits=[a_visit(travel=30)], rate_pence=2000, travel_paid=waiting)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=waiting, pay=pay) == (
        "Travel time is not paid yet: a broker has not confirmed that Bridge Care keeps the Ethical Care Charter (30 minutes of travel this week). "
        "Once a broker confirms it, travel is paid for visits from that day.")


def test_a_providers_own_tick_pays_travel_only_once_a_broker_confirms_it(session, freeze_clock):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week="2026-W50")
    # Wednesday 9 December, the day of the tick, 7am to 8am.
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id,
                     **visit(care.holders[0], 9, start=time(7), minutes=60, travel=30))
    page = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert page.pay.travel_pence == 0 and page.travel == (
        "Travel time is not paid yet: a broker has not confirmed that you keep the Ethical Care Charter (30 minutes of travel this week). "
        "Once a broker confirms it, travel is paid for visits from that day.")
    with pytest.raises(NotAllowed):
        charter.confirm_charter(session=session, actor=care.provider_user, provider_id=care.provider.id)
    confirmed = charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id).provider
    assert (confirmed.charter_confirmed_on, confirmed.charter_confirmed_by_id) == (NOW.date(), care.broker.id)
    page = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    # 30 travel minutes at £21.50 = £10.75
    assert page.pay.travel_pence == 1075
    # Given up and ticked again on a later day, it waits for a broker again.
    set_charter(session, care, False)
    freeze_clock(NOW + timedelta(days=1))
    set_charter(session, care, True)
    assert care.provider.charter_confirmed_on is None


def test_a_brokers_tick_is_confirmed_by_that_act_and_the_provider_page_offers_the_check(client, session):
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    session.commit()
    assert client.post("/sign-in", data={"email": care.broker.email, "password": f.PASSWORD}).status_code == 302
    shown = client.get(f"/providers/{care.provider.id}").text
    assert "waiting for a broker to confirm it. Travel time is not paid until then." in shown and "Confirm the Ethical Care Charter" in shown
    assert client.post(f"/providers/{care.provider.id}/charter/confirm").status_code == 302
    shown = client.get(f"/providers/{care.provider.id}").text
    assert "Yes, confirmed by a broker on Wednesday 9 December 2026" in shown and "Confirm the Ethical Care Charter" not in shown
    other = make_care(session, charter=False)
    p = other.provider
    update_profile(session=session, actor=other.broker, provider_id=p.id, services=list(p.services), languages=list(p.languages),
                   staff_genders=list(p.staff_genders), capacity_hours=p.capacity_hours, slot_hours=dict(p.slot_hours) or None, slots=list(p.slots),
                   radius_km=p.radius_km, hourly_rate_pence=p.hourly_rate_pence, living_wage=p.living_wage, ethical_care_charter=True,
                   ownership_model=p.ownership_model)
    assert (p.charter_since, p.charter_confirmed_on, p.charter_confirmed_by_id) == (NOW.date(), NOW.date(), other.broker.id)


# --- a sheet sent while the charter waited for a broker -----------------------------------------------

WAITED = ("Travel time is not paid on this timesheet: when it was sent, a broker had not yet confirmed that {who} "
          "the Ethical Care Charter (45 minutes of travel this week).")


def sent_while_waiting(session, care):
    """Tick the charter on the provider's own profile (it waits for a broker) and send the week's sheet with 45 minutes of travel."""
    set_charter(session, care, True)
    care.provider.charter_since = MONDAY  # ticked on the Monday of the week
    sheet = week_with_travel(session, care)
    return sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def test_a_week_sent_while_the_charter_waits_for_a_broker_says_so_not_that_it_was_never_signed(client, session):
    care = make_care(session, charter=False)
    sheet = sent_while_waiting(session, care)
    # 120 care minutes at £21.50 = £43.00; the travel waits for a broker.
    assert (sheet.total_pence, sheet.travel_pence, sheet.travel_paid, sheet.travel_awaiting) == (4300, 0, False, True)
    staff = pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert staff.travel == WAITED.format(who="Bridge Care Co-op keeps")
    own = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert own.travel == WAITED.format(who="you keep")
    [row] = queries.waiting_for_staff(session=session, actor=care.broker)
    assert row.travel_note == "Not paid: a broker had not confirmed the Ethical Care Charter when it was sent"
    session.commit()
    assert client.post("/sign-in", data={"email": care.broker.email, "password": f.PASSWORD}).status_code == 302
    shown = " ".join(client.get(f"/timesheets/{sheet.id}").text.split())
    assert WAITED.format(who="Bridge Care Co-op keeps") in shown and "not signed" not in shown
    waiting = " ".join(client.get("/timesheets/waiting").text.split())
    assert "Not paid: a broker had not confirmed the Ethical Care Charter when it was sent" in waiting


def test_a_week_sent_while_waiting_keeps_its_pay_and_says_why_once_a_broker_confirms_the_charter_later(session):
    care = make_care(session, charter=False)
    sheet = sent_while_waiting(session, care)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    # Its only visit was before the confirmation, so sending it later would have paid no more: no 'fixed when sent'.
    later = "Travel on Monday 30 November 2026 is not paid: it was before a broker confirmed the Ethical Care Charter on Wednesday 9 December 2026."
    page = pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert (page.pay.total_pence, page.pay.travel_pence, page.travel) == (4300, 0, later)
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert (approved.total_pence, approved.travel_pence) == (4300, 0)
    page = pages.sheet_page(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert (page.pay.total_pence, page.travel) == (4300, later) and not page.visits[0].travel_paid
    [item] = queries.approved_sheets(session=session, provider_id=care.provider.id)
    remitted = queries.sent_travel(item, care.provider, to_provider=False)
    assert remitted.words == later and remitted.unpaid_visit_ids == {page.visits[0].visit.id}


def test_a_sent_sheet_without_the_charter_speaks_of_the_day_it_was_sent():
    pay = rules.week_pay(visits=[a_visit(travel=30)], rate_pence=2000, travel_paid=False)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=False, pay=pay, sent=True) == (
        "Travel time is not paid on this timesheet: Bridge Care had not signed the Ethical Care Charter when it was sent (30 minutes of travel this week).")
    assert queries.WaitingSheet(Timesheet(week=WEEK, travel_paid=True, travel_pence=100), "Bridge Care", "Group").travel_note is None
