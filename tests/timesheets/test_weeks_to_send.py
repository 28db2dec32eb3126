"""Weeks a provider still has to claim: every earlier week of a contract on the timesheets page, and the weeks over and not sent on the dashboard."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from brokerage.timesheets import rules
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus
from tests.timesheets.helpers import MONDAY, make_care
from tests.timesheets.test_views import _now, sign_in, start_week  # noqa: F401 (the clock at NOW for every test)
from tests.timesheets.test_week_pages import page_text


def test_the_weeks_list_offers_every_earlier_week_of_the_contract_and_the_service_starts_one(client, session):
    care = make_care(session)
    care.contract.start_date = date(2026, 8, 3)  # 19 weeks before the week of 7 December
    session.commit()
    sign_in(client, care.provider_user)
    shown = page_text(client.get("/timesheets/"))
    assert "Earlier weeks with no timesheet (11 weeks)" in shown
    assert "Week of 5 October 2026" in shown and "Week of 21 September 2026" in shown and "Week of 3 August 2026" in shown
    assert "any earlier week of the contract can be started" in shown
    response = client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": "2026-W39"})
    assert response.status_code == 302
    assert session.exec(select(Timesheet).where(Timesheet.contract_id == care.contract.id, Timesheet.week == "2026-W39")).one()
    shown = page_text(client.get("/timesheets/"))
    assert "Earlier weeks with no timesheet (10 weeks)" in shown and "Week of 21 September 2026 Not sent yet" in shown


def test_the_dashboard_lists_weeks_over_with_no_timesheet_sent_and_starts_one(client, session):
    care = make_care(session)
    care.contract.start_date = date(2026, 11, 16)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)  # week of 30 November: started, not sent
    shown = page_text(client.get("/dashboard"))
    assert "Weeks not sent yet" in shown
    assert "Not started The week of 16 November 2026 for Riverside neighbours is over and has no timesheet." in shown
    assert "Not started The week of 23 November 2026 for Riverside neighbours is over" in shown
    assert "Not sent yet The week of 30 November 2026 for Riverside neighbours is over" in shown
    assert "week of 7 December 2026" not in shown  # still going on Wednesday 9 December
    assert client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": "2026-W47"}).status_code == 302
    assert "Not started The week of 16 November 2026" not in page_text(client.get("/dashboard"))
    sheet.status = TimesheetStatus.submitted
    session.commit()
    assert "week of 30 November 2026" not in page_text(client.get("/dashboard"))


def test_weeks_over_are_those_whose_sunday_or_the_contracts_last_day_has_passed():
    wednesday = date(2026, 12, 9)
    assert rules.weeks_over(date(2026, 11, 18), None, wednesday) == ["2026-W49", "2026-W48", "2026-W47"]
    assert rules.weeks_over(date(2026, 11, 18), date(2026, 12, 8), wednesday) == ["2026-W50", "2026-W49", "2026-W48", "2026-W47"]
    assert rules.weeks_over(date(2026, 12, 7), None, wednesday) == []
    assert rules.weeks_over(MONDAY, date(2026, 12, 31), date(2026, 12, 7)) == ["2026-W49"]
