"""Applying to offer care, signed out: the application waits for its email address to be confirmed, and nothing else exists until then.

Sending the form answers alike whether or not the address already has an account, so the form never tells
anyone whether a person uses carepool (which would say they get adult social care, or help someone who does):

- a free address: the application is kept (`PendingApplication`, one per address: a new one replaces the one
  waiting and its link) and a single-use link that runs out after APPLICATION_LINK_HOURS is emailed to it;
- an address with an account: nothing is kept, and the address's owner is told by email that they already
  have an account (an inactive or system account is sent nothing).

Both hash the password (argon2), so the time taken differs little. Opening the link and confirming
(`confirm`) checks everything again and makes the provider and its account (`applications.make_provider`).
Services flush, never commit.
"""

from __future__ import annotations

from flask import current_app
from sqlmodel import Session, select

from brokerage import tokens
from brokerage.accounts.models import Role, User
from brokerage.accounts.passwords import hash_password
from brokerage.errors import ValidationFailed
from brokerage.locks import insert_once, lock_row
from brokerage.mail import services as mail
from brokerage.providers import messages
from brokerage.providers.applications import TAKEN, Applied, check_application, make_provider
from brokerage.providers.errors import ApplicationLinkNotUsable, ApplicationOutdated
from brokerage.providers.models import PendingApplication
from brokerage.types import utcnow


def link_hours() -> int:
    """Return how many hours the link that confirms an application works (the APPLICATION_LINK_HOURS setting)."""
    return int(current_app.config.get("APPLICATION_LINK_HOURS", 24))


def problems(*, session: Session, **application) -> dict[str, str]:
    """Return the application's problems as {field: message}, without storing anything or saying whether the address has an account."""
    return check_application(session=session, **application).errors


def apply(*, session: Session, password: str, **application) -> None:
    """Take an application from the public form: keep it and email a link to confirm it, or tell the address's owner they have an account.

    Raises ValidationFailed with every problem at once; otherwise says nothing, whichever happened.
    """
    checked = check_application(session=session, password=password, **application)
    if checked.errors:
        raise ValidationFailed(checked.errors)
    # Hashed in both cases, so the answer takes about as long whether or not the address has an account.
    password_hash = hash_password(password)
    if checked.email_taken:
        _tell_owner(session=session, email=checked.email)
        return
    now = utcnow()
    # Applications whose links ran out are not kept.
    session.execute(PendingApplication.__table__.delete().where(PendingApplication.expires_at <= now, PendingApplication.email != checked.email))
    token = tokens.new_token()
    hours = link_hours()
    pending = session.exec(select(PendingApplication).where(PendingApplication.email == checked.email)).first()
    values = dict(council_id=checked.council_id, contact_name=checked.contact_name, password_hash=password_hash, answers=checked.answers,
                  token_hash=tokens.hash_token(token), created_at=now, expires_at=tokens.expiry(now, hours=hours), used_at=None)
    if pending is None:
        # Two forms for one address at the same moment: the second is told to try again, never a server error.
        with insert_once(session, ApplicationOutdated("This application was sent twice at once. Send the form again.")):
            session.add(PendingApplication(email=checked.email, **values))
    else:
        # The earlier application for this address is replaced, and its link stops working.
        for name, value in values.items():
            setattr(pending, name, value)
        session.add(pending)
        session.flush()
    link = mail.link("offer_care.confirm", token=token)
    mail.send(session=session, message=messages.confirm_application(to=checked.email, name=checked.contact_name, link=link, hours=hours))


def _tell_owner(*, session: Session, email: str) -> None:
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or not user.is_active or user.role == Role.system:
        return
    mail.send(session=session, message=messages.already_have_account(to=user.email, name=user.name, sign_in=mail.link("accounts.sign_in")))


def usable(*, session: Session, token: str) -> PendingApplication:
    """Return the application waiting for the link carrying this token, or raise ApplicationLinkNotUsable whatever the reason.

    A link stops working once used, once it runs out, and once a newer application for the address replaces it.
    """
    if not tokens.looks_like_token(token):
        raise ApplicationLinkNotUsable()
    pending = session.exec(select(PendingApplication).where(PendingApplication.token_hash == tokens.hash_token(token))).first()
    if pending is None or not tokens.token_matches(token, pending.token_hash) or pending.used_at is not None:
        raise ApplicationLinkNotUsable()
    if tokens.is_expired(pending.expires_at, utcnow()):
        raise ApplicationLinkNotUsable()
    return pending


def confirm(*, session: Session, token: str) -> Applied:
    """Send an application through its link: check it all again, make the provider waiting for review and its account, and use up the link.

    Raises ApplicationLinkNotUsable for a link that does not work, and ApplicationOutdated when the
    application no longer passes (the address has an account by now, or no council covers the postcode).
    """
    pending = usable(session=session, token=token)
    # Locked, so two confirmations at once make one provider: the second finds the link used.
    pending = lock_row(session, PendingApplication, pending.id)
    if pending is None or pending.used_at is not None or not tokens.token_matches(token, pending.token_hash):
        raise ApplicationLinkNotUsable()
    try:
        applied = make_provider(session=session, contact_name=pending.contact_name, email=pending.email, password_hash=pending.password_hash,
                                answers=pending.answers)
    except ValidationFailed as error:
        raise ApplicationOutdated(_outdated(error)) from error
    pending.used_at = utcnow()
    session.add(pending)
    session.flush()
    return applied


def _outdated(error: ValidationFailed) -> str:
    said = [message for problems_of_field in error.errors.values() for message in problems_of_field]
    if TAKEN in said:
        return f"{TAKEN} Your application was not sent. Sign in with it; if you have forgotten your password, choose \"Forgotten your password?\"."
    return "Your application cannot be sent as it was: " + " ".join(said) + " Fill in the form again."
