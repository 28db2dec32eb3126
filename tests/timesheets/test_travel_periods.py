"""Travel time by the days the Ethical Care Charter was kept: re-ticking keeps a confirmed period, and the words say which days."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

import pytest

from brokerage.providers import charter
from brokerage.providers.models import Provider, ProviderKind
from brokerage.timesheets import approval, pages, queries, rules, sheets
from brokerage.timesheets import travel as travel_words
from brokerage.timesheets.rules import VisitIn
from tests import factories as f
from tests.timesheets.helpers import MONDAY, NOW, WEEK, make_care, visit
from tests.timesheets.test_travel import set_charter


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
