"""Reading and changing providers and their vetting evidence, with the access rules applied."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, func, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import HOURLY_RATE_TOO_HIGH, HOURLY_RATE_TOO_LOW
from brokerage.locks import lock_row
from brokerage.providers import charter, rules
from brokerage.providers.errors import SameChecker
from brokerage.providers.models import Provider, ProviderKind, VettingItem, VettingKind
from brokerage.providers.rules import ProviderStatus
from brokerage import clock
from brokerage.places.rules import normalise_postcode
from brokerage.places.services import locate_into
from brokerage.slot_hours import in_week_order, slot_hours_problems, spread_hours
from brokerage.types import utcnow
from brokerage.vocabulary import GENDERS, HOURLY_RATE_MAX_PENCE, LANGUAGE_CODES, NATIONAL_LIVING_WAGE_PENCE, SERVICES, SLOTS

CAPACITY_MAX = 168
STAFF_MAX = 100_000
RATE_MESSAGE = HOURLY_RATE_TOO_HIGH
STAFF_MESSAGE = f"Enter the number of staff as a whole number from 1 to {STAFF_MAX:,}"
CAPACITY_MESSAGE = f"Enter the most hours a week as a whole number from 0 to {CAPACITY_MAX}, or leave it empty for no limit"
# A new provider (applying, or registered by a broker) has no work to stop: a weekly cap of 0 would never be offered any.
NEW_CAPACITY_MESSAGE = f"Enter the most hours a week as a whole number from 1 to {CAPACITY_MAX}, or leave it empty for no limit"
RADIUS_MIN, RADIUS_MAX = 0.5, 50.0
VETTING_WORDS = {"dbs": "DBS check", "insurance": "insurance", "cqc": "CQC registration"}  # as named within a sentence


def get_provider(*, session: Session, actor: User, provider_id: int) -> Provider:
    """Return a provider the actor may see: staff see their council's, a provider user only their own."""
    provider = get_or_404(session, actor, Provider, provider_id, what="provider")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return provider
    if actor.role == Role.provider and actor.provider_id == provider.id:
        return provider
    raise NotFound()


def vetting_of(*, session: Session, actor: User, provider: Provider) -> list[VettingItem]:
    """Return a provider's vetting evidence."""
    same_council(actor, provider.council_id, what="provider")
    return list(session.exec(select(VettingItem).where(VettingItem.provider_id == provider.id).order_by(VettingItem.kind)))


def vetting_people(*, session: Session, items: list[VettingItem]) -> dict[int, str]:
    """Return the names of the people who added and verified these pieces of evidence, by user id."""
    ids = ({i.added_by_id for i in items} | {i.checked_by_id for i in items if i.verified_at is not None}) - {None}
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.name).where(User.id.in_(sorted(ids)))).all())


def list_providers(*, session: Session, actor: User) -> list[Provider]:
    """Return the approved providers of the actor's council, for staff (applications have their own queue: `applications.queue`)."""
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound()
    return list(session.exec(
        select(Provider).where(Provider.council_id == actor.council_id, Provider.status == ProviderStatus.approved).order_by(Provider.name)
    ))


def vetting_summary(*, session: Session, council_id: int, today: date, approved_only: bool = False) -> dict[int, rules.VettingState]:
    """Return each provider's vetting state in a council; only the approved providers' with `approved_only`.

    Lists of evidence to chase ask for approved providers only: an application's evidence waits in the
    brokers' queue, and a refused applicant has nothing left to chase.
    """
    query = select(Provider).where(Provider.council_id == council_id)
    if approved_only:
        query = query.where(Provider.status == ProviderStatus.approved)
    providers = session.exec(query)
    items = session.exec(select(VettingItem).where(VettingItem.council_id == council_id))
    by_provider: dict[int, list[VettingItem]] = {}
    for item in items:
        by_provider.setdefault(item.provider_id, []).append(item)
    return {
        p.id: rules.vetting_state(
            [(i.kind.value, i.expires_on, i.verified_at is not None) for i in by_provider.get(p.id, [])], regulated=rules.regulated(p.kind, p.services), today=today
        )
        for p in providers
    }


@dataclass
class ProvidersPage:
    """The council's providers, each with its vetting state."""

    providers: list[Provider]
    states: dict[int, rules.VettingState]
    applications_waiting: int = 0
    unconfirmed: tuple[Provider, ...] = ()  # charters no broker has confirmed (charter.unconfirmed_charters)


def providers_page(*, session: Session, actor: User) -> ProvidersPage:
    """Return the providers page for staff: the approved providers, and how many applications wait for review."""
    rows = list_providers(session=session, actor=actor)
    waiting = session.exec(
        select(func.count()).select_from(Provider).where(Provider.council_id == actor.council_id, Provider.status == ProviderStatus.pending_review)
    ).one()
    return ProvidersPage(providers=rows, states=vetting_summary(session=session, council_id=actor.council_id, today=clock.today()),
                         applications_waiting=waiting, unconfirmed=tuple(charter.unconfirmed_charters(session=session, actor=actor)))


@dataclass
class ProviderPage:
    """One provider's page: the profile, the vetting evidence and its state, and who may change them."""

    provider: Provider
    items: list[VettingItem]
    state: rules.VettingState
    today: date
    may_change: bool
    # The names of the people who added and verified the evidence, by user id.
    checkers: dict[int, str]
    # What must still happen before the provider can be matched, and the broker who decided its application.
    steps: list[str]
    reviewer: str | None


def provider_page(*, session: Session, actor: User, provider_id: int) -> ProviderPage:
    """Return one provider's page for the actor: staff of its council, or the provider themselves."""
    provider = get_provider(session=session, actor=actor, provider_id=provider_id)
    items = vetting_of(session=session, actor=actor, provider=provider)
    today = clock.today()
    state = rules.vetting_state([(i.kind.value, i.expires_on, i.verified_at is not None) for i in items], regulated=rules.regulated(provider.kind, provider.services), today=today)
    people = vetting_people(session=session, items=items)
    reviewer = None
    if provider.reviewed_by_id is not None:
        reviewer = session.exec(select(User.name).where(User.id == provider.reviewed_by_id)).first()
    return ProviderPage(
        provider=provider, items=items, state=state, today=today, may_change=may_change(actor, provider), checkers=people,
        steps=rules.still_to_do(provider.status, state, VETTING_WORDS, own=actor.provider_id == provider.id), reviewer=reviewer,
    )


def may_change(actor: User, provider: Provider) -> bool:
    """Tell whether the actor may change a provider's profile and evidence: a broker, or the provider themselves."""
    return actor.role == Role.broker or (actor.role == Role.provider and actor.provider_id == provider.id)


def kind_counts(*, session: Session, council_id: int) -> dict[str, int]:
    """Count a council's approved providers by kind."""
    kinds = session.exec(select(Provider.kind).where(Provider.council_id == council_id, Provider.status == ProviderStatus.approved))
    return dict(Counter(k.value for k in kinds))


def _ordered(current: list[str], chosen: list[str]) -> list[str]:
    # Keep the order already recorded (most used first), then add new choices in the order given.
    chosen = list(dict.fromkeys(chosen))
    return [v for v in current if v in chosen] + [v for v in chosen if v not in current]


def _number(value, *, whole: bool = False) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if whole:
        return value if isinstance(value, int) else None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def availability(*, capacity_hours, slot_hours: dict | None, slots: list[str] | None) -> dict:
    """Return a provider's hours per time of day: as given, or (only times given) its capacity spread over them, an hour each at least."""
    if slot_hours is not None:
        return dict(slot_hours)
    capacity = capacity_hours if isinstance(capacity_hours, int) and not isinstance(capacity_hours, bool) else 0
    # A time that is not one of the week's is kept, so the check names it rather than dropping it.
    return spread_hours(capacity, slots or [], at_least_one=True) | {slot: 0 for slot in slots or [] if slot not in SLOTS}


def provider_slot_hours(provider: Provider) -> dict[str, int]:
    """Return the hours a provider can work in each time of day (one stored with times only spreads its capacity over them)."""
    return in_week_order(provider.slot_hours) or availability(capacity_hours=provider.capacity_hours, slot_hours=None, slots=provider.slots)


def capacity_least(provider: Provider | None) -> int:
    """Return the smallest weekly cap allowed: 1 for a new provider, 0 (take no more work for now) for one that already exists."""
    return 1 if provider is None else 0


def capacity_message(least: int) -> str:
    """Return the message for a weekly cap out of range, from `least`."""
    return NEW_CAPACITY_MESSAGE if least >= 1 else CAPACITY_MESSAGE


def check_profile(provider: Provider | None, *, services: list[str], languages: list[str], staff_genders: list[str],
                   capacity_hours, slot_hours: dict, radius_km, hourly_rate_pence, ownership_model: str, staff_count=None) -> dict[str, str]:
    """Return the profile's problems as {field: message}, empty when it can be saved (the form's and the application's checks)."""
    errors: dict[str, str] = {}
    had_services = provider.services if provider else []
    had_languages = provider.languages if provider else []
    # Values the council set that are not in our lists stay allowed, so saving never drops them.
    if not services:
        errors["services"] = "Choose at least one service"
    elif any(s not in SERVICES and s not in had_services for s in services):
        errors["services"] = "Choose services from the list"
    if not languages:
        errors["languages"] = "Choose at least one language"
    elif any(c not in LANGUAGE_CODES and c not in had_languages for c in languages):
        errors["languages"] = "Choose languages from the list"
    if not staff_genders or any(g not in GENDERS for g in staff_genders):
        errors["staff_genders"] = "Choose women, men or both"
    # The weekly cap is optional: None means no cap beyond the hours in each time of day.
    # A provider already taking work may set 0 to take no more for now; a new one with a cap of 0 would never be offered any.
    capacity = _number(capacity_hours, whole=True)
    if capacity_hours is not None and (capacity is None or not capacity_least(provider) <= capacity <= CAPACITY_MAX):
        errors["capacity_hours"] = capacity_message(capacity_least(provider))
    problem = slot_hours_problems(slot_hours, **slot_limit(provider, staff_count))
    if problem:
        errors["slot_hours"] = problem
    radius = _number(radius_km)
    if radius is None or not RADIUS_MIN <= radius <= RADIUS_MAX:
        errors["radius_km"] = f"Enter a distance from {RADIUS_MIN:g} to {RADIUS_MAX:g} km"
    rate = _number(hourly_rate_pence, whole=True)
    if rate is None:
        errors["hourly_rate"] = "Enter an hourly rate, like 22.50"
    elif rate < NATIONAL_LIVING_WAGE_PENCE:  # £0 too: one lowest rate, not "more than £0" and then the Living Wage
        # The floor of a group's request too: £1.50 an hour was taken, and counted as Living Wage spend.
        errors["hourly_rate"] = HOURLY_RATE_TOO_LOW
    elif rate > HOURLY_RATE_MAX_PENCE:
        errors["hourly_rate"] = RATE_MESSAGE
    if len(ownership_model or "") > 80:
        errors["ownership_model"] = "Use 80 characters or fewer"
    if staff_count is not None or provider is None:
        staff = _number(staff_count, whole=True)
        if staff is None or not 1 <= staff <= STAFF_MAX:
            errors["staff_count"] = STAFF_MESSAGE
    return errors


def staff_valid(staff) -> bool:
    """Tell whether a staff count is a whole number from 1 to STAFF_MAX."""
    return isinstance(staff, int) and not isinstance(staff, bool) and 1 <= staff <= STAFF_MAX


def slot_limit(provider: Provider | None, staff_count) -> dict:
    """Return `slot_hours_problems`' limits for a provider's offer: for each of its staff, 6 hours a morning, 5 an afternoon or evening (`rules.offer_limits`).

    Hours already recorded above that stay allowed while the staff count is unchanged, so saving other
    changes never depends on them. With no valid staff count the limit is not known (`most` None): the
    hours are not judged against one, and the staff count's own problem is what the provider is told.
    """
    staff = _number(staff_count, whole=True) if staff_count is not None else (provider.staff_count if provider else None)
    if not staff_valid(staff):
        return {"most": None}
    most, why = rules.offer_limits(staff)
    kept = provider_slot_hours(provider) if provider is not None and staff == provider.staff_count else None
    return {"most": most, "kept": kept, "why": why}


def check_identity(*, name, kind, staff_count=None) -> dict[str, str]:
    """Return the problems with a provider's name and kind (and the kind against its staff count) as {field: message}, empty when fine."""
    errors = rules.kind_staff_errors(kind, staff_count)
    if not (name or "").strip():
        errors["name"] = "Enter the name"
    elif len(name.strip()) > 120:
        errors["name"] = "Use 120 characters or fewer"
    if kind not in {k.value for k in ProviderKind} and not isinstance(kind, ProviderKind):
        errors["kind"] = "Choose the kind of provider"
    return errors


def apply_profile(provider: Provider, *, services, languages, staff_genders, capacity_hours, slot_hours, radius_km,
                   hourly_rate_pence, living_wage, ethical_care_charter, ownership_model, staff_count=None, broker_id=None) -> None:
    """Copy checked profile values onto the provider (lists keep the order already recorded, times go in week order); commits nothing.

    `broker_id`: the broker making the change, whose tick of the charter confirms it (providers.charter)."""
    provider.services = _ordered(provider.services or [], services)
    provider.languages = _ordered(provider.languages or [], languages)
    provider.staff_genders = [g for g in GENDERS if g in staff_genders]
    provider.slot_hours = in_week_order(slot_hours)
    provider.slots = list(provider.slot_hours)
    provider.capacity_hours = capacity_hours
    provider.radius_km = float(radius_km)
    provider.hourly_rate_pence = hourly_rate_pence
    provider.living_wage = bool(living_wage)
    charter.record_charter(provider, ethical_care_charter, broker_id=broker_id)
    provider.ownership_model = (ownership_model or "").strip()
    if staff_count is not None:
        provider.staff_count = staff_count


def _editable_provider(session: Session, actor: User, provider_id: int) -> Provider:
    provider = get_provider(session=session, actor=actor, provider_id=provider_id)
    if actor.role == Role.broker or (actor.role == Role.provider and actor.provider_id == provider.id):
        return provider
    raise NotAllowed("Only the provider themselves or a broker can change this.")


def update_profile(
    *,
    session: Session,
    actor: User,
    provider_id: int,
    services: list[str],
    languages: list[str],
    staff_genders: list[str],
    capacity_hours: int | None,
    radius_km: float,
    hourly_rate_pence: int,
    living_wage: bool,
    ethical_care_charter: bool,
    slot_hours: dict | None = None,
    slots: list[str] | None = None,
    ownership_model: str = "",
    name: str | None = None,
    kind: str | ProviderKind | None = None,
    staff_count: int | None = None,
    postcode: str | None = None,
) -> Provider:
    """Change what a provider offers and how many staff it has (None leaves the count); a broker may also change its name, kind and postcode.

    `slot_hours` are the hours it can work in each time of day; given only `slots`, its capacity is spread over them.
    `capacity_hours` None: no weekly cap beyond its slot hours.
    """
    provider = _editable_provider(session, actor, provider_id)
    # Its rules span its own fields (hours in a time of day within what its staff can work): a save that waited
    # is checked against what the other saved, and each save writes only what it changed (locks.py).
    provider = lock_row(session, Provider, provider.id)
    if (name is not None or kind is not None or postcode is not None) and actor.role != Role.broker:
        field = "name" if name is not None else "kind" if kind is not None else "postcode"
        raise NotAllowed("Only a broker can change a provider's name, kind or postcode.", field=field)
    profile = dict(services=list(services or []), languages=list(languages or []), staff_genders=list(staff_genders or []),
                   capacity_hours=capacity_hours, slot_hours=availability(capacity_hours=capacity_hours, slot_hours=slot_hours, slots=slots),
                   radius_km=radius_km, hourly_rate_pence=hourly_rate_pence, ownership_model=ownership_model or "", staff_count=staff_count)
    errors = check_profile(provider, **profile)
    if name is not None or kind is not None:
        errors |= check_identity(name=provider.name if name is None else name, kind=provider.kind if kind is None else kind,
                                 staff_count=provider.staff_count if staff_count is None else staff_count)
    errors = errors if kind is not None else rules.kind_staff_errors(provider.kind, staff_count, field="staff_count") | errors  # own profile
    # The postcode it already has is not looked up again: saving other changes never depends on the postcode table.
    moved = postcode is not None and normalise_postcode(postcode) != provider.postcode
    place = locate_into(errors, session=session, postcode=postcode) if moved else None
    if errors:
        raise ValidationFailed(errors)
    was_waiting = charter.waiting(provider)
    apply_profile(provider, **profile, living_wage=living_wage, ethical_care_charter=ethical_care_charter, broker_id=actor.id if actor.role == Role.broker else None)
    charter.tell_brokers(session=session, provider=provider, was_waiting=was_waiting)  # travel waits for a broker: nobody may miss it
    if place is not None:
        provider.postcode, provider.postcode_district, provider.lat, provider.lon = place.postcode, place.district, place.lat, place.lon
    if name is not None:
        provider.name = name.strip()
    if kind is not None:
        provider.kind = ProviderKind(kind)
    session.add(provider)
    session.flush()
    return provider


def register_provider(
    *,
    session: Session,
    actor: User,
    name: str,
    kind: str | ProviderKind,
    postcode: str,
    services: list[str],
    languages: list[str],
    staff_genders: list[str],
    capacity_hours: int | None,
    radius_km: float,
    hourly_rate_pence: int,
    staff_count: int,
    slot_hours: dict | None = None,
    slots: list[str] | None = None,
    living_wage: bool = False,
    ethical_care_charter: bool = False,
    ownership_model: str = "",
) -> Provider:
    """Register a provider or personal assistant in the broker's council at a postcode, with its number of staff and no verified evidence yet.

    Its hours per time of day and weekly cap are as for `update_profile`.
    """
    if actor.role != Role.broker or actor.council_id is None:
        raise NotAllowed("Only a broker can register a provider.")
    profile = dict(services=list(services or []), languages=list(languages or []), staff_genders=list(staff_genders or []),
                   capacity_hours=capacity_hours, slot_hours=availability(capacity_hours=capacity_hours, slot_hours=slot_hours, slots=slots),
                   radius_km=radius_km, hourly_rate_pence=hourly_rate_pence, ownership_model=ownership_model or "", staff_count=staff_count)
    errors = check_identity(name=name, kind=kind, staff_count=staff_count) | check_profile(None, **profile)
    place = locate_into(errors, session=session, postcode=postcode)
    if errors:
        raise ValidationFailed(errors)
    provider = Provider(council_id=actor.council_id, name=name.strip(), kind=ProviderKind(kind), postcode=place.postcode, postcode_district=place.district,
                        lat=place.lat, lon=place.lon, capacity_hours=capacity_hours, radius_km=float(radius_km), hourly_rate_pence=hourly_rate_pence,
                        staff_count=staff_count, status=ProviderStatus.approved)  # a broker registering it is its review
    apply_profile(provider, **profile, living_wage=living_wage, ethical_care_charter=ethical_care_charter, broker_id=actor.id)
    session.add(provider)
    session.flush()
    return provider


def add_vetting(
    *, session: Session, actor: User, provider_id: int, kind: str | VettingKind, reference: str, expires_on: date, today: date | None = None
) -> VettingItem:
    """Record a piece of vetting evidence; it counts only once a broker verifies it."""
    provider = _editable_provider(session, actor, provider_id)
    today = today or clock.today()
    errors: dict[str, str] = {}
    if kind not in {k.value for k in VettingKind} and not isinstance(kind, VettingKind):
        errors["kind"] = "Choose the kind of evidence"
    reference = (reference or "").strip()
    if not reference:
        errors["reference"] = "Enter the reference number"
    elif len(reference) > 80:
        errors["reference"] = "Use 80 characters or fewer"
    if problem := rules.expiry_problem(expires_on, today=today):  # in the future, and not years beyond the next check
        errors["expires_on"] = problem
    if errors:
        raise ValidationFailed(errors)
    item = VettingItem(council_id=provider.council_id, provider_id=provider.id, kind=VettingKind(kind), reference=reference, expires_on=expires_on,
                       added_by_id=actor.id, added_at=utcnow())
    session.add(item)
    session.flush()
    return item


def verify_vetting(*, session: Session, actor: User, item_id: int, now: datetime | None = None) -> VettingItem:
    """Record that a broker, not the person who added it, has seen a piece of evidence and it is genuine."""
    item = get_or_404(session, actor, VettingItem, item_id, what="evidence")
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can verify evidence.")
    now = now or utcnow()
    if item.verified_at is not None:
        return item
    if item.added_by_id == actor.id:
        raise SameChecker(
            f"You added this {VETTING_WORDS[item.kind.value]} yourself, so a different broker must check and verify it. Ask a colleague to do this.",
            provider_id=item.provider_id,
        )
    if item.expires_on < clock.london(now).date():
        raise Conflict(f"This {VETTING_WORDS[item.kind.value]} has run out. Ask the provider for new evidence.")
    item.verified_at = now
    item.checked_at = now
    item.checked_by_id = actor.id
    session.add(item)
    session.flush()
    return item
