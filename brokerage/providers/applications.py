"""Providers who apply themselves: the checks of the public "offer care" application, making the provider, the brokers' review, and what is still to do.

An application is first kept waiting for its email address to be confirmed (`brokerage.providers.pending`).
Once the link is used, `make_provider` creates a provider waiting for review (`ProviderStatus.pending_review`)
in the council whose postcode districts include the applicant's postcode, and a provider account for the
applicant, with the password they chose. The applicant adds their own vetting evidence; a broker verifies it
(never the person who added it: `services.verify_vetting`), and a broker approves or refuses the
application. Only an approved provider with valid vetting is ever matched (`brokerage.matching`).
Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, func, select

from brokerage import clock
from brokerage.access import STAFF, get_or_404, same_council
from brokerage.accounts import rules as account_rules
from brokerage.accounts.models import CouncilDistrict, Role, User
from brokerage.accounts.services import create_user
from brokerage.errors import BrokerageError, Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.validation import person_name_problem
from brokerage.locks import lock_row
from brokerage.places.errors import UnknownPostcode
from brokerage.places.services import Place, locate
from brokerage.providers import rules
from brokerage.providers.models import Provider, ProviderKind, VettingItem
from brokerage.providers.rules import ProviderStatus, move_provider
from brokerage.providers.services import VETTING_WORDS, apply_profile, check_identity, check_profile, availability, vetting_of
from brokerage.types import utcnow

REASON_MAX = 500
NAME_MAX = 120
TAKEN = "There is already an account with this email address."


@dataclass
class Applied:
    """A new application: the provider waiting for review, and the applicant's own account."""

    provider: Provider
    user: User


@dataclass
class Checked:
    """An application's answers after checking: its problems as {field: message}, and, when it has none, what to make."""

    errors: dict[str, str]
    contact_name: str
    email: str
    answers: dict = field(default_factory=dict)  # name, kind, postcode and the profile, as `make_provider` takes them
    place: Place | None = None
    council_id: int | None = None
    email_taken: bool = False


def check_application(
    *, session: Session, name: str, kind: str | ProviderKind, contact_name: str, email: str, postcode: str,
    services: list[str], languages: list[str], staff_genders: list[str], capacity_hours: int | None, radius_km: float,
    hourly_rate_pence: int, staff_count: int, slot_hours: dict | None = None, slots: list[str] | None = None, living_wage: bool = False,
    ethical_care_charter: bool = False, ownership_model: str = "", password: str | None = None,
) -> Checked:
    """Check an application to offer care and return every problem at once; stores nothing.

    Hours per time of day and the weekly cap are as for `services.update_profile`; a new provider's weekly cap,
    when given, is at least an hour. The password is checked when given. Whether the email address already has
    an account is returned apart (`email_taken`), never as a problem: the public form must not tell.
    """
    profile = dict(services=list(services or []), languages=list(languages or []), staff_genders=list(staff_genders or []),
                   capacity_hours=capacity_hours, slot_hours=availability(capacity_hours=capacity_hours, slot_hours=slot_hours, slots=slots),
                   radius_km=radius_km, hourly_rate_pence=hourly_rate_pence, ownership_model=ownership_model or "", staff_count=staff_count)
    errors = check_identity(name=name, kind=kind, staff_count=staff_count) | check_profile(None, **profile)
    contact_name = (contact_name or "").strip()
    if problem := person_name_problem(contact_name, empty="Enter your full name", most=NAME_MAX):
        errors["contact_name"] = problem
    email = account_rules.normalise_email(email or "")
    if not email:
        errors["email"] = "Enter your email address"
    if password is not None:
        problem = account_rules.password_problem(password or "", email=email, name=contact_name)
        if problem:
            errors["password"] = problem
    place, council_id = None, None
    try:
        place = locate(session=session, postcode=postcode or "", field="postcode")
    except UnknownPostcode as error:
        # The public cannot ask an administrator: say what it means for them (no council here uses carepool yet).
        errors["postcode"] = (f"We do not know where {error.postcode} is. Check it is right. If it is, carepool is not used "
                              "there yet, so care cannot be offered there through this form. Ask your council's adult social care team.")
    except BrokerageError as error:
        errors["postcode"] = error.message
    if place is not None:
        council_id = session.exec(select(CouncilDistrict.council_id).where(CouncilDistrict.district == place.district)).first()
        if council_id is None:
            errors["postcode"] = (f"No council uses carepool for {place.district} yet, so care cannot be offered there through this form. "
                                  "Ask your council's adult social care team.")
    taken = bool(email) and session.exec(select(User.id).where(User.email == email)).first() is not None
    checked = Checked(errors=errors, contact_name=contact_name, email=email, place=place, council_id=council_id, email_taken=taken)
    if not errors:
        checked.answers = dict(name=name.strip(), kind=ProviderKind(kind).value, postcode=place.postcode, living_wage=bool(living_wage),
                               ethical_care_charter=bool(ethical_care_charter), **profile)
        checked.answers["radius_km"] = float(radius_km)
    return checked


def make_provider(*, session: Session, contact_name: str, email: str, password_hash: str, answers: dict) -> Applied:
    """Make the provider waiting for review and the applicant's provider account from a confirmed application, checking it all again.

    `answers` are as `Checked.answers`; the password was checked and hashed when the form was sent.
    Raises ValidationFailed when the answers no longer pass (the address has an account by now: field "email").
    """
    checked = check_application(session=session, contact_name=contact_name, email=email, **answers)
    errors = dict(checked.errors)
    if checked.email_taken:
        errors["email"] = TAKEN
    if errors:
        raise ValidationFailed(errors)
    place, profile = checked.place, dict(checked.answers)
    name, kind = profile.pop("name"), ProviderKind(profile.pop("kind"))
    living_wage, ethical_care_charter = profile.pop("living_wage"), profile.pop("ethical_care_charter")
    profile.pop("postcode")
    provider = Provider(
        council_id=checked.council_id, name=name, kind=kind, postcode=place.postcode, postcode_district=place.district, lat=place.lat, lon=place.lon,
        capacity_hours=profile["capacity_hours"], radius_km=profile["radius_km"], hourly_rate_pence=profile["hourly_rate_pence"],
        staff_count=profile["staff_count"], status=ProviderStatus.pending_review,
    )
    apply_profile(provider, **profile, living_wage=living_wage, ethical_care_charter=ethical_care_charter)
    session.add(provider)
    session.flush()
    # Created with no acting user, as the command line does: the applicant is nobody yet.
    user = create_user(session=session, actor=None, email=checked.email, name=checked.contact_name, role=Role.provider,
                       password_hash=password_hash, council_id=checked.council_id, provider_id=provider.id)
    return Applied(provider=provider, user=user)


# --- what an application still needs ---------------------------------------------------------------------


@dataclass
class Progress:
    """Where one provider stands: its status, its vetting, and what must still happen before it can be matched."""

    provider: Provider
    state: rules.VettingState
    steps: list[str]
    reviewer: str | None

    @property
    def matchable(self) -> bool:
        """Tell whether the provider can be matched now."""
        return rules.is_matchable(self.provider.status, self.state)


def progress_of(*, session: Session, actor: User, provider: Provider, today: date | None = None) -> Progress:
    """Return where a provider the actor may see stands, and what is still to do before it can be matched."""
    items = vetting_of(session=session, actor=actor, provider=provider)
    state = rules.vetting_state([(i.kind.value, i.expires_on, i.verified_at is not None) for i in items], regulated=rules.regulated(provider.kind, provider.services),
                                today=today or clock.today())
    reviewer = session.get(User, provider.reviewed_by_id).name if provider.reviewed_by_id else None
    steps = rules.still_to_do(provider.status, state, VETTING_WORDS, own=actor.provider_id == provider.id)
    return Progress(provider=provider, state=state, steps=steps, reviewer=reviewer)


# --- the brokers' queue ------------------------------------------------------------------------------------


@dataclass
class QueueRow:
    """An application in the queue, with where its evidence stands."""

    progress: Progress
    evidence_waiting: int  # pieces the applicant added that no broker has verified yet
    same_name: list[Provider] = field(default_factory=list)  # the council's other providers it may be (`same_names`)


@dataclass
class Queue:
    """The council's applications waiting for review, oldest first, and the ones refused lately."""

    waiting: list[QueueRow]
    refused: list[Provider]


def _staff(actor: User) -> None:
    if actor.role not in STAFF or actor.council_id is None:
        raise NotAllowed("Only the council's brokers and officers can see applications.")


def queue(*, session: Session, actor: User, today: date | None = None) -> Queue:
    """Return the actor's council's applications waiting for review, oldest first, and the 20 refused most recently."""
    _staff(actor)
    today = today or clock.today()
    waiting = list(session.exec(
        select(Provider).where(Provider.council_id == actor.council_id, Provider.status == ProviderStatus.pending_review)
        .order_by(Provider.created_at, Provider.id)
    ))
    unverified: dict[int, int] = {}
    if waiting:
        unverified = dict(session.exec(
            select(VettingItem.provider_id, func.count()).where(
                VettingItem.council_id == actor.council_id, VettingItem.verified_at.is_(None), VettingItem.provider_id.in_([p.id for p in waiting]),
            ).group_by(VettingItem.provider_id)
        ).all())
    refused = list(session.exec(
        select(Provider).where(Provider.council_id == actor.council_id, Provider.status == ProviderStatus.refused)
        .order_by(Provider.reviewed_at.desc(), Provider.id.desc()).limit(20)
    ))
    alike = same_names(session=session, actor=actor, providers=waiting)
    rows = [QueueRow(progress_of(session=session, actor=actor, provider=p, today=today), unverified.get(p.id, 0), alike.get(p.id, []))
            for p in waiting]
    return Queue(waiting=rows, refused=refused)


def same_names(*, session: Session, actor: User, providers: list[Provider]) -> dict[int, list[Provider]]:
    """Return, by application, the council's other providers named as it or as its applicant is, for the brokers to check (staff).

    Someone a broker registered who then applies on the public form makes a second, separate record: the
    broker should know before approving it. Names are compared with `rules.name_key` ("Bilal Iqbal" is
    "Bilal Iqbal (PA)"). Only applications waiting for review are checked.
    """
    _staff(actor)
    waiting = [p for p in providers if p.council_id == actor.council_id and p.status == ProviderStatus.pending_review]
    if not waiting:
        return {}
    applicants: dict[int, list[str]] = {}
    for provider_id, name in session.exec(select(User.provider_id, User.name).where(User.provider_id.in_([p.id for p in waiting]))):
        applicants.setdefault(provider_id, []).append(name)
    others: dict[str, list[Provider]] = {}
    for other in session.exec(select(Provider).where(Provider.council_id == actor.council_id).order_by(Provider.id)):
        others.setdefault(rules.name_key(other.name), []).append(other)
    found: dict[int, list[Provider]] = {}
    for provider in waiting:
        keys = {rules.name_key(n) for n in [provider.name, *applicants.get(provider.id, [])]} - {""}
        alike = {o.id: o for key in keys for o in others.get(key, []) if o.id != provider.id}
        if alike:
            found[provider.id] = sorted(alike.values(), key=lambda o: o.id)
    return found


def _application(session: Session, actor: User, provider_id: int) -> Provider:
    provider = get_or_404(session, actor, Provider, provider_id, what="provider")
    if actor.role not in STAFF:
        raise NotFound()
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can approve or refuse an application.")
    # Two brokers deciding at once: the second reads the first one's decision.
    provider = lock_row(session, Provider, provider.id)
    if provider.status != ProviderStatus.pending_review:
        raise Conflict(f"This application has already been decided: {provider.status.label.lower()}.")
    return provider


def approve(*, session: Session, actor: User, provider_id: int) -> Progress:
    """Approve an application (brokers only) and return where the provider now stands: matched once its vetting is valid too."""
    provider = _application(session, actor, provider_id)
    provider.status = move_provider(provider.status, ProviderStatus.approved)
    provider.reviewed_by_id, provider.reviewed_at = actor.id, utcnow()
    session.add(provider)
    session.flush()
    return progress_of(session=session, actor=actor, provider=provider)


def refuse(*, session: Session, actor: User, provider_id: int, reason: str) -> Provider:
    """Refuse an application with a reason the applicant reads (brokers only); a refused provider is never matched."""
    provider = _application(session, actor, provider_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Say why the application is refused: the applicant reads this"})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": f"Use {REASON_MAX} characters or fewer"})
    provider.status = move_provider(provider.status, ProviderStatus.refused)
    provider.reviewed_by_id, provider.reviewed_at, provider.review_note = actor.id, utcnow(), reason
    session.add(provider)
    session.flush()
    return provider


def ask_again(*, session: Session, actor: User, provider_id: int) -> Provider:
    """Send a refused application back to the brokers for another look, as the applicant (their own provider only).

    The refusal (who, when, why) is kept on the provider for the brokers to read until the next decision.
    Raises NotFound for anyone else's provider and Conflict unless the application is refused.
    """
    if actor.role != Role.provider or actor.provider_id != provider_id:
        raise NotFound()
    provider = lock_row(session, Provider, provider_id)  # two clicks at once: the second finds it waiting already
    if provider is None:
        raise NotFound()
    if provider.status != ProviderStatus.refused:
        raise Conflict("Your application is not refused, so there is nothing to ask again: "
                       f"it is {provider.status.label.lower()}.")
    provider.status = move_provider(provider.status, ProviderStatus.pending_review)
    session.add(provider)
    session.flush()
    return provider


def own_progress(*, session: Session, actor: User) -> Progress | None:
    """Return where the signed-in provider's own application stands, or None when the account is linked to no provider."""
    if actor.role != Role.provider or actor.provider_id is None:
        return None
    provider = session.get(Provider, actor.provider_id)
    if provider is None:
        return None
    same_council(actor, provider.council_id, what="provider")
    return progress_of(session=session, actor=actor, provider=provider)
