"""Approval and the week's hours hold when requests race on PostgreSQL: two approvers at once post once; two visits at once stay within the hours."""

from __future__ import annotations

from datetime import time

import pytest
from sqlmodel import select

from brokerage.accounts.models import User
from brokerage.ledger.models import JournalEntry
from brokerage.timesheets import approval, sheets
from brokerage.timesheets.errors import SheetNotOpen
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus
from brokerage.errors import ValidationFailed
from tests.races import new_council, race
from tests.timesheets.helpers import WEEK, factory_at_now, make_care, visit  # noqa: F401  (factory_at_now is the `factory` fixture)

pytestmark = pytest.mark.postgres_only

TRIALS = 4



def as_user(session, user_id: int) -> User:
    return session.get(User, user_id)


def test_two_approvers_at_once_post_the_weeks_care_once(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            care = make_care(session, council=council)
            sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
            sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=120))
            sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
            # A second broker: two people of the council press "approve" at the same moment.
            second = User(council_id=council.id, email=f"second-{council.id}@example.org", name="Second broker", role=care.broker.role,
                          password_hash=care.broker.password_hash)
            session.add(second)
            session.commit()
            sheet_id, deciders, council_id = sheet.id, [care.broker.id, second.id], council.id

        def approve(user_id):
            return lambda s: approval.approve(session=s, actor=as_user(s, user_id), timesheet_id=sheet_id).status

        results = race(factory, [approve(u) for u in deciders])
        assert sorted(type(r).__name__ for r in results) == ["SheetNotOpen", "TimesheetStatus"], results
        loser = next(r for r in results if isinstance(r, SheetNotOpen))
        assert "was already approved by" in loser.message
        with factory() as session:
            entries = session.exec(select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.kind == "care_cost")).all()
            assert len(entries) == 1
            assert session.get(Timesheet, sheet_id).status == TimesheetStatus.approved
            assert session.get(Timesheet, sheet_id).care_entry_id == entries[0].id


def test_two_visits_recorded_at_once_never_take_the_week_past_the_contracts_hours(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            care = make_care(session, council=council, hours=3)
            sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
            sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, minutes=60))
            session.commit()
            sheet_id, provider_user, holder_ids = sheet.id, care.provider_user.id, [h.id for h in care.holders]

        def add(holder_id, day):
            arguments = {**visit(type("H", (), {"id": holder_id}), day, minutes=90), "start": time(10)}
            return lambda s: sheets.add_visit(session=s, actor=as_user(s, provider_user), timesheet_id=sheet_id, **arguments).id

        results = race(factory, [add(holder_ids[1], 1), add(holder_ids[2], 2)])
        assert sum(isinstance(r, ValidationFailed) for r in results) == 1, results
        with factory() as session:
            minutes = sum(v.minutes for v in session.exec(select(Visit).where(Visit.timesheet_id == sheet_id)))
            assert minutes == 150


def test_a_carer_working_alone_is_never_booked_at_two_visits_at_once_from_two_of_their_sheets(factory):
    from brokerage.contracts.models import Contract

    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            care = make_care(session, council=council)
            care.provider.staff_count = 1
            second = Contract(council_id=council.id, provider_id=care.provider.id, cluster_id=care.cluster.id, service="companionship",
                              member_shares={str(care.holders[2].id): 1}, hours_per_week=5, rate_pence=1800, start_date=care.contract.start_date,
                              min_visit_minutes=60)
            session.add_all([care.provider, second])
            session.flush()
            first_sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
            second_sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=second.id, week=WEEK)
            session.commit()
            provider_user, plan = care.provider_user.id, [(first_sheet.id, care.holders[0].id), (second_sheet.id, care.holders[2].id)]

        def add(sheet_id, holder_id):
            arguments = {**visit(type("H", (), {"id": holder_id}), 0, minutes=60), "start": time(9)}
            return lambda s: sheets.add_visit(session=s, actor=as_user(s, provider_user), timesheet_id=sheet_id, **arguments).id

        results = race(factory, [add(sheet_id, holder_id) for sheet_id, holder_id in plan])
        refused = [r for r in results if isinstance(r, ValidationFailed)]
        assert len(refused) == 1 and "one carer working alone" in refused[0].errors["start"][0], results
        with factory() as session:
            visits = session.exec(select(Visit).where(Visit.timesheet_id.in_([sheet_id for sheet_id, _ in plan]))).all()
            assert len(visits) == 1
