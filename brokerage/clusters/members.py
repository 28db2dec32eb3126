"""Who is in a group, who may vote, and whom an actor acts for: the reads every clusters module starts from.

The bottom of clusters' services: it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, func, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.errors import NotFound
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import can_act_for, refuse_lost_power, represented_holder_ids

LIVE_MEMBERSHIP = (MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)
OPEN = (ClusterStatus.forming, ClusterStatus.active)


def visible_holder_ids(*, session: Session, actor: User, power: Power | None = Power.groups) -> list[int]:
    """Return the holder ids the actor acts as: themselves, or the holders who let them do this (in groups, unless another power or None is named)."""
    if actor.role == Role.holder:
        return [actor.holder_id] if actor.holder_id else []
    if actor.role == Role.representative:
        return represented_holder_ids(session=session, actor=actor, power=power)
    return []


def holders_actor_acts_for(*, session: Session, actor: User, power: Power | None = Power.groups) -> list[Holder]:
    """Return the holders the actor can act for in groups (or in another power, or in any with None): themselves, or those who authorised them."""
    ids = visible_holder_ids(session=session, actor=actor, power=power)
    if not ids:
        return []
    return list(session.exec(select(Holder).where(Holder.id.in_(ids), Holder.council_id == actor.council_id).order_by(Holder.name)))


def holder_for_actor(*, session: Session, actor: User, holder_id: int, power: Power = Power.groups, undone: str | None = None) -> Holder:
    """Return the holder the actor is, or acts for in groups (or another power) with their leave; brokers may act for anyone in their council."""
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if actor.role == Role.broker or can_act_for(session=session, actor=actor, holder=holder, power=power):
        return holder
    # With `undone` (a sent form: what did not happen), a representative the holder has just taken this power from is told so.
    refuse_lost_power(session=session, actor=actor, holder_ids=[holder.id], power=power, undone=undone)
    raise NotFound()


def get_cluster(*, session: Session, actor: User, cluster_id: int) -> Cluster:
    """Return a cluster the actor may see: staff see their council's, holders forming ones and their own."""
    cluster = get_or_404(session, actor, Cluster, cluster_id, what="cluster")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return cluster
    if actor.role in (Role.holder, Role.representative):
        # Open groups (forming or active) can be found and asked to join; their page shows only
        # how many members they have until you are one. Closing and closed groups are for members.
        if cluster.status in OPEN:
            return cluster
        ids = visible_holder_ids(session=session, actor=actor)
        member = session.exec(
            select(Membership.id).where(Membership.cluster_id == cluster.id, Membership.holder_id.in_(ids or [-1]))
        ).first()
        if member is not None:
            return cluster
    raise NotFound()


def get_membership(*, session: Session, actor: User, membership_id: int) -> Membership:
    """Return a membership of the actor's council."""
    return get_or_404(session, actor, Membership, membership_id, what="membership")


def membership_cluster_id(*, session: Session, actor: User, membership_id: int, undone: str | None = None) -> int:
    """Return the cluster of a membership the actor acts for (`undone`: see `holder_for_actor`)."""
    membership = get_membership(session=session, actor=actor, membership_id=membership_id)
    holder_for_actor(session=session, actor=actor, holder_id=membership.holder_id, undone=undone)
    return membership.cluster_id


def cluster_members(*, session: Session, actor: User, cluster: Cluster) -> list[tuple[Membership, Holder]]:
    """Return the cluster's live members (admitted, active or on notice)."""
    same_council(actor, cluster.council_id, what="cluster")
    rows = session.exec(
        select(Membership, Holder)
        .join(Holder, Holder.id == Membership.holder_id)
        .where(Membership.cluster_id == cluster.id, Membership.status.in_(LIVE_MEMBERSHIP))
        .order_by(Holder.name)
    )
    return list(rows)


def live_count(session: Session, cluster_id: int) -> int:
    """Count a cluster's live members."""
    return session.exec(
        select(func.count()).select_from(Membership).where(Membership.cluster_id == cluster_id, Membership.status.in_(LIVE_MEMBERSHIP))
    ).one()


def active_member_ids(*, session: Session, cluster_id: int) -> list[int]:
    """Return the holder ids of a cluster's active members."""
    return list(session.exec(select(Membership.holder_id).where(Membership.cluster_id == cluster_id, Membership.status == MembershipStatus.active)))


def live_members_by_group(*, session: Session, cluster_ids: Iterable[int]) -> dict[int, dict[int, date | None]]:
    """Return {group id: {holder id: last day if on notice, else None}} of these groups' live members (see `rules.who_shares`)."""
    found: dict[int, dict[int, date | None]] = {cluster_id: {} for cluster_id in cluster_ids}
    rows = session.exec(select(Membership.cluster_id, Membership.holder_id, Membership.status, Membership.leaves_on).where(
        Membership.cluster_id.in_(list(found) or [-1]), Membership.status.in_(LIVE_MEMBERSHIP)))
    for cluster_id, holder_id, status, leaves_on in rows:
        # Giving notice sets the last day; without one a member pays on, as timesheets price them (`members_in_week`).
        found[cluster_id][holder_id] = leaves_on if status == MembershipStatus.leaving else None
    return found


def eligible_voters(session: Session, cluster: Cluster) -> list[int]:
    """Return the holder ids who may vote: active members, or the admitted founders of a forming cluster."""
    statuses = [MembershipStatus.active]
    if cluster.status == ClusterStatus.forming:
        statuses.append(MembershipStatus.admitted)
    return sorted(session.exec(select(Membership.holder_id).where(Membership.cluster_id == cluster.id, Membership.status.in_(statuses))))


def require_member_or_broker(*, session: Session, actor: User, cluster: Cluster, power: Power = Power.groups,
                             undone: str | None = None) -> None:
    """Raise NotFound unless the actor is a broker of the council or acts for a live member (in groups, or in another power; `undone`: a sent form)."""
    same_council(actor, cluster.council_id, what="cluster")
    if actor.role == Role.broker:
        return
    members = {h.id for _, h in cluster_members(session=session, actor=actor, cluster=cluster)}
    if not set(visible_holder_ids(session=session, actor=actor, power=power)) & members:
        refuse_lost_power(session=session, actor=actor, holder_ids=members, power=power, undone=undone)
        raise NotFound()
