"""A council whose pooled money was spent with local and distant, co-operative and private, small and large providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.contracts.models import Contract
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.posting import EntrySpec, post_in_batches
from brokerage.providers.models import ProviderKind
from tests import factories as f

WHITECHAPEL = (51.5155, -0.0590)  # E1
BETHNAL_GREEN = (51.5290, -0.0600)  # E2
STRATFORD = (51.5400, 0.0000)  # E15: outside the districts, about 4.6 km from their centre
CROYDON = (51.3762, -0.0982)  # CR0: far away


@dataclass
class Spending:
    """A council (districts E1 E2) with a group, its members, providers with contracts, and its staff."""

    session: object
    council: object
    cluster: object
    officer: object
    broker: object
    job: object
    holders: list = field(default_factory=list)
    providers: dict = field(default_factory=dict)
    contracts: dict = field(default_factory=dict)
    weeks: int = 0

    def add_holders(self, count: int, district: str = "E1", where=WHITECHAPEL) -> list:
        """Add members of the group living in a district."""
        made = [f.HolderFactory(session=self.session, council_id=self.council.id, name=f"Member {len(self.holders) + i} Secretname",
                                postcode_district=district, lat=where[0], lon=where[1]) for i in range(count)]
        self.holders.extend(made)
        return made

    def add_provider(self, key: str, *, kind: ProviderKind, district: str, where, staff: int, living_wage: bool, charter: bool,
                     service: str = "home_care"):
        """Register a provider and a contract with the group for one service."""
        provider = f.ProviderFactory(session=self.session, council_id=self.council.id, name=f"Provider {key} Hiddenname", kind=kind,
                                     postcode_district=district, lat=where[0], lon=where[1], staff_count=staff, living_wage=living_wage,
                                     ethical_care_charter=charter)
        contract = Contract(council_id=self.council.id, provider_id=provider.id, cluster_id=self.cluster.id, service=service, member_shares={},
                            hours_per_week=10, rate_pence=2000, start_date=date(2025, 1, 6))
        self.session.add(contract)
        self.session.flush()
        self.providers[key], self.contracts[key] = provider, contract
        return provider

    def pool(self, holder) -> str:
        return ledger_rules.pool_code(self.cluster.id, holder.id)

    def fund(self, holders, pence: int, *, at: datetime) -> None:
        """Issue each holder a direct payment and collect it into their pool share, as the weekly money run does."""
        clock_now(at)
        self.weeks += 1
        specs = []
        for holder in holders:
            wallet = ledger_rules.wallet_code(holder.id)
            specs.append(EntrySpec("dp_issued", [(ledger_rules.funding_code(self.council.id), -pence), (wallet, pence)], f"dp:{holder.id}:t{self.weeks}"))
            specs.append(EntrySpec("pledge_collected", [(wallet, -pence), (self.pool(holder), pence)], f"pledge:{holder.id}:t{self.weeks}"))
        self._post(specs)

    def spend(self, key: str, parts: list, *, at: datetime, week: str):
        """Post one week's approved care with a provider, paid from each holder's share: [(holder, pence), ...]."""
        clock_now(at)
        legs = [(self.pool(holder), -pence) for holder, pence in parts]
        legs.append((ledger_rules.payable_code(self.providers[key].id), sum(pence for _, pence in parts)))
        return self._post([EntrySpec("care_cost", legs, f"care:{self.contracts[key].id}:{week}")])[0]

    def _post(self, specs):
        outcomes = post_in_batches(session=self.session, actor=self.job, council_id=self.council.id, entries=specs)
        problems = [o for o in outcomes if isinstance(o, Exception)]
        assert not problems, problems
        return outcomes


_freeze = []


def clock_now(at: datetime) -> None:
    _freeze[-1](at)


@pytest.fixture()
def spending(session, freeze_clock):
    """Return a council ready to pool and spend, its clock frozen where each posting says."""
    _freeze.append(freeze_clock)
    council = f.CouncilFactory(session=session, slug="riverbend", name="Riverbend Council", area_districts="E1 E2")
    cluster = f.ClusterFactory(session=session, council_id=council.id, name="Secret circle of Whitechapel")
    officer = f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, email="wealth-officer@example.org")
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id, email="wealth-broker@example.org")
    job = system_actor(session=session, council_id=council.id)
    yield Spending(session, council, cluster, officer, broker, job)
    _freeze.pop()


def moment(year: int, month: int, day: int = 10) -> datetime:
    """Return midday UTC on a day (the same day in England)."""
    return datetime(year, month, day, 12, 0, tzinfo=timezone.utc)


def today_is(freeze_clock, day: date) -> None:
    """Freeze the clock at midday of a day in England."""
    freeze_clock(datetime(day.year, day.month, day.day, 12, 0, tzinfo=timezone.utc))
