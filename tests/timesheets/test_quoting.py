"""A reason typed when a timesheet is sent back is quoted in a sentence once: no extra full stop after one it already has."""

from __future__ import annotations

import html
import re

import pytest

from brokerage.timesheets import approval, sheets
from tests import factories as f
from tests.timesheets.helpers import NOW, WEEK, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def _read(client, user, path) -> str:
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": user.email, "password": f.PASSWORD}).status_code == 302
    page = client.get(path)
    assert page.status_code == 200
    # Read as words: the quoted reason sits in its own span.
    return html.unescape(re.sub(r"<[^>]+>", "", page.get_data(as_text=True)))


def _sent_back(session, reason):
    care = make_care(session)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0))
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason=reason)
    session.commit()
    return care, sheet


def test_a_reason_that_ends_with_a_full_stop_gets_no_second_one(client, session):
    care, sheet = _sent_back(session, "Please add the travel time for each visit.")
    quoted = "“Please add the travel time for each visit.”"
    dashboard = _read(client, care.provider_user, "/dashboard")
    assert f"{quoted} Correct it and send it again." in dashboard
    page = _read(client, care.provider_user, f"/timesheets/{sheet.id}")
    assert quoted in page and f"{quoted}." not in page
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    session.commit()
    assert f"It was sent back to you once because: {quoted} You corrected it" in _read(client, care.provider_user, f"/timesheets/{sheet.id}")
    assert f"It was sent back once because: {quoted} The provider has corrected it" in _read(client, care.broker, f"/timesheets/{sheet.id}")


def test_a_reason_without_a_full_stop_gets_one_after_the_quotation(client, session):
    care, sheet = _sent_back(session, "Wrong day")
    assert "sent back to you: “Wrong day”. Correct it" in _read(client, care.provider_user, "/dashboard")
    assert "“Wrong day”." in _read(client, care.provider_user, f"/timesheets/{sheet.id}")
