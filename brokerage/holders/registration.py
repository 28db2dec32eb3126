"""A broker adds a budget holder to their council: who they are, their budget, where they live and how to reach them.

The holder can sign in only once they are invited (the invitations package does that, from the
email or phone number kept here).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from brokerage.accounts.models import Role, User
from brokerage.accounts.rules import normalise_email
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.validation import person_name_problem
from brokerage.holders.models import Holder
from brokerage.holders.rules import normalise_phone, phone_problem
from brokerage.holders.services import GOALS_MAX, get_holder
from brokerage.places.services import locate_into
from brokerage.vocabulary import COMMON_LANGUAGE_NAMES, SERVICE_NAMES

NAME_MAX = 120
EMAIL_MAX = 254
ALLOCATION_MAX = 1_000_000  # £10,000 a week: far above any direct payment, so a slip of the keyboard is caught
ALLOCATION_MESSAGE = f"Enter a weekly budget of £{ALLOCATION_MAX // 100:,} or less"
ALLOCATION_TOO_LITTLE = "Enter a weekly budget of more than £0"


def allocation_problem(weekly_allocation_pence) -> str | None:
    """Return what is wrong with a weekly budget (pence), or None: more than £0 and at most ALLOCATION_MAX, whether new or changed."""
    if isinstance(weekly_allocation_pence, bool) or not isinstance(weekly_allocation_pence, int) or weekly_allocation_pence <= 0:
        return ALLOCATION_TOO_LITTLE
    if weekly_allocation_pence > ALLOCATION_MAX:
        return ALLOCATION_MESSAGE
    return None
EMAIL_MESSAGE = "Enter an email address like name@example.org"
CONTACT_MESSAGE = "Enter an email address or a phone number, so they can be invited"


def _email_problem(email: str) -> str | None:
    if len(email) > EMAIL_MAX:
        return f"Use {EMAIL_MAX} characters or fewer"
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return EMAIL_MESSAGE
    return None


def add_holder(
    *,
    session: Session,
    actor: User,
    name: str,
    weekly_allocation_pence: int,
    postcode: str,
    languages: list[str],
    care_needs: list[str],
    email: str | None = None,
    phone: str | None = None,
    goals: str = "",
) -> Holder:
    """Add a budget holder to the broker's council, placed by their postcode, with an email address or phone number (or both) to invite them by."""
    if actor.role != Role.broker or actor.council_id is None:
        raise NotAllowed("Only a broker can add a budget holder.")
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if problem := person_name_problem(name, empty="Enter their name", most=NAME_MAX):
        errors["name"] = problem
    if allocation_problem(weekly_allocation_pence):
        errors["allocation"] = allocation_problem(weekly_allocation_pence)
    languages = list(dict.fromkeys(code for code in languages or [] if code))
    care_needs = list(dict.fromkeys(token for token in care_needs or [] if token))
    if not languages:
        errors["languages"] = "Choose at least one language they speak"
    elif any(code not in COMMON_LANGUAGE_NAMES for code in languages):
        errors["languages"] = "Choose languages from the list"
    if any(token not in SERVICE_NAMES for token in care_needs):
        errors["care_needs"] = "Choose care needs from the list"
    goals = (goals or "").strip()
    if len(goals) > GOALS_MAX:
        errors["goals"] = f"Use {GOALS_MAX} characters or fewer"
    email = normalise_email(email or "") or None
    phone = normalise_phone(phone) or None
    if email is None and phone is None:
        errors["email"] = CONTACT_MESSAGE
    if email is not None and (problem := _email_problem(email)):
        errors["email"] = problem
    if phone is not None and (problem := phone_problem(phone)):
        errors["phone"] = problem
    place = locate_into(errors, session=session, postcode=postcode)
    if errors:
        raise ValidationFailed(errors)
    holder = Holder(
        council_id=actor.council_id, name=name, weekly_allocation_pence=weekly_allocation_pence, postcode=place.postcode,
        postcode_district=place.district, lat=place.lat, lon=place.lon, languages=languages, care_needs=care_needs, email=email, phone=phone, goals=goals,
        broker_id=actor.id,  # the broker who adds someone looks after them until another is named (their dashboard says so)
    )
    session.add(holder)
    session.flush()
    return holder


def move_holder(*, session: Session, actor: User, holder_id: int, postcode: str) -> Holder:
    """Record that a holder lives at another postcode (a broker of their council): their district and place follow it."""
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can change where someone lives.")
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    errors: dict[str, str] = {}
    place = locate_into(errors, session=session, postcode=postcode)
    if errors:
        raise ValidationFailed(errors)
    holder.postcode, holder.postcode_district, holder.lat, holder.lon = place.postcode, place.district, place.lat, place.lon
    session.add(holder)
    session.flush()
    return holder
