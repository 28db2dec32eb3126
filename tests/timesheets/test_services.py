"""Recording visits, submitting, approving and sending back: every refusal posts nothing and changes nothing."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import text
from sqlmodel import select

from brokerage.clusters.models import Membership
from brokerage.contracts.rules import AllocationRule
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import balance, entry_postings
from brokerage.timesheets import approval, sheets
from brokerage.timesheets.errors import SheetNotOpen, ShareTooSmall
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import BadTimesheetMove, TimesheetStatus
from tests import factories as f
from tests.timesheets.helpers import NOW, WEEK, care_entries, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


@pytest.fixture()
def care(session):
    return make_care(session)


def started(session, care, week=WEEK):
    return sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=week)


def submitted(session, care, visits):
    sheet = started(session, care)
    for v in visits:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **v)
    return sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def snapshot(session, care):
    """Return everything a refusal must leave alone: the sheet rows, the visits and the ledger's entries and balances."""
    session.flush()
    rows = {}
    for table in ("timesheet", "visit", "journal_entry", "posting", "ledger_account"):
        rows[table] = sorted(session.execute(text(f"SELECT * FROM {table} WHERE council_id = :c"), {"c": care.council.id}).all(), key=repr)
    return rows


def test_a_provider_records_a_week_submits_it_and_the_broker_approves_with_one_balanced_entry(session, care):
    a, b, c = care.holders
    sheet = submitted(session, care, [visit(a, 0, minutes=90), visit(a, 2, minutes=60), visit(b, 1, minutes=90)])
    assert sheet.status == TimesheetStatus.submitted
    # 4 hours at £21.50 = £86.00
    assert sheet.total_pence == 8600
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert approved.status == TimesheetStatus.approved and approved.decided_by_id == care.broker.id
    (entry,) = care_entries(session, care.council.id)
    assert approved.care_entry_id == entry.id and entry.idempotency_key == f"care:{care.contract.id}:{WEEK}"
    postings = dict(entry_postings(session=session, entry_id=entry.id))
    assert sum(postings.values()) == 0
    # By hours: Amina 150 minutes, Bob 90 of 240; Chen had no visit and pays nothing.
    assert postings == {
        ledger_rules.pool_code(care.cluster.id, a.id): -5375, ledger_rules.pool_code(care.cluster.id, b.id): -3225,
        ledger_rules.payable_code(care.provider.id): 8600,
    }
    assert balance(session=session, actor=care.broker, council_id=care.council.id, code=ledger_rules.payable_code(care.provider.id)) == 8600


@pytest.mark.parametrize(("rule", "parts"), [
    (AllocationRule.equal, [2867, 2867, 2866]),
    (AllocationRule.by_pledge, [4300, 2867, 1433]),
])
def test_approval_splits_by_the_contracts_rule_with_largest_remainder(session, rule, parts):
    care = make_care(session, rule=rule)
    a, b, _ = care.holders
    sheet = submitted(session, care, [visit(a, 0, minutes=120), visit(b, 1, minutes=120)])
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    (entry,) = care_entries(session, care.council.id)
    postings = dict(entry_postings(session=session, entry_id=entry.id))
    assert [-postings[ledger_rules.pool_code(care.cluster.id, h.id)] for h in care.holders] == parts
    assert postings[ledger_rules.payable_code(care.provider.id)] == 8600 == sum(parts)


def test_travel_is_paid_only_where_the_provider_keeps_the_ethical_care_charter(session):
    kept = make_care(session, charter=True)
    sheet = submitted(session, kept, [visit(kept.holders[0], 0, minutes=60, travel=45)])
    # 60 + 45 paid minutes at £21.50 = £37.625 → £37.63
    assert sheet.total_pence == 3763 and sheet.travel_paid
    council = f.CouncilFactory(session=session)
    not_kept = make_care(session, council=council, charter=False)
    sheet = submitted(session, not_kept, [visit(not_kept.holders[0], 0, minutes=60, travel=45)])
    assert sheet.total_pence == 2150 and not sheet.travel_paid
    assert session.get(Visit, session.exec(select(Visit.id).where(Visit.timesheet_id == sheet.id)).one()).travel_minutes == 45


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"minutes": 45}, "minutes", "at least 1 hour"),
    ({"minutes": 30}, "minutes", "does not pay for rushed short visits"),
    ({"day_offset": 7}, "visit_date", "Choose a day in the week of 30 November 2026"),
    ({"day_offset": -1}, "visit_date", "Choose a day in the week"),
])
def test_a_visit_the_contract_or_week_does_not_allow_is_refused_beside_its_field_and_nothing_changes(session, care, changes, field, words):
    sheet = started(session, care)
    before = snapshot(session, care)
    arguments = visit(care.holders[0], changes.pop("day_offset", 0), **changes)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **arguments)
    assert field in refused.value.errors and words in refused.value.errors[field][0]
    assert snapshot(session, care) == before


def test_a_member_the_contract_does_not_serve_is_refused(session, care):
    sheet = started(session, care)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(session.get(type(care.holders[0]), care.outsider.holder_id)))
    assert refused.value.errors["holder_id"] == ["Choose a member this contract serves"]
    assert session.exec(select(Visit)).all() == []


def test_hours_beyond_the_contracts_week_are_refused(session, care):
    sheet = started(session, care)
    for day in range(4):
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[day % 3], day, minutes=150))
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 4, minutes=60))
    assert refused.value.errors["minutes"] == ["This visit would make the week's care 11 hours, more than the contract's 10 hours a week"]
    assert len(session.exec(select(Visit)).all()) == 4


def test_a_visit_before_the_contract_starts_or_after_it_ends_is_refused(session):
    from datetime import date

    care = make_care(session, end=date(2026, 12, 2))
    sheet = started(session, care)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 3))
    assert refused.value.errors["visit_date"] == ["The contract ended on Wednesday 2 December 2026: a visit after then is not under this contract"]
    with pytest.raises(ValidationFailed, match="Check"):
        started(session, care, week="2026-W48")


def test_overlapping_visits_to_one_member_are_refused(session, care):
    sheet = started(session, care)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, start=time(9, 0), minutes=90))
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, start=time(10, 0)))
    assert "overlaps the visit to Amina Hassan at 9am" in refused.value.errors["start"][0]


def test_a_share_that_cannot_cover_its_part_is_refused_naming_the_member_and_nothing_is_posted(session):
    care = make_care(session, fund=(1200, 50_000, 50_000))
    sheet = submitted(session, care, [visit(care.holders[0], 0, minutes=120)])
    before = snapshot(session, care)
    with pytest.raises(ShareTooSmall) as refused:
        approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert refused.value.message.startswith("Amina Hassan's share of the pool has £12.00; their part is £43.00.")
    assert snapshot(session, care) == before
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.submitted


def test_the_ledgers_overdraft_error_becomes_the_same_plain_message(session, monkeypatch):
    care = make_care(session, fund=(1200, 50_000, 50_000))
    sheet = submitted(session, care, [visit(care.holders[0], 0, minutes=120)])
    # As if another approval emptied the share between the check and the post.
    monkeypatch.setattr(approval, "_shortfalls", lambda *args, _calls=[]: (_calls.append(1), [] if len(_calls) == 1 else ["Amina Hassan's share…"])[1])
    with pytest.raises(ShareTooSmall, match="Amina Hassan's share"):
        approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert care_entries(session, care.council.id) == []


def test_a_rejected_sheet_needs_a_reason_is_corrected_and_resubmitted_then_approved(session, care):
    a = care.holders[0]
    sheet = submitted(session, care, [visit(a, 0, minutes=120)])
    with pytest.raises(ValidationFailed) as refused:
        approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="   ")
    assert "reason" in refused.value.errors
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.submitted
    # Nothing can change while it waits.
    with pytest.raises(SheetNotOpen):
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(a, 1))
    approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Tuesday's visit is missing")
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.rejected
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(a, 1))
    resent = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert resent.status == TimesheetStatus.submitted and resent.total_pence == 6450
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert len(care_entries(session, care.council.id)) == 1


def test_approved_is_final(session, care):
    sheet = submitted(session, care, [visit(care.holders[0], 0)])
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    visit_id = session.exec(select(Visit.id)).one()
    for attempt in (
        lambda: approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id),
        lambda: approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Late"),
        lambda: sheets.remove_visit(session=session, actor=care.provider_user, visit_id=visit_id),
        lambda: sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id),
    ):
        with pytest.raises((SheetNotOpen, BadTimesheetMove)):
            attempt()
    assert len(care_entries(session, care.council.id)) == 1


def test_a_stale_decision_says_who_decided_the_sheet_and_when_not_the_approve_words(session, care):
    sheet = submitted(session, care, [visit(care.holders[0], 0)])
    colleague = f.UserFactory(session=session, role=care.broker.role, council_id=care.council.id, name="Femi Adeyemi")
    approval.approve(session=session, actor=colleague, timesheet_id=sheet.id)
    # NOW is 10:00 UTC on 9 December 2026: 10am in England.
    with pytest.raises(SheetNotOpen) as refused:
        approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Late")
    assert refused.value.message == (
        "This timesheet was approved by Femi Adeyemi on 9 December 2026 at 10am, so it can no longer be sent back. "
        "If something in it is wrong, contact the council: an approved week cannot be changed here.")
    with pytest.raises(SheetNotOpen, match="^This timesheet was already approved by Femi Adeyemi on 9 December 2026 at 10am, so its cost was not taken"):
        approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)


def test_a_sheet_sent_back_says_so_to_a_stale_approve_or_send_back(session, care):
    sheet = submitted(session, care, [visit(care.holders[0], 0)])
    approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Tuesday is missing")
    with pytest.raises(SheetNotOpen) as refused:
        approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    assert refused.value.message == (
        "This timesheet was sent back to the provider by you on 9 December 2026 at 10am, so it cannot be approved now. "
        "It waits for approval again once the provider corrects it and sends it again.")
    with pytest.raises(SheetNotOpen, match="^This timesheet was already sent back to the provider by you on 9 December 2026 at 10am, so it was not sent back again.$"):
        approval.reject(session=session, actor=care.broker, timesheet_id=sheet.id, reason="Again")
    assert session.get(Timesheet, sheet.id).rejection_reason == "Tuesday is missing"
    assert care_entries(session, care.council.id) == []


def test_an_empty_sheet_cannot_be_sent(session, care):
    sheet = started(session, care)
    with pytest.raises(SheetNotOpen, match="at least one visit"):
        sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def test_only_the_broker_or_the_chosen_approver_decides_and_others_see_nothing_or_are_refused(session, care):
    sheet = submitted(session, care, [visit(care.holders[0], 0)])
    for someone in (care.users[0], care.officer, care.provider_user):
        with pytest.raises(NotAllowed):
            approval.approve(session=session, actor=someone, timesheet_id=sheet.id)
    for stranger in (care.outsider, care.other_provider_user):
        with pytest.raises(NotFound):
            approval.approve(session=session, actor=stranger, timesheet_id=sheet.id)
    other = make_care(session, council=None)
    with pytest.raises(NotFound):
        approval.approve(session=session, actor=other.broker, timesheet_id=sheet.id)
    with pytest.raises(NotFound):
        sheets.add_visit(session=session, actor=other.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 1))
    assert care_entries(session, care.council.id) == []


def test_starting_a_week_twice_gives_the_same_sheet_and_a_future_week_is_refused(session, care):
    assert started(session, care).id == started(session, care).id
    with pytest.raises(ValidationFailed) as refused:
        started(session, care, week="2026-W51")
    assert refused.value.errors["week"] == ["The week of 14 December 2026 has not begun yet"]
    with pytest.raises(ValidationFailed):
        started(session, care, week="2026-W5")


def test_a_member_who_left_is_still_a_member_the_contract_serves_but_pledges_nothing(session):
    care = make_care(session, rule=AllocationRule.by_pledge)
    membership = session.exec(select(Membership).where(Membership.holder_id == care.holders[2].id)).one()
    membership.weekly_pledge_pence = 0
    session.add(membership)
    sheet = submitted(session, care, [visit(care.holders[0], 0, minutes=120)])
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    (entry,) = care_entries(session, care.council.id)
    assert ledger_rules.pool_code(care.cluster.id, care.holders[2].id) not in dict(entry_postings(session=session, entry_id=entry.id))


def test_approved_sheets_lists_a_providers_approved_weeks_with_their_visits_for_remittances(session, care):
    from brokerage.timesheets.queries import approved_sheets

    a, b, _ = care.holders
    sheet = submitted(session, care, [visit(b, 1, minutes=60), visit(a, 0, minutes=90)])
    assert approved_sheets(session=session, provider_id=care.provider.id) == []
    approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
    (found,) = approved_sheets(session=session, provider_id=care.provider.id)
    assert (found.sheet.id, found.contract.id, found.group) == (sheet.id, care.contract.id, "Riverside neighbours")
    assert [(line.member, line.visit.minutes) for line in found.visits] == [("Amina Hassan", 90), ("Bob Jones", 60)]
    assert approved_sheets(session=session, provider_id=care.provider.id, ids=[]) == []
    assert approved_sheets(session=session, provider_id=care.provider.id, ids=[sheet.id])[0].sheet.id == sheet.id
    assert approved_sheets(session=session, provider_id=care.other_provider_user.provider_id) == []


def test_a_visit_that_has_not_ended_yet_today_is_refused(session, care, freeze_clock):
    from datetime import datetime, timezone

    freeze_clock(datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc))  # Wednesday 10am in London
    sheet = started(session, care)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 2, start=time(9, 30)))
    assert refused.value.errors["start"] == ["Record a visit once it has happened: this one ends at 10:30am today"]
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 2, start=time(9, 0)))


def test_a_week_is_sent_only_once_it_is_over_and_the_page_says_from_when(session, care, freeze_clock, app):
    from datetime import datetime, timezone

    from brokerage.timesheets.pages import sheet_page

    freeze_clock(datetime(2026, 12, 6, 18, 0, tzinfo=timezone.utc))  # Sunday evening: the week's last day
    sheet = started(session, care)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0))
    with pytest.raises(SheetNotOpen, match="You can send this timesheet from Monday 7 December 2026, once the week of 30 November 2026 is over"):
        sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    page = sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert not page.may_send and page.sendable_from.isoformat() == "2026-12-07"
    assert sheet.status == TimesheetStatus.draft
    freeze_clock(datetime(2026, 12, 7, 0, 5, tzinfo=timezone.utc))  # Monday, just after midnight
    assert sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id).status == TimesheetStatus.submitted


def test_a_contract_that_ends_mid_week_is_sent_the_day_after_it_ends(session, freeze_clock):
    from datetime import date, datetime, timezone

    care = make_care(session, end=date(2026, 12, 2))
    freeze_clock(datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc))  # Thursday
    sheet = started(session, care)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0))
    assert sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id).status == TimesheetStatus.submitted


def test_a_visit_running_past_midnight_overlaps_the_next_mornings_visit_to_the_same_member(session, care):
    care.provider.staff_count = 3
    sheet = started(session, care)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, start=time(23, 0), minutes=120))
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 1, start=time(0, 30)))
    assert "overlaps the visit to Amina Hassan at 11pm on Monday 30 November 2026" in refused.value.errors["start"][0]


def test_a_personal_assistant_working_alone_cannot_record_two_members_at_once_on_any_of_their_sheets(session, care):
    from brokerage.contracts.models import Contract

    care.provider.staff_count = 1
    sheet = started(session, care)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], 0, start=time(9, 0)))
    before = snapshot(session, care)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[1], 0, start=time(9, 30)))
    assert refused.value.errors["start"] == [
        "This visit overlaps the visit to Amina Hassan at 9am on Monday 30 November 2026: one carer working alone cannot be at two visits at once"]
    assert snapshot(session, care) == before
    # ...nor on the sheet of another contract of theirs.
    second = Contract(council_id=care.council.id, provider_id=care.provider.id, cluster_id=care.cluster.id, service="companionship",
                      member_shares={str(care.holders[2].id): 1}, hours_per_week=5, rate_pence=1800, start_date=care.contract.start_date,
                      min_visit_minutes=60)
    session.add(second)
    session.flush()
    other_sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=second.id, week=WEEK)
    with pytest.raises(ValidationFailed) as refused:
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=other_sheet.id, **visit(care.holders[2], 0, start=time(8, 30)))
    assert "one carer working alone" in refused.value.errors["start"][0]
    assert session.exec(select(Visit).where(Visit.timesheet_id == other_sheet.id)).all() == []
    # Changing the visit itself never clashes with what it was.
    first = session.exec(select(Visit).where(Visit.timesheet_id == sheet.id)).one()
    sheets.change_visit(session=session, actor=care.provider_user, visit_id=first.id, **visit(care.holders[0], 0, start=time(9, 15)))
    # A co-op with two carers may be at both.
    care.provider.staff_count = 2
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[1], 0, start=time(9, 30)))
