"""Operations on councils and users; they flush and never commit."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from brokerage.accounts import rules
from brokerage.accounts.errors import AccountLocked, AccountSwitchedOff, DuplicateCouncil, DuplicateEmail, SignInFailed
from brokerage.accounts.models import Council, CouncilDistrict, Role, SignInThrottle, User
from brokerage.accounts.passwords import hash_password, needs_rehash, verify_password
from brokerage import validation
from brokerage.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.validation import person_name_problem
from brokerage.formatting import plural
from brokerage.locks import insert_once
from brokerage.types import utcnow


def _throttle_key(email: str) -> str:
    return hashlib.sha256(rules.normalise_email(email).encode()).hexdigest()


def _locked(locked_until: datetime, now: datetime, *, field: str, what: str) -> AccountLocked:
    # Whole seconds and minutes, rounded up: a 15-minute lock says 15 minutes, never 16.
    seconds = max(1, math.ceil((locked_until - now).total_seconds()))
    wait = plural(math.ceil(seconds / 60), "minute")
    return AccountLocked(
        f"Too many {what}. Wait {wait} and try again, or choose a new password with “Forgotten your password?” "
        "on the sign-in page.", field=field, retry_after=seconds
    )


def lock_throttle(*, session: Session, email: str, now: datetime) -> SignInThrottle:
    """Return the throttle row of this email, created if missing and locked until the transaction ends.

    Every check of a password for an email goes through this row, so concurrent guesses take turns
    and each sees the count the one before it left (SELECT ... FOR UPDATE on PostgreSQL; SQLite
    has one writer at a time, and the insert below makes this transaction the writer).
    """
    key = _throttle_key(email)
    table = SignInThrottle.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    create = insert(table).values(key=key, failures=0, updated_at=now).on_conflict_do_nothing(index_elements=[table.c.key])
    locked = select(SignInThrottle).where(SignInThrottle.key == key).with_for_update().execution_options(populate_existing=True)
    # A successful sign-in deletes the row; if that happens between the insert and the lock, insert again.
    for _ in range(3):
        session.exec(create)
        throttle = session.exec(locked).first()
        if throttle is not None:
            return throttle
    raise Conflict("Too many sign-ins at once for this email address. Try again.")


def _check_guarded(
    *, session: Session, throttle: SignInThrottle, user: User | None, password: str, max_failures: int, lock_minutes: int,
    now: datetime, field: str, what: str,
) -> bool:
    """Check a password within the locked throttle row's budget of guesses; count a wrong one, raise AccountLocked when none is left."""
    if rules.is_locked(throttle.locked_until, now):
        raise _locked(throttle.locked_until, now, field=field, what=what)
    right = verify_password(user.password_hash if user else None, password) and user is not None
    if right and not user.is_active and user.role != Role.system:
        # Told only to someone who knows the password: "not right" sent them round "Forgotten your password?" (tester R7-8).
        raise AccountSwitchedOff(f"This account has been switched off, so you cannot sign in with it. If you think that is a mistake, ask "
                                 f"{who_to_ask(session=session, user=user)}.", field=field)
    if right and user.is_active:
        session.delete(throttle)
        user.failed_sign_ins, user.locked_until = 0, None
        session.add(user)
        session.flush()
        return True
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
        raise _locked(throttle.locked_until, now, field=field, what=what)
    return False


def council_brokers(*, session: Session, council_id: int) -> list[User]:
    """Return a council's brokers who can sign in, by name."""
    return list(session.exec(
        select(User).where(User.council_id == council_id, User.role == Role.broker, User.is_active_account.is_(True)).order_by(User.name, User.id)
    ))


def active_broker(*, session: Session, user_id: int | None, council_id: int) -> User | None:
    """Return the account with this id while it is a broker of this council who can sign in, else None (a broker named on a record)."""
    broker = session.get(User, user_id) if user_id is not None else None
    if broker is None or broker.role != Role.broker or broker.council_id != council_id or not broker.is_active_account:
        return None
    return broker


def who_to_ask(*, session: Session, user: User) -> str:
    """Return whom someone whose account is switched off can ask about it, in words ("a broker at Riverside Council: …").

    People who get care, act for someone or give care ask their council's brokers (the first two by name, with their
    email addresses); staff ask their manager; an administrator asks another administrator.
    """
    if user.role == Role.admin or user.council_id is None:
        return "another carepool administrator"
    if user.role in (Role.broker, Role.council_officer):
        return "your manager, who can ask a carepool administrator to switch it back on"
    council = session.get(Council, user.council_id)
    brokers = council_brokers(session=session, council_id=user.council_id)
    if not brokers:
        return f"the adult social care team at {council.name}"
    named = " or ".join(f"{broker.name} ({broker.email})" for broker in brokers[:2])
    return f"{'a broker' if len(brokers) > 1 else 'the broker'} at {council.name}: {named}"


def authenticate(
    *, session: Session, email: str, password: str, max_failures: int, lock_minutes: int, now: datetime | None = None
) -> User:
    """Return the user for these credentials, counting failures per email address and locking after too many.

    Known and unknown addresses are treated alike, so the answers do not reveal who has an account.
    The caller commits after a failure too: the count is part of the record.
    """
    now = now or utcnow()
    # The throttle row before the account, so the account is read after any reset that held the row.
    throttle = lock_throttle(session=session, email=email, now=now)
    user = session.exec(select(User).where(User.email == rules.normalise_email(email))).first()
    if not _check_guarded(
        session=session, throttle=throttle, user=user, password=password, max_failures=max_failures, lock_minutes=lock_minutes,
        now=now, field="email", what="failed sign-ins for this email address",
    ):
        raise SignInFailed("The email address or password is not right.", field="email")
    user.last_sign_in_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return user


def end_sessions(*, session: Session, user: User) -> None:
    """End every session of this user, on every device, by raising the session version."""
    # An SQL expression, so two endings at once both count and the value is read back afterwards.
    user.session_version = User.session_version + 1
    session.add(user)
    session.flush()


def sign_out(*, session: Session, actor: User) -> None:
    """Sign the actor out everywhere: a copy of this session's cookie must not open pages afterwards."""
    end_sessions(session=session, user=actor)


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
    try:
        districts = validation.parse_districts(area_districts)
    except ValueError as error:
        raise ValidationFailed({"area_districts": str(error)}) from None
    _refuse_claimed_districts(session, districts)
    council = Council(slug=slug, name=name.strip(), area_districts=" ".join(districts))
    # Two administrators adding the same council at once: the second gets the same plain answer.
    with insert_once(session, DuplicateCouncil("A council with this short name already exists.", field="slug")):
        session.add(council)
    try:
        with session.begin_nested():
            session.add_all(CouncilDistrict(district=district, council_id=council.id) for district in districts)
            session.flush()
    except IntegrityError:
        raise DuplicateCouncil("Another council has just claimed one of these postcode districts.", field="area_districts") from None
    return council


def _refuse_claimed_districts(session: Session, districts: list[str]) -> None:
    # The primary key on council_district is the guarantee; this only gives the clear message.
    if not districts:
        return
    taken = session.exec(
        select(CouncilDistrict.district, Council.name)
        .join(Council, Council.id == CouncilDistrict.council_id)
        .where(CouncilDistrict.district.in_(districts))
        .order_by(CouncilDistrict.district)
    ).all()
    if taken:
        listed = ", ".join(f"{district} ({name})" for district, name in taken)
        raise DuplicateCouncil(f"Another council already covers these postcode districts: {listed}.", field="area_districts")


def create_user(
    *,
    session: Session,
    actor: User | None,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
    council_id: int | None,
    holder_id: int | None = None,
    provider_id: int | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a user account with an argon2-hashed password: the password itself, or its hash made earlier (give one of the two).

    A hash is for a password checked by `rules.password_problem` and hashed when it was chosen, such as on an
    application to offer care that waited for its email address to be confirmed.
    """
    if (password is None) == (password_hash is None):
        raise ValueError("give a password or its hash, not both")
    if actor is not None and actor.role != Role.admin:
        raise NotAllowed("Only administrators can create accounts.")
    role = Role(role)
    if role == Role.system:
        raise ValidationFailed({"role": "Choose a person's role: scheduled jobs have their own account."})
    if role != Role.admin and council_id is None:
        raise ValidationFailed({"council_id": "Choose the council this person belongs to."})
    if council_id is not None and session.get(Council, council_id) is None:
        raise ValidationFailed({"council_id": "Choose a council from the list."})
    if problem := person_name_problem((name or "").strip(), empty="Enter the person's name"):
        raise ValidationFailed({"name": problem})
    email = rules.normalise_email(email)
    problem = rules.password_problem(password, email=email, name=name) if password is not None else None
    if problem:
        raise ValidationFailed({"password": problem})
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise DuplicateEmail("Another account already uses this email address.", field="email")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password) if password is not None else password_hash,
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
    """Return every person's account, for administrators (system actors are not people)."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can list accounts.")
    return list(session.exec(select(User).where(User.role != Role.system).order_by(User.council_id, User.role, User.name)))


def find_council(*, session: Session, slug: str) -> Council | None:
    """Return the council with this short name, or None."""
    return session.exec(select(Council).where(Council.slug == slug)).first()


def get_council(*, session: Session, actor: User, council_id: int) -> Council:
    """Return a council the actor may see."""
    council = session.get(Council, council_id)
    if council is None or (actor.role != Role.admin and actor.council_id != council.id):
        raise NotFound()
    return council


def reset_password(*, session: Session, actor: User, user_id: int, password: str) -> User:
    """Set a new temporary password for someone, lift any sign-in lock and end their sessions (administrators only)."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can reset passwords.")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    problem = rules.password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed({"password": problem})
    # The throttle row first, then the account: the order sign-in takes them in.
    session.delete(lock_throttle(session=session, email=user.email, now=utcnow()))
    user.password_hash = hash_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    session.add(user)
    end_sessions(session=session, user=user)
    return user


def set_account_active(*, session: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate or reactivate an account (administrators only); either way its sessions end."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can deactivate accounts.")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    if user.id == actor.id and not active:
        raise NotAllowed("You cannot deactivate your own account. Ask another administrator.")
    user.is_active_account = active
    session.add(user)
    # Also on reactivation: a cookie from before the deactivation must not come back to life.
    end_sessions(session=session, user=user)
    return user


def change_own_password(
    *, session: Session, actor: User, current: str, new: str, max_failures: int, lock_minutes: int, now: datetime | None = None
) -> User:
    """Let a signed-in person change their own password after giving the current one; end their other sessions.

    A wrong current password counts against the same per-email budget as a failed sign-in, so a
    borrowed session cannot be used to guess the password. The caller commits after a wrong
    password too; nothing else has been written by then.
    """
    problem = rules.password_problem(new, email=actor.email, name=actor.name)
    if problem:
        raise ValidationFailed({"new": problem})
    now = now or utcnow()
    throttle = lock_throttle(session=session, email=actor.email, now=now)
    session.refresh(actor)
    if not _check_guarded(
        session=session, throttle=throttle, user=actor, password=current, max_failures=max_failures, lock_minutes=lock_minutes,
        now=now, field="current", what="wrong passwords for this account",
    ):
        raise ValidationFailed({"current": "The current password is not right"})
    if new == current:  # said only once the current password is known to be right, so it gives nothing away
        raise ValidationFailed({"new": "Choose a new password: this one is your current password"})
    actor.password_hash = hash_password(new)
    session.add(actor)
    end_sessions(session=session, user=actor)
    return actor
