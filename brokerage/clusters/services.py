"""Reading clusters and memberships, with the access rules applied."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, select

from brokerage.access import same_council
from brokerage.accounts.models import Role, User
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.errors import NotFound
from brokerage.holders.models import Holder
from brokerage.holders.services import represented_holder_ids

LIVE_MEMBERSHIP = (MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)


def visible_holder_ids(*, session: Session, actor: User) -> list[int]:
    """Return the holder ids whose clusters the actor may see as a member."""
    if actor.role == Role.holder:
        return [actor.holder_id] if actor.holder_id else []
    if actor.role == Role.representative:
        return represented_holder_ids(session=session, actor=actor)
    return []


def get_cluster(*, session: Session, actor: User, cluster_id: int) -> Cluster:
    """Return a cluster the actor may see: staff see their council's, members their own."""
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotFound("There is no such cluster.")
    same_council(actor, cluster.council_id, what="cluster")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return cluster
    if actor.role in (Role.holder, Role.representative):
        # Forming clusters are open to browse; others only to their members.
        if cluster.status == ClusterStatus.forming:
            return cluster
        ids = visible_holder_ids(session=session, actor=actor)
        member = session.exec(
            select(Membership.id).where(Membership.cluster_id == cluster.id, Membership.holder_id.in_(ids or [-1]))
        ).first()
        if member is not None:
            return cluster
    raise NotFound("There is no such cluster.")


def cluster_members(*, session: Session, actor: User, cluster: Cluster) -> list[tuple[Membership, Holder]]:
    """Return the cluster's live members; holders see names, staff see pledges too (callers decide what to show)."""
    same_council(actor, cluster.council_id, what="cluster")
    rows = session.exec(
        select(Membership, Holder)
        .join(Holder, Holder.id == Membership.holder_id)
        .where(Membership.cluster_id == cluster.id, Membership.status.in_(LIVE_MEMBERSHIP))
        .order_by(Holder.name)
    )
    return list(rows)


def list_clusters(*, session: Session, actor: User) -> list[Cluster]:
    """Return the clusters of the actor's council, for staff."""
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound("There is no such page.")
    return list(session.exec(select(Cluster).where(Cluster.council_id == actor.council_id).order_by(Cluster.status, Cluster.name)))


def memberships_of(*, session: Session, actor: User, holder_ids: list[int]) -> list[tuple[Membership, Cluster]]:
    """Return the memberships of these holders, limited to the actor's council."""
    if not holder_ids:
        return []
    rows = session.exec(
        select(Membership, Cluster)
        .join(Cluster, Cluster.id == Membership.cluster_id)
        .where(Membership.holder_id.in_(holder_ids), Membership.council_id == actor.council_id)
        .order_by(Cluster.name)
    )
    return list(rows)


def status_counts(*, session: Session, council_id: int) -> dict[str, int]:
    """Count a council's clusters by status."""
    counts = Counter(session.exec(select(Cluster.status).where(Cluster.council_id == council_id)))
    return {status.value: counts.get(status, 0) for status in ClusterStatus}
