"""Notice on one contract is given once, however many brokers press the button at the same moment (PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from brokerage.accounts.models import Role, User
from brokerage.contracts.models import Contract, ContractEvent
from brokerage.contracts.rules import ContractEventKind, ContractStatus
from brokerage.contracts.services import create_contract, give_notice
from brokerage.errors import ValidationFailed
from tests import factories as f
from tests.races import council_factory, new_council, pause_after_select, race  # noqa: F401  (council_factory is the `factory` fixture)

pytestmark = pytest.mark.postgres_only


def test_two_brokers_giving_notice_at_once_give_it_once(factory):
    with factory() as session:
        council = new_council(session)
        factory.councils.append(council.id)
        cluster = f.ClusterFactory(session=session, council_id=council.id)
        holder = f.HolderFactory(session=session, council_id=council.id)
        provider = f.ProviderFactory(session=session, council_id=council.id)
        brokers = [f.UserFactory(session=session, role=Role.broker, council_id=council.id) for _ in range(2)]
        contract = create_contract(
            session=session, actor=brokers[0], council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, demand_line_id=None,
            proposal_id=None, service="home_care", hours_per_week=6, rate_pence=2_000, start_date=date(2026, 1, 5), member_shares={str(holder.id): 1},
        )
        session.commit()
        contract_id, broker_ids = contract.id, [b.id for b in brokers]

    def notice(broker_id: int, end: date):
        def job(session):
            # Both read the contract as active before either writes: only the row lock makes the second wait and see the notice.
            pause_after_select(session, Contract.__table__, "id", 0.5)
            return give_notice(session=session, actor=session.get(User, broker_id), contract_id=contract_id, end_date=end)
        return job

    first, second = date.today() + timedelta(days=200), date.today() + timedelta(days=300)  # within the 5 years an end may be set
    results = race(factory, [notice(broker_ids[0], first), notice(broker_ids[1], second)])

    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(refused) == 1, results
    assert "already been given" in refused[0].errors["end_date"][0]
    with factory() as session:
        contract = session.get(Contract, contract_id)
        events = session.execute(select(ContractEvent.kind).where(ContractEvent.contract_id == contract_id)).scalars().all()
    assert contract.status == ContractStatus.ending and contract.end_date in (first, second)
    assert sorted(events) == sorted([ContractEventKind.made, ContractEventKind.notice_given])
