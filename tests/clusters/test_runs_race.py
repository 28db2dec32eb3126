"""Money runs of one council queue on its one writer before they lock any row (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from brokerage.accounts.system import system_actor
from brokerage.clusters import runs
from brokerage.clusters.models import ClusterStatus, MembershipStatus
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import lock_accounts, lock_run_writer
from tests import factories as f
from tests.races import council_factory, new_council  # noqa: F401

pytestmark = pytest.mark.postgres_only


def _waiting_on_the_writer(factory, pid: int) -> bool:
    with factory() as session:
        return bool(session.execute(text(
            "SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype = 'advisory' AND NOT granted"), {"pid": pid}).scalar())


def test_a_pledge_collection_waits_for_the_writer_before_it_locks_any_wallet(factory):
    """A DP issue holding the writer locks wallets as it posts; a collection that locked them first would deadlock it."""
    with factory() as session:
        council = new_council(session)
        session.flush()
        factory.councils.append(council.id)
        holders = [f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=20_000) for _ in range(3)]
        cluster = f.ClusterFactory(session=session, council_id=council.id, status=ClusterStatus.active)
        session.flush()
        for holder in holders:
            f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id,
                                status=MembershipStatus.active, weekly_pledge_pence=1_000)
        job = system_actor(session=session, council_id=council.id)
        runs.issue_dp(session=session, actor=job, council_id=council.id, period=runs.rules.period_of(runs.today()))
        session.commit()
        council_id, wallets = council.id, [ledger_rules.wallet_code(h.id) for h in holders]

    with factory() as issuing:  # a DP issue in the middle of its run: it holds the council's writer
        lock_run_writer(issuing, council_id)
        collected: dict = {}

        def collect():
            with factory() as session:
                collected["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
                try:
                    collected["report"] = runs.collect_pledges(
                        session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id,
                        period=runs.rules.period_of(runs.today()))
                    session.commit()
                except Exception as error:  # the outcome under test
                    collected["error"] = error

        thread = threading.Thread(target=collect)
        thread.start()
        deadline = time.time() + 10
        while time.time() < deadline and not ("pid" in collected and _waiting_on_the_writer(factory, collected["pid"])):
            time.sleep(0.05)
        assert "pid" in collected and _waiting_on_the_writer(factory, collected["pid"]), "the collection never queued on the writer"
        # The DP issue goes on to lock the wallets: the collection holds none of them while it waits.
        issuing.execute(text("SET LOCAL lock_timeout = '3s'"))
        lock_accounts(session=issuing, council_id=council_id, codes=wallets)
        issuing.commit()
        thread.join(timeout=30)
    assert "error" not in collected, collected.get("error")
    assert collected["report"].posted == 3
