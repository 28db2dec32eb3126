"""Decisions beside other decisions, the pledge collection, money leaving a share and new proposals (PostgreSQL).

Each test races two real transactions; each failed on the code before its fix:
- a batch of due proposals deciding a pledge change then a contract change, beside a notice settling another
  group's contract change then a pledge change of the same member, deadlocked (member's row against the
  providers' hours): every transaction that decides proposals now takes the providers' hours first;
- a group closed while money moved out of a member's share refunded what the share held before, and the refund
  overdrew it: the shares are locked before their balances are read;
- the pledge collection paid into a group's shares just after a vote closed it and returned them, leaving money
  in a closed pool: the collection locks the groups it pays into;
- a proposal made while the group was being closed was added to the closed group: proposing locks the group.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from brokerage.accounts.models import Role, User
from brokerage.accounts.system import system_actor
from brokerage.clusters import governance, runs
from brokerage.clusters.errors import BadTransition
from brokerage.clusters.models import Cluster, ClusterStatus, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.holders.models import Holder
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import JournalEntry, LedgerAccount
from brokerage.ledger.services import post_entry
from brokerage.types import utcnow
from tests import factories as f
from tests.races import a_group_voting_to_close, contract_change, council_factory, council_with_broker, pause_after_select, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def _pledge_change(session, council_id, membership, deadline):
    proposal = Proposal(council_id=council_id, cluster_id=membership.cluster_id, kind=ProposalKind.change_pledges, title="Pledges",
                        deadline=deadline, payload={"pledges": {str(membership.id): 1_500}})
    session.add(proposal)
    session.flush()
    return proposal


def test_a_batch_and_a_notice_deciding_a_pledge_change_and_a_contract_change_in_opposite_orders_do_not_deadlock(factory):
    with factory() as session:
        council, broker = council_with_broker(session, factory)
        holder, leaver = [f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=20_000) for _ in range(2)]
        user = f.UserFactory(session=session, council_id=council.id, role=Role.holder, holder_id=holder.id)
        leaver_user = f.UserFactory(session=session, council_id=council.id, role=Role.holder, holder_id=leaver.id)
        providers = [f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"],
                                       slot_hours={"mon_am": 12, "thu_am": 12}, capacity_hours=None) for _ in range(2)]
        y = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        z = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        session.flush()
        in_y = f.MembershipFactory(session=session, council_id=council.id, cluster_id=y.id, holder_id=holder.id, weekly_pledge_pence=1_000)
        in_z = f.MembershipFactory(session=session, council_id=council.id, cluster_id=z.id, holder_id=holder.id, weekly_pledge_pence=1_000)
        leaving = f.MembershipFactory(session=session, council_id=council.id, cluster_id=z.id, holder_id=leaver.id, weekly_pledge_pence=1_000)
        past, later = utcnow() - timedelta(minutes=1), utcnow() + timedelta(days=7)
        # Group Y, due: the member's pledge, then a contract change. Group Z, open: a contract change, then the same
        # member's pledge there; the member's yes decides both once the other member gives notice.
        y_pledge, y_change = _pledge_change(session, council.id, in_y, past), contract_change(session, council.id, y, providers[0], deadline=past)
        z_change, z_pledge = contract_change(session, council.id, z, providers[1], deadline=later), _pledge_change(session, council.id, in_z, later)
        for proposal in (y_pledge, y_change, z_change, z_pledge):
            session.add(Vote(council_id=council.id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes, cast_by_id=user.id))
        session.commit()
        ids = dict(council=council.id, broker=broker.id, leaver_user=leaver_user.id, leaving=leaving.id,
                   batch=[y_pledge.id, y_change.id], notice=[z_change.id, z_pledge.id])

    def close_due(session):
        # Hold the member's row (the pledge change) a moment before the contract change.
        pause_after_select(session, Holder.__table__, "id", 1.0, for_update=True)
        result = governance.close_due_proposals(session=session, actor=session.get(User, ids["broker"]), council_id=ids["council"])
        return [p.id for p in result.done], result.failed

    def notice(session):
        time.sleep(0.3)  # the batch holds the member's row by now
        governance.give_notice(session=session, actor=session.get(User, ids["leaver_user"]), membership_id=ids["leaving"])
        return "notice given"

    results = race(factory, [close_due, notice])
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0] == (ids["batch"], []), results
    with factory() as session:
        decided = {p.id: (p.status, p.outcome) for p in session.exec(select(Proposal).where(Proposal.council_id == ids["council"])).scalars()}
    assert all(decided[i][0] == ProposalStatus.passed for i in ids["batch"] + ids["notice"]), decided


def _deciding_vote(ids, delay=0.3):
    def vote(session):
        time.sleep(delay)
        p = governance.cast_vote(session=session, actor=session.get(User, ids["users"][1]), proposal_id=ids["proposal"],
                                 holder_id=ids["holders"][1], choice=Choice.yes)
        return ("vote", p.status.value, p.outcome)
    return vote


def _left_in_the_pool(factory, cluster_id):
    with factory() as session:
        status = session.get(Cluster, cluster_id).status
        left = session.execute(select(func.coalesce(func.sum(LedgerAccount.balance_pence), 0)).where(LedgerAccount.cluster_id == cluster_id)).scalar_one()
        open_proposals = session.execute(select(func.count(Proposal.id)).where(
            Proposal.cluster_id == cluster_id, Proposal.status == ProposalStatus.open)).scalar_one()
    return status, left, open_proposals


def test_a_group_closed_while_care_is_paid_from_a_share_refunds_what_is_left_and_never_overdraws_it(factory):
    with factory() as session:
        ids = a_group_voting_to_close(session, factory, share_pence=1_000)

    def care_paid_from_a_share(session):
        # As a timesheet approval: pool share to what the group owes the provider, committed a moment later.
        holder_id = ids["holders"][1]
        post_entry(session=session, actor=system_actor(session=session, council_id=ids["council"]), council_id=ids["council"],
                   kind=kinds.EntryKind.care_cost, idempotency_key=f"care-{holder_id}",
                   postings=[(ledger_rules.pool_code(ids["cluster"], holder_id), -300), (ledger_rules.payable_code(ids["provider"]), 300)])
        time.sleep(1.0)
        return "paid"

    results = race(factory, [care_paid_from_a_share, _deciding_vote(ids)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[1][1] == ProposalStatus.passed.value, results
    assert "£17.00 went back" in results[1][2], results  # £10 and £7, read under the shares' locks
    assert _left_in_the_pool(factory, ids["cluster"]) == (ClusterStatus.closed, 0, 0)


def test_the_pledge_collection_never_pays_into_a_group_a_vote_has_just_closed(factory):
    with factory() as session:
        ids = a_group_voting_to_close(session, factory, share_pence=500)

    def collect(session):
        # Read the pledges to collect (and which were collected already), then wait: the vote runs meanwhile.
        pause_after_select(session, JournalEntry.__table__, "idempotency_key", 1.0)
        report = runs.collect_pledges(session=session, actor=system_actor(session=session, council_id=ids["council"]),
                                      council_id=ids["council"], period=runs.rules.period_of(runs.today()))
        return ("collected", report.posted, report.failed)

    results = race(factory, [collect, _deciding_vote(ids)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[1][1] == ProposalStatus.passed.value, results
    # Either the collection came first and the refunds returned it too, or the group was closed and paid nothing.
    assert _left_in_the_pool(factory, ids["cluster"]) == (ClusterStatus.closed, 0, 0), results


def test_a_proposal_made_while_the_group_is_being_closed_is_refused_not_left_open(factory):
    with factory() as session:
        ids = a_group_voting_to_close(session, factory, share_pence=500)

    def propose(session):
        # A broker's: a member's own proposal would also find they are no longer a member.
        pause_after_select(session, Cluster.__table__, "id", 1.0)  # the group read as open, then the vote closes it
        try:
            governance.propose(session=session, actor=session.get(User, ids["broker"]), cluster_id=ids["cluster"],
                               kind=ProposalKind.free_text, title="A day out")
        except BadTransition as refused:
            return ("refused", refused.message)
        return "proposed"

    results = race(factory, [propose, _deciding_vote(ids)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0] == ("refused", "This group is closing and cannot take new decisions."), results
    assert _left_in_the_pool(factory, ids["cluster"]) == (ClusterStatus.closed, 0, 0), results


def test_the_same_decision_put_forward_four_times_at_once_is_one_decision(factory):
    # Back and "Put it to the vote", two tabs, or two members asking the same thing at once: one open decision.
    with factory() as session:
        council, broker = council_with_broker(session, factory)
        group = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        session.commit()
        ids = {"group": group.id, "broker": broker.id}

    def put_forward(session):
        actor = session.get(User, ids["broker"])
        return governance.propose(session=session, actor=actor, cluster_id=ids["group"], kind=ProposalKind.free_text,
                                  title="Ask the broker about Sunday respite", description="Two hours on Sundays").id

    results = race(factory, [put_forward] * 4)
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1, results
    assert all(type(r).__name__ == "SameDecisionOpen" and r.proposal_id == made[0] for r in results if r not in made), results
    with factory() as session:
        assert session.execute(select(func.count()).select_from(Proposal).where(Proposal.cluster_id == ids["group"])).scalar() == 1
