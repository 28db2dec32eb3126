"""A group dissolved while the pledge collection opens its members' pool shares leaves no money in the closed pool (PostgreSQL).

The collection locks every active group before it pays in (brokerage.clusters.runs.collect_pledges), and the dissolving
vote locks its group FOR UPDATE: one waits for the other, and the refunds count what the collection paid. Before the
collection took that lock, FOR UPDATE alone guarded this, by waiting for the key-share lock that opening a share (a
ledger account referring to the group) takes; FOR NO KEY UPDATE would not wait (brokerage.locks.KEY_SHARE_TABLES keeps
groups out of it). tests/clusters/test_decision_races.py races the collection into shares already open.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from brokerage.accounts.models import User
from brokerage.accounts.system import system_actor
from brokerage.clusters import governance, runs
from brokerage.clusters.models import Cluster, ClusterStatus
from brokerage.clusters.rules import Choice
from brokerage.ledger.models import LedgerAccount
from tests.races import a_group_voting_to_close, council_factory, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def test_a_group_dissolved_while_a_collection_opens_its_pool_shares_leaves_no_money_in_the_closed_pool(factory):
    with factory() as session:
        made = a_group_voting_to_close(session, factory)  # no share opened yet
        ids = dict(council=made["council"], cluster=made["cluster"], proposal=made["proposal"], user=made["users"][1], holder=made["holders"][1])

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
