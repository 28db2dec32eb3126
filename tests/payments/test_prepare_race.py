"""A payment run prepared while a timesheet is approved pays and lists the same work (PostgreSQL, real concurrency).

Preparing reads each provider's payable balance (what the line pays) and, a moment later, the approved
timesheets no line has taken (what its remittance lists). An approval committing between the two once
gave a line of £0 worth of care listing a £43 timesheet: the provider's remittance then said the week was
paid when it was not, and the next run paid the £43 with no timesheet at all.
"""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from brokerage.accounts.models import User
from brokerage.ledger.models import LedgerAccount
from brokerage.payments import runs
from brokerage.payments.run_models import PaymentLine, PaymentLineTimesheet
from brokerage.timesheets import approval, sheets
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus
from tests.payments.runs_support import fund, vet
from tests.races import new_council, pause_after_select, race
from tests.timesheets.helpers import WEEK, factory_at_now, make_care, visit  # noqa: F401  (factory_at_now is the `factory` fixture)

pytestmark = pytest.mark.postgres_only



def _a_provider_with_a_sheet_waiting(factory):
    """Commit a provider ready to be paid, with 500p of earlier care in its payable account and a submitted sheet; return ids."""
    with factory() as session:
        council = new_council(session)
        factory.councils.append(council.id)
        care = make_care(session, council=council)
        provider = care.provider
        provider.stripe_account_id, provider.payouts_enabled = f"acct_test_{council.id}", True
        vet(session, provider)
        fund(session, provider, 500, key=f"care:earlier:{provider.id}")
        sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=120))
        sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
        session.commit()
        return dict(council=council.id, provider=provider.id, sheet=sheet.id, broker=care.broker.id, officer=care.officer.id)


@pytest.mark.parametrize("trial", range(3))
def test_a_run_prepared_while_a_timesheet_is_approved_lists_exactly_the_work_its_line_pays(factory, trial):
    ids = _a_provider_with_a_sheet_waiting(factory)

    def prepare(session):
        # Wait just after reading what providers are owed: an approval lands in that window.
        pause_after_select(session, LedgerAccount.__table__, "council_id", 0.6)
        return runs.prepare_run(session=session, actor=session.get(User, ids["officer"])).id

    def approve(session):
        time.sleep(0.2)
        return approval.approve(session=session, actor=session.get(User, ids["broker"]), timesheet_id=ids["sheet"]).total_pence

    run_id, sheet_total = race(factory, [prepare, approve])
    assert isinstance(run_id, int) and isinstance(sheet_total, int), (run_id, sheet_total)
    with factory() as session:
        assert session.get(Timesheet, ids["sheet"]).status == TimesheetStatus.approved
        line = session.exec(select(PaymentLine).where(PaymentLine.run_id == run_id, PaymentLine.provider_id == ids["provider"])).one()
        listed = session.exec(select(PaymentLineTimesheet).where(PaymentLineTimesheet.line_id == line.id)).all()
        # Either the approval came first (the line pays the earlier 500p and the sheet, and lists the sheet) or the
        # run did (the line pays the 500p and lists nothing; the sheet waits for the next run): never one without the other.
        assert line.amount_pence - 500 == sum(item.amount_pence for item in listed), (line.amount_pence, [(i.timesheet_id, i.amount_pence) for i in listed])
        assert line.amount_pence in (500, 500 + sheet_total)
