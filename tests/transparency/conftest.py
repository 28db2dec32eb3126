"""A council whose pooled money was spent with local and distant, co-operative and private, small and large providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.contracts.models import Contract
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger import services as ledger
from brokerage.ledger.posting import EntrySpec, post_in_batches
from brokerage.providers.models import ProviderKind
from tests import factories as f

WHITECHAPEL = (51.5155, -0.0590)  # E1
BETHNAL_GREEN = (51.5290, -0.0600)  # E2
STRATFORD = (51.5400, 0.0000)  # E15: outside the districts, about 4.6 km from their centre
CROYDON = (51.3762, -0.0982)  # CR0: far away
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@dataclass
class Spending:
    """A council (districts E1 E2) with a group, its members, providers with contracts, and its staff."""

    session: object
    council: object
    cluster: object
    officer: object
    broker: object
    job: object
    freeze: object  # the test's freeze_clock: each posting happens at its own moment
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
        self.freeze(at)
        self.weeks += 1
        specs = []
        for holder in holders:
            wallet = ledger_rules.wallet_code(holder.id)
            specs.append(EntrySpec("dp_issued", [(ledger_rules.funding_code(self.council.id), -pence), (wallet, pence)], f"dp:{holder.id}:t{self.weeks}"))
            specs.append(EntrySpec("pledge_collected", [(wallet, -pence), (self.pool(holder), pence)], f"pledge:{holder.id}:t{self.weeks}"))
        self._post(specs)

    def spend(self, key: str, parts: list, *, at: datetime, week: str):
        """Post one week's approved care with a provider, paid from each holder's share: [(holder, pence), ...]."""
        self.freeze(at)
        legs = [(self.pool(holder), -pence) for holder, pence in parts]
        legs.append((ledger_rules.payable_code(self.providers[key].id), sum(pence for _, pence in parts)))
        return self._post([EntrySpec("care_cost", legs, f"care:{self.contracts[key].id}:{week}")])[0]

    def _post(self, specs):
        outcomes = post_in_batches(session=self.session, actor=self.job, council_id=self.council.id, entries=specs)
        problems = [o for o in outcomes if isinstance(o, Exception)]
        assert not problems, problems
        return outcomes


@pytest.fixture()
def spending(session, freeze_clock):
    """Return a council ready to pool and spend, its clock frozen where each posting says."""
    council = f.CouncilFactory(session=session, slug="riverbend", name="Riverbend Council", area_districts="E1 E2")
    cluster = f.ClusterFactory(session=session, council_id=council.id, name="Secret circle of Whitechapel")
    officer = f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, email="wealth-officer@example.org")
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id, email="wealth-broker@example.org")
    job = system_actor(session=session, council_id=council.id)
    return Spending(session, council, cluster, officer, broker, job, freeze_clock)


def moment(year: int, month: int, day: int = 10) -> datetime:
    """Return midday UTC on a day (the same day in England)."""
    return datetime(year, month, day, 12, 0, tzinfo=timezone.utc)


def today_is(freeze_clock, day: date) -> None:
    """Freeze the clock at midday of a day in England."""
    freeze_clock(datetime(day.year, day.month, day.day, 12, 0, tzinfo=timezone.utc))


@pytest.fixture()
def spent(spending, freeze_clock):
    """Care in January and March 2026 (none in February) with five kinds of provider, and a correction in March."""
    s = spending
    east, west = s.add_holders(3, "E1", WHITECHAPEL), s.add_holders(2, "E2", BETHNAL_GREEN)
    s.add_provider("coop", kind=ProviderKind.coop, district="E1", where=WHITECHAPEL, staff=4, living_wage=True, charter=True)
    s.add_provider("private", kind=ProviderKind.private, district="CR0", where=CROYDON, staff=40, living_wage=False, charter=False)
    s.add_provider("pa", kind=ProviderKind.pa, district="E15", where=STRATFORD, staff=1, living_wage=True, charter=False)
    s.add_provider("charity", kind=ProviderKind.charity, district="E2", where=BETHNAL_GREEN, staff=20, living_wage=True, charter=True,
                   service="day_activities")
    s.add_provider("cic", kind=ProviderKind.cic, district="CR0", where=CROYDON, staff=8, living_wage=False, charter=True)
    s.fund(east + west, 300_00, at=moment(2026, 1, 5))
    s.spend("coop", [(east[0], 200_00), (east[1], 100_00)], at=moment(2026, 1, 12), week="2026-W02")
    s.spend("private", [(west[0], 100_00)], at=moment(2026, 1, 31), week="2026-W05")
    s.fund(east + west, 300_00, at=moment(2026, 3, 2))
    s.spend("pa", [(east[2], 200_00)], at=moment(2026, 3, 9), week="2026-W10")
    s.spend("charity", [(west[1], 100_00), (east[0], 50_00)], at=moment(2026, 3, 16), week="2026-W11")
    s.spend("cic", [(west[0], 50_00)], at=moment(2026, 3, 16), week="2026-W11")
    wrong = s.spend("cic", [(west[0], 70_00)], at=moment(2026, 3, 17), week="2026-W12")
    ledger.reverse_entry(session=s.session, actor=s.job, entry_id=wrong.id, idempotency_key="undo-cic-W12")
    today_is(freeze_clock, date(2026, 4, 20))
    return s
