"""The demo's people: councils, staff, holders, providers and their evidence, logins, a representative, consent, invitations.

Everything goes through the accounts, providers, holders and invitations services, as a broker would
use them: each person and provider is placed by a postcode the demo's postcode table knows
(`load_places`). Invitations are read from the outbox, as a newcomer would.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlmodel import Session, select

from brokerage.accounts import services as accounts
from brokerage.accounts.models import Role, User
from brokerage.demo import data
from brokerage.demo.story import Cast
from brokerage.holders import registration
from brokerage.holders import services as holders
from brokerage.holders.models import Power, SensitiveItem, Visibility
from brokerage.invitations import accepting
from brokerage.invitations import services as invitations
from brokerage.mail.models import OutboxMessage
from brokerage.places.rules import Centroid, district_of
from brokerage.places.services import store_centroids
from brokerage.providers import rules as provider_rules
from brokerage.providers import services as providers
from brokerage.providers.models import Provider, ProviderKind, VettingKind


def _postcodes_in(district: str) -> list[str]:
    return [postcode for postcode in data.POSTCODES if district_of(postcode) == district]


def _keep_the_story(rng: random.Random) -> None:
    # People were once placed at random points near their district's centre, two draws each. The draws
    # stay, so every later choice (slots, radii, budgets) and with them the story's matches are unchanged.
    rng.random(), rng.random()


def _times_once_drawn(rng: random.Random, count: int) -> None:
    # Providers' times were once drawn at random. The draw stays, so every later choice (radii, rates,
    # budgets) is unchanged; their hours in each time of day are now the demo's own (data.PROVIDER_HOURS).
    rng.sample(data.SLOTS, count)


def load_places(*, session: Session) -> None:
    """Load where the demo's postcodes are, as `brokerage geo import` would: its districts' centres and some full postcodes."""
    districts = {**data.DISTRICTS, **data.OTHER_DISTRICT_CENTRES}
    store_centroids(session=session, centroids=[Centroid(d, d, lat, lon, True) for d, (lat, lon) in districts.items()])
    store_centroids(session=session, centroids=[Centroid(p, district_of(p), lat, lon, False) for p, (lat, lon) in data.POSTCODES.items()])


def open_councils(*, session: Session) -> Cast:
    """Create the two demo councils (as the command line does, with no actor) and return the cast to fill."""
    load_places(session=session)
    council = accounts.create_council(
        session=session, actor=None, slug=data.DEMO_SLUG, name=data.COUNCIL_NAME, area_districts=data.COUNCIL_DISTRICTS
    )
    other = accounts.create_council(session=session, actor=None, slug=data.OTHER_SLUG, name=data.OTHER_NAME, area_districts=data.OTHER_DISTRICTS)
    # Riverside's officers have opted in to the public report (/public/riverside); Northfield has not.
    council.publish_report = True
    return Cast(council=council, other=other)


def add_staff(*, session: Session, cast: Cast, password: str) -> None:
    """Create the administrator, the brokers and the council officers."""
    for (email, name), role, council in [
        (data.ADMIN, Role.admin, None),
        (data.BROKER, Role.broker, cast.council),
        (data.BROKER_2, Role.broker, cast.council),
        (data.OFFICER, Role.council_officer, cast.council),
        (data.OFFICER_2, Role.council_officer, cast.council),
        (data.OTHER_BROKER, Role.broker, cast.other),
    ]:
        cast.staff[email] = accounts.create_user(
            session=session, actor=None, email=email, name=name, role=role, password=password, council_id=council.id if council else None
        )


def register_holders(*, session: Session, rng: random.Random, cast: Cast) -> None:
    """Add the council's direct-payment holders (about forty, in six languages) and one in the other council."""
    districts = list(data.DISTRICTS)
    broker = cast.user(data.BROKER[0])
    for index, lang in enumerate(data.LANGUAGE_MIX):
        first = data.FIRST_NAMES[lang][index % len(data.FIRST_NAMES[lang])]
        surname = data.SURNAMES[lang][(index * 7) % len(data.SURNAMES[lang])]
        district = districts[(index * 5) % len(districts)]
        postcodes = _postcodes_in(district)
        _keep_the_story(rng)
        languages = [lang] if lang == "en" else ([lang, "en"] if rng.random() < 0.5 else [lang])
        needs = sorted(rng.sample(data.NEEDS, rng.randint(1, 3)))
        holder = registration.add_holder(
            session=session, actor=broker, name=f"{first} {surname}",
            # Weekly direct payments range from about £120 to £950, in whole pounds here for readability.
            weekly_allocation_pence=rng.randrange(120, 950) * 100, postcode=postcodes[index % len(postcodes)],
            languages=languages, care_needs=needs, phone=f"020 7946 {index:04d}",  # Ofcom keeps 020 7946 0000-0999 for drama
            goals=rng.choice(data.GOALS),
        )
        cast.holders.append(holder)


def register_providers(*, session: Session, rng: random.Random, cast: Cast) -> None:
    """Register the council's providers and personal assistants, as a broker does."""
    broker = cast.user(data.BROKER[0])
    for name, kind, ownership, services, languages, genders, rate, capacity, district in data.PROVIDERS:
        _keep_the_story(rng)
        _times_once_drawn(rng, 12)
        cast.providers.append(providers.register_provider(
            session=session, actor=broker, name=name, kind=kind, ownership_model=ownership, services=services, languages=languages,
            staff_genders=genders, slot_hours=data.PROVIDER_HOURS[name], capacity_hours=capacity, postcode=_postcodes_in(district)[0],
            radius_km=rng.choice([5.0, 6.0, 8.0]), hourly_rate_pence=rate, staff_count=data.STAFF_COUNTS[name],
            living_wage=kind != ProviderKind.private, ethical_care_charter=kind in (ProviderKind.coop, ProviderKind.cic, ProviderKind.charity),
        ))
    for name, languages, genders, district in data.PAS:
        _keep_the_story(rng)
        _times_once_drawn(rng, 8)
        cast.providers.append(providers.register_provider(
            session=session, actor=broker, name=name, kind=ProviderKind.pa, ownership_model="self-employed personal assistant",
            services=["home_care", "companionship", "domestic"], languages=languages, staff_genders=genders,
            slot_hours=data.PROVIDER_HOURS[name], capacity_hours=rng.choice([15, 20, 25, 30]), postcode=_postcodes_in(district)[-1],
            radius_km=rng.choice([2.5, 3.0, 4.0]), hourly_rate_pence=rng.choice([1650, 1750, 1850]), staff_count=1,
            living_wage=True, ethical_care_charter=False,
        ))


def record_evidence(*, session: Session, cast: Cast, today: date) -> None:
    """One broker records each provider's DBS, insurance and CQC evidence; another checks and verifies it.

    `today` is the day the story ends: most evidence is in date then, one provider's DBS has expired
    since it was checked and one runs out soon, as in real life.
    """
    recorder, checker = cast.user(data.BROKER_2[0]), cast.user(data.BROKER[0])
    for index, provider in enumerate(cast.providers):
        dbs_expiry = today + timedelta(days=400 + index * 10)
        if index == 3:
            dbs_expiry = today - timedelta(days=12)
        if index == 5:
            dbs_expiry = today + timedelta(days=20)
        evidence = [(VettingKind.dbs, f"DBS-{100200 + index}", dbs_expiry), (VettingKind.insurance, f"INS-{7700 + index}", today + timedelta(days=200 + index))]
        if provider_rules.regulated(provider.kind, provider.services):
            evidence.append((VettingKind.cqc, f"1-{550000 + index}", today + timedelta(days=700)))
        for kind, reference, expires_on in evidence:
            item = providers.add_vetting(session=session, actor=recorder, provider_id=provider.id, kind=kind, reference=reference, expires_on=expires_on)
            providers.verify_vetting(session=session, actor=checker, item_id=item.id)


def open_accounts(*, session: Session, cast: Cast, password: str, holder_ids: set[int]) -> None:
    """Give these holders their own logins (Amina's is printed), and each provider the story contracts its own (Nasima's is printed)."""
    amina = cast.holders[0]
    for holder in cast.holders:
        if holder.id in holder_ids or holder is amina:
            email = data.HOLDER_LOGIN if holder is amina else data.MEMBER_EMAIL.format(id=holder.id)
            cast.accounts[holder.id] = accounts.create_user(
                session=session, actor=None, email=email, name=holder.name, role=Role.holder, password=password,
                council_id=cast.council.id, holder_id=holder.id,
            )
    for name in [data.PROVIDER_WITH_LOGIN] + [agreed.provider for agreed in data.HISTORY_CARE]:
        provider = provider_named(cast, name)
        email = data.PROVIDER_LOGIN if name == data.PROVIDER_WITH_LOGIN else data.PROVIDER_EMAIL.format(id=provider.id)
        cast.provider_logins[provider.id] = cast.staff[email] = accounts.create_user(
            session=session, actor=None, email=email, name=provider.name, role=Role.provider, password=password,
            council_id=cast.council.id, provider_id=provider.id,
        )


def link_in_outbox(*, session: Session, to: str) -> str:
    """Return the token of the link in the newest message of the outbox to this address: the demo opens its email."""
    message = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == to).order_by(OutboxMessage.id.desc())).first()
    link = next(word for word in message.body.split() if word.startswith("http"))
    return link.rstrip("/").rsplit("/", 1)[1]


def add_representative(*, session: Session, cast: Cast, password: str) -> User:
    """Amina and Hodan each invite Idil Hassan to act for them; she makes her account from the first email and accepts the second signed in."""
    email, name = data.REPRESENTATIVE
    rep = None
    for holder in cast.holders[:2]:
        invitations.invite_representative(session=session, actor=cast.accounts[holder.id], holder_id=holder.id, name=name, email=email,
                                          relationship="daughter", powers=list(Power))
        rep = accepting.accept_invitation(session=session, actor=rep, token=link_in_outbox(session=session, to=email), password=password)
    cast.staff[email] = rep
    return rep


def invite_a_holder(*, session: Session, cast: Cast) -> None:
    """The broker invites the first holder who has no login yet; the invitation waits in the outbox (/admin/outbox, for the admin login)."""
    holder = next(h for h in cast.holders if h.id not in cast.accounts)
    invitations.invite_holder(session=session, actor=cast.user(data.BROKER[0]), holder_id=holder.id, email=data.INVITED_EMAIL.format(id=holder.id))


def invite_a_provider(*, session: Session, cast: Cast) -> None:
    """The broker invites a personal assistant it registered, who has no login yet, to sign in; the invitation waits in the outbox."""
    provider = provider_named(cast, data.PROVIDER_INVITED)
    invitations.invite_provider(session=session, actor=cast.user(data.BROKER[0]), provider_id=provider.id,
                                email=data.INVITED_PROVIDER_EMAIL.format(id=provider.id))


# Some Somali elders chose to share their faith or heritage, each with the audience they chose.
SHARED = [
    (SensitiveItem.faith, "Muslim", Visibility.clusters),
    (SensitiveItem.heritage, "Somali", Visibility.clusters),
    (SensitiveItem.faith, "Muslim", Visibility.broker),
    (SensitiveItem.culture, "Somali", Visibility.nobody),
]


def record_consent(*, session: Session, cast: Cast) -> None:
    """Four holders add a sensitive detail to their own profile, which records their consent."""
    for holder, (item, value, visibility) in zip(cast.holders[:4], SHARED):
        holders.update_profile(
            session=session, actor=cast.accounts[holder.id], holder_id=holder.id, languages=holder.languages, care_needs=holder.care_needs,
            goals=holder.goals, sensitive={item: (value, visibility)},
        )


def add_other_council(*, session: Session, cast: Cast, password: str) -> None:
    """A holder and a provider in the other council, so tenancy can be seen and tested with the demo data too."""
    far_holder = registration.add_holder(
        session=session, actor=cast.user(data.OTHER_BROKER[0]), name="Beryl Ackroyd", weekly_allocation_pence=41000, postcode="LS6 3BR",
        languages=["en"], care_needs=["companionship"], phone="0113 496 0000",  # Ofcom's drama numbers for Leeds
        goals="Stay in touch with my choir",
    )
    providers.register_provider(
        session=session, actor=cast.user(data.OTHER_BROKER[0]), name="Headingley Care Co-op", kind=ProviderKind.coop,
        ownership_model="worker co-operative", services=["home_care", "companionship"], languages=["en"], staff_genders=["female", "male"],
        slot_hours=data.PROVIDER_HOURS["Headingley Care Co-op"], capacity_hours=60, postcode="LS6 3BR",
        radius_km=6.0, hourly_rate_pence=2300, staff_count=11, living_wage=True, ethical_care_charter=True,
    )
    cast.staff[data.OTHER_HOLDER_LOGIN] = accounts.create_user(
        session=session, actor=None, email=data.OTHER_HOLDER_LOGIN, name=far_holder.name, role=Role.holder, password=password,
        council_id=cast.other.id, holder_id=far_holder.id,
    )


def provider_named(cast: Cast, prefix: str) -> Provider:
    """Return the council's provider whose name starts with this."""
    return next(p for p in cast.providers if p.name.startswith(prefix))
