"""Recording and reading the access log."""

from __future__ import annotations

from sqlmodel import Session, select

from brokerage.access import same_council
from brokerage.accounts.models import Role, User
from brokerage.audit.models import AccessLog
from brokerage.errors import NotAllowed
from brokerage.holders.models import Holder


def log_access(*, session: Session, actor: User, holder_id: int, what: str) -> None:
    """Record that a member of staff read part of a holder's record."""
    holder = session.get(Holder, holder_id)
    same_council(actor, holder.council_id if holder else None, what="person")
    session.add(AccessLog(council_id=holder.council_id, actor_id=actor.id, holder_id=holder_id, what=what))
    session.flush()


def access_log(*, session: Session, actor: User, holder_id: int | None = None, limit: int = 200) -> list[tuple[AccessLog, User, str]]:
    """Return the newest reads of holders' records in the officer's council, with whose record it was."""
    if actor.role != Role.council_officer:
        raise NotAllowed("Only council officers can read the access log.")
    query = (
        select(AccessLog, User, Holder.name)
        .join(User, User.id == AccessLog.actor_id)
        .join(Holder, Holder.id == AccessLog.holder_id)
        .where(AccessLog.council_id == actor.council_id)
        .order_by(AccessLog.at.desc(), AccessLog.id.desc())
        .limit(limit)
    )
    if holder_id is not None:
        query = query.where(AccessLog.holder_id == holder_id)
    return list(session.exec(query))


def reads_of(*, session: Session, actor: User, holder_id: int) -> list[tuple[AccessLog, User]]:
    """Return every staff read of one holder's record, oldest first, with who read it (for the holder's own data download).

    The caller has already checked that the actor may see this holder; here only the council is checked again.
    """
    holder = session.get(Holder, holder_id)
    same_council(actor, holder.council_id if holder else None, what="person")
    return list(
        session.exec(
            select(AccessLog, User).join(User, User.id == AccessLog.actor_id).where(AccessLog.holder_id == holder_id).order_by(AccessLog.at, AccessLog.id)
        )
    )
