"""Two groups' changes giving one provider's last free hours to both at once: one is made, the other lapses (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import User
from brokerage.clusters.models import Proposal
from brokerage.contracts import changes
from brokerage.contracts.models import Contract
from brokerage.errors import BrokerageError
from tests import factories as f
from tests.races import contract_change, council_factory, council_with_broker, pause_after_select, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def _two_changes_wanting_thursday_mornings(factory):
    """Return (broker id, proposal ids): two groups' contracts with one provider, each changing to 6 hours on Thursday morning, where it has 8."""
    with factory() as session:
        council, broker = council_with_broker(session, factory)
        provider = f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"], slot_hours={"mon_am": 12, "thu_am": 8},
                                     capacity_hours=None)
        proposals = []
        for _ in range(2):
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            session.flush()
            proposals.append(contract_change(session, council.id, cluster, provider, hours=6))
        session.commit()
        return broker.id, [p.id for p in proposals]


def test_two_changes_passing_at_once_never_give_a_provider_more_hours_than_it_has_then(factory):
    broker_id, proposal_ids = _two_changes_wanting_thursday_mornings(factory)

    def apply(index):
        def job(session):
            # Each waits after reading the provider's other care: without the provider's lock, both find 8 hours free.
            pause_after_select(session, Contract.__table__, "provider_id", 0.5)
            return changes.apply_change(session=session, proposal=session.get(Proposal, proposal_ids[index]), actor=session.get(User, broker_id))
        return job

    results = race(factory, [apply(0), apply(1)])
    assert sorted(type(r).__name__ for r in results) == ["BrokerageError", "str"], results
    refused = next(r for r in results if isinstance(r, BrokerageError))
    assert "does not have these hours free beside its other care: it has 2 hours on Thursday morning" in refused.message
    with factory() as session:
        proposals = session.exec(select(Proposal).where(Proposal.id.in_(proposal_ids))).all()
        contracts = [session.get(Contract, int(p.payload["contract_id"])) for p in proposals]
        assert sorted(c.slot_hours.get("thu_am", 0) for c in contracts) == [0, 6]  # 8 hours at most, never 12
