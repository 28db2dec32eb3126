"""A council with holders, a cluster and a provider, ready for ledger tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from brokerage.accounts.system import system_actor
from brokerage.ledger import rules, summary
from brokerage.ledger.services import post_entry
from tests import factories as f


@dataclass
class LedgerWorld:
    council: object
    other_council: object
    holders: list
    cluster: object
    provider: object
    other_holder: object
    actor: object  # the council's system user: the ledger needs an actor, as a job has
    other_actor: object  # the other council's system user

    @property
    def funding(self) -> str:
        return rules.funding_code(self.council.id)

    def wallet(self, index: int = 0) -> str:
        return rules.wallet_code(self.holders[index].id)

    def pool(self, index: int = 0) -> str:
        return rules.pool_code(self.cluster.id, self.holders[index].id)

    @property
    def payable(self) -> str:
        return rules.payable_code(self.provider.id)


@pytest.fixture()
def lw(session, request):
    """Return the ledger world, and check the ledger invariants after the test (tamper tests opt out)."""
    council = f.CouncilFactory(session=session)
    other = f.CouncilFactory(session=session)
    holders = [f.HolderFactory(session=session, council_id=council.id, name=f"Member {i}") for i in range(3)]
    cluster = f.ClusterFactory(session=session, council_id=council.id)
    provider = f.ProviderFactory(session=session, council_id=council.id)
    other_holder = f.HolderFactory(session=session, council_id=other.id)
    actors = system_actor(session=session, council_id=council.id), system_actor(session=session, council_id=other.id)
    yield LedgerWorld(council, other, holders, cluster, provider, other_holder, *actors)
    if not request.node.get_closest_marker("tampered"):
        problems = sweep(session)
        assert not problems, "ledger invariants broken after the test:\n" + "\n".join(problems)


def issue(session, lw, amount=10_000, index=0, key=None):
    """Issue a direct payment from funding to a holder's wallet."""
    return post_entry(
        session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
        postings=[(lw.funding, -amount), (lw.wallet(index), amount)], idempotency_key=key or f"dp:{index}:{amount}", memo="Direct payment",
    )


def sweep(session) -> list[str]:
    """Check the ledger invariants on everything the session can see; return what is wrong."""
    from sqlalchemy import text

    problems = []
    for entry_id, total, legs in session.execute(text(
        "SELECT entry_id, SUM(amount_pence), COUNT(*) FROM posting GROUP BY entry_id HAVING SUM(amount_pence) <> 0 OR COUNT(*) < 2"
    )):
        problems.append(f"entry {entry_id}: {legs} postings sum to {total}")
    orphan = session.execute(text("SELECT COUNT(*) FROM journal_entry e WHERE NOT EXISTS (SELECT 1 FROM entry_close c WHERE c.entry_id = e.id)")).scalar()
    if orphan:
        problems.append(f"{orphan} entries were never closed")
    total = session.execute(text("SELECT COALESCE(SUM(amount_pence), 0) FROM posting")).scalar()
    if total != 0:
        problems.append(f"all postings sum to {total}")
    for code, cached, actual in session.execute(text(
        "SELECT a.code, a.balance_pence, COALESCE((SELECT SUM(p.amount_pence) FROM posting p WHERE p.account_id = a.id), 0) "
        "FROM ledger_account a"
    )):
        if cached != actual:
            problems.append(f"{code}: cached {cached} but postings sum to {actual}")
    for (code,) in session.execute(text("SELECT code FROM ledger_account WHERE non_negative AND balance_pence < 0")):
        problems.append(f"{code} is below zero")
    for council, key in session.execute(text(
        "SELECT council_id, idempotency_key FROM journal_entry GROUP BY council_id, idempotency_key HAVING COUNT(*) > 1"
    )):
        problems.append(f"idempotency key {key} is used twice in council {council}")
    # The reports' pool summary agrees with the postings after whatever the test posted (reversals included).
    for (council,) in session.execute(text("SELECT DISTINCT council_id FROM journal_entry")):
        problems.extend(summary.differences(session=session, council_id=council))
    return problems
