"""A group dissolved while the pledge collection opens its members' pool shares leaves no money in the closed pool (PostgreSQL).

The collection locks every active group before it pays in (brokerage.clusters.runs.collect_pledges), and the dissolving
vote locks its group FOR UPDATE: one waits for the other, and the refunds count what the collection paid. Before the
collection took that lock, FOR UPDATE alone guarded this, by waiting for the key-share lock that opening a share (a
ledger account referring to the group) takes; FOR NO KEY UPDATE would not wait (brokerage.locks.KEY_SHARE_TABLES keeps
groups out of it). tests/clusters/test_decision_races.py races the collection into shares already open.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from brokerage import clock
from brokerage.accounts.models import Role, User
from brokerage.accounts.system import system_actor
from brokerage.clusters import governance, runs
from brokerage.clusters.models import Cluster, ClusterStatus, MembershipStatus
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.ledger.models import LedgerAccount
from tests import factories as f
from tests.races import council_factory, new_council, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def test_a_group_dissolved_while_a_collection_opens_its_pool_shares_leaves_no_money_in_the_closed_pool(factory):
    with factory() as session:
        council = new_council(session)
        session.flush()
        factory.councils.append(council.id)
        holders = [f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=20_000) for _ in range(2)]
        users = [f.UserFactory(session=session, council_id=council.id, role=Role.holder, holder_id=h.id) for h in holders]
        cluster = f.ClusterFactory(session=session, council_id=council.id, status=ClusterStatus.active, min_size=2, max_size=6)
        session.flush()
        for holder in holders:
            f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id,
                                status=MembershipStatus.active, weekly_pledge_pence=1_000, start_date=clock.today() - timedelta(days=21))
        job = system_actor(session=session, council_id=council.id)
        runs.issue_dp(session=session, actor=job, council_id=council.id, period=runs.rules.period_of(runs.today()))
        proposal = governance.propose(session=session, actor=users[0], cluster_id=cluster.id, kind=ProposalKind.dissolve, title="Close")
        governance.cast_vote(session=session, actor=users[0], proposal_id=proposal.id, holder_id=holders[0].id, choice=Choice.yes)
        session.commit()
        ids = dict(council=council.id, cluster=cluster.id, proposal=proposal.id, user=users[1].id, holder=holders[1].id)

    def collect(session):
        report = runs.collect_pledges(session=session, actor=system_actor(session=session, council_id=ids["council"]),
                                      council_id=ids["council"], period=runs.rules.period_of(runs.today()))
        time.sleep(1.0)  # the pool shares are opened (a key-share lock on the group) and paid into, not yet committed
        return ("collected", report.posted, report.failed)

    def deciding_vote(session):
        time.sleep(0.4)
        p = governance.cast_vote(session=session, actor=session.get(User, ids["user"]), proposal_id=ids["proposal"],
                                 holder_id=ids["holder"], choice=Choice.yes)
        return ("vote", p.status.value, p.outcome)

    results = race(factory, [collect, deciding_vote])
    assert not any(isinstance(r, Exception) for r in results), results
    with factory() as session:
        status = session.get(Cluster, ids["cluster"]).status
        left = session.execute(select(func.coalesce(func.sum(LedgerAccount.balance_pence), 0)).where(
            LedgerAccount.cluster_id == ids["cluster"])).scalar_one()
    assert results[0][1] == 2, results
    # Closed means every pool share went back to its member's wallet.
    assert not (status == ClusterStatus.closed and left != 0), (status, left, results)
