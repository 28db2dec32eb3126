"""A council with one member's pool share and the money moves the surplus tests need, posted at chosen moments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from brokerage import clock
from brokerage.accounts.models import Council, Role, User
from brokerage.accounts.system import system_actor
from brokerage.clusters.models import Cluster, Membership
from brokerage.holders.models import Holder
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.queries import balance
from brokerage.ledger.services import post_entry
from brokerage.providers.models import Provider
from tests import factories as f

WEEKLY = 2_000  # £20 a week pledged
FIRST_MONDAY = date(2025, 12, 8)
TODAY = date(2026, 3, 2)  # a Monday, twelve weekly pledges after FIRST_MONDAY


def at(day: date, hour: int = 10) -> datetime:
    """Return a moment on a day in England (10am by default), in UTC."""
    return datetime.combine(day, time(hour), tzinfo=clock.LONDON).astimezone(timezone.utc)


@dataclass
class SurplusWorld:
    """One council's people and a member's share, and a second council with its own officer."""

    council: Council
    other_council: Council
    job: User
    officer: User
    second_officer: User
    third_officer: User
    broker: User
    other_officer: User
    holder: Holder
    holder_user: User
    representative: User
    neighbour: Holder
    cluster: Cluster
    membership: Membership
    provider: Provider

    @property
    def share(self) -> str:
        """Return the member's pool share's account code."""
        return ledger_rules.pool_code(self.cluster.id, self.holder.id)

    @property
    def funding(self) -> str:
        """Return the council's funding account's code."""
        return ledger_rules.funding_code(self.council.id)

    def balance(self, session) -> int:
        """Return the share's balance now."""
        return balance(session=session, actor=self.job, council_id=self.council.id, code=self.share)


def make_world(session, *, slug: str | None = None) -> SurplusWorld:
    """Create the councils, the people and the member's share (empty), flushed in the given session."""
    council = f.CouncilFactory(session=session, **({"slug": slug} if slug else {}))
    other = f.CouncilFactory(session=session)
    holder = f.HolderFactory(session=session, council_id=council.id, name="Amina Hassan")
    neighbour = f.HolderFactory(session=session, council_id=council.id, name="Bilal Osman")
    cluster = f.ClusterFactory(session=session, council_id=council.id, name="Somali elders of Whitechapel")
    membership = f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id,
                                     weekly_pledge_pence=WEEKLY, start_date=FIRST_MONDAY)
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=neighbour.id, weekly_pledge_pence=WEEKLY,
                        start_date=FIRST_MONDAY)
    provider = f.ProviderFactory(session=session, council_id=council.id)
    people = {
        "officer": f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, name="Olu Officer"),
        "second_officer": f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, name="Sam Second"),
        "third_officer": f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, name="Tess Third"),
        "broker": f.UserFactory(session=session, role=Role.broker, council_id=council.id),
        "other_officer": f.UserFactory(session=session, role=Role.council_officer, council_id=other.id),
        "holder_user": f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=holder.id),
        "representative": f.UserFactory(session=session, role=Role.representative, council_id=council.id),
    }
    f.RepresentationFactory(session=session, council_id=council.id, representative_id=people["representative"].id, holder_id=holder.id)
    return SurplusWorld(council=council, other_council=other, job=system_actor(session=session, council_id=council.id), holder=holder,
                        neighbour=neighbour, cluster=cluster, membership=membership, provider=provider, **people)


def _post(session, world: SurplusWorld, kind, postings, key: str, memo: str = "") -> None:
    post_entry(session=session, actor=world.job, council_id=world.council.id, kind=kind, postings=postings, idempotency_key=key, memo=memo)


def pledge_weeks(session, world: SurplusWorld, freeze, mondays: list[date], amount: int = WEEKLY) -> None:
    """Pay a direct payment into the wallet and collect a pledge into the share on each Monday, at 10am in England."""
    wallet = ledger_rules.wallet_code(world.holder.id)
    for day in mondays:
        freeze(at(day))
        _post(session, world, EntryKind.dp_issued, [(world.funding, -amount), (wallet, amount)], f"dp:{world.holder.id}:{day}")
        _post(session, world, EntryKind.pledge_collected, [(wallet, -amount), (world.share, amount)], f"pledge:{world.membership.id}:{day}")


def twelve_weeks(session, world: SurplusWorld, freeze) -> None:
    """Pledge £20 on each of the twelve Mondays from 8 December 2025 to 23 February 2026 (£240 in the share)."""
    pledge_weeks(session, world, freeze, [FIRST_MONDAY + timedelta(weeks=i) for i in range(12)])


def spend(session, world: SurplusWorld, freeze, day: date, amount: int, key: str) -> None:
    """Pay for care from the share (share -> the provider's payable) on a day."""
    freeze(at(day, 15))
    _post(session, world, EntryKind.care_cost, [(world.share, -amount), (ledger_rules.payable_code(world.provider.id), amount)], key,
          memo="Care")
