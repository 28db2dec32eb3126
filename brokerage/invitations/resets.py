"""Forgotten passwords: a single-use link by email, stored as a hash, that runs out after RESET_LINK_MINUTES.

The answer to "send me a link" is the same whether or not an account uses the address. Choosing the new
password ends every other session of the account (its session version goes up) and lifts a sign-in lock.
They flush and never commit.
"""

from __future__ import annotations

from flask import current_app
from sqlmodel import Session, select

from brokerage.accounts import rules as account_rules
from brokerage.accounts import services as accounts
from brokerage.accounts.models import Role, User
from brokerage.accounts.passwords import hash_password
from brokerage.errors import ValidationFailed
from brokerage.invitations import messages, rules
from brokerage.invitations.errors import LinkNotUsable
from brokerage.invitations.models import PasswordReset
from brokerage.mail import services as mail
from brokerage.types import utcnow


def reset_minutes() -> int:
    """Return how many minutes a password reset link works (the RESET_LINK_MINUTES setting)."""
    return int(current_app.config.get("RESET_LINK_MINUTES", 60))


def request_reset(*, session: Session, email: str) -> None:
    """Email a reset link if an active person's account uses this address, and whom to ask if it is switched off; say nothing on the page either way.

    A switched-off account's owner was sent nothing and went round "Forgotten your password?" (tester R7-8); the
    email goes only to the account's own address, so the page still reveals nothing about who has an account.
    """
    address = account_rules.normalise_email(email or "")
    user = session.exec(select(User).where(User.email == address)).first() if address else None
    if user is None or user.role == Role.system:
        return
    if not user.is_active:
        who = accounts.who_to_ask(session=session, user=user)
        mail.send(session=session, message=messages.account_switched_off(to=user.email, name=user.name, who=who))
        return
    token = rules.new_token()
    now = utcnow()
    minutes = reset_minutes()
    session.add(PasswordReset(user_id=user.id, token_hash=rules.hash_token(token), session_version=user.session_version, created_at=now,
                              expires_at=rules.expiry(now, minutes=minutes)))
    session.flush()
    link = mail.link("invitations.reset_password", token=token)
    mail.send(session=session, message=messages.password_reset(to=user.email, name=user.name, link=link, minutes=minutes))


def usable_reset(*, session: Session, token: str) -> tuple[PasswordReset, User]:
    """Return the reset link carrying this token and its account, or raise LinkNotUsable whatever the reason.

    A link stops working once used, once it runs out, once the account is deactivated, and once the
    account's sessions have been ended since it was sent (a password change or reset, signing out).
    """
    if not rules.looks_like_token(token):
        raise LinkNotUsable()
    reset = session.exec(select(PasswordReset).where(PasswordReset.token_hash == rules.hash_token(token))).first()
    if reset is None or not rules.token_matches(token, reset.token_hash) or reset.used_at is not None:
        raise LinkNotUsable()
    if rules.is_expired(reset.expires_at, utcnow()):
        raise LinkNotUsable()
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active or user.session_version != reset.session_version:
        raise LinkNotUsable()
    return reset, user


def reset_password(*, session: Session, token: str, password: str) -> User:
    """Set the new password chosen through a reset link; end every other session, lift any sign-in lock, and return the account."""
    reset, user = usable_reset(session=session, token=token)
    problem = account_rules.password_problem(password or "", email=user.email, name=user.name) if password else "Choose a new password"
    if problem:
        raise ValidationFailed({"password": problem})
    # The throttle row first, then the account: the order sign-in takes them in. The account is re-read
    # after it, so a second use of the link at the same moment finds the version already raised.
    session.delete(accounts.lock_throttle(session=session, email=user.email, now=utcnow()))
    session.refresh(user)
    if user.session_version != reset.session_version:
        raise LinkNotUsable()
    user.password_hash = hash_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    user.last_sign_in_at = utcnow()
    session.add(user)
    now = utcnow()
    # Every link of this account is finished, not only this one.
    for other in session.exec(select(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))):
        other.used_at = now
        session.add(other)
    accounts.end_sessions(session=session, user=user)
    session.refresh(user)
    return user
