"""Cluster operations: find, form, join, pledge, decide, leave, dissolve. They flush and never commit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters import rules
from brokerage.clusters.errors import (
    RECORD_ERRORS,
    AlreadyJoined,
    AlreadyVoted,
    BadTransition,
    ClusterError,
    ClusterFull,
    NotAMember,
    PledgeTooHigh,
    ProposalClosed,
    failure_message,
)
from brokerage.clusters.models import Cluster, ClusterKind, ClusterStatus, Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage import validation
from brokerage.errors import BrokerageError, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import language_name, pounds, service_name
from brokerage.geo import haversine_km
from brokerage.holders.models import Holder
from brokerage.holders.services import can_act_for, represented_holder_ids
from brokerage import clock
from brokerage.ledger import kinds
from brokerage.locks import fresh_row, insert_once, lock_row, lock_rows
from brokerage.types import utcnow

LIVE_MEMBERSHIP = (MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)
PLEDGING = (MembershipStatus.requested, MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)
STAFF = (Role.broker, Role.council_officer)
PROPOSAL_DAYS = 14


# --- reading ---------------------------------------------------------------------------------


def visible_holder_ids(*, session: Session, actor: User) -> list[int]:
    """Return the holder ids the actor acts as: themselves, or the holders they represent."""
    if actor.role == Role.holder:
        return [actor.holder_id] if actor.holder_id else []
    if actor.role == Role.representative:
        return represented_holder_ids(session=session, actor=actor)
    return []


def get_cluster(*, session: Session, actor: User, cluster_id: int) -> Cluster:
    """Return a cluster the actor may see: staff see their council's, holders forming ones and their own."""
    cluster = get_or_404(session, actor, Cluster, cluster_id, what="cluster")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return cluster
    if actor.role in (Role.holder, Role.representative):
        # Open groups (forming or active) can be found and asked to join; their page shows only
        # how many members they have until you are one. Closing and closed groups are for members.
        if cluster.status in (ClusterStatus.forming, ClusterStatus.active):
            return cluster
        ids = visible_holder_ids(session=session, actor=actor)
        member = session.exec(
            select(Membership.id).where(Membership.cluster_id == cluster.id, Membership.holder_id.in_(ids or [-1]))
        ).first()
        if member is not None:
            return cluster
    raise NotFound()


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


def list_clusters(*, session: Session, actor: User) -> list[Cluster]:
    """Return the clusters of the actor's council, for staff."""
    if actor.role not in STAFF:
        raise NotFound()
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


def live_count(session: Session, cluster_id: int) -> int:
    """Count a cluster's live members."""
    return session.exec(
        select(func.count()).select_from(Membership).where(Membership.cluster_id == cluster_id, Membership.status.in_(LIVE_MEMBERSHIP))
    ).one()


def find_clusters(
    *,
    session: Session,
    actor: User,
    kind: str | None = None,
    language: str | None = None,
    need: str | None = None,
    within_km: float | None = None,
    origin: tuple[float, float] | None = None,
) -> list[tuple[Cluster, int, float | None]]:
    """Search the council's open clusters (forming or active with room); return (cluster, members, km)."""
    if actor.council_id is None:
        raise NotAllowed("Clusters belong to a council.")
    clusters = list(
        session.exec(
            select(Cluster)
            .where(Cluster.council_id == actor.council_id, Cluster.status.in_([ClusterStatus.forming, ClusterStatus.active]))
            .order_by(Cluster.name)
        )
    )
    profile = _member_profiles(session, [c.id for c in clusters])
    results = []
    for cluster in clusters:
        members, languages, needs = profile.get(cluster.id, (0, [], []))
        if kind and kind not in cluster.kinds:
            continue
        if language and language not in languages:
            continue
        if need and need not in needs:
            continue
        km = None
        if origin and cluster.lat is not None:
            km = round(haversine_km(origin[0], origin[1], cluster.lat, cluster.lon), 1)
        if within_km is not None and (km is None or km > within_km):
            continue
        results.append((cluster, members, km))
    results.sort(key=lambda row: (row[2] if row[2] is not None else 1e9, row[0].name))
    return results


def _member_profiles(session: Session, cluster_ids: list[int]) -> dict[int, tuple[int, list[str], list[str]]]:
    """Return, per cluster, its live member count, members' first languages and needs (no names)."""
    if not cluster_ids:
        return {}
    rows = session.exec(
        select(Membership.cluster_id, Holder.languages, Holder.care_needs)
        .join(Holder, Holder.id == Membership.holder_id)
        .where(Membership.cluster_id.in_(cluster_ids), Membership.status.in_(LIVE_MEMBERSHIP))
    )
    profile: dict[int, tuple[int, list[str], list[str]]] = {}
    for cluster_id, languages, needs in rows:
        count, langs, all_needs = profile.get(cluster_id, (0, [], []))
        profile[cluster_id] = (count + 1, langs + list(languages), all_needs + list(needs))
    return profile


def suggestions_for(*, session: Session, actor: User, holder_id: int, limit: int = 5) -> list[tuple[Cluster, rules.Suggestion]]:
    """Return 'clusters for me': open clusters ranked for this holder, each with a one-line reason."""
    holder = _holder_for_actor(session, actor, holder_id)
    clusters = list(
        session.exec(
            select(Cluster).where(
                Cluster.council_id == holder.council_id, Cluster.status.in_([ClusterStatus.forming, ClusterStatus.active])
            )
        )
    )
    mine = {m.cluster_id for m in session.exec(select(Membership).where(Membership.holder_id == holder.id, Membership.status != MembershipStatus.left))}
    profile = _member_profiles(session, [c.id for c in clusters])
    candidates = []
    for cluster in clusters:
        if cluster.id in mine:
            continue
        members, languages, needs = profile.get(cluster.id, (0, [], []))
        candidates.append({
            "id": cluster.id, "lat": cluster.lat, "lon": cluster.lon, "kinds": cluster.kinds, "members": members,
            "max_size": cluster.max_size, "member_languages": languages, "member_needs": needs,
        })
    ranked = rules.suggest(
        holder_languages=holder.languages, holder_needs=holder.care_needs, holder_location=(holder.lat, holder.lon),
        clusters=candidates, language_name=language_name, service_name=service_name, limit=limit,
    )
    by_id = {c.id: c for c in clusters}
    return [(by_id[s.cluster_id], s) for s in ranked]


def forming_needing_members(*, session: Session, actor: User) -> list[tuple[Cluster, int]]:
    """Return the council's forming clusters below their minimum size, for brokers."""
    if actor.role not in STAFF:
        raise NotAllowed("Only brokers and council officers can see this.")
    clusters = list(session.exec(select(Cluster).where(Cluster.council_id == actor.council_id, Cluster.status == ClusterStatus.forming).order_by(Cluster.name)))
    profile = _member_profiles(session, [c.id for c in clusters])
    counts = {c.id: profile.get(c.id, (0, [], []))[0] for c in clusters}
    return [(c, counts[c.id]) for c in clusters if counts[c.id] < c.min_size]


# --- acting for a holder -----------------------------------------------------------------------


def _holder_for_actor(session: Session, actor: User, holder_id: int) -> Holder:
    """Return the holder the actor is, or acts for with authorisation; brokers may act for anyone in their council."""
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if actor.role == Role.broker or can_act_for(session=session, actor=actor, holder=holder):
        return holder
    raise NotFound()


def _membership(session: Session, actor: User, membership_id: int) -> Membership:
    membership = get_or_404(session, actor, Membership, membership_id, what="membership")
    return membership


def _council(session: Session, council_id: int) -> Council:
    return session.get(Council, council_id)


# --- forming and joining -------------------------------------------------------------------------


def create_cluster(
    *,
    session: Session,
    actor: User,
    name: str,
    description: str,
    kinds: list[str],
    area: str,
    min_size: int | None = None,
    max_size: int | None = None,
    founder_holder_id: int | None = None,
    founder_pledge: int = 0,
) -> Cluster:
    """Create a forming cluster; a holder (or their representative) founds it as its first member."""
    if actor.role not in (Role.holder, Role.representative, Role.broker):
        raise NotAllowed("Only holders, their representatives and brokers can start a cluster.")
    council = _council(session, actor.council_id)
    min_size = council.cluster_min_size if min_size is None else min_size
    max_size = council.cluster_max_size if max_size is None else max_size
    errors = {}
    if not name.strip():
        errors["name"] = "Enter a name for the group"
    if not kinds or any(k not in ClusterKind.__members__ for k in kinds):
        errors["kinds"] = "Choose at least one kind of group"
    if not 2 <= min_size <= max_size <= 12:
        errors["max_size"] = "A group has between 2 and 12 members, and the smallest size cannot be more than the largest"
    area = validation.normalise_district(area)
    if area and area not in council.districts:
        errors["area"] = _area_message(council)
    if errors:
        raise ValidationFailed(errors)
    founder = None
    if actor.role in (Role.holder, Role.representative):
        founder = _holder_for_actor(session, actor, founder_holder_id or actor.holder_id or -1)
    elif founder_holder_id:
        founder = _holder_for_actor(session, actor, founder_holder_id)
    if founder is not None:
        _require_pledge_above_zero(founder_pledge)
    cluster = Cluster(
        council_id=actor.council_id, name=name.strip(), description=description.strip(), kinds=sorted(set(kinds)),
        area=area, lat=founder.lat if founder else None, lon=founder.lon if founder else None,
        min_size=min_size, max_size=max_size, status=ClusterStatus.forming,
    )
    session.add(cluster)
    session.flush()
    if founder is not None:
        _check_pledge(session, founder, founder_pledge, exclude_membership=None)
        session.add(Membership(
            council_id=cluster.council_id, cluster_id=cluster.id, holder_id=founder.id, status=MembershipStatus.admitted,
            weekly_pledge_pence=founder_pledge, start_date=clock.today(),
        ))
        session.flush()
    return cluster


def _area_message(council: Council) -> str:
    if not council.districts:
        return "Leave the area empty: the council has not listed its postcode districts yet"
    return f"Enter one of the council's postcode districts: {', '.join(council.districts)}"


def _require_pledge_above_zero(pledge: int) -> None:
    try:
        rules.check_pledge_above_zero(pledge)
    except ValueError as error:
        raise ValidationFailed({"pledge": str(error)}) from None


def _check_pledge(session: Session, holder: Holder, pledge: int, *, exclude_membership: int | None) -> None:
    """Refuse a pledge that would take the holder's pledges past their allocation.

    Locks the holder row first (locks.py: after any cluster and proposal), so two pledges, or a
    pledge and a lower allocation, cannot both pass on what each read before the other committed.
    """
    holder = lock_row(session, Holder, holder.id)
    # Plain columns, not Membership objects: the session may remember stale pledges.
    others = [
        amount
        for membership_id, amount in session.exec(
            select(Membership.id, Membership.weekly_pledge_pence).where(Membership.holder_id == holder.id, Membership.status.in_(PLEDGING))
        )
        if membership_id != exclude_membership
    ]
    try:
        rules.check_pledge(allocation=holder.weekly_allocation_pence, other_pledges=others, pledge=pledge)
    except ValueError as error:
        headroom = max(rules.pledge_headroom(holder.weekly_allocation_pence, others), 0)
        message = str(error)
        if "more than" in message:
            message = (
                f"Your pledges to all your groups cannot add up to more than your weekly budget of "
                f"{pounds(holder.weekly_allocation_pence)}. You can pledge up to {pounds(headroom)} a week here."
            )
        raise PledgeTooHigh(message, field="pledge") from None


def request_to_join(*, session: Session, actor: User, cluster_id: int, holder_id: int, pledge: int) -> Proposal:
    """Ask to join a cluster with a weekly pledge; the members vote on it."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    holder = _holder_for_actor(session, actor, holder_id)
    # The group's row guards its size and its one first member: joins to one group take turns.
    cluster = lock_row(session, Cluster, cluster.id)
    if cluster.status not in (ClusterStatus.forming, ClusterStatus.active):
        raise BadTransition("This group is not taking new members.")
    already = AlreadyJoined(f"{holder.name} has already asked to join or is a member.", field="holder_id")
    existing = session.exec(
        select(Membership.id).where(Membership.cluster_id == cluster.id, Membership.holder_id == holder.id, Membership.status != MembershipStatus.left)
    ).first()
    if existing is not None:
        raise already
    if live_count(session, cluster.id) >= cluster.max_size:
        raise ClusterFull("This group is full.")
    _require_pledge_above_zero(pledge)
    _check_pledge(session, holder, pledge, exclude_membership=None)
    # Someone who left may ask again: that is a new tenure with a new row, so its money keys never
    # meet those of the earlier stay. Their pool share is one ledger account across tenures.
    membership = Membership(
        council_id=cluster.council_id, cluster_id=cluster.id, holder_id=holder.id, status=MembershipStatus.requested,
        weekly_pledge_pence=pledge, changed_by_id=actor.id, changed_at=utcnow(),
    )
    # One live membership per holder and group (a partial unique index): a second request racing
    # this one gets the same plain answer.
    with insert_once(session, already):
        session.add(membership)
    proposal = _new_proposal(
        session, actor, cluster, ProposalKind.admit_member, f"Let {holder.name} join", f"Pledging {pounds(pledge)} a week.",
        {"membership_id": membership.id},
    )
    if not eligible_voters(session, cluster):
        # A forming group with nobody in it yet: the first person in is admitted straight away.
        _apply(session, proposal, actor)
        close_proposal(session, proposal, ProposalStatus.passed, "Admitted as the first member.")
    return proposal


def set_pledge(*, session: Session, actor: User, membership_id: int, pledge: int) -> Membership:
    """Change one's own weekly pledge, within the allocation."""
    membership = _membership(session, actor, membership_id)
    holder = _holder_for_actor(session, actor, membership.holder_id)
    # A membership's status changes under its group's lock (notice, admission), so read it there.
    lock_row(session, Cluster, membership.cluster_id)
    membership = fresh_row(session, Membership, membership.id)
    if membership.status not in PLEDGING or membership.status == MembershipStatus.leaving:
        raise BadTransition("You can only change the pledge of a membership that is not ending.")
    _require_pledge_above_zero(pledge)
    _check_pledge(session, holder, pledge, exclude_membership=membership.id)
    membership.weekly_pledge_pence = pledge
    membership.changed_by_id, membership.changed_at = actor.id, utcnow()
    session.add(membership)
    session.flush()
    return membership


# --- governance --------------------------------------------------------------------------------


def eligible_voters(session: Session, cluster: Cluster) -> list[int]:
    """Return the holder ids who may vote: active members, or the admitted founders of a forming cluster."""
    statuses = [MembershipStatus.active]
    if cluster.status == ClusterStatus.forming:
        statuses.append(MembershipStatus.admitted)
    return sorted(session.exec(select(Membership.holder_id).where(Membership.cluster_id == cluster.id, Membership.status.in_(statuses))))


def _new_proposal(session, actor, cluster, kind, title, description, payload, days: int = PROPOSAL_DAYS) -> Proposal:
    proposal = Proposal(
        council_id=cluster.council_id, cluster_id=cluster.id, kind=kind, title=title[:200], description=description,
        payload=payload, created_by_id=actor.id if actor else None, deadline=utcnow() + timedelta(days=days),
    )
    session.add(proposal)
    session.flush()
    return proposal


def propose(
    *, session: Session, actor: User, cluster_id: int, kind: ProposalKind, title: str, description: str = "", payload: dict | None = None
) -> Proposal:
    """Put a proposal to a cluster's members (members, their representatives or a broker)."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    kind = ProposalKind(kind)
    if cluster.status not in (ClusterStatus.forming, ClusterStatus.active):
        raise BadTransition("This group is closing and cannot take new decisions.")
    voters = eligible_voters(session, cluster)
    if actor.role != Role.broker and not set(visible_holder_ids(session=session, actor=actor)) & set(voters):
        raise NotAMember("Only members of this group (or their representatives) can make proposals.")
    payload = dict(payload or {})
    errors = {}
    if not title.strip() and kind != ProposalKind.remove_member:
        errors["title"] = "Enter what you want the group to decide"
    if kind == ProposalKind.remove_member:
        membership = session.get(Membership, int(payload.get("membership_id") or 0))
        if membership is None or membership.cluster_id != cluster.id or membership.status not in (MembershipStatus.admitted, MembershipStatus.active):
            errors["membership_id"] = "Choose a member of this group who is not already leaving"
        else:
            member_name = session.get(Holder, membership.holder_id).name
            # Members must know whom they are voting about.
            if not title.strip():
                title = f"Ask {member_name} to leave"
            elif member_name not in title:
                title = f"Ask {member_name} to leave: {title.strip()}"
    if kind == ProposalKind.change_pledges:
        pledges = payload.get("pledges") or {}
        if not pledges:
            errors["pledges"] = "Give at least one new pledge"
        for membership_id, amount in pledges.items():
            membership = session.get(Membership, int(membership_id))
            if membership is None or membership.cluster_id != cluster.id:
                errors["pledges"] = "Pledges can only change for members of this group"
            elif not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                errors["pledges"] = "Each new pledge must be more than £0 (in whole pence); a member who wants to pay nothing gives notice"
    if kind == ProposalKind.admit_member:
        errors["kind"] = "People ask to join from the group's page"
    if errors:
        raise ValidationFailed(errors)
    return _new_proposal(session, actor, cluster, kind, title.strip(), description.strip(), payload)


def require_member_or_broker(*, session: Session, actor: User, cluster: Cluster) -> None:
    """Raise NotFound unless the actor is a broker of the council or acts for a live member."""
    same_council(actor, cluster.council_id, what="cluster")
    if actor.role == Role.broker:
        return
    members = {h.id for _, h in cluster_members(session=session, actor=actor, cluster=cluster)}
    if not set(visible_holder_ids(session=session, actor=actor)) & members:
        raise NotFound()


def get_proposal(*, session: Session, actor: User, proposal_id: int) -> tuple[Proposal, Cluster]:
    """Return a proposal the actor may see (with its cluster)."""
    proposal = get_or_404(session, actor, Proposal, proposal_id, what="proposal")
    cluster = get_cluster(session=session, actor=actor, cluster_id=proposal.cluster_id)
    return proposal, cluster


def proposals_of(*, session: Session, actor: User, cluster: Cluster) -> list[Proposal]:
    """Return a cluster's proposals, open ones first."""
    same_council(actor, cluster.council_id, what="cluster")
    rows = session.exec(select(Proposal).where(Proposal.cluster_id == cluster.id).order_by(Proposal.created_at.desc()))
    return sorted(rows, key=lambda p: (p.status != ProposalStatus.open, -p.id))


def votes_of(*, session: Session, actor: User, proposal: Proposal) -> list[tuple[Vote, Holder, User]]:
    """Return every vote with the member it counts for and who cast it."""
    same_council(actor, proposal.council_id, what="proposal")
    return list(
        session.exec(
            select(Vote, Holder, User)
            .join(Holder, Holder.id == Vote.holder_id)
            .join(User, User.id == Vote.cast_by_id)
            .where(Vote.proposal_id == proposal.id)
            .order_by(Vote.cast_at)
        )
    )


def council_rule(session: Session, proposal: Proposal) -> rules.VotingRule:
    """Return the voting rule the council sets for this proposal's kind."""
    council = _council(session, proposal.council_id)
    return rules.voting_rule(
        kind=proposal.kind, quorum_percent=council.quorum_percent, majority_percent=council.majority_percent,
        dissolve_numerator=council.dissolve_numerator, dissolve_denominator=council.dissolve_denominator,
    )


def count(*, session: Session, proposal: Proposal, closed: bool = False) -> rules.Tally:
    """Count a proposal's votes under the council's rules."""
    cluster = session.get(Cluster, proposal.cluster_id)
    voters = set(eligible_voters(session, cluster))
    choices = Counter(v.choice for v in session.exec(select(Vote).where(Vote.proposal_id == proposal.id)) if v.holder_id in voters)
    return rules.tally(
        eligible=len(voters), yes=choices[Choice.yes], no=choices[Choice.no], abstain=choices[Choice.abstain],
        rule=council_rule(session, proposal), closed=closed,
    )


def cast_vote(*, session: Session, actor: User, proposal_id: int, holder_id: int, choice: Choice) -> Proposal:
    """Record one member's vote (by them or their representative) and decide the proposal if it can be."""
    proposal, cluster = get_proposal(session=session, actor=actor, proposal_id=proposal_id)
    if actor.role not in (Role.holder, Role.representative):
        raise NotAllowed("Only members, or representatives they authorised, can vote.")
    holder = _holder_for_actor(session, actor, holder_id)
    # Votes on one group take turns (group, then proposal: locks.py), so each vote counts every
    # vote committed before it and the deciding one is never missed, nor applied twice.
    cluster = lock_row(session, Cluster, cluster.id)
    proposal = lock_row(session, Proposal, proposal.id)
    if proposal.status != ProposalStatus.open or utcnow() > proposal.deadline:
        raise ProposalClosed("Voting on this proposal has closed.")
    if holder.id not in eligible_voters(session, cluster):
        raise NotAMember(f"{holder.name} is not a voting member of this group.")
    already = AlreadyVoted(f"{holder.name} has already voted on this.", field="holder_id")
    if session.exec(select(Vote.id).where(Vote.proposal_id == proposal.id, Vote.holder_id == holder.id)).first() is not None:
        raise already
    with insert_once(session, already):
        session.add(Vote(council_id=proposal.council_id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice(choice), cast_by_id=actor.id))
    _decide_if_possible(session, proposal, actor, closed=False)
    _after_members_changed(session, proposal, actor)
    return proposal


def close_due_proposals(*, session: Session, actor: User | None, council_id: int, now: datetime | None = None) -> BatchResult:
    """Decide every open proposal of the council whose deadline has passed (a scheduled job)."""
    if actor is not None:
        same_council(actor, council_id, what="council")
    now = now or utcnow()
    due_ids = list(
        session.exec(
            select(Proposal.id, Proposal.cluster_id).where(
                Proposal.council_id == council_id, Proposal.status == ProposalStatus.open, Proposal.deadline <= now
            )
        )
    )
    # Every group first, then every proposal, each in id order (locks.py), before any holder is
    # locked by applying one: a vote that holds one of these groups cannot deadlock with this run.
    lock_rows(session, Cluster, [cluster_id for _, cluster_id in due_ids])
    due = [p for p in lock_rows(session, Proposal, [proposal_id for proposal_id, _ in due_ids]) if p.status == ProposalStatus.open]
    result = BatchResult()
    for proposal in due:
        # One proposal that cannot be decided must not hold up the others.
        try:
            with session.begin_nested():
                _decide_if_possible(session, proposal, actor, closed=True)
                _after_members_changed(session, proposal, actor)
            result.done.append(proposal)
        except RECORD_ERRORS as error:
            result.failed.append(f"Proposal {proposal.id} ({proposal.title}): {failure_message(error)}")
    return result


def close_proposal(session: Session, proposal: Proposal, status: ProposalStatus, outcome: str) -> None:
    """Decide a proposal once: move it from open to its final status and record the outcome."""
    proposal.status = ProposalStatus(rules.move_proposal(proposal.status, ProposalStatus(status)))
    proposal.outcome = outcome[:300]
    proposal.decided_at = utcnow()
    session.add(proposal)
    session.flush()


def _pledge_refused(session: Session, holder: Holder, pledge: int, membership_id: int) -> bool:
    try:
        _check_pledge(session, holder, pledge, exclude_membership=membership_id)
    except PledgeTooHigh:
        return True
    return False


def _after_members_changed(session: Session, proposal: Proposal, actor: User | None) -> None:
    """After a passed proposal that let someone in or asked someone to leave, decide what that settled."""
    if proposal.status == ProposalStatus.passed and proposal.kind in (ProposalKind.admit_member, ProposalKind.remove_member):
        _decide_settled_proposals(session, proposal.cluster_id, actor)


def _decide_settled_proposals(session: Session, cluster_id: int, actor: User | None) -> None:
    """Decide the group's open proposals whose result a change of voting members has made certain.

    Votes count only while the voter is a voting member: when someone starts notice or joins, a
    proposal can become certain without another vote, and perhaps with nobody left who could cast
    one. The caller holds the group's lock, so no vote on these proposals can run meanwhile.
    """
    now = utcnow()
    changed = True
    while changed:  # a decision's action may change the members again; each pass closes one proposal at most
        changed = False
        pending = session.exec(
            select(Proposal).where(Proposal.cluster_id == cluster_id, Proposal.status == ProposalStatus.open, Proposal.deadline > now)
            .order_by(Proposal.id).execution_options(populate_existing=True)
        ).all()
        for proposal in pending:
            _decide_if_possible(session, proposal, actor, closed=False)
            if proposal.status != ProposalStatus.open:
                changed = True
                break


def _holders_concerned(session: Session, proposal: Proposal) -> list[int]:
    """Return the holders whose pledges a passed proposal's action checks (admitting someone, or new pledges)."""
    if proposal.kind == ProposalKind.admit_member:
        ids = [proposal.payload["membership_id"]]
    elif proposal.kind == ProposalKind.change_pledges:
        ids = [int(i) for i in proposal.payload["pledges"]]
    else:
        return []
    return list(session.exec(select(Membership.holder_id).where(Membership.id.in_(ids))))


def _no_longer_possible(session: Session, proposal: Proposal) -> str | None:
    """Return why a passed proposal's action can no longer be carried out, or None if it still can."""
    cluster = session.get(Cluster, proposal.cluster_id)
    if cluster.status not in (ClusterStatus.forming, ClusterStatus.active):
        return "the group is already closed."
    if proposal.kind == ProposalKind.admit_member:
        membership = fresh_row(session, Membership, proposal.payload["membership_id"])
        holder = session.get(Holder, membership.holder_id)
        if membership.status != MembershipStatus.requested:
            return f"{holder.name} withdrew the request to join."
        if live_count(session, cluster.id) >= cluster.max_size:
            return f"the group is full ({cluster.max_size} members)."
        if _pledge_refused(session, holder, membership.weekly_pledge_pence, membership.id):
            return f"{holder.name}'s pledge is now more than their weekly budget allows."
    if proposal.kind == ProposalKind.remove_member:
        membership = fresh_row(session, Membership, proposal.payload["membership_id"])
        name = session.get(Holder, membership.holder_id).name
        if membership.status == MembershipStatus.leaving:
            return f"{name} has already given notice to leave."
        if membership.status not in (MembershipStatus.admitted, MembershipStatus.active):
            return f"{name} has already left the group."
    if proposal.kind == ProposalKind.change_pledges:
        for membership_id, amount in sorted(proposal.payload["pledges"].items(), key=lambda item: int(item[0])):
            membership = fresh_row(session, Membership, int(membership_id))
            holder = session.get(Holder, membership.holder_id)
            if membership.status not in (MembershipStatus.admitted, MembershipStatus.active):
                return f"{holder.name} is leaving or has left the group, so their pledge cannot change."
            if _pledge_refused(session, holder, int(amount), membership.id):
                return f"{holder.name}'s new pledge would be more than their weekly budget allows."
    if proposal.kind == ProposalKind.accept_match and proposal.payload.get("assignment_ids"):
        from brokerage.matching.services import match_no_longer_possible

        return match_no_longer_possible(session=session, proposal=proposal)
    return None


def _decide_if_possible(session: Session, proposal: Proposal, actor: User | None, *, closed: bool) -> None:
    result = count(session=session, proposal=proposal, closed=closed)
    if not result.decided:
        return
    summary = f"{result.yes} yes, {result.no} no, {result.abstain} abstained of {result.eligible} members"
    if result.passed:
        # Every holder whose pledge the action checks, in id order, before any check (locks.py):
        # two decisions sharing holders then take turns instead of deadlocking.
        lock_rows(session, Holder, _holders_concerned(session, proposal))
        # What passed may have become impossible since it was proposed (the member left, the care was
        # contracted by another vote): then the votes stand and the proposal closes as no longer needed.
        reason = _no_longer_possible(session, proposal)
        if reason is None:
            try:
                # The action applies in the same transaction as the deciding vote.
                with session.begin_nested():
                    outcome = _apply(session, proposal, actor)
            except BrokerageError as error:
                reason = error.message
        if reason is None:
            close_proposal(session, proposal, ProposalStatus.passed, f"Passed ({summary}). {outcome}".strip())
            return
        _end_pending(session, proposal)
        close_proposal(session, proposal, ProposalStatus.lapsed, f"No longer needed ({summary}): {reason}")
        return
    reason = "not enough members voted" if not result.quorate else "not enough yes votes"
    _end_pending(session, proposal)
    close_proposal(session, proposal, ProposalStatus.rejected, f"Not passed: {reason} ({summary}).")


def _end_pending(session: Session, proposal: Proposal) -> None:
    """End what waited on a proposal that was not carried out: a request to join, or a match's offers."""
    if proposal.kind == ProposalKind.admit_member:
        membership = fresh_row(session, Membership, proposal.payload["membership_id"])
        if membership.status == MembershipStatus.requested:
            membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
            session.add(membership)
            session.flush()
    if proposal.kind == ProposalKind.accept_match and proposal.payload.get("assignment_ids"):
        from brokerage.matching.services import reject_match

        reject_match(session=session, proposal=proposal)


def _apply(session: Session, proposal: Proposal, actor: User | None) -> str:
    """Carry out a passed proposal; return a sentence saying what happened."""
    cluster = session.get(Cluster, proposal.cluster_id)
    today = clock.today()
    if proposal.kind == ProposalKind.admit_member:
        membership = session.get(Membership, proposal.payload["membership_id"])
        holder = session.get(Holder, membership.holder_id)
        _check_pledge(session, holder, membership.weekly_pledge_pence, exclude_membership=membership.id)
        target = "active" if cluster.status == ClusterStatus.active else "admitted"
        membership.status = MembershipStatus(rules.move_membership(membership.status, "admitted"))
        if target == "active":
            membership.status = MembershipStatus(rules.move_membership(membership.status, "active"))
        membership.start_date = today
        session.add(membership)
        session.flush()
        _activate_if_big_enough(session, cluster)
        return f"{holder.name} has joined."
    if proposal.kind == ProposalKind.remove_member:
        membership = fresh_row(session, Membership, proposal.payload["membership_id"])
        _start_notice(session, membership, today)
        return "The member's notice period has started."
    if proposal.kind == ProposalKind.change_pledges:
        memberships = {m.id: m for m in session.exec(
            select(Membership).where(Membership.id.in_([int(i) for i in proposal.payload["pledges"]])).execution_options(populate_existing=True)
        )}
        # Every holder concerned, in id order, before any is checked (locks.py).
        lock_rows(session, Holder, [m.holder_id for m in memberships.values()])
        for membership_id, amount in sorted(proposal.payload["pledges"].items(), key=lambda item: int(item[0])):
            membership = memberships[int(membership_id)]
            _check_pledge(session, session.get(Holder, membership.holder_id), int(amount), exclude_membership=membership.id)
            membership.weekly_pledge_pence = int(amount)
            session.add(membership)
        session.flush()
        return "The new pledges apply from the next collection."
    if proposal.kind == ProposalKind.dissolve:
        refunded = dissolve(session=session, actor=None, cluster=cluster, decided_by=proposal)
        return f"The group is closed and {pounds(refunded)} went back to members' wallets."
    if proposal.kind == ProposalKind.accept_match:
        if proposal.payload.get("assignment_ids"):
            from brokerage.matching.services import contracts_from_match

            made = contracts_from_match(session=session, proposal=proposal)
            return f"The match is accepted: {len(made)} contract(s) made."
        return "The match is accepted; the broker will draw up the contract."
    return ""


def _activate_if_big_enough(session: Session, cluster: Cluster) -> None:
    if cluster.status != ClusterStatus.forming:
        return
    admitted = list(session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.status == MembershipStatus.admitted)))
    if len(admitted) >= cluster.min_size:
        cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "active"))
        for membership in admitted:
            membership.status = MembershipStatus(rules.move_membership(membership.status, "active"))
            session.add(membership)
        session.add(cluster)
        session.flush()


# --- leaving and dissolving ---------------------------------------------------------------------


def _start_notice(session: Session, membership: Membership, today: date) -> None:
    council = _council(session, membership.council_id)
    membership.status = MembershipStatus(rules.move_membership(membership.status, "leaving"))
    membership.notice_date = today
    membership.leaves_on = rules.notice_end(today, council.notice_weeks)
    session.add(membership)
    session.flush()


def give_notice(*, session: Session, actor: User, membership_id: int) -> Membership:
    """Give notice to leave a cluster; the pool share comes back at the end of the notice period."""
    membership = _membership(session, actor, membership_id)
    _holder_for_actor(session, actor, membership.holder_id)
    # Under the group's lock, so a withdrawal and the vote admitting the same request take turns.
    lock_row(session, Cluster, membership.cluster_id)
    membership = fresh_row(session, Membership, membership.id)
    membership.changed_by_id, membership.changed_at = actor.id, utcnow()
    if membership.status == MembershipStatus.requested:
        membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
        session.add(membership)
        # The request's vote has nothing left to decide.
        for proposal in session.exec(select(Proposal).where(Proposal.cluster_id == membership.cluster_id, Proposal.status == ProposalStatus.open, Proposal.kind == ProposalKind.admit_member)):
            if proposal.payload.get("membership_id") == membership.id:
                close_proposal(session, proposal, ProposalStatus.lapsed, "No longer needed: withdrawn by the person who asked to join.")
        session.flush()
        return membership
    _start_notice(session, membership, clock.today())
    _decide_settled_proposals(session, membership.cluster_id, actor)
    return membership


@dataclass
class BatchResult:
    """What a daily run did: the records it handled, and one plain line for each it could not."""

    done: list = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def settle_leavers(*, session: Session, actor: User | None, council_id: int, today: date | None = None) -> BatchResult:
    """Return each leaver's pool share to their wallet once their notice has ended; mark them left.

    Each leaver is settled in a savepoint: one that fails is named in the result and stays on
    notice for the next run, and every other leaver is still settled.
    """
    from brokerage.ledger import rules as ledger_rules
    from brokerage.ledger.services import balance, post_entry

    if actor is not None:
        same_council(actor, council_id, what="council")
    today = today or clock.today()
    leaving = (Membership.council_id == council_id, Membership.status == MembershipStatus.leaving, Membership.leaves_on < today)
    # Every group concerned first, in id order (locks.py), so a vote that dissolves one of them, or a
    # second settle run, takes turns with this one; then the leavers are read again under the locks.
    lock_rows(session, Cluster, session.exec(select(Membership.cluster_id).where(*leaving)).all())
    due = list(session.exec(select(Membership).where(*leaving).order_by(Membership.id).execution_options(populate_existing=True)))
    result = BatchResult()
    for membership in due:
        try:
            with session.begin_nested():
                share_code = ledger_rules.pool_code(membership.cluster_id, membership.holder_id)
                # Costs already approved have left the share (pool -> payable), so what remains is theirs.
                share = balance(session=session, actor=None, council_id=council_id, code=share_code)
                if share > 0:
                    post_entry(
                        session=session, actor=actor, council_id=council_id, kind=kinds.EntryKind.member_left, memo="Pool share returned at the end of notice",
                        postings=[(share_code, -share), (ledger_rules.wallet_code(membership.holder_id), share)],
                        idempotency_key=kinds.member_left_key(membership_id=membership.id),
                    )
                membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
                session.add(membership)
            result.done.append((membership, share))
        except RECORD_ERRORS as error:
            holder = session.get(Holder, membership.holder_id)
            cluster = session.get(Cluster, membership.cluster_id)
            result.failed.append(f"{holder.name} leaving {cluster.name}: {failure_message(error)}")
    session.flush()
    return result


def dissolve(*, session: Session, actor: User | None, cluster: Cluster, decided_by: Proposal) -> int:
    """Close a cluster by a passed proposal, returning every member's pool share to their wallet (the asset lock); return the total."""
    from brokerage.ledger import rules as ledger_rules
    from brokerage.ledger.models import LedgerAccount
    from brokerage.ledger.services import EntrySpec, post_entries

    if cluster.status in (ClusterStatus.forming, ClusterStatus.active):
        cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "closing"))
    shares = list(
        session.exec(
            select(LedgerAccount).where(LedgerAccount.cluster_id == cluster.id, LedgerAccount.council_id == cluster.council_id).order_by(LedgerAccount.id)
        )
    )
    specs = []
    total = 0
    for account in shares:
        session.refresh(account, ["balance_pence"])
        if account.balance_pence > 0:
            total += account.balance_pence
            specs.append(EntrySpec(
                kind=kinds.EntryKind.member_refund, memo=f"{cluster.name} closed: pool share returned",
                # The decision and the share name the refund: a cluster closes once, by one proposal.
                idempotency_key=kinds.dissolve_key(proposal_id=decided_by.id, holder_id=account.holder_id),
                postings=[(account.code, -account.balance_pence), (ledger_rules.wallet_code(account.holder_id), account.balance_pence)],
            ))
    post_entries(session=session, actor=actor, council_id=cluster.council_id, entries=specs)
    for membership in session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.status != MembershipStatus.left)):
        membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
        session.add(membership)
    for proposal in session.exec(
        select(Proposal).where(Proposal.cluster_id == cluster.id, Proposal.status == ProposalStatus.open, Proposal.id != decided_by.id)
    ):
        close_proposal(session, proposal, ProposalStatus.lapsed, "No longer needed: the group was closed.")
    cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "closed"))
    session.add(cluster)
    session.flush()
    return total



def holders_actor_acts_for(*, session: Session, actor: User) -> list[Holder]:
    """Return the holders the actor can act for: themselves, or those who authorised them."""
    ids = visible_holder_ids(session=session, actor=actor)
    if not ids:
        return []
    return list(session.exec(select(Holder).where(Holder.id.in_(ids), Holder.council_id == actor.council_id).order_by(Holder.name)))


@dataclass
class ClusterPage:
    """Everything the cluster page shows to one actor."""

    cluster: Cluster
    members: list
    proposals: list
    my_memberships: list
    can_join: list
    voters: list
    pooled: int | None
    names: dict


def cluster_page(*, session: Session, actor: User, cluster_id: int) -> ClusterPage:
    """Return the cluster with what this actor may see and do on its page."""
    from brokerage.ledger.models import LedgerAccount

    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    members = cluster_members(session=session, actor=actor, cluster=cluster)
    mine_ids = set(visible_holder_ids(session=session, actor=actor))
    is_member = any(h.id in mine_ids for _, h in members)
    staff = actor.role in STAFF
    if not (staff or is_member):
        # Someone browsing a forming group sees how many people are in it, not who.
        members = []
    mine = list(session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.holder_id.in_(mine_ids or [-1]))))
    taken = {m.holder_id for m in mine if m.status != MembershipStatus.left}
    acting_for = holders_actor_acts_for(session=session, actor=actor)
    can_join = [h for h in acting_for if h.id not in taken] if cluster.status in (ClusterStatus.forming, ClusterStatus.active) else []
    pooled = None
    if staff or is_member:
        pooled = int(session.exec(select(func.coalesce(func.sum(LedgerAccount.balance_pence), 0)).where(LedgerAccount.cluster_id == cluster.id)).one())
    return ClusterPage(
        cluster=cluster, members=members, proposals=proposals_of(session=session, actor=actor, cluster=cluster) if (staff or is_member) else [],
        my_memberships=mine, can_join=can_join, voters=eligible_voters(session, cluster), pooled=pooled,
        names={h.id: h.name for h in acting_for},
    )


def proposal_page(*, session: Session, actor: User, proposal_id: int) -> dict:
    """Return a proposal with its count, its votes and whom the actor may still vote for."""
    proposal, cluster = get_proposal(session=session, actor=actor, proposal_id=proposal_id)
    mine = set(visible_holder_ids(session=session, actor=actor))
    members = {h.id for _, h in cluster_members(session=session, actor=actor, cluster=cluster)}
    if actor.role not in STAFF and not (mine & (members | set(eligible_voters(session, cluster)))):
        raise NotFound()
    votes = votes_of(session=session, actor=actor, proposal=proposal)
    voted = {v.holder_id for v, _, _ in votes}
    eligible = set(eligible_voters(session, cluster))
    can_vote = []
    if proposal.status == ProposalStatus.open and actor.role in (Role.holder, Role.representative):
        can_vote = [h for h in holders_actor_acts_for(session=session, actor=actor) if h.id in eligible and h.id not in voted]
    return {"proposal": proposal, "cluster": cluster, "tally": count(session=session, proposal=proposal), "votes": votes, "can_vote": can_vote,
            "voters": eligible}


def membership_cluster_id(*, session: Session, actor: User, membership_id: int) -> int:
    """Return the cluster of a membership the actor acts for."""
    membership = _membership(session, actor, membership_id)
    _holder_for_actor(session, actor, membership.holder_id)
    return membership.cluster_id


def notice_preview(*, session: Session, actor: User, membership_id: int) -> dict:
    """Return what giving notice would mean: the last day, and the share that would come back."""
    from brokerage.ledger import rules as ledger_rules
    from brokerage.ledger.services import balance

    membership = _membership(session, actor, membership_id)
    holder = _holder_for_actor(session, actor, membership.holder_id)
    if membership.status not in (MembershipStatus.requested, MembershipStatus.admitted, MembershipStatus.active):
        raise BadTransition("This membership is already ending.")
    council = _council(session, membership.council_id)
    share = balance(session=session, actor=None, council_id=membership.council_id, code=ledger_rules.pool_code(membership.cluster_id, holder.id))
    return {
        "membership": membership, "holder": holder, "cluster": session.get(Cluster, membership.cluster_id),
        "leaves_on": rules.notice_end(clock.today(), council.notice_weeks), "notice_weeks": council.notice_weeks, "share": share,
    }
