"""Sending a run, changing contracts and deciding votes beside one another never deadlock, nor miss care (PostgreSQL).

Send covers several providers, and so does a batch of decisions; each locked its providers' rows in its own order
(send by id, the batch in proposal order, a match passing by inserting a contract for each part), so two of them
could each hold a provider the other waited for. The council's providers' hours are one lock now
(`brokerage.locks.lock_provider_hours`).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.clusters import governance
from brokerage.clusters.models import Cluster, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.contracts import changes
from brokerage.contracts.models import Contract
from brokerage.locks import lock_rows
from brokerage.matching import decisions, services
from brokerage.matching.models import DemandLine, MatchAssignment, MatchRun
from brokerage.matching.rules import AssignmentStatus
from brokerage.types import utcnow
from tests import factories as f
from tests.races import contract_change, council_factory, council_with_broker, pause_after_select, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def _a_run_with_parts_from_two_providers(factory, *, changes_the_other_way: bool):
    """Return (broker id, run id, provider ids, change proposal ids): a run's group gets an hour from each of two
    providers; with `changes_the_other_way`, two other groups' contract changes give the second provider's hours, then the first's."""
    with factory() as session:
        council, broker = council_with_broker(session, factory)
        providers = [f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"],
                                       slot_hours={"mon_am": 12, "thu_am": 12}, capacity_hours=None) for _ in range(2)]
        matched = f.ClusterFactory(session=session, council_id=council.id)
        session.flush()
        proposal_ids = []
        if changes_the_other_way:
            for provider in reversed(providers):
                cluster = f.ClusterFactory(session=session, council_id=council.id)
                session.flush()
                proposal_ids.append(contract_change(session, council.id, cluster, provider).id)
        run = MatchRun(council_id=council.id, lines=1, suppliers=2, demanded_hours=2, covered_hours=2)
        line = DemandLine(council_id=council.id, cluster_id=matched.id, service="home_care", hours=2, slot_hours={"thu_am": 2},
                          slots=["thu_am"], lat=51.5, lon=-0.05, max_rate_pence=2500)
        session.add_all([run, line])
        session.flush()
        for provider in providers:
            session.add(MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=matched.id, provider_id=provider.id,
                                        hours=1, solver_hours=1, rate_pence=2200, distance_km=1.0, explanation="Thursday morning (1 hour).",
                                        slot_hours={"thu_am": 1}, status=AssignmentStatus.proposed))
        session.commit()
        return broker.id, run.id, [p.id for p in providers], proposal_ids


def _send(broker_id, run_id):
    def job(session):
        time.sleep(0.2)  # the other transaction takes its first provider first
        return len(services.send_to_clusters(session=session, actor=session.get(User, broker_id), run_id=run_id).proposals)
    return job


def test_sending_beside_a_batch_of_changes_giving_its_providers_hours_in_the_other_order_does_not_deadlock(factory):
    broker_id, run_id, _, proposal_ids = _a_run_with_parts_from_two_providers(factory, changes_the_other_way=True)

    def close_due(session):
        # As governance.close_due_proposals: every group, every proposal, then each applied in proposal order.
        proposals = [session.get(Proposal, i) for i in proposal_ids]
        lock_rows(session, Cluster, [p.cluster_id for p in proposals])
        lock_rows(session, Proposal, proposal_ids)
        made = [changes.apply_change(session=session, proposal=proposals[0], actor=session.get(User, broker_id))]
        time.sleep(0.6)  # send meanwhile waits for what this holds
        made.append(changes.apply_change(session=session, proposal=proposals[1], actor=session.get(User, broker_id)))
        return made

    sent, made = race(factory, [_send(broker_id, run_id), close_due])
    assert made == ["The change to the care is made."] * 2 and sent == 1, (sent, made)


def test_sending_beside_a_match_passing_that_makes_contracts_with_its_providers_in_the_other_order_does_not_deadlock(factory):
    # A passed match makes a contract for each part (matching.decisions.contracts_from_match): each insert takes a
    # key-share lock on its provider's row, which locking that row for update waited for.
    broker_id, run_id, provider_ids, _ = _a_run_with_parts_from_two_providers(factory, changes_the_other_way=False)

    def contracts_from_a_match(session):
        cluster = f.ClusterFactory(session=session, council_id=session.get(MatchRun, run_id).council_id)
        session.flush()
        for provider_id in reversed(provider_ids):
            session.add(Contract(council_id=cluster.council_id, provider_id=provider_id, cluster_id=cluster.id, service="home_care", hours_per_week=1,
                                 rate_pence=2_200, start_date=date(2026, 11, 2), member_shares={"1": 1}, slot_hours={"mon_am": 1}))
            session.flush()
            time.sleep(0.6)  # send meanwhile locks what it locks
        return "made"

    sent, made = race(factory, [_send(broker_id, run_id), contracts_from_a_match])
    assert (sent, made) == (1, "made"), (sent, made)


def _a_batch_and_a_vote_sharing_a_holder(factory):
    """Return ids: group Y has two due proposals (a contract change, then a change of its member's pledge), each with the
    member's yes; the same member is about to vote on group X's contract change, which gives another provider's hours."""
    with factory() as session:
        council, broker = council_with_broker(session, factory)
        holder = f.HolderFactory(session=session, council_id=council.id)
        user = f.UserFactory(session=session, council_id=council.id, role=Role.holder, holder_id=holder.id)
        # Two providers: each contract change gives a different provider's hours (no shared provider row).
        providers = [f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"],
                                       slot_hours={"mon_am": 12, "thu_am": 12}, capacity_hours=None) for _ in range(2)]
        y = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        x = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        my = f.MembershipFactory(session=session, council_id=council.id, cluster_id=y.id, holder_id=holder.id, weekly_pledge_pence=1_000)
        f.MembershipFactory(session=session, council_id=council.id, cluster_id=x.id, holder_id=holder.id, weekly_pledge_pence=1_000)

        past = utcnow() - timedelta(minutes=1)
        # Group Y: two due proposals, a contract change then a change of the holder's pledge, each with the holder's yes.
        p1 = contract_change(session, council.id, y, providers[0], deadline=past)
        p2 = Proposal(council_id=council.id, cluster_id=y.id, kind=ProposalKind.change_pledges, title="Pledges", deadline=past,
                      payload={"pledges": {str(my.id): 2_000}})
        session.add(p2)
        session.flush()
        for p in (p1, p2):
            session.add(Vote(council_id=council.id, proposal_id=p.id, holder_id=holder.id, choice=Choice.yes, cast_by_id=user.id))
        # Group X: an open contract change the same holder is about to vote on (the only member: the vote decides it).
        p3 = contract_change(session, council.id, x, providers[1])
        session.commit()
        return dict(council=council.id, broker=broker.id, user=user.id, holder=holder.id, p1=p1.id, p2=p2.id, p3=p3.id)


def test_a_batch_locking_a_member_after_the_providers_hours_beside_that_members_vote_on_a_contract_change_does_not_deadlock(factory):
    # The batch held the providers' hours, then locked the member's row for the pledge; the vote had inserted its row
    # (a key-share lock on the member) and waited for the providers' hours: a circle, which FOR NO KEY UPDATE breaks.
    ids = _a_batch_and_a_vote_sharing_a_holder(factory)

    def close_due(session):
        paused = []

        def before_holder_lock(state):
            # Just before the batch locks the pledge proposal's holder: the vote meanwhile inserts its row and waits.
            if paused or not state.is_select or state.statement._for_update_arg is None:
                return None
            froms = {getattr(t, "name", None) for t in state.statement.get_final_froms()}
            if "holder" in froms:
                paused.append(True)
                time.sleep(1.0)
            return None

        event.listen(session, "do_orm_execute", before_holder_lock)
        result = governance.close_due_proposals(session=session, actor=session.get(User, ids["broker"]), council_id=ids["council"])
        return ("batch", [p.id for p in result.done], result.failed)

    def vote(session):
        time.sleep(0.4)  # the batch has applied P1 (holding the providers' hours) and is about to lock the holder
        p = governance.cast_vote(session=session, actor=session.get(User, ids["user"]), proposal_id=ids["p3"], holder_id=ids["holder"], choice=Choice.yes)
        return ("vote", p.status.value, p.outcome)

    results = race(factory, [close_due, vote])
    text = repr(results)
    assert "deadlock" not in text.lower(), results
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0][2] == [], results


def test_a_match_passing_while_a_contract_change_reads_the_providers_care_never_gives_more_hours_than_it_has(factory, monkeypatch):
    # The change read the provider's contracts, then its parts out to a vote (two statements, READ COMMITTED): a match
    # passing in between turned a sent part into a contract, and the change saw neither. The parts are read first now.
    with factory() as session:
        council, broker = council_with_broker(session, factory)
        provider = f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"],
                                     slot_hours={"mon_am": 12, "thu_am": 8}, capacity_hours=None)
        a = f.ClusterFactory(session=session, council_id=council.id)
        b = f.ClusterFactory(session=session, council_id=council.id)
        session.flush()
        change = contract_change(session, council.id, a, provider, hours=6)
        run = MatchRun(council_id=council.id, lines=1, suppliers=1, demanded_hours=4, covered_hours=4)
        line = DemandLine(council_id=council.id, cluster_id=b.id, service="home_care", hours=4, slot_hours={"thu_am": 4},
                          slots=["thu_am"], lat=51.5, lon=-0.05, max_rate_pence=2500, shares={"1": 1})
        session.add_all([change, run, line])
        session.flush()
        match = Proposal(council_id=council.id, cluster_id=b.id, kind=ProposalKind.accept_match, title="Accept 4 hours",
                         deadline=utcnow() + timedelta(days=7), payload={"run_id": run.id, "assignment_ids": []})
        session.add(match)
        session.flush()
        part = MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=b.id, provider_id=provider.id,
                               hours=4, solver_hours=4, rate_pence=2200, distance_km=1.0, explanation="Thursday morning (4 hours).",
                               slot_hours={"thu_am": 4}, status=AssignmentStatus.sent, proposal_id=match.id)
        session.add(part)
        session.flush()
        match.payload = {"run_id": run.id, "assignment_ids": [part.id]}
        session.add(match)
        session.commit()
        ids = dict(broker=broker.id, change=change.id, match=match.id, contract=int(change.payload["contract_id"]), provider=provider.id)

    monkeypatch.setattr(decisions, "vetted_provider_ids", lambda *args, **kw: {ids["provider"]})

    def apply(session):
        # Just after reading the first half of the provider's care, contracts or parts out to a vote.
        pause_after_select(session, [Contract.__table__, MatchAssignment.__table__], "provider_id", 0.8)
        return changes.apply_change(session=session, proposal=session.get(Proposal, ids["change"]), actor=session.get(User, ids["broker"]))

    def match_passes(session):
        time.sleep(0.3)
        made = decisions.contracts_from_match(session=session, actor=session.get(User, ids["broker"]), proposal=session.get(Proposal, ids["match"]))
        return len(made)

    results = race(factory, [apply, match_passes])
    with factory() as session:
        thursday = sum((c.slot_hours or {}).get("thu_am", 0) for c in session.exec(select(Contract).where(Contract.provider_id == ids["provider"])))
    assert thursday <= 8, (thursday, results)  # the provider works 8 hours on Thursday mornings
