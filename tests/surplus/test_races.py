"""Clawbacks under real concurrency on PostgreSQL: approved once, decided once, one waiting per flag, and a review
closing the flag at the moment of approval leaves one consistent outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage.accounts.models import User
from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.errors import AlreadyDone, BrokerageError
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import JournalEntry
from brokerage.surplus import services
from brokerage.surplus.errors import BadClawbackMove, ClawbackPending, FlagClosed
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.surplus.review import review_council
from brokerage.surplus.rules import ClawbackStatus, FlagStatus
from tests.races import council_factory, race  # noqa: F401  (council_factory is the `factory` fixture)
from tests.surplus.support import TODAY, at, make_world, twelve_weeks

pytestmark = pytest.mark.postgres_only

TRIALS = 4
NOTICE_ENDS = TODAY + timedelta(days=28)


def _flagged(factory, freeze, *, propose: bool = True) -> dict:
    """Commit a council whose share is flagged and past its notice, with a clawback proposed by the first officer."""
    with factory() as session:
        sw = make_world(session)
        factory.councils += [sw.council.id, sw.other_council.id]
        twelve_weeks(session, sw, freeze)
        freeze(at(TODAY, 12))
        review_council(session=session, actor=sw.job, council_id=sw.council.id)
        flag = session.exec(select(SurplusFlag).where(SurplusFlag.council_id == sw.council.id)).one()
        freeze(at(NOTICE_ENDS, 9))
        ids = {"council": sw.council.id, "flag": flag.id, "officer": sw.officer.id, "second": sw.second_officer.id,
               "third": sw.third_officer.id, "job": sw.job.id, "membership": sw.membership.id}
        if propose:
            ids["clawback"] = services.propose_clawback(session=session, actor=sw.officer, flag_id=flag.id, amount_pence=5_000,
                                                        reason="Unspent").id
        session.commit()
    return ids


def _as(session, user_id: int) -> User:
    return session.get(User, user_id)


def _clawback_entries(session, council_id: int) -> list[JournalEntry]:
    return list(session.exec(select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.kind == EntryKind.clawback.value)))


def test_two_officers_approving_at_once_approve_once(factory, freeze_clock):
    for _ in range(TRIALS):
        ids = _flagged(factory, freeze_clock)
        results = race(factory, [
            lambda s, who=who: services.approve_clawback(session=s, actor=_as(s, who), clawback_id=ids["clawback"]).decided_by_id
            for who in (ids["second"], ids["third"])
        ])
        approved = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if isinstance(r, BrokerageError)]
        assert len(approved) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], BadClawbackMove) and "already decided" in refused[0].message
        with factory() as session:
            clawback = session.get(Clawback, ids["clawback"])
            assert (clawback.status, clawback.decided_by_id) == (ClawbackStatus.approved, approved[0])
            [entry] = _clawback_entries(session, ids["council"])
            assert entry.id == clawback.entry_id


def test_approving_and_rejecting_at_once_decide_once(factory, freeze_clock):
    for _ in range(TRIALS):
        ids = _flagged(factory, freeze_clock)
        results = race(factory, [
            lambda s: services.approve_clawback(session=s, actor=_as(s, ids["second"]), clawback_id=ids["clawback"]).status,
            lambda s: services.reject_clawback(session=s, actor=_as(s, ids["third"]), clawback_id=ids["clawback"]).status,
        ])
        decided = [r for r in results if isinstance(r, ClawbackStatus)]
        assert len(decided) == 1 and isinstance([r for r in results if r not in decided][0], BadClawbackMove), results
        with factory() as session:
            assert session.get(Clawback, ids["clawback"]).status == decided[0]
            assert len(_clawback_entries(session, ids["council"])) == (1 if decided[0] == ClawbackStatus.approved else 0)


def test_two_officers_proposing_at_once_leave_one_clawback_waiting(factory, freeze_clock):
    for _ in range(TRIALS):
        ids = _flagged(factory, freeze_clock, propose=False)
        results = race(factory, [
            lambda s, who=who: services.propose_clawback(session=s, actor=_as(s, who), flag_id=ids["flag"], amount_pence=1_000,
                                                         reason="Unspent").id
            for who in (ids["officer"], ids["second"])
        ])
        made = [r for r in results if isinstance(r, int)]
        assert len(made) == 1 and isinstance([r for r in results if r not in made][0], (ClawbackPending, AlreadyDone)), results
        with factory() as session:
            waiting = session.exec(select(Clawback).where(Clawback.flag_id == ids["flag"], Clawback.status == ClawbackStatus.proposed)).all()
            assert [c.id for c in waiting] == made


def test_a_review_closing_the_flag_while_an_officer_approves_leaves_one_consistent_outcome(factory, freeze_clock):
    for _ in range(TRIALS):
        ids = _flagged(factory, freeze_clock)
        with factory() as session:
            membership = session.get(Membership, ids["membership"])
            membership.status = MembershipStatus.leaving  # the member gave notice: the next review closes the flag
            session.add(membership)
            session.commit()
        results = race(factory, [
            lambda s: services.approve_clawback(session=s, actor=_as(s, ids["second"]), clawback_id=ids["clawback"]).status,
            lambda s: review_council(session=s, actor=_as(s, ids["job"]), council_id=ids["council"]).closed,
        ])
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, BrokerageError)], results
        with factory() as session:
            clawback = session.get(Clawback, ids["clawback"])
            flag = session.get(SurplusFlag, ids["flag"])
            entries = _clawback_entries(session, ids["council"])
            # Notice ends the flag at once: the approval is refused whichever runs first (the flag's member is on notice,
            # or the review already closed it and withdrew the clawback), and nothing is taken.
            assert flag.status == FlagStatus.closed
            assert clawback.status == ClawbackStatus.cancelled and entries == []
            assert isinstance(results[0], (FlagClosed, BadClawbackMove)) and results[1] == 1, results
