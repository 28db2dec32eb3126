"""The system actor: the recorded user that scheduled jobs and command-line runs act as, one per council.

The ledger (and every service) needs to know who acted. A job has no signed-in person, so it acts
as its council's system user, and the entries it posts record that user's id. The system user is
not a person: it has no password (its hash can never verify, and `User.is_active` is false for its
role), so it can never sign in, and lists of people leave it out (Role.system, brokerage.types).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from brokerage.accounts.models import User
from brokerage.locks import is_unique_violation
from brokerage.types import Role

NAME = "Scheduled job"
# Not an argon2 hash: verifying any password against it fails (passwords.verify_password).
NO_PASSWORD = "!system: never signs in"


def system_email(council_id: int) -> str:
    """Return the system user's address: unique per council, on a domain that can never receive mail (RFC 2606)."""
    return f"scheduled-jobs+council-{council_id}@system.carepool.invalid"


def _find(session: Session, council_id: int) -> User | None:
    return session.exec(select(User).where(User.council_id == council_id, User.role == Role.system).order_by(User.id)).first()


def system_actor(*, session: Session, council_id: int, create: bool = True) -> User:
    """Return the council's system user, creating it on first use (flushed, not committed).

    `create=False` is for work that only reads (verifying the ledger, proving an entry): it writes
    nothing, so it runs on a read-only database role; if the user does not exist yet, it returns an
    unsaved one that only answers the council check.
    """
    user = _find(session, council_id)
    if user is not None:
        return user
    user = User(council_id=council_id, email=system_email(council_id), name=NAME, role=Role.system, password_hash=NO_PASSWORD)
    if not create:
        return user
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as error:
        # Another job created it first (its email is unique): use theirs.
        if not is_unique_violation(error):
            raise
        user = _find(session, council_id)
        if user is None:
            raise
    return user


def is_system(user: User | None) -> bool:
    """Tell whether a user is a system actor rather than a person."""
    return user is not None and user.role == Role.system
