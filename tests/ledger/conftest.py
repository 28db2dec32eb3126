"""A council with holders, a cluster and a provider, ready for ledger tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from brokerage.ledger import rules
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
def lw(session):
    """Return the ledger world."""
    council = f.CouncilFactory(session=session)
    other = f.CouncilFactory(session=session)
    holders = [f.HolderFactory(session=session, council_id=council.id, name=f"Member {i}") for i in range(3)]
    cluster = f.ClusterFactory(session=session, council_id=council.id)
    provider = f.ProviderFactory(session=session, council_id=council.id)
    other_holder = f.HolderFactory(session=session, council_id=other.id)
    return LedgerWorld(council, other, holders, cluster, provider, other_holder)


def issue(session, lw, amount=10_000, index=0, key=None):
    """Issue a direct payment from funding to a holder's wallet."""
    return post_entry(
        session=session, actor=None, council_id=lw.council.id, kind="dp_issued",
        postings=[(lw.funding, -amount), (lw.wallet(index), amount)], idempotency_key=key or f"dp:{index}:{amount}", memo="Direct payment",
    )
