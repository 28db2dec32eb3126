"""Load a realistic demo council: holders, clusters at every stage, providers and demo users."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from brokerage import clock
from brokerage.accounts import services as accounts
from brokerage.accounts.system import system_actor
from brokerage.accounts.models import Council, Role
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.holders.models import Holder, Representation
from brokerage.providers.models import Provider, ProviderKind, VettingItem, VettingKind

DEMO_SLUG = "riverside"
OTHER_SLUG = "northfield"

# Postcode districts with an approximate centre, so distances in the demo are realistic.
DISTRICTS = {
    "E1": (51.5155, -0.0590), "E2": (51.5290, -0.0600), "E3": (51.5270, -0.0240),
    "E14": (51.5080, -0.0180), "E1W": (51.5070, -0.0590), "E15": (51.5400, 0.0000),
}

FIRST_NAMES = {
    "so": ["Amina", "Hodan", "Faduma", "Abdi", "Khadra", "Mohamed", "Sahra", "Yusuf"],
    "bn": ["Rahima", "Abdul", "Shirin", "Jahanara", "Mizanur", "Rokeya", "Anwar", "Nazma"],
    "pl": ["Halina", "Zofia", "Tadeusz", "Krystyna", "Janusz", "Irena"],
    "tr": ["Ayşe", "Mehmet", "Fatma", "Hüseyin", "Emine"],
    "ur": ["Parveen", "Tariq", "Shabana", "Imran", "Nasreen"],
    "en": ["Margaret", "Derek", "Joan", "Patrick", "Linda", "Winston", "Grace", "Colin", "Maureen", "Desmond"],
}
SURNAMES = {
    "so": ["Hassan", "Warsame", "Farah", "Abdullahi", "Ali", "Osman"],
    "bn": ["Begum", "Miah", "Uddin", "Khatun", "Rahman", "Ahmed"],
    "pl": ["Kowalska", "Nowak", "Wiśniewski", "Zielińska"],
    "tr": ["Yılmaz", "Demir", "Kaya", "Şahin"],
    "ur": ["Khan", "Hussain", "Iqbal", "Malik"],
    "en": ["Thompson", "Clarke", "O'Brien", "Campbell", "Walker", "Edwards", "Bennett", "Francis"],
}
NEEDS = ["home_care", "personal_care", "companionship", "day_activities", "respite", "domestic", "transport", "reablement"]
GOALS = [
    "Keep living at home and see friends each week",
    "Get out to the mosque and the market on Fridays",
    "Have a carer who speaks my language",
    "Give my daughter a break on weekends",
    "Build up strength after my fall",
    "Go swimming again",
    "Cook my own meals with a little help",
]

DEMO_PASSWORD_HINT = "The demo password is printed by `brokerage demo`; it is for local demo use only."


@dataclass
class DemoLogin:
    """A demo account to print."""

    role: str
    email: str
    name: str
    council: str


def _jitter(rng: random.Random, lat: float, lon: float, km: float = 0.8) -> tuple[float, float]:
    return round(lat + rng.uniform(-km, km) / 111.0, 5), round(lon + rng.uniform(-km, km) / 69.0, 5)


def load_demo(*, session: Session, password: str, seed: int = 2026, today: date | None = None) -> list[DemoLogin]:
    """Load the demo councils and return the demo logins; do nothing if they are already there."""
    today = today or clock.today()
    existing = session.exec(select(Council).where(Council.slug == DEMO_SLUG)).first()
    if existing is not None:
        return demo_logins(session=session)
    rng = random.Random(seed)
    council = accounts.create_council(
        session=session, actor=None, slug=DEMO_SLUG, name="Riverside Borough Council (demo)", area_districts="E1 E1W E2 E3 E14 E15"
    )
    other = accounts.create_council(
        session=session, actor=None, slug=OTHER_SLUG, name="Northfield City Council (demo)", area_districts="LS6 LS7 LS8"
    )

    holders = _make_holders(session, rng, council)
    providers = _make_providers(session, rng, council, today)
    clusters = _make_clusters(session, rng, council, holders, today)

    # A holder in the other council, so tenancy can be seen and tested with the demo data too.
    far_holder = Holder(
        council_id=other.id, name="Beryl Ackroyd", weekly_allocation_pence=41000, postcode_district="LS6",
        lat=53.8200, lon=-1.5800, languages=["en"], care_needs=["companionship"], goals="Stay in touch with my choir",
    )
    session.add(far_holder)
    session.flush()
    far_provider = Provider(
        council_id=other.id, name="Headingley Care Co-op", kind=ProviderKind.coop, ownership_model="worker co-operative",
        services=["home_care", "companionship"], languages=["en"], staff_genders=["female", "male"],
        slots=["mon_am", "tue_am", "wed_pm"], capacity_hours=60, postcode_district="LS6", lat=53.8190, lon=-1.5770,
        radius_km=6.0, hourly_rate_pence=2300, living_wage=True, ethical_care_charter=True,
    )
    session.add(far_provider)
    session.flush()

    amina = holders[0]
    pa = next(p for p in providers if p.kind == ProviderKind.pa)
    people = [
        (Role.admin, "admin@carepool.example", "Alex Admin", None, {}),
        (Role.broker, "broker@riverside.example", "Bola Broker", council.id, {}),
        (Role.council_officer, "officer@riverside.example", "Chris Officer", council.id, {}),
        (Role.council_officer, "officer2@riverside.example", "Dana Second-Officer", council.id, {}),
        (Role.holder, "holder@riverside.example", amina.name, council.id, {"holder_id": amina.id}),
        (Role.representative, "rep@riverside.example", "Idil Hassan", council.id, {}),
        (Role.provider, "provider@riverside.example", pa.name, council.id, {"provider_id": pa.id}),
        (Role.broker, "broker@northfield.example", "Nia Northfield-Broker", other.id, {}),
        (Role.holder, "holder@northfield.example", far_holder.name, other.id, {"holder_id": far_holder.id}),
    ]
    for role, email, name, council_id, links in people:
        user = accounts.create_user(
            session=session, actor=None, email=email, name=name, role=role, password=password, council_id=council_id, **links
        )
        if role == Role.representative:
            for held in holders[:2]:
                session.add(Representation(council_id=council.id, representative_id=user.id, holder_id=held.id, relationship="daughter"))
    session.flush()
    _post_demo_money(session, council, clusters, providers, today)
    _make_demo_decisions(session, council, clusters, holders)
    _make_demo_demand(session, council, clusters, providers)
    return demo_logins(session=session)


def _make_holders(session: Session, rng: random.Random, council: Council) -> list[Holder]:
    holders = []
    mix = ["so"] * 8 + ["bn"] * 9 + ["pl"] * 5 + ["tr"] * 4 + ["ur"] * 4 + ["en"] * 10
    districts = list(DISTRICTS)
    for index, lang in enumerate(mix):
        first = FIRST_NAMES[lang][index % len(FIRST_NAMES[lang])]
        surname = SURNAMES[lang][(index * 7) % len(SURNAMES[lang])]
        district = districts[(index * 5) % len(districts)]
        lat, lon = _jitter(rng, *DISTRICTS[district])
        languages = [lang] if lang == "en" else ([lang, "en"] if rng.random() < 0.5 else [lang])
        needs = sorted(rng.sample(NEEDS, rng.randint(1, 3)))
        holder = Holder(
            council_id=council.id, name=f"{first} {surname}",
            # Weekly direct payments range from about £120 to £950, in whole pounds here for readability.
            weekly_allocation_pence=rng.randrange(120, 950) * 100,
            postcode_district=district, lat=lat, lon=lon, languages=languages, care_needs=needs, goals=rng.choice(GOALS),
        )
        session.add(holder)
        holders.append(holder)
    session.flush()
    return holders


PROVIDERS = [
    ("Hooyo Care Co-operative", ProviderKind.coop, "worker co-operative", ["home_care", "personal_care", "companionship"], ["so", "en"], ["female"], 2150, 120, "E1"),
    ("Sylhet Sisters Homecare CIC", ProviderKind.cic, "community interest company", ["home_care", "personal_care", "domestic"], ["bn", "en"], ["female"], 2250, 90, "E1W"),
    ("Bow Friends Day Club", ProviderKind.charity, "registered charity", ["day_activities", "companionship", "transport"], ["en", "bn"], ["female", "male"], 1900, 150, "E3"),
    ("Docklands Reablement Ltd", ProviderKind.private, "private company", ["reablement", "personal_care"], ["en", "pl"], ["female", "male"], 2850, 200, "E14"),
    ("Kasia's Helping Hands", ProviderKind.micro_provider, "sole trader micro-enterprise", ["domestic", "companionship", "home_care"], ["pl", "en"], ["female"], 2000, 35, "E2"),
    ("Anatolia Home Support", ProviderKind.micro_provider, "family micro-enterprise", ["home_care", "companionship"], ["tr", "en"], ["female", "male"], 2100, 40, "E15"),
    ("Stratford Respite Co-op", ProviderKind.coop, "multi-stakeholder co-operative", ["respite", "personal_care"], ["en", "ur"], ["female", "male"], 2400, 80, "E15"),
]
PAS = [
    ("Fartun Abdi (PA)", ["so", "en", "ar"], ["female"], "E1"),
    ("Nasima Khatun (PA)", ["bn", "en"], ["female"], "E2"),
    ("Tomasz Nowak (PA)", ["pl", "en"], ["male"], "E14"),
    ("Grace Mensah (PA)", ["en", "tw"], ["female"], "E3"),
    ("Bilal Iqbal (PA)", ["ur", "pa", "en"], ["male"], "E1W"),
]
SLOTS = [f"{d}_{p}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("am", "pm", "eve")]


def _make_providers(session: Session, rng: random.Random, council: Council, today: date) -> list[Provider]:
    providers = []
    for name, kind, ownership, services, languages, genders, rate, capacity, district in PROVIDERS:
        lat, lon = _jitter(rng, *DISTRICTS[district], km=0.3)
        providers.append(Provider(
            council_id=council.id, name=name, kind=kind, ownership_model=ownership, services=services, languages=languages,
            staff_genders=genders, slots=sorted(rng.sample(SLOTS, 12)), capacity_hours=capacity, postcode_district=district,
            lat=lat, lon=lon, radius_km=rng.choice([5.0, 6.0, 8.0]), hourly_rate_pence=rate,
            living_wage=kind != ProviderKind.private, ethical_care_charter=kind in (ProviderKind.coop, ProviderKind.cic, ProviderKind.charity),
            is_local=kind != ProviderKind.private,
        ))
    for name, languages, genders, district in PAS:
        lat, lon = _jitter(rng, *DISTRICTS[district], km=0.3)
        providers.append(Provider(
            council_id=council.id, name=name, kind=ProviderKind.pa, ownership_model="self-employed personal assistant",
            services=["home_care", "companionship", "domestic"], languages=languages, staff_genders=genders,
            slots=sorted(rng.sample(SLOTS, 8)), capacity_hours=rng.choice([15, 20, 25, 30]), postcode_district=district,
            lat=lat, lon=lon, radius_km=rng.choice([2.5, 3.0, 4.0]), hourly_rate_pence=rng.choice([1650, 1750, 1850]),
            living_wage=True, ethical_care_charter=False, is_local=True,
        ))
    session.add_all(providers)
    session.flush()
    from brokerage.types import utcnow

    verified = utcnow()
    for index, provider in enumerate(providers):
        # Most evidence is in date; one provider has an expired DBS and one is expiring soon, as in real life.
        dbs_expiry = today + timedelta(days=400 + index * 10)
        if index == 3:
            dbs_expiry = today - timedelta(days=12)
        if index == 5:
            dbs_expiry = today + timedelta(days=20)
        session.add(VettingItem(council_id=council.id, provider_id=provider.id, kind=VettingKind.dbs, reference=f"DBS-{100200 + index}", expires_on=dbs_expiry, verified_at=verified))
        session.add(VettingItem(council_id=council.id, provider_id=provider.id, kind=VettingKind.insurance, reference=f"INS-{7700 + index}", expires_on=today + timedelta(days=200 + index), verified_at=verified))
        if "personal_care" in provider.services:
            session.add(VettingItem(council_id=council.id, provider_id=provider.id, kind=VettingKind.cqc, reference=f"1-{550000 + index}", expires_on=today + timedelta(days=700), verified_at=verified))
    session.flush()
    return providers


CLUSTERS = [
    ("Somali elders of Whitechapel", ["culture", "neighbourhood"], "E1", "so", ClusterStatus.active, "Somali-speaking elders pooling for home care from women carers who share our language and faith."),
    ("Bengali women's care circle", ["culture"], "E1W", "bn", ClusterStatus.active, "Bengali and Sylheti-speaking women buying personal care together."),
    ("Bow carers' respite group", ["care_need"], "E3", "en", ClusterStatus.active, "Families who need regular respite breaks, sharing a trusted team."),
    ("Polish companions", ["culture", "goal"], "E14", "pl", ClusterStatus.forming, "Polish speakers who want company and help getting out and about."),
    ("Poplar get-moving group", ["goal", "neighbourhood"], "E14", "en", ClusterStatus.forming, "Regaining strength after illness, with reablement sessions together."),
    ("Stratford Turkish families", ["culture", "neighbourhood"], "E15", "tr", ClusterStatus.closing, "Turkish-speaking families; closing as members move to a new scheme."),
    ("Bethnal Green lunch club", ["neighbourhood", "care_need"], "E2", "en", ClusterStatus.closed, "A lunch and companionship group that has finished its work."),
    ("Urdu speakers' home help", ["culture", "care_need"], "E1W", "ur", ClusterStatus.active, "Urdu-speaking households sharing domestic help and companionship."),
]


def _make_clusters(session: Session, rng: random.Random, council: Council, holders: list[Holder], today: date) -> list[Cluster]:
    by_lang: dict[str, list[Holder]] = {}
    for holder in holders:
        by_lang.setdefault(holder.languages[0], []).append(holder)
    clusters = []
    for name, kinds, district, lang, status, description in CLUSTERS:
        lat, lon = DISTRICTS[district]
        cluster = Cluster(
            council_id=council.id, name=name, description=description, kinds=kinds, area=district, lat=lat, lon=lon,
            min_size=3, max_size=8, status=status,
        )
        session.add(cluster)
        session.flush()
        pool = by_lang.get(lang, [])
        members = pool[:5] if status != ClusterStatus.forming else pool[5:7] or pool[:2]
        for position, holder in enumerate(members):
            if status == ClusterStatus.closed:
                member_status = MembershipStatus.left
            elif status == ClusterStatus.forming:
                member_status = MembershipStatus.admitted if position == 0 else MembershipStatus.requested
            elif position == 4 and status == ClusterStatus.active:
                member_status = MembershipStatus.leaving  # a member on notice
            else:
                member_status = MembershipStatus.active
            # Pledges are at most a third of the allocation, so a holder in two clusters never over-pledges.
            pledge = (holder.weekly_allocation_pence // 3 // 100) * 100
            session.add(Membership(
                council_id=council.id, cluster_id=cluster.id, holder_id=holder.id, status=member_status,
                weekly_pledge_pence=pledge if member_status != MembershipStatus.requested else 0,
                start_date=today - timedelta(weeks=rng.randint(4, 40)) if member_status != MembershipStatus.requested else None,
                notice_date=today - timedelta(weeks=1) if member_status == MembershipStatus.leaving else None,
                leaves_on=today + timedelta(weeks=3) if member_status == MembershipStatus.leaving else None,
            ))
        clusters.append(cluster)
    session.flush()
    return clusters


def demo_logins(*, session: Session) -> list[DemoLogin]:
    """Return the demo accounts, one line each."""
    from brokerage.accounts.models import User

    rows = session.exec(
        select(User).where(User.email.like("%.example"), User.email.not_like("%@members.%")).order_by(User.council_id, User.role)
    ).all()
    councils = {c.id: c.name for c in session.exec(select(Council))}
    return [DemoLogin(role=u.role.label, email=u.email, name=u.name, council=councils.get(u.council_id, "all councils")) for u in rows]


def _post_demo_money(session: Session, council: Council, clusters: list[Cluster], providers: list[Provider], today: date) -> None:
    """Post four weeks of direct payments, pledges, care costs and a payout, then seal the ledger."""
    from brokerage.accounts.system import system_actor
    from brokerage.clusters.rules import covers_week, parse_period, period_of
    from brokerage.ledger import rules
    from brokerage.ledger.integrity import seal
    from brokerage.ledger.services import EntrySpec, post_entries

    holders = session.exec(select(Holder).where(Holder.council_id == council.id).order_by(Holder.id)).all()
    memberships = session.exec(
        select(Membership).where(
            Membership.council_id == council.id,
            Membership.status.in_([MembershipStatus.active, MembershipStatus.leaving]),
        ).order_by(Membership.id)
    ).all()
    funding = rules.funding_code(council.id)
    job = system_actor(session=session, council_id=council.id)  # the weekly runs post these
    weeks = [period_of(today - timedelta(weeks=back)) for back in range(4, 0, -1)]
    specs: list[EntrySpec] = []
    for period in weeks:
        # The same keys as the weekly runs, so a run for one of these weeks finds them done.
        monday, sunday = parse_period(period)
        for holder in holders:
            specs.append(EntrySpec(
                kind="dp_issued", memo=f"Direct payment for {period}", idempotency_key=f"dp:{holder.id}:{period}",
                postings=[(funding, -holder.weekly_allocation_pence), (rules.wallet_code(holder.id), holder.weekly_allocation_pence)],
            ))
        for membership in memberships:
            if membership.weekly_pledge_pence and covers_week(start=membership.start_date, end=membership.leaves_on, monday=monday, sunday=sunday):
                specs.append(EntrySpec(
                    kind="pledge_collected", memo=f"Pledge to the group's pool for {period}",
                    idempotency_key=f"pledge:{membership.id}:{period}",
                    postings=[(rules.wallet_code(membership.holder_id), -membership.weekly_pledge_pence),
                              (rules.pool_code(membership.cluster_id, membership.holder_id), membership.weekly_pledge_pence)],
                ))
    post_entries(session=session, actor=job, council_id=council.id, entries=specs)

    # Each active cluster paid a provider for two weeks of care, shared by pledge (largest remainder).
    by_cluster: dict[int, list[Membership]] = {}
    for membership in memberships:
        by_cluster.setdefault(membership.cluster_id, []).append(membership)
    care = []
    for cluster, provider in zip([c for c in clusters if c.id in by_cluster], providers):
        members = by_cluster[cluster.id]
        hours = 6
        cost = hours * provider.hourly_rate_pence
        pooled = sum(m.weekly_pledge_pence for m in members) * len(weeks)
        cost = min(cost, pooled)
        shares = rules.allocate_shared_cost(cost, {m.holder_id: m.weekly_pledge_pence for m in members})
        legs = [(rules.pool_code(cluster.id, holder_id), -part) for holder_id, part in shares.items() if part]
        care.append(EntrySpec(
            kind="care_cost", memo=f"{hours} hours of care from {provider.name}, shared by pledge",
            idempotency_key=f"demo-care:{cluster.id}:{provider.id}",
            postings=legs + [(rules.payable_code(provider.id), cost)],
        ))
        if len(care) == 1:
            # A payout is named by its payment run and provider; its confirmation by the (here made-up) Stripe event.
            care.append(EntrySpec(kind="payout_sent", memo=f"Payment run: {provider.name}", idempotency_key=f"payout:demo-{weeks[-1]}:{provider.id}",
                                  postings=[(rules.payable_code(provider.id), -cost), (rules.CLEARING_CODE, cost)]))
            care.append(EntrySpec(kind="payout_paid", memo=f"Stripe confirmed payment to {provider.name}", idempotency_key=f"stripe:evt_demo_paid_{provider.id}",
                                  postings=[(rules.CLEARING_CODE, -cost), (rules.paid_code(provider.id), cost)]))
    post_entries(session=session, actor=job, council_id=council.id, entries=care)
    seal(session=session, actor=job, council_id=council.id)


def _make_demo_decisions(session: Session, council: Council, clusters: list[Cluster], holders: list[Holder]) -> None:
    """Open and decided proposals, with votes cast by holders and a representative."""
    from brokerage.accounts.models import User
    from brokerage.clusters.models import Proposal, Vote
    from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
    from brokerage.formatting import pounds
    from brokerage.types import utcnow

    rep = session.exec(select(User).where(User.email == "rep@riverside.example")).one()
    amina = session.exec(select(User).where(User.email == "holder@riverside.example")).one()
    somali = next(c for c in clusters if c.name.startswith("Somali"))
    bengali = next(c for c in clusters if c.name.startswith("Bengali"))
    members = {m.holder_id for m in session.exec(select(Membership).where(Membership.cluster_id == somali.id))}
    newcomer = next(h for h in holders if h.languages[0] == "so" and h.id not in members)
    request = Membership(council_id=council.id, cluster_id=somali.id, holder_id=newcomer.id, status=MembershipStatus.requested,
                         weekly_pledge_pence=(newcomer.weekly_allocation_pence // 4 // 100) * 100)
    session.add(request)
    session.flush()
    now = utcnow()
    admit = Proposal(council_id=council.id, cluster_id=somali.id, kind=ProposalKind.admit_member, title=f"Let {newcomer.name} join",
                     description=f"Pledging {pounds(request.weekly_pledge_pence)} a week.", payload={"membership_id": request.id},
                     created_by_id=amina.id, deadline=now + timedelta(days=10))
    outing = Proposal(council_id=council.id, cluster_id=somali.id, kind=ProposalKind.free_text, title="Move Friday visits to the afternoon",
                      description="So that everyone can go to Friday prayers in the morning.", created_by_id=amina.id, deadline=now + timedelta(days=12))
    accepted = Proposal(council_id=council.id, cluster_id=bengali.id, kind=ProposalKind.accept_match,
                        title="Accept Sylhet Sisters Homecare for personal care", payload={"provider": "Sylhet Sisters Homecare CIC"},
                        deadline=now - timedelta(days=3), status=ProposalStatus.passed, decided_at=now - timedelta(days=5),
                        outcome="Passed (4 yes, 0 no, 0 abstained of 4 members). The match is accepted; the broker will draw up the contract.")
    session.add_all([admit, outing, accepted])
    session.flush()
    # Hodan is represented by her daughter, who voted for her.
    hodan = holders[1]
    session.add(Vote(council_id=council.id, proposal_id=admit.id, holder_id=hodan.id, choice=Choice.yes, cast_by_id=rep.id))
    # Every other demo holder gets an account (not printed) so votes record who cast them.
    from brokerage.accounts.models import Role

    shared_hash = amina.password_hash
    accounts = {u.holder_id: u for u in session.exec(select(User).where(User.holder_id.is_not(None)))}
    for holder in holders:
        if holder.id not in accounts:
            accounts[holder.id] = User(council_id=council.id, email=f"holder{holder.id}@members.riverside.example", name=holder.name,
                                       role=Role.holder, password_hash=shared_hash, holder_id=holder.id)
            session.add(accounts[holder.id])
    session.flush()
    # Some members chose to share their faith or heritage with their groups, with recorded consent.
    from brokerage.holders.models import SensitiveDetail, SensitiveItem, Visibility

    somali_members = [h for h in holders if h.id in members]
    for holder, (item, value, visibility) in zip(somali_members, [
        (SensitiveItem.faith, "Muslim", Visibility.clusters),
        (SensitiveItem.heritage, "Somali", Visibility.clusters),
        (SensitiveItem.faith, "Muslim", Visibility.broker),
        (SensitiveItem.culture, "Somali", Visibility.nobody),
    ]):
        session.add(SensitiveDetail(council_id=council.id, holder_id=holder.id, item=item, value=value, visibility=visibility,
                                    consent_recorded_by_id=accounts[holder.id].id))
    bengali_members = session.exec(select(Membership).where(Membership.cluster_id == bengali.id, Membership.status == MembershipStatus.active)).all()
    for membership in bengali_members:
        session.add(Vote(council_id=council.id, proposal_id=accepted.id, holder_id=membership.holder_id, choice=Choice.yes,
                         cast_by_id=accounts[membership.holder_id].id))
    accepted.outcome = (f"Passed ({len(bengali_members)} yes, 0 no, 0 abstained of {len(bengali_members)} members). "
                        "The match is accepted; the broker will draw up the contract.")
    session.add(accepted)
    session.flush()


def _make_demo_demand(session: Session, council: Council, clusters: list[Cluster], providers: list[Provider]) -> None:
    """What the active groups ask for, and one matching run for the broker to review."""
    from brokerage.matching.models import DemandLine
    from brokerage.matching.services import run_matching

    by_name = {c.name: c for c in clusters}
    hooyo = next(p for p in providers if p.name.startswith("Hooyo"))
    wishes = [
        ("Somali elders of Whitechapel", "home_care", 14, ["mon_am", "tue_am", "wed_am", "thu_am", "fri_pm"], ["so"], True, "female", 2400, hooyo.id),
        ("Somali elders of Whitechapel", "respite", 4, ["sun_eve"], ["so"], True, "female", 2600, None),
        ("Bengali women's care circle", "personal_care", 10, ["mon_am", "wed_am", "fri_am", "sat_am"], ["bn"], True, "female", 2500, None),
        ("Bengali women's care circle", "companionship", 6, ["tue_pm", "thu_pm"], ["bn", "en"], False, None, 2000, None),
        ("Bow carers' respite group", "respite", 8, ["sat_am", "sat_pm", "sun_am"], [], False, None, 2600, None),
        ("Urdu speakers' home help", "domestic", 6, ["mon_pm", "wed_pm", "fri_pm"], ["ur"], False, None, 2000, None),
    ]
    for cluster_name, service, hours, slots, languages, required, gender, cap, current in wishes:
        cluster = by_name[cluster_name]
        members = session.exec(select(Membership.holder_id).where(Membership.cluster_id == cluster.id, Membership.status == MembershipStatus.active)).all()
        session.add(DemandLine(
            council_id=council.id, cluster_id=cluster.id, service=service, hours=hours, slots=slots, languages=languages,
            language_required=required, carer_gender=gender, lat=cluster.lat, lon=cluster.lon, max_rate_pence=cap,
            current_provider_id=current, shares={str(h): 1 for h in members},
        ))
    session.flush()
    run_matching(session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id)
