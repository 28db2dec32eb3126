"""The community-wealth figures equal what was posted: month by month, per measure, reversals and corrections included."""

from __future__ import annotations

from datetime import date

import pytest

from brokerage.accounts.models import Role
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.timesheets import approval, sheets
from brokerage.transparency import services
from tests import factories as f
from tests.timesheets.helpers import NOW as TIMESHEET_NOW
from tests.timesheets.helpers import WEEK, make_care, visit
from tests.transparency.conftest import FEB, JAN, MAR


def test_each_months_spend_and_measures_equal_what_was_posted(spent):
    trend = services.wealth_trend(session=spent.session, actor=spent.officer, start=JAN, end=MAR)
    assert trend.months == [JAN, FEB, MAR]
    assert trend.spend == {JAN: 400_00, FEB: 0, MAR: 400_00}
    expected = {
        "local": {JAN: 300_00, FEB: 0, MAR: 150_00},  # the co-op (E1) and the charity (E2); not the PA in E15
        "coop": {JAN: 300_00, FEB: 0, MAR: 0},
        "cic": {JAN: 0, FEB: 0, MAR: 50_00},  # the corrected £70 nets out
        "charity": {JAN: 0, FEB: 0, MAR: 150_00},
        "micro": {JAN: 300_00, FEB: 0, MAR: 200_00},  # the co-op of four and the PA
        "living_wage": {JAN: 300_00, FEB: 0, MAR: 350_00},
        "ethical_care": {JAN: 300_00, FEB: 0, MAR: 200_00},
    }
    assert trend.measures == expected
    assert trend.share("local", JAN) == 750 and trend.share("local", MAR) == 375
    assert trend.share("coop", FEB) is None  # no spend, not 0%


def test_with_a_distance_set_the_assistant_just_outside_the_districts_counts_as_local(spent):
    spent.council.local_distance_km = 5.0
    spent.session.flush()
    trend = services.wealth_trend(session=spent.session, actor=spent.broker, start=JAN, end=MAR)
    assert trend.measures["local"] == {JAN: 300_00, FEB: 0, MAR: 350_00}
    spent.council.local_distance_km = 4.0
    spent.session.flush()
    trend = services.wealth_trend(session=spent.session, actor=spent.broker, start=JAN, end=MAR)
    assert trend.measures["local"][MAR] == 150_00


def test_a_provider_is_counted_by_its_facts_today_for_every_month(spent):
    spent.providers["private"].staff_count = 5
    spent.session.flush()
    trend = services.wealth_trend(session=spent.session, actor=spent.officer, start=JAN, end=JAN)
    assert trend.measures["micro"] == {JAN: 400_00}


def test_only_the_councils_staff_see_the_figures_and_only_their_own_councils(spent, session, world):
    for role in (Role.holder, Role.provider, Role.representative):
        with pytest.raises(NotAllowed):
            services.wealth_trend(session=session, actor=world.users["a"][role], start=JAN, end=MAR)
    other = services.wealth_trend(session=session, actor=world.users["a"][Role.council_officer], start=JAN, end=MAR)
    assert other.total == 0


def test_a_period_that_cannot_be_shown_is_refused(spent):
    with pytest.raises(ValidationFailed) as refused:
        services.wealth_trend(session=spent.session, actor=spent.officer, start=MAR, end=JAN)
    assert "end" in refused.value.errors


def test_care_approved_on_a_timesheet_shows_in_the_month_it_was_approved(session, freeze_clock):
    freeze_clock(TIMESHEET_NOW)
    care = make_care(session)
    care.provider.staff_count = 12
    session.flush()
    a, b, _ = care.holders
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    for v in (visit(a, 0, minutes=90), visit(b, 1, minutes=90)):
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **v)
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    december = date(2026, 12, 1)
    trend = services.wealth_trend(session=session, actor=care.officer, start=december, end=december)
    # 3 h at £21.50, with a local (E1) care co-operative of 12 staff that pays no declared Living Wage.
    assert trend.spend == {december: 64_50}
    assert {m: by_month[december] for m, by_month in trend.measures.items()} == {
        "local": 64_50, "coop": 64_50, "cic": 0, "charity": 0, "micro": 0, "living_wage": 0, "ethical_care": 0,
    }


def test_another_councils_spend_never_counts(spent, session):
    other = f.CouncilFactory(session=session, area_districts="LS6")
    officer = f.UserFactory(session=session, role=Role.council_officer, council_id=other.id)
    assert services.wealth_trend(session=session, actor=officer, start=JAN, end=MAR).total == 0
