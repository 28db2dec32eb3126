"""A leaver's pool share pays for the care of their notice: settlement waits for those timesheets (review finding 2)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from brokerage.accounts.system import system_actor
from brokerage.clusters import leaver_holds
from brokerage.clusters.membership import settle_leavers
from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.contracts.rules import AllocationRule
from brokerage.errors import ValidationFailed
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import balance
from brokerage.timesheets import approval, sheets
from brokerage.timesheets.leavers import SHEET_GRACE_DAYS
from tests.timesheets.helpers import NOW, WEEK, make_care, visit

LAST_DAY = date(2026, 12, 6)  # Sunday, the last day of the week of 30 November


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def leaving(session, care, who=0, last_day=LAST_DAY):
    m = session.exec(select(Membership).where(Membership.holder_id == care.holders[who].id, Membership.cluster_id == care.cluster.id)).one()
    m.status, m.notice_date, m.leaves_on = MembershipStatus.leaving, date(2026, 11, 8), last_day
    session.add(m)
    session.flush()
    return m


def settle(session, care, today=None):
    return settle_leavers(session=session, actor=system_actor(session=session, council_id=care.council.id), council_id=care.council.id, today=today)


def share(session, care, who=0):
    job = system_actor(session=session, council_id=care.council.id)
    return balance(session=session, actor=job, council_id=care.council.id, code=ledger_rules.pool_code(care.cluster.id, care.holders[who].id))


def sent(session, care, visits, week=WEEK):
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=week)
    for v in visits:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **v)
    return sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def test_a_leavers_last_week_is_paid_and_then_only_whats_left_is_returned(session):
    care = make_care(session)
    m = leaving(session, care)
    sheet = sent(session, care, [visit(care.holders[0], 1, minutes=120)])
    # The daily settle run (Wednesday 9 December) comes before the broker gets to the sheet: the share waits.
    result = settle(session, care)
    assert result.done == [] and result.waiting == ["Amina Hassan leaving Riverside neighbours: waiting for the last timesheets"]
    assert session.get(Membership, m.id).status == MembershipStatus.leaving and share(session, care) == 50_000
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert share(session, care) == 50_000 - 4300
    result = settle(session, care)
    assert [(done.id, pence) for done, pence in result.done] == [(m.id, 45_700)] and result.waiting == []
    assert share(session, care) == 0 and session.get(Membership, m.id).status == MembershipStatus.left
    refund = session.exec(select(JournalEntry).where(JournalEntry.kind == "member_left")).one()
    assert refund.idempotency_key == kinds.member_left_key(membership_id=m.id)  # the key names the tenure
    again = settle(session, care)
    assert again.done == [] and again.waiting == []
    assert len(session.exec(select(JournalEntry).where(JournalEntry.kind == "member_left")).all()) == 1


def test_a_sheet_sent_back_no_longer_holds_the_share(session):
    care = make_care(session)
    m = leaving(session, care)
    sheet = sent(session, care, [visit(care.holders[0], 1)])
    approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Wrong day")
    result = settle(session, care)
    assert [done.id for done, _ in result.done] == [m.id]
    # Sent again after the share was returned: the visit to the leaver is refused, not paid from a share that is gone.
    with pytest.raises(ValidationFailed, match="Amina Hassan"):
        sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def test_a_draft_sheet_of_the_notice_holds_the_share_too(session):
    care = make_care(session)
    leaving(session, care)
    sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    assert settle(session, care).waiting and share(session, care) == 50_000


def test_a_week_of_the_notice_with_no_sheet_holds_the_share_for_a_while_only(session):
    care = make_care(session)
    m = leaving(session, care)
    assert settle(session, care).waiting  # the provider has not started the last week yet
    late = date.fromordinal(LAST_DAY.toordinal() + SHEET_GRACE_DAYS + 1)
    result = settle(session, care, today=late)
    assert [done.id for done, _ in result.done] == [m.id] and share(session, care) == 0


def test_a_sheet_of_a_week_after_the_leaving_day_does_not_hold_it(session, freeze_clock):
    freeze_clock(datetime(2026, 12, 16, 10, 0, tzinfo=timezone.utc))
    care = make_care(session)
    m = leaving(session, care, last_day=date(2026, 11, 29))  # left before the contract's first week
    sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    assert [done.id for done, _ in settle(session, care).done] == [m.id]


def test_a_visit_after_the_leaving_day_is_refused_and_the_week_is_shared_without_them(session, freeze_clock):
    freeze_clock(datetime(2026, 12, 16, 10, 0, tzinfo=timezone.utc))
    care = make_care(session, rule=AllocationRule.equal)
    leaving(session, care, last_day=date(2026, 12, 2))  # Wednesday of the week of 30 November
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 3))
    assert "left the group after Wednesday 2 December 2026" in refused.value.errors["visit_date"][0]
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 2))  # their last day
    sent_sheet = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert set(sent_sheet.parts) == {str(h.id) for h in care.holders}  # they were in the group that week
    later = sent(session, care, [visit(care.holders[1], 7)], week="2026-W50")
    assert set(later.parts) == {str(care.holders[1].id), str(care.holders[2].id)}  # not the week after they left


def test_every_registered_hold_is_asked_and_none_holds_nobody(session, monkeypatch):
    care = make_care(session)
    m = leaving(session, care, last_day=date(2026, 11, 29))
    monkeypatch.setattr(leaver_holds, "_HOLDS", dict(leaver_holds._HOLDS))
    leaver_holds.register_hold("test", lambda *, session, membership, today: "waiting for the test")
    with pytest.raises(ValueError):
        leaver_holds.register_hold("test", lambda *, session, membership, today: None)
    assert settle(session, care).waiting == ["Amina Hassan leaving Riverside neighbours: waiting for the test"]
    monkeypatch.setattr(leaver_holds, "_HOLDS", {})
    assert [done.id for done, _ in settle(session, care).done] == [m.id]
