"""A group of two with care from a provider: the contract every contracts test starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from brokerage.accounts.models import Role
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule
from brokerage.contracts.services import create_contract
from tests import factories as f

# Tuesday 1 December 2026, midday in England: four weeks' notice reaches 29 December 2026.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
START = date(2026, 11, 2)


@dataclass
class Care:
    council: object
    cluster: object
    amina: object
    bo: object
    users: dict
    contract: Contract
    provider: object
    other_cluster: object


@pytest.fixture()
def care(session, freeze_clock) -> Care:
    """Amina (pledges £30) and Bo (£10) share 12 hours a week at £22.00 from Sunrise Care, by hours, one share each."""
    freeze_clock(NOW)
    council = f.CouncilFactory(session=session)
    other_council = f.CouncilFactory(session=session)
    cluster = f.ClusterFactory(session=session, council_id=council.id, name="Hooyo Circle")
    other_cluster = f.ClusterFactory(session=session, council_id=council.id, name="Riverside Friends")
    amina = f.HolderFactory(session=session, council_id=council.id, name="Amina Yusuf")
    bo = f.HolderFactory(session=session, council_id=council.id, name="Bo Chen")
    cai = f.HolderFactory(session=session, council_id=council.id, name="Cai Jones")
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=amina.id, weekly_pledge_pence=3_000)
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=bo.id, weekly_pledge_pence=1_000)
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=other_cluster.id, holder_id=cai.id)
    # Weekday mornings and afternoons, 8 hours each (a few carers), up to 40 hours a week.
    weekdays = {f"{day}_{part}": 8 for day in ("mon", "tue", "wed", "thu", "fri") for part in ("am", "pm")}
    provider = f.ProviderFactory(session=session, council_id=council.id, name="Sunrise Care", slots=list(weekdays), slot_hours=weekdays)
    other_provider = f.ProviderFactory(session=session, council_id=council.id, name="Moonlight Care", slots=list(weekdays), slot_hours=weekdays)
    users = {
        "amina": f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=amina.id),
        "bo": f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=bo.id),
        "cai": f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=cai.id),
        "rep": f.UserFactory(session=session, role=Role.representative, council_id=council.id),
        "other_rep": f.UserFactory(session=session, role=Role.representative, council_id=council.id),
        "broker": f.UserFactory(session=session, role=Role.broker, council_id=council.id),
        "officer": f.UserFactory(session=session, role=Role.council_officer, council_id=council.id),
        "provider": f.UserFactory(session=session, role=Role.provider, council_id=council.id, provider_id=provider.id),
        "other_provider": f.UserFactory(session=session, role=Role.provider, council_id=council.id, provider_id=other_provider.id),
        "foreign_broker": f.UserFactory(session=session, role=Role.broker, council_id=other_council.id),
    }
    f.RepresentationFactory(session=session, council_id=council.id, representative_id=users["rep"].id, holder_id=amina.id)
    f.RepresentationFactory(session=session, council_id=council.id, representative_id=users["other_rep"].id, holder_id=cai.id)
    contract = create_contract(
        session=session, actor=users["broker"], council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, demand_line_id=None,
        proposal_id=None, service="home_care", hours_per_week=12, rate_pence=2_200, start_date=START, allocation_rule=AllocationRule.by_hours,
        member_shares={str(amina.id): 1, str(bo.id): 1},
    )
    session.commit()
    return Care(council, cluster, amina, bo, users, contract, provider, other_cluster)


# The times agreed at the match of `care`'s contract, in `timed`: Monday to Wednesday mornings and Friday afternoon, 3 hours each.
TODAY = {"mon_am": 3, "tue_am": 3, "wed_am": 3, "fri_pm": 3}


@pytest.fixture()
def timed(session, care):
    """The contract of `care` with the times agreed at its match (TODAY)."""
    care.contract.slot_hours = dict(TODAY)
    session.add(care.contract)
    session.commit()
    return care
