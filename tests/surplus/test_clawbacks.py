"""Clawbacks, maker-checker: proposed by one officer once the notice has ended, approved or rejected by another,
posted once as pool share -> council funding, and refused without a trace when the share cannot cover it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.ledger.kinds import EntryKind, clawback_key
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import entry_postings, post_entry
from brokerage.surplus import services, settings
from brokerage.surplus.errors import (
    BadClawbackMove,
    ClawbackPending,
    FlagClosed,
    NoticeNotOver,
    NotYourProposal,
    SamePerson,
    ShareTooSmall,
)
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.surplus.review import review_council
from brokerage.surplus.rules import ClawbackStatus, FlagStatus
from tests.surplus.support import TODAY, at, make_world, spend, twelve_weeks

NOTICE_ENDS = TODAY + timedelta(days=28)


@pytest.fixture()
def sw(session):
    return make_world(session)


@pytest.fixture()
def flag(session, sw, freeze_clock) -> SurplusFlag:
    """A share flagged on TODAY for £80, with the clock at 9am on the day its notice ends."""
    twelve_weeks(session, sw, freeze_clock)
    freeze_clock(at(TODAY, 12))
    review_council(session=session, actor=sw.job, council_id=sw.council.id)
    flag = session.exec(select(SurplusFlag).where(SurplusFlag.council_id == sw.council.id)).one()
    freeze_clock(at(NOTICE_ENDS, 9))
    return flag


def propose(session, sw, flag, amount=5_000, who=None):
    return services.propose_clawback(session=session, actor=who or sw.officer, flag_id=flag.id, amount_pence=amount,
                                     reason="Unspent since December")


def clawback_entries(session, sw) -> list[JournalEntry]:
    return list(session.exec(select(JournalEntry).where(JournalEntry.council_id == sw.council.id, JournalEntry.kind == EntryKind.clawback.value)))


def test_a_clawback_cannot_be_proposed_before_the_members_notice_ends(session, sw, flag, freeze_clock):
    freeze_clock(at(NOTICE_ENDS - timedelta(days=1), 23))
    with pytest.raises(NoticeNotOver, match="from 30 March 2026, not before"):
        propose(session, sw, flag)
    assert session.exec(select(Clawback)).all() == []


def test_an_officer_proposes_a_clawback_once_the_notice_has_ended(session, sw, flag):
    clawback = propose(session, sw, flag)
    assert (clawback.status, clawback.amount_pence, clawback.proposed_by_id) == (ClawbackStatus.proposed, 5_000, sw.officer.id)
    assert (clawback.flag_id, clawback.cluster_id, clawback.holder_id, clawback.council_id) == (flag.id, sw.cluster.id, sw.holder.id, sw.council.id)
    assert clawback_entries(session, sw) == []  # nothing moves before a second officer approves


@pytest.mark.parametrize(("amount", "reason", "field"), [(8_001, "Unspent", "amount"), (0, "Unspent", "amount"), (None, "Unspent", "amount"),
                                                         (1_000, "  ", "reason")])
def test_a_proposal_is_refused_field_by_field(session, sw, flag, amount, reason, field):
    with pytest.raises(ValidationFailed) as refused:
        services.propose_clawback(session=session, actor=sw.officer, flag_id=flag.id, amount_pence=amount, reason=reason)
    assert list(refused.value.errors) == [field]


def test_one_clawback_waits_per_flag(session, sw, flag):
    propose(session, sw, flag)
    with pytest.raises(ClawbackPending):
        propose(session, sw, flag, who=sw.second_officer)


def test_only_council_officers_propose_and_another_councils_officer_finds_nothing(session, sw, flag):
    with pytest.raises(NotAllowed):
        propose(session, sw, flag, who=sw.broker)
    with pytest.raises(NotFound):
        propose(session, sw, flag, who=sw.other_officer)


def test_the_proposer_cannot_approve_or_reject_their_own_clawback(session, sw, flag):
    clawback = propose(session, sw, flag)
    with pytest.raises(SamePerson):
        services.approve_clawback(session=session, actor=sw.officer, clawback_id=clawback.id)
    with pytest.raises(SamePerson):
        services.reject_clawback(session=session, actor=sw.officer, clawback_id=clawback.id)
    session.refresh(clawback)
    assert clawback.status == ClawbackStatus.proposed and clawback_entries(session, sw) == []


def test_the_database_refuses_a_clawback_decided_by_its_proposer(session, sw, flag):
    clawback = propose(session, sw, flag)
    with pytest.raises(IntegrityError, match="ck_surplus_clawback_four_eyes"):
        with session.begin_nested():
            session.execute(update(Clawback).where(Clawback.id == clawback.id).values(decided_by_id=sw.officer.id))


def test_approval_by_a_second_officer_posts_share_to_funding_once_with_the_clawback_key(session, sw, flag):
    before = sw.balance(session)
    clawback = propose(session, sw, flag)

    approved = services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)

    [entry] = clawback_entries(session, sw)
    assert entry.idempotency_key == clawback_key(clawback_id=clawback.id) == f"clawback:{clawback.id}"
    assert sorted(entry_postings(session=session, entry_id=entry.id)) == sorted([(sw.share, -5_000), (sw.funding, 5_000)])
    assert entry.actor_id == sw.second_officer.id
    assert (approved.status, approved.decided_by_id, approved.entry_id) == (ClawbackStatus.approved, sw.second_officer.id, entry.id)
    assert sw.balance(session) == before - 5_000
    session.refresh(flag)
    assert flag.status == FlagStatus.closed and flag.closed_reason == "£50.00 was taken back on 30 March 2026."


def test_approving_again_is_refused_and_posting_the_same_entry_again_returns_the_first(session, sw, flag):
    clawback = propose(session, sw, flag)
    services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    with pytest.raises(BadClawbackMove, match="already decided"):
        services.approve_clawback(session=session, actor=sw.third_officer, clawback_id=clawback.id)
    [entry] = clawback_entries(session, sw)
    again = post_entry(session=session, actor=sw.second_officer, council_id=sw.council.id, kind=EntryKind.clawback,
                       postings=[(sw.share, -5_000), (sw.funding, 5_000)], idempotency_key=clawback_key(clawback_id=clawback.id),
                       memo=services.MEMO)
    assert again.id == entry.id and len(clawback_entries(session, sw)) == 1


def test_approval_is_refused_and_changes_nothing_when_the_share_no_longer_holds_the_amount(session, sw, flag, freeze_clock):
    clawback = propose(session, sw, flag, amount=8_000)
    spend(session, sw, freeze_clock, NOTICE_ENDS, 20_000, "care-big")  # £40 left, no review since
    left = sw.balance(session)

    with pytest.raises(ShareTooSmall) as refused:
        services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)

    assert refused.value.message.startswith(
        "Amina Hassan's share of Somali elders of Whitechapel now holds £40.00, less than the £80.00 this clawback would take."
    )
    assert "pool:" not in refused.value.message
    session.refresh(clawback)
    session.refresh(flag)
    assert (clawback.status, clawback.entry_id, clawback.decided_by_id) == (ClawbackStatus.proposed, None, None)
    assert flag.status == FlagStatus.open and sw.balance(session) == left and clawback_entries(session, sw) == []


def test_the_ledger_refuses_a_clawback_when_care_takes_the_money_between_the_checks_and_the_posting(
    session, sw, flag, freeze_clock, monkeypatch,
):
    clawback = propose(session, sw, flag, amount=8_000)
    real_post = services.post_entry

    def care_approved_at_the_same_moment(**kwargs):
        spend(session, sw, freeze_clock, NOTICE_ENDS, 20_000, "care-meanwhile")
        return real_post(**kwargs)

    monkeypatch.setattr(services, "post_entry", care_approved_at_the_same_moment)
    with pytest.raises(ShareTooSmall, match="now holds £40.00, less than the £80.00"):
        services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    session.refresh(clawback)
    session.refresh(flag)
    assert (clawback.status, clawback.entry_id) == (ClawbackStatus.proposed, None)
    assert flag.status == FlagStatus.open and sw.balance(session) == 4_000 and clawback_entries(session, sw) == []


def test_approval_applies_the_rule_to_the_share_as_it_is_now(session, sw, flag, freeze_clock):
    # £150 of care since the review, which has not run again: only £10 of the share is still more than eight weeks old.
    clawback = propose(session, sw, flag, amount=8_000)
    spend(session, sw, freeze_clock, NOTICE_ENDS, 15_000, "care-today")
    with pytest.raises(ShareTooSmall, match="fell to £10.00, less than the £80.00 proposed"):
        services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    assert clawback_entries(session, sw) == []


def test_a_change_of_rule_stops_an_approval_under_the_old_rule(session, sw, flag):
    clawback = propose(session, sw, flag)
    settings.set_rule(session=session, actor=sw.third_officer, kind="above_pledges", weeks=8, multiple=8, notice_days=28)
    with pytest.raises(FlagClosed, match="changed its surplus rule"):
        services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    assert clawback_entries(session, sw) == []


def test_approval_is_refused_when_the_unspent_amount_fell_below_the_proposal(session, sw, flag, freeze_clock):
    clawback = propose(session, sw, flag, amount=8_000)
    spend(session, sw, freeze_clock, NOTICE_ENDS, 15_000, "care-small")  # £90 left, of which £10 is old
    freeze_clock(at(NOTICE_ENDS, 18))
    review_council(session=session, actor=sw.job, council_id=sw.council.id)
    session.refresh(flag)
    assert flag.amount_pence == 1_000 and sw.balance(session) >= 8_000
    with pytest.raises(ShareTooSmall, match="fell to"):
        services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    assert clawback_entries(session, sw) == []


def test_a_second_officer_rejects_and_nothing_is_taken(session, sw, flag):
    clawback = propose(session, sw, flag)
    rejected = services.reject_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id, note="Talk to the group first")
    assert (rejected.status, rejected.decided_by_id, rejected.note) == (ClawbackStatus.rejected, sw.second_officer.id, "Talk to the group first")
    session.refresh(flag)
    assert flag.status == FlagStatus.open and clawback_entries(session, sw) == []
    with pytest.raises(BadClawbackMove):
        services.approve_clawback(session=session, actor=sw.third_officer, clawback_id=clawback.id)
    # The flag can carry a new proposal once the old one is decided.
    assert propose(session, sw, flag, who=sw.third_officer).status == ClawbackStatus.proposed


def test_only_the_proposer_withdraws(session, sw, flag):
    clawback = propose(session, sw, flag)
    with pytest.raises(NotYourProposal):
        services.withdraw_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    withdrawn = services.withdraw_clawback(session=session, actor=sw.officer, clawback_id=clawback.id)
    assert (withdrawn.status, withdrawn.cancelled_by_id, withdrawn.decided_by_id) == (ClawbackStatus.cancelled, sw.officer.id, None)


def test_nothing_is_taken_under_a_closed_flag(session, sw, flag, freeze_clock):
    clawback = propose(session, sw, flag)
    services.approve_clawback(session=session, actor=sw.second_officer, clawback_id=clawback.id)
    with pytest.raises(FlagClosed):
        propose(session, sw, flag, who=sw.third_officer)


def test_another_councils_officer_cannot_decide_a_clawback(session, sw, flag):
    clawback = propose(session, sw, flag)
    for decide in (services.approve_clawback, services.reject_clawback, services.withdraw_clawback):
        with pytest.raises(NotFound):
            decide(session=session, actor=sw.other_officer, clawback_id=clawback.id)
    with pytest.raises(NotAllowed):
        services.approve_clawback(session=session, actor=sw.broker, clawback_id=clawback.id)


def test_the_clawbacks_waiting_for_an_officer_are_those_another_officer_proposed(session, sw, flag):
    clawback = propose(session, sw, flag)
    assert services.clawbacks_waiting(session=session, actor=sw.officer) == []
    [row] = services.clawbacks_waiting(session=session, actor=sw.second_officer)
    assert (row.clawback.id, row.holder_name, row.group_name, row.proposed_by) == (
        clawback.id, "Amina Hassan", "Somali elders of Whitechapel", "Olu Officer")
    assert services.clawbacks_waiting(session=session, actor=sw.broker) == []
    assert services.clawbacks_waiting(session=session, actor=sw.other_officer) == []
