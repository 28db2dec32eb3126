"""Care approved on a timesheet shows in the spend reports as the ledger posted it."""

from __future__ import annotations

from datetime import date

import pytest

from brokerage.spending.services import spend_by
from brokerage.timesheets import approval, sheets
from tests.timesheets.helpers import NOW, WEEK, make_care, visit

DECEMBER = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def test_an_approved_timesheet_is_the_providers_spend_and_comes_out_of_the_members_shares(session):
    care = make_care(session)
    a, b, _ = care.holders
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    for v in (visit(a, 0, minutes=90), visit(b, 1, minutes=90)):
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **v)
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)

    def report(dimension):
        return spend_by(session=session, actor=care.officer, dimension=dimension, start=DECEMBER, end=DECEMBER)

    assert [(row.name, row.figures.spent_pence) for row in report("provider").rows] == [("Bridge Care Co-op", approved.total_pence)]
    assert [(row.name, row.figures.spent_pence) for row in report("service").rows] == [("Home care", approved.total_pence)]
    shares = {row.member: row for row in report("holder").rows}
    assert shares["Amina Hassan"].figures.spent_pence + shares["Bob Jones"].figures.spent_pence == approved.total_pence
    assert shares["Chen Li"].figures.spent_pence == 0
    groups = report("group")
    (row,) = groups.rows
    # The test's money went into the shares by hand (an adjustment): counted apart, never as pledges.
    assert row.figures.other_pence == 150_000 and row.figures.pooled_in_pence == 0
    assert row.unspent_pence == 150_000 - approved.total_pence
