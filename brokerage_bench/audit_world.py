"""The audit bench's council before any money moves: its people, groups, providers, contracts and accounts.

Every row here is written with Core inserts (thousands of rows in a few statements), dated by
`brokerage.clock` as the history's clock says, with the same values the product's services would
write. The ledger accounts are opened the same way, with the type, sign rule and owners that
`brokerage.ledger.posting.get_or_create_account` would give them: the bench knows their owners
exist, so it skips the per-account owner checks that would cost one round trip each.

What the plan keeps in memory (`World`) is what the weekly money needs: who pledges what into
which share, and which contracts each group has with whom.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from brokerage.accounts.models import Council, User
from brokerage.accounts.system import system_actor
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule, ContractStatus
from brokerage.holders.models import Holder
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import LedgerAccount
from brokerage.providers.models import Provider, ProviderKind, VettingItem, VettingKind
from brokerage.types import Role, utcnow
from brokerage.vocabulary import SERVICES

DISTRICTS = ("E1", "E2", "E3", "E5", "E8", "E9", "E14")
OUTSIDE = ("N1", "SE1", "IG1")  # districts outside the bench council's area
FIRST_NAMES = ("Amina", "Hassan", "Fatima", "Yusuf", "Mary", "John", "Priya", "Ravi", "Grace", "Tunde", "Mei", "Jan", "Ola",
               "Siobhan", "Dylan", "Aisha", "Bilal", "Rosa", "Chen", "Kwame", "Halima", "Tomasz", "Nia", "Ibrahim")
LAST_NAMES = ("Hassan", "Begum", "Smith", "Okafor", "Patel", "Nowak", "Khan", "Jones", "Ali", "Murphy", "Williams", "Ahmed",
              "Chowdhury", "Evans", "Mensah", "Kowalski", "Li", "Rahman", "Brown", "Osei", "Farah", "Walsh")
THEMES = ("Somali elders", "Bengali carers", "Neighbours", "Polish seniors", "Deaf club", "Tuesday walkers", "Young disabled adults",
          "Memory café friends", "Caribbean elders", "Allotment group", "Stroke survivors", "Chinese community elders")
# (kind, ownership model, weight, chance of paying the Living Wage, chance of keeping the Ethical Care Charter)
KINDS = (
    (ProviderKind.pa, "self-employed personal assistant", 30, 0.5, 0.3),
    (ProviderKind.micro_provider, "sole-trader micro-enterprise", 25, 0.6, 0.4),
    (ProviderKind.coop, "worker co-operative", 15, 0.95, 0.8),
    (ProviderKind.cic, "community interest company", 10, 0.8, 0.6),
    (ProviderKind.charity, "registered charity", 10, 0.85, 0.6),
    (ProviderKind.private, "private company", 10, 0.4, 0.2),
)
NAMES = {
    ProviderKind.pa: "{first} {last} (personal assistant)",
    ProviderKind.micro_provider: "{last} Home Help",
    ProviderKind.coop: "{district} Care Co-operative",
    ProviderKind.cic: "{last} Care CIC",
    ProviderKind.charity: "{first} {last} Trust",
    ProviderKind.private: "{last} Care Ltd",
}
HOLDERS_PER_PROVIDER = 15
UNDERSPENDERS = 0.15  # groups that contract for well under what they pledge
NEVER_SIGNS_IN = "!bench: never signs in"


@dataclass
class Member:
    """One tenure in a group: what it pledges a week and the two accounts the pledge moves between."""

    holder_id: int
    membership_id: int
    pledge: int
    wallet: str
    share: str
    leaves_after: int | None = None  # the week (0-based) at whose end the member leaves, if they do


@dataclass
class Deal:
    """A group's contract with a provider: the weekly hours and the hourly rate in pence."""

    contract_id: int
    provider_id: int
    hours: int
    rate: int


@dataclass
class Group:
    """A cluster with its members (in joining order) and its contracts."""

    cluster_id: int
    name: str
    members: list[Member]
    part: int = 0  # which of the build's threads posts the group's pledges and care
    deals: list[Deal] = field(default_factory=list)


@dataclass
class Supplier:
    """A provider and its two ledger accounts."""

    provider_id: int
    name: str
    payable: str
    paid: str
    part: int = 0  # the part of the groups it has contracts with


@dataclass
class World:
    """What the weekly money needs to know about the council."""

    council_id: int
    slug: str
    system_id: int
    broker_id: int
    officer_id: int
    start: date  # the Monday of the history's first week
    weeks: int
    allocations: dict[int, int]  # holder id -> weekly allocation in pence
    groups: list[Group]
    suppliers: dict[int, Supplier]
    parts: int = 1

    @property
    def funding(self) -> str:
        return ledger_rules.funding_code(self.council_id)


def group_sizes(holders: int, rng: random.Random) -> list[int]:
    """Split holders into groups of about five (three to eight), every holder in exactly one group."""
    sizes: list[int] = []
    left = holders
    while left > 0:
        size = min(rng.choice((4, 5, 5, 5, 6)), left)
        sizes.append(size)
        left -= size
    if len(sizes) > 1 and sizes[-1] < 3:
        last = sizes.pop()
        sizes[-1] += last
    return sizes


def _insert(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert rows with one Core statement and return their ids in the rows' order."""
    if not rows:
        return []
    table = model.__table__
    result = session.connection().execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row.id for row in result]


def _people(session: Session, council_id: int, slug: str) -> tuple[int, int, int]:
    """Create the broker and the council officer; return (system, broker, officer) user ids."""
    system = system_actor(session=session, council_id=council_id)
    broker, officer = (
        User(council_id=council_id, email=f"{role.value}+{slug}@bench.carepool.invalid", name=name, role=role, password_hash=NEVER_SIGNS_IN)
        for role, name in ((Role.broker, "Bench broker"), (Role.council_officer, "Bench council officer"))
    )
    session.add_all([broker, officer])
    session.flush()
    return system.id, broker.id, officer.id


# Every bench provider works these hours in each time of day, under its weekly cap.
TIMES = {"mon_am": 40, "wed_pm": 40, "fri_am": 40}


def _providers(session: Session, council_id: int, holders: int, rng: random.Random, today: date, parts: int) -> tuple[list[int], dict[int, Supplier]]:
    count = max(len(KINDS), holders // HOLDERS_PER_PROVIDER)
    now = utcnow()
    chosen = [k for k in KINDS] + rng.choices(KINDS, weights=[k[2] for k in KINDS], k=count - len(KINDS))
    rows = []
    for n, (kind, model, _, living_wage, ethical) in enumerate(chosen, start=1):
        # About three in ten work from outside the council's districts: community wealth has something to tell apart.
        district = rng.choice(DISTRICTS) if rng.random() < 0.7 else rng.choice(OUTSIDE)
        staff = 1 if kind == ProviderKind.pa else rng.randint(2, 5) if kind == ProviderKind.micro_provider else rng.randint(3, 40)
        rows.append({
            "council_id": council_id, "name": NAMES[kind].format(first=rng.choice(FIRST_NAMES), last=rng.choice(LAST_NAMES), district=district) + f" {n}",
            "kind": kind, "ownership_model": model, "services": rng.sample(SERVICES, 3), "languages": ["en", rng.choice(("so", "bn", "pl", "ur", "zh"))],
            "staff_genders": ["female", "male"], "slots": list(TIMES), "slot_hours": TIMES, "capacity_hours": rng.randint(20, 400),
            "postcode_district": district, "lat": 51.51 + rng.random() / 50, "lon": -0.06 + rng.random() / 50, "radius_km": 5.0,
            "hourly_rate_pence": rng.randint(1800, 3200), "living_wage": rng.random() < living_wage,
            "ethical_care_charter": rng.random() < ethical, "staff_count": staff,
            "stripe_account_id": f"acct_bench{council_id}x{n}", "stripe_status": "enabled", "payouts_enabled": True, "created_at": now,
        })
    ids = _insert(session, Provider, rows)
    vetting = []
    for provider_id, (kind, *_) in zip(ids, chosen):
        for item in (VettingKind.dbs, VettingKind.insurance) + (() if kind == ProviderKind.pa else (VettingKind.cqc,)):
            # Mostly current; a few run out within the month or have run out, as a real register does.
            expires = today + timedelta(days=rng.choice((-10, 12, 25)) if rng.random() < 0.06 else rng.randint(40, 700))
            vetting.append({
                "council_id": council_id, "provider_id": provider_id, "kind": item, "reference": f"{item.value.upper()}-{provider_id}",
                "expires_on": expires, "added_at": now, "checked_at": now, "verified_at": now,
            })
    _insert(session, VettingItem, vetting)
    suppliers = {
        provider_id: Supplier(provider_id, row["name"], ledger_rules.payable_code(provider_id), ledger_rules.paid_code(provider_id), n % parts)
        for n, (provider_id, row) in enumerate(zip(ids, rows))
    }
    return ids, suppliers


def _groups(session: Session, council_id: int, holders: int, start: date, rng: random.Random, parts: int) -> tuple[dict[int, int], list[Group]]:
    now = utcnow()
    holder_rows = [
        {
            "council_id": council_id, "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "weekly_allocation_pence": rng.randrange(20_000, 60_000, 100), "postcode_district": rng.choice(DISTRICTS),
            "lat": 51.51 + rng.random() / 50, "lon": -0.06 + rng.random() / 50, "languages": ["en"], "care_needs": ["home_care"],
            "goals": "", "created_at": now,
        }
        for _ in range(holders)
    ]
    holder_ids = _insert(session, Holder, holder_rows)
    allocations = {h: row["weekly_allocation_pence"] for h, row in zip(holder_ids, holder_rows)}
    sizes = group_sizes(holders, rng)
    cluster_rows = [
        {
            "council_id": council_id, "name": f"{rng.choice(THEMES)} of {district} ({n})", "description": "", "kinds": ["neighbourhood"],
            "min_size": 2, "max_size": 12, "status": ClusterStatus.active, "created_at": now,
        }
        for n, district in enumerate((rng.choice(DISTRICTS) for _ in sizes), start=1)
    ]
    cluster_ids = _insert(session, Cluster, cluster_rows)
    membership_rows, placed = [], []
    position = 0
    for cluster_id, size in zip(cluster_ids, sizes):
        for holder_id in holder_ids[position:position + size]:
            # A pledge of half to four fifths of the allocation, in whole pounds.
            pledge = allocations[holder_id] * rng.randint(50, 80) // 100 // 100 * 100
            membership_rows.append({
                "council_id": council_id, "cluster_id": cluster_id, "holder_id": holder_id, "status": MembershipStatus.active,
                "weekly_pledge_pence": pledge, "start_date": start, "created_at": now,
            })
            placed.append((cluster_id, holder_id, pledge))
        position += size
    membership_ids = _insert(session, Membership, membership_rows)
    by_cluster: dict[int, list[Member]] = {c: [] for c in cluster_ids}
    for membership_id, (cluster_id, holder_id, pledge) in zip(membership_ids, placed):
        by_cluster[cluster_id].append(Member(
            holder_id=holder_id, membership_id=membership_id, pledge=pledge,
            wallet=ledger_rules.wallet_code(holder_id), share=ledger_rules.pool_code(cluster_id, holder_id),
        ))
    groups = [Group(cluster_id=c, name=row["name"], members=by_cluster[c], part=n % parts) for n, (c, row) in enumerate(zip(cluster_ids, cluster_rows))]
    return allocations, groups


def _contracts(session: Session, council_id: int, groups: list[Group], suppliers: dict[int, Supplier], provider_rows: dict[int, Provider],
               start: date, rng: random.Random) -> None:
    """Give each group one contract, or two with different providers (a quarter of groups), costing about what it pledges.

    A group contracts only with providers of its own part, so the build's threads never wait for each other's account locks.
    """
    now = utcnow()
    rows, owners = [], []
    for group in groups:
        pledged = sum(m.pledge for m in group.members)
        provider_ids = sorted(p for p, s in suppliers.items() if s.part == group.part)
        providers = rng.sample(provider_ids, 2 if rng.random() < 0.25 and len(provider_ids) > 1 else 1)
        # Most groups contract for about what they pledge; some for much less, and build a surplus.
        share = rng.uniform(0.6, 0.8) if rng.random() < UNDERSPENDERS else rng.uniform(0.95, 1.05)
        for provider_id in providers:
            provider = provider_rows[provider_id]
            hours = max(1, round(pledged * share / len(providers) / provider.hourly_rate_pence))
            rows.append({
                "council_id": council_id, "provider_id": provider_id, "cluster_id": group.cluster_id, "service": rng.choice(provider.services),
                "member_shares": {str(m.holder_id): 1 for m in group.members}, "hours_per_week": hours,
                "rate_pence": provider.hourly_rate_pence, "start_date": start, "allocation_rule": AllocationRule.by_pledge,
                "min_visit_minutes": 60, "status": ContractStatus.active, "created_at": now,
            })
            owners.append(group)
    for contract_id, row, group in zip(_insert(session, Contract, rows), rows, owners):
        group.deals.append(Deal(contract_id=contract_id, provider_id=row["provider_id"], hours=row["hours_per_week"], rate=row["rate_pence"]))


def _accounts(session: Session, council_id: int, groups: list[Group], suppliers: dict[int, Supplier]) -> None:
    """Open every account the history posts to, as get_or_create_account would open it."""
    now = utcnow()
    owners: dict[str, dict] = {ledger_rules.funding_code(council_id): {}, ledger_rules.CLEARING_CODE: {}}
    for group in groups:
        for m in group.members:
            owners[m.wallet] = {"holder_id": m.holder_id}
            owners[m.share] = {"holder_id": m.holder_id, "cluster_id": group.cluster_id}
    for s in suppliers.values():
        owners[s.payable] = owners[s.paid] = {"provider_id": s.provider_id}
    rows = []
    for code, owner in owners.items():
        kind = ledger_rules.type_of_code(code)
        rows.append({
            "council_id": council_id, "code": code, "account_type": kind, "non_negative": not ledger_rules.may_go_negative(kind),
            "holder_id": owner.get("holder_id"), "cluster_id": owner.get("cluster_id"), "provider_id": owner.get("provider_id"),
            "balance_pence": 0, "created_at": now,
        })
    _insert(session, LedgerAccount, rows)


def create_world(factory: sessionmaker, *, slug: str, holders: int, weeks: int, start: date, today: date, seed: int, parts: int = 1) -> World:
    """Create the council and everything in it that the money needs, in one transaction; the clock must be set first.

    `today` is the real today in England, which vetting expiry dates are spread around. The groups and
    providers are dealt into `parts` parts that share no account, one for each thread of the build.
    """
    rng = random.Random(seed)
    with factory() as session:
        council = Council(slug=slug, name=f"Audit bench: {holders} holders, {weeks} weeks", area_districts=" ".join(DISTRICTS),
                          publish_report=True)
        session.add(council)
        session.flush()
        system_id, broker_id, officer_id = _people(session, council.id, slug)
        provider_ids, suppliers = _providers(session, council.id, holders, rng, today, parts)
        allocations, groups = _groups(session, council.id, holders, start, rng, parts)
        provider_rows = {p.id: p for p in session.exec(select(Provider).where(Provider.id.in_(provider_ids)))}
        _contracts(session, council.id, groups, suppliers, provider_rows, start, rng)
        _accounts(session, council.id, groups, suppliers)
        session.commit()
        return World(
            council_id=council.id, slug=slug, system_id=system_id, broker_id=broker_id, officer_id=officer_id, start=start, weeks=weeks,
            allocations=allocations, groups=groups, suppliers=suppliers, parts=parts,
        )
