"""Reading holder records, with the access rules applied."""

from __future__ import annotations

from sqlmodel import Session, select

from brokerage.access import same_council
from brokerage.accounts.models import Role, User
from brokerage.errors import NotFound
from brokerage.holders.models import Holder, Representation


def represented_holder_ids(*, session: Session, actor: User) -> list[int]:
    """Return the ids of the holders this representative is currently authorised for."""
    rows = session.exec(
        select(Representation.holder_id).where(
            Representation.representative_id == actor.id, Representation.revoked_at.is_(None)
        )
    )
    return sorted(rows)


def can_act_for(*, session: Session, actor: User, holder: Holder) -> bool:
    """Tell whether the actor is the holder, or a representative the holder authorised."""
    if actor.council_id != holder.council_id:
        return False
    if actor.role == Role.holder:
        return actor.holder_id == holder.id
    if actor.role == Role.representative:
        return holder.id in represented_holder_ids(session=session, actor=actor)
    return False


def get_holder(*, session: Session, actor: User, holder_id: int) -> Holder:
    """Return a holder the actor may see: their own, one they represent, or any in their council for staff."""
    holder = session.get(Holder, holder_id)
    if holder is None:
        raise NotFound("There is no such person.")
    same_council(actor, holder.council_id, what="person")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return holder
    if actor.role in (Role.holder, Role.representative) and can_act_for(session=session, actor=actor, holder=holder):
        return holder
    raise NotFound("There is no such person.")


def list_holders(*, session: Session, actor: User) -> list[Holder]:
    """Return the holders of the actor's council, for staff."""
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound("There is no such page.")
    return list(session.exec(select(Holder).where(Holder.council_id == actor.council_id).order_by(Holder.name)))


def holders_for_representative(*, session: Session, actor: User) -> list[Holder]:
    """Return the holders this representative acts for."""
    ids = represented_holder_ids(session=session, actor=actor)
    if not ids:
        return []
    return list(
        session.exec(select(Holder).where(Holder.id.in_(ids), Holder.council_id == actor.council_id).order_by(Holder.name))
    )
