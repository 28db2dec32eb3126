"""Operations on councils and users; they flush and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from brokerage.accounts import rules
from brokerage.accounts.errors import AccountLocked, DuplicateCouncil, DuplicateEmail, SignInFailed
from brokerage.accounts.models import Council, Role, User
from brokerage.accounts.passwords import hash_password, needs_rehash, verify_password
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.locks import insert_once
from brokerage.types import utcnow


def _throttle_key(email: str) -> str:
    import hashlib

    return hashlib.sha256(rules.normalise_email(email).encode()).hexdigest()


def _lock_message(locked_until: datetime, now: datetime) -> str:
    minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
    return (
        f"Too many failed sign-ins for this email address. Wait {minutes} minutes and try again, "
        "or ask your administrator to help."
    )


def authenticate(
    *, session: Session, email: str, password: str, max_failures: int, lock_minutes: int, now: datetime | None = None
) -> User:
    """Return the user for these credentials, counting failures per email address and locking after too many.

    Known and unknown addresses are treated alike, so the answers do not reveal who has an account.
    """
    from sqlalchemy.exc import IntegrityError

    from brokerage.accounts.models import SignInThrottle

    now = now or utcnow()
    key = _throttle_key(email)
    throttle = session.get(SignInThrottle, key)
    if throttle is not None and rules.is_locked(throttle.locked_until, now):
        raise AccountLocked(_lock_message(throttle.locked_until, now), field="email")
    user = session.exec(select(User).where(User.email == rules.normalise_email(email))).first()
    if user is None or not verify_password(user.password_hash if user else None, password) or not user.is_active:
        if throttle is None:
            throttle = SignInThrottle(key=key)
            try:
                with session.begin_nested():
                    session.add(throttle)
                    session.flush()
            except IntegrityError:
                throttle = session.get(SignInThrottle, key)
        throttle.failures, throttle.locked_until = rules.after_failed_sign_in(
            throttle.failures, now, max_failures=max_failures, lock_minutes=lock_minutes
        )
        throttle.updated_at = now
        session.add(throttle)
        if user is not None:
            # Mirrored on the account so administrators can see and clear a lock.
            user.failed_sign_ins, user.locked_until = throttle.failures, throttle.locked_until
            session.add(user)
        session.flush()
        if throttle.locked_until is not None:
            raise AccountLocked(_lock_message(throttle.locked_until, now), field="email")
        raise SignInFailed("The email address or password is not right.", field="email")
    if throttle is not None:
        session.delete(throttle)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return user


def load_user(*, session: Session, user_id: str) -> User | None:
    """Return the active user with this id, or None."""
    try:
        user = session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None


def create_council(*, session: Session, actor: User | None, slug: str, name: str, area_districts: str = "") -> Council:
    """Create a council; only administrators (or the CLI, with no actor) may."""
    if actor is not None and actor.role != Role.admin:
        raise NotAllowed("Only administrators can create councils.")
    slug = slug.strip().lower()
    if session.exec(select(Council).where(Council.slug == slug)).first() is not None:
        raise DuplicateCouncil("A council with this short name already exists.", field="slug")
    if session.exec(select(Council).where(func.lower(Council.name) == name.strip().lower())).first() is not None:
        raise DuplicateCouncil("A council with this name already exists.", field="name")
    council = Council(slug=slug, name=name.strip(), area_districts=" ".join(area_districts.upper().split()))
    # Two administrators adding the same council at once: the second gets the same plain answer.
    with insert_once(session, DuplicateCouncil("A council with this short name already exists.", field="slug")):
        session.add(council)
    return council


def create_user(
    *,
    session: Session,
    actor: User | None,
    email: str,
    name: str,
    role: Role,
    password: str,
    council_id: int | None,
    holder_id: int | None = None,
    provider_id: int | None = None,
) -> User:
    """Create a user account with an argon2-hashed password."""
    if actor is not None and actor.role != Role.admin:
        raise NotAllowed("Only administrators can create accounts.")
    role = Role(role)
    if role != Role.admin and council_id is None:
        raise ValidationFailed({"council_id": "Choose the council this person belongs to."})
    if council_id is not None and session.get(Council, council_id) is None:
        raise ValidationFailed({"council_id": "Choose a council from the list."})
    email = rules.normalise_email(email)
    problem = rules.password_problem(password, email=email)
    if problem:
        raise ValidationFailed({"password": problem})
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise DuplicateEmail("Another account already uses this email address.", field="email")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        council_id=None if role == Role.admin else council_id,
        holder_id=holder_id,
        provider_id=provider_id,
    )
    with insert_once(session, DuplicateEmail("Another account already uses this email address.", field="email")):
        session.add(user)
    return user


def list_councils(*, session: Session, actor: User) -> list[Council]:
    """Return the councils the actor may see: all for admins, their own otherwise."""
    query = select(Council).order_by(Council.name)
    if actor.role != Role.admin:
        query = query.where(Council.id == actor.council_id)
    return list(session.exec(query))


def list_users(*, session: Session, actor: User) -> list[User]:
    """Return every account, for administrators."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can list accounts.")
    return list(session.exec(select(User).order_by(User.council_id, User.role, User.name)))


def get_council(*, session: Session, actor: User, council_id: int) -> Council:
    """Return a council the actor may see."""
    council = session.get(Council, council_id)
    if council is None or (actor.role != Role.admin and actor.council_id != council.id):
        raise NotFound("There is no such council.")
    return council


def reset_password(*, session: Session, actor: User, user_id: int, password: str) -> User:
    """Set a new temporary password for someone and lift any sign-in lock (administrators only)."""
    from brokerage.accounts.models import SignInThrottle

    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can reset passwords.")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    problem = rules.password_problem(password, email=user.email)
    if problem:
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    throttle = session.get(SignInThrottle, _throttle_key(user.email))
    if throttle is not None:
        session.delete(throttle)
    session.add(user)
    session.flush()
    return user


def change_own_password(*, session: Session, actor: User, current: str, new: str) -> User:
    """Let a signed-in person change their own password, after giving the current one."""
    if not verify_password(actor.password_hash, current):
        raise ValidationFailed({"current": "The current password is not right"})
    problem = rules.password_problem(new, email=actor.email)
    if problem:
        raise ValidationFailed({"new": problem})
    actor.password_hash = hash_password(new)
    session.add(actor)
    session.flush()
    return actor
