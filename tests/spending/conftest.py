"""A council whose pools took pledges, paid for care (with a correction), lost a leaver, and crossed into British Summer Time.

Everything is posted through the ledger as the product posts it, at frozen moments, so the reports
can be checked against the postings. "Today" is 20 May 2026 in England.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.contracts.models import Contract
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger
from brokerage.ledger.services import post_entry, reverse_entry
from brokerage.providers.models import ProviderKind
from tests import factories as f

TODAY_MOMENT = datetime(2026, 5, 20, 11, 0, tzinfo=timezone.utc)


@dataclass
class Books:
    council: object
    other_council: object
    amina: object
    bob: object
    elders: object  # Somali elders of Whitechapel: Amina and Bob
    walkers: object  # Bow walking group: Bob, who leaves in May
    coop: object
    pa: object
    care_home: object  # a contract for the elders with the co-op (home care)
    company: object  # a contract for the walkers with the PA (companionship)
    officer: object
    broker: object
    other_officer: object
    other_group: object
    other_provider: object


def _post(session, actor, council, kind, postings, key):
    return post_entry(session=session, actor=actor, council_id=council.id, kind=kind, postings=postings, idempotency_key=key)


def pledge(session, actor, council, holder, cluster, pence, key):
    """Issue a direct payment and pledge it to the holder's share of the group's pool."""
    _post(session, actor, council, "dp_issued", [(ledger.funding_code(council.id), -pence), (ledger.wallet_code(holder.id), pence)], f"dp:{key}")
    _post(session, actor, council, "pledge_collected", [(ledger.wallet_code(holder.id), -pence), (ledger.pool_code(cluster.id, holder.id), pence)],
          f"pledge:{key}")


def care(session, actor, council, contract, week, parts):
    """Post a week's approved care: each (holder, pence) from their share to the provider's payable."""
    total = sum(pence for _, pence in parts)
    legs = [(ledger.pool_code(contract.cluster_id, holder.id), -pence) for holder, pence in parts]
    return _post(session, actor, council, "care_cost", legs + [(ledger.payable_code(contract.provider_id), total)],
                 kinds.care_cost_key(contract_id=contract.id, week=week))


@pytest.fixture()
def books(session, freeze_clock) -> Books:
    """Post the council's year so far and stop the clock on 20 May 2026."""
    council = f.CouncilFactory(session=session, name="Tower Hamlets (test)", slug="tower-hamlets")
    other = f.CouncilFactory(session=session, name="Hackney (test)", slug="hackney")
    amina = f.HolderFactory(session=session, council_id=council.id, name="Amina Hassan")
    bob = f.HolderFactory(session=session, council_id=council.id, name="Bob Jones")
    elders = f.ClusterFactory(session=session, council_id=council.id, name="Somali elders of Whitechapel")
    walkers = f.ClusterFactory(session=session, council_id=council.id, name="Bow walking group")
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=elders.id, holder_id=amina.id)
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=elders.id, holder_id=bob.id)
    leaver = f.MembershipFactory(session=session, council_id=council.id, cluster_id=walkers.id, holder_id=bob.id)
    coop = f.ProviderFactory(session=session, council_id=council.id, name="Sunrise Care Co-op", kind=ProviderKind.coop)
    pa = f.ProviderFactory(session=session, council_id=council.id, name="Nasima Khatun", kind=ProviderKind.pa, services=["companionship"])
    care_home = Contract(council_id=council.id, provider_id=coop.id, cluster_id=elders.id, service="home_care",
                         member_shares={str(amina.id): 1, str(bob.id): 1}, hours_per_week=10, rate_pence=2200, start_date=date(2026, 1, 5))
    company = Contract(council_id=council.id, provider_id=pa.id, cluster_id=walkers.id, service="companionship",
                       member_shares={str(bob.id): 1}, hours_per_week=4, rate_pence=1500, start_date=date(2026, 1, 5))
    other_holder = f.HolderFactory(session=session, council_id=other.id, name="Other Person")
    other_group = f.ClusterFactory(session=session, council_id=other.id, name="Hackney carers")
    other_provider = f.ProviderFactory(session=session, council_id=other.id, name="Hackney Care CIC", kind=ProviderKind.cic)
    other_contract = Contract(council_id=other.id, provider_id=other_provider.id, cluster_id=other_group.id, service="home_care",
                              member_shares={str(other_holder.id): 1}, hours_per_week=4, rate_pence=1500, start_date=date(2026, 1, 5))
    session.add_all([care_home, company, other_contract])
    session.flush()
    job, other_job = system_actor(session=session, council_id=council.id), system_actor(session=session, council_id=other.id)

    freeze_clock(datetime(2026, 2, 10, 12, 0, tzinfo=timezone.utc))
    pledge(session, job, council, amina, elders, 30_000, "amina-feb")
    pledge(session, job, council, bob, elders, 20_000, "bob-feb")
    pledge(session, job, council, bob, walkers, 10_000, "bob-walk-feb")
    pledge(session, other_job, other, other_holder, other_group, 99_000, "other-feb")
    freeze_clock(datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc))
    care(session, job, council, care_home, "2026-W11", [(amina, 8_000), (bob, 4_000)])
    care(session, other_job, other, other_contract, "2026-W11", [(other_holder, 55_000)])
    # 23:30 on 31 March in UTC is 00:30 on 1 April in England (summer time began on 29 March): April's.
    freeze_clock(datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc))
    care(session, job, council, company, "2026-W13", [(bob, 3_000)])
    pledge(session, job, council, amina, elders, 5_000, "amina-apr")
    freeze_clock(datetime(2026, 4, 5, 12, 0, tzinfo=timezone.utc))
    wrong = care(session, job, council, care_home, "2026-W14", [(amina, 2_000), (bob, 2_000)])
    freeze_clock(datetime(2026, 4, 20, 12, 0, tzinfo=timezone.utc))
    reverse_entry(session=session, actor=job, entry_id=wrong.id, idempotency_key="undo:care-w14")
    freeze_clock(datetime(2026, 5, 5, 12, 0, tzinfo=timezone.utc))
    walk_share = ledger.pool_code(walkers.id, bob.id)
    _post(session, job, council, "member_left", [(walk_share, -7_000), (ledger.wallet_code(bob.id), 7_000)],
          kinds.member_left_key(membership_id=leaver.id))
    freeze_clock(TODAY_MOMENT)
    officer = f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, name="Olu Officer", email="officer@th.example")
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id, name="Bea Broker", email="broker@th.example")
    other_officer = f.UserFactory(session=session, role=Role.council_officer, council_id=other.id, email="officer@hackney.example")
    session.flush()
    return Books(council, other, amina, bob, elders, walkers, coop, pa, care_home, company, officer, broker, other_officer, other_group,
                 other_provider)
