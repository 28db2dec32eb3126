"""A week is paid by its own terms: the rate, hours and sharing rule fixed on the sheet when it was sent (review finding 5)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import select

from brokerage.contracts.models import ContractEvent
from brokerage.contracts.rules import AllocationRule, ContractEventKind
from brokerage.contracts.services import record_event
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import entry_postings
from brokerage.timesheets import approval, sheets
from brokerage.timesheets.models import Timesheet
from tests import factories as f
from tests.timesheets.helpers import NOW, WEEK, care_entries, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def send(session, care, visits):
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    for v in visits:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **v)
    return sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def change(session, care, *, at=None, **terms):
    """Make a passed change to the contract and record it in its history, as `contracts.changes.apply_change` does."""
    was = {name: getattr(care.contract, name) for name in terms}
    for name, value in terms.items():
        setattr(care.contract, name, value)
    session.add(care.contract)
    event = record_event(session=session, contract=care.contract, kind=ContractEventKind.change_passed, actor=care.broker,
                         detail={"changes": {name: [getattr(was[name], "value", was[name]), getattr(new, "value", new)] for name, new in terms.items()}})
    if at is not None:
        event.at = at
        session.add(event)
    session.flush()


def parts_paid(session, care) -> dict[int, int]:
    (entry,) = care_entries(session, care.council.id)
    postings = dict(entry_postings(session=session, entry_id=entry.id))
    return {h.id: -postings[ledger_rules.pool_code(care.cluster.id, h.id)] for h in care.holders if ledger_rules.pool_code(care.cluster.id, h.id) in postings}


def test_a_rate_change_after_submission_does_not_reprice_the_week(session):
    care = make_care(session, rate=2000)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=120)])
    assert (sheet.rate_pence, sheet.total_pence) == (2000, 4000)
    change(session, care, rate_pence=3000)
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert approved.total_pence == 4000
    assert parts_paid(session, care) == {care.holders[0].id: 4000}
    payable = dict(entry_postings(session=session, entry_id=approved.care_entry_id))[ledger_rules.payable_code(care.provider.id)]
    assert payable == 4000


def test_a_rule_change_after_submission_does_not_change_who_pays(session):
    care = make_care(session, rule=AllocationRule.by_hours)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=120)])
    assert sheet.allocation_rule == AllocationRule.by_hours and sheet.parts == {str(care.holders[0].id): 4300}
    change(session, care, allocation_rule=AllocationRule.equal)
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert parts_paid(session, care) == {care.holders[0].id: 4300}


def test_fewer_hours_agreed_after_submission_do_not_refuse_the_week(session):
    care = make_care(session)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=240), visit(care.holders[1], 1, minutes=240)])
    change(session, care, hours_per_week=6)
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert session.get(Timesheet, sheet.id).status.value == "approved"


def test_a_change_passed_after_the_week_but_before_submission_does_not_reprice_it(session):
    care = make_care(session, rate=2000, rule=AllocationRule.by_hours)
    # Voted on Tuesday 8 December, after the week of 30 November ended; the sheet is sent on Wednesday 9.
    change(session, care, at=datetime(2026, 12, 8, 12, 0, tzinfo=timezone.utc), rate_pence=3000, allocation_rule=AllocationRule.equal)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=120)])
    assert (sheet.rate_pence, sheet.allocation_rule, sheet.total_pence) == (2000, AllocationRule.by_hours, 4000)
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert parts_paid(session, care) == {care.holders[0].id: 4000}


def test_a_change_passed_during_the_week_applies_to_that_week(session):
    care = make_care(session, rate=2000)
    # Voted on Saturday 5 December, inside the week: the week is the new terms' week.
    change(session, care, at=datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc), rate_pence=3000)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=120)])
    assert (sheet.rate_pence, sheet.total_pence) == (3000, 6000)


def test_a_sheet_sent_back_and_sent_again_keeps_its_weeks_terms(session):
    care = make_care(session, rate=2000)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=120)])
    approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Check Monday")
    change(session, care, rate_pence=3000)
    sheet = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (sheet.rate_pence, sheet.total_pence) == (2000, 4000)


def test_the_sheet_page_shows_the_weeks_rate_not_todays(client, session):
    care = make_care(session, rate=2000)
    sheet = send(session, care, [visit(care.holders[0], 0, minutes=120)])
    change(session, care, rate_pence=3000)
    session.commit()
    client.post("/sign-in", data={"email": care.broker.email, "password": f.PASSWORD})
    page = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "at £20.00 an hour" in page and "£30.00" not in page
    assert session.exec(select(ContractEvent).where(ContractEvent.contract_id == care.contract.id)).first() is not None
