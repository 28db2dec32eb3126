"""Read models for the clusters pages: search and suggestions, lists, the cluster, proposal and notice pages.

They only read (above `members` and `proposals`; they never change anything). The page that
also shows other domains' data (contracts, demand, shared details) is `brokerage.pages.clusters`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from brokerage import clock
from brokerage.access import STAFF
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters import rules
from brokerage.clusters.errors import BadTransition
from brokerage.clusters.members import (
    LIVE_MEMBERSHIP,
    OPEN,
    cluster_members,
    eligible_voters,
    get_cluster,
    get_membership,
    holder_for_actor,
    holders_actor_acts_for,
    require_member_or_broker,
    visible_holder_ids,
)
from brokerage.clusters.areas import areas_of, council_districts
from brokerage.clusters.models import Cluster, ClusterDistrict, ClusterStatus, Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.proposals import count, get_proposal, proposals_of, votes_of
from brokerage.clusters.rules import Choice, ProposalStatus
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import language_name, service_name
from brokerage.geo import haversine_km
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import may_see_money, refuse_lost_power
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.services import balance
from brokerage.places.errors import STAFF_REMEDY
from brokerage.places.services import locate

# --- lists --------------------------------------------------------------------------------------


def list_clusters(*, session: Session, actor: User) -> list[Cluster]:
    """Return the clusters of the actor's council, for staff."""
    if actor.role not in STAFF:
        raise NotFound()
    return list(session.exec(select(Cluster).where(Cluster.council_id == actor.council_id).order_by(Cluster.status, Cluster.name)))


@dataclass
class ClustersPage:
    """The staff list of groups, with each group's area."""

    clusters: list[Cluster]
    areas: dict[int, list[str]]


def clusters_page(*, session: Session, actor: User) -> ClustersPage:
    """Return the council's groups and their areas, for staff."""
    clusters = list_clusters(session=session, actor=actor)
    return ClustersPage(clusters=clusters, areas=areas_of(session=session, cluster_ids=[c.id for c in clusters]))


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


def decisions_waiting(*, session: Session, actor: User) -> list[tuple[Proposal, Cluster, Holder]]:
    """Return the open decisions waiting for a vote from someone the actor votes for (themselves, or the people they act for).

    One row per (decision, voter), soonest deadline first: a voter is an active member, or an admitted
    founder of a forming group (`eligible_voters`), who has not voted on it yet.
    """
    holder_ids = visible_holder_ids(session=session, actor=actor)
    if not holder_ids:
        return []
    voters: dict[int, list[int]] = {}
    for membership, cluster in session.exec(
        select(Membership, Cluster).join(Cluster, Cluster.id == Membership.cluster_id)
        .where(Membership.holder_id.in_(holder_ids), Membership.council_id == actor.council_id,
               Membership.status.in_([MembershipStatus.active, MembershipStatus.admitted]))
    ):
        if membership.status == MembershipStatus.active or cluster.status == ClusterStatus.forming:
            voters.setdefault(cluster.id, []).append(membership.holder_id)
    if not voters:
        return []
    proposals = session.exec(
        select(Proposal, Cluster).join(Cluster, Cluster.id == Proposal.cluster_id)
        .where(Proposal.cluster_id.in_(voters), Proposal.status == ProposalStatus.open).order_by(Proposal.deadline, Proposal.id)
    ).all()
    voted = set(session.exec(
        select(Vote.proposal_id, Vote.holder_id).where(Vote.proposal_id.in_([p.id for p, _ in proposals] or [-1]), Vote.holder_id.in_(holder_ids))
    ).all())
    people = {h.id: h for h in session.exec(select(Holder).where(Holder.id.in_(holder_ids)))}
    return [
        (proposal, cluster, people[holder_id])
        for proposal, cluster in proposals for holder_id in sorted(voters[cluster.id], key=lambda h: people[h].name)
        if (proposal.id, holder_id) not in voted
    ]


def status_counts(*, session: Session, council_id: int) -> dict[str, int]:
    """Count a council's clusters by status."""
    counts = Counter(session.exec(select(Cluster.status).where(Cluster.council_id == council_id)))
    return {status.value: counts.get(status, 0) for status in ClusterStatus}


def active_clusters(*, session: Session, actor: User) -> list[Cluster]:
    """Return the actor's council's active clusters by name (the groups demand can be recorded for)."""
    return list(session.exec(select(Cluster).where(Cluster.council_id == actor.council_id, Cluster.status == ClusterStatus.active).order_by(Cluster.name)))


def cluster_names(*, session: Session, council_id: int) -> dict[int, str]:
    """Return the names of a council's clusters by id."""
    return dict(session.exec(select(Cluster.id, Cluster.name).where(Cluster.council_id == council_id)).all())


# --- finding a group ----------------------------------------------------------------------------


def find_clusters(
    *,
    session: Session,
    actor: User,
    kind: str | None = None,
    language: str | None = None,
    need: str | None = None,
    within_km: float | None = None,
    origin: tuple[float, float] | None = None,
    district: str | None = None,
) -> list[tuple[Cluster, int, float | None]]:
    """Search the council's open clusters (forming or active with room), in an area that includes `district` if given; return (cluster, members, km)."""
    if actor.council_id is None:
        raise NotAllowed("Groups belong to a council.")
    query = select(Cluster).where(Cluster.council_id == actor.council_id, Cluster.status.in_(OPEN)).order_by(Cluster.name)
    if district:
        query = query.where(Cluster.id.in_(select(ClusterDistrict.cluster_id).where(ClusterDistrict.council_id == actor.council_id, ClusterDistrict.district == district)))
    clusters = list(session.exec(query))
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
        count_, langs, all_needs = profile.get(cluster_id, (0, [], []))
        profile[cluster_id] = (count_ + 1, langs + list(languages), all_needs + list(needs))
    return profile


def suggestions_for(*, session: Session, actor: User, holder_id: int, limit: int = 5) -> list[tuple[Cluster, rules.Suggestion]]:
    """Return 'clusters for me': open clusters ranked for this holder, each with a one-line reason."""
    holder = holder_for_actor(session=session, actor=actor, holder_id=holder_id)
    clusters = list(session.exec(select(Cluster).where(Cluster.council_id == holder.council_id, Cluster.status.in_(OPEN))))
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
        whose="your" if actor.holder_id == holder.id else f"{holder.name}'s",
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


@dataclass
class FindPage:
    """The "find a group" page: search results, suggestions for each person I act for, groups short of members, and the areas."""

    results: list
    suggestions: list
    forming: list
    # The council's districts (the area filter's choices), each result's area, and where distances were measured from.
    districts: list[str] = field(default_factory=list)
    areas: dict[int, list[str]] = field(default_factory=dict)
    measured_from: str | None = None


NEEDS_ORIGIN = "Enter a postcode to measure the distance from"
# A member cannot ask a carepool administrator to add a postcode: they can measure from another, or from home.
NEAR_REMEDY = "If it is, try a postcode nearby, or leave the box empty to measure from home"
STAFF = (Role.broker, Role.council_officer, Role.admin)


def find_page(*, session: Session, actor: User, search: dict | None = None) -> FindPage:
    """Return the find page: results when `search` (kind, language, need, within_km, district, near) is given, and suggestions.

    Distances are measured from the postcode `near` when given (UnknownPostcode naming it when carepool does
    not know where it is), or else from the home of the first person the actor acts for.
    """
    people = holders_actor_acts_for(session=session, actor=actor)
    districts = council_districts(session=session, council_id=actor.council_id) if actor.council_id else []
    results, measured_from = [], None
    if search is not None:
        search = dict(search)
        near, district = search.pop("near", None), search.pop("district", None)
        if district and district not in districts:
            raise ValidationFailed({"district": "Choose an area from the list"})
        origin = None
        if near:
            place = locate(session=session, postcode=near, field="near", remedy=STAFF_REMEDY if actor.role in STAFF else NEAR_REMEDY)
            origin, measured_from = (place.lat, place.lon), place.postcode
        elif people:
            origin, measured_from = (people[0].lat, people[0].lon), people[0].postcode or people[0].postcode_district
        if search.get("within_km") is not None and origin is None:
            raise ValidationFailed({"near": NEEDS_ORIGIN})
        results = find_clusters(session=session, actor=actor, origin=origin, district=district, **search)
    suggestions = [(person, suggestions_for(session=session, actor=actor, holder_id=person.id)) for person in people]
    forming = forming_needing_members(session=session, actor=actor) if actor.role == Role.broker else []
    return FindPage(
        results=results, suggestions=suggestions, forming=forming, districts=districts,
        areas=areas_of(session=session, cluster_ids=[c.id for c, _, _ in results]), measured_from=measured_from,
    )


@dataclass
class NewClusterPage:
    """What the "start a group" form offers: who may found it, and the council's usual sizes."""

    people: list[Holder]
    min_size: int
    max_size: int
    # The council's own districts, which a group's area is chosen from.
    districts: list[str] = field(default_factory=list)


def new_cluster_page(*, session: Session, actor: User) -> NewClusterPage:
    """Return the founders the actor may name, the council's default group sizes and its districts."""
    council = session.get(Council, actor.council_id)
    return NewClusterPage(
        people=holders_actor_acts_for(session=session, actor=actor), min_size=council.cluster_min_size, max_size=council.cluster_max_size,
        districts=council_districts(session=session, council_id=council.id),
    )


# --- one group and its decisions ----------------------------------------------------------------


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
    # Memberships whose notice has ended but whose share waits for the last timesheets (see `leaver_holds`).
    notice_over: set = field(default_factory=set)
    # The group's area: its council's districts it covers.
    area: list[str] = field(default_factory=list)
    # (membership, holder) the actor may ask to leave: not leaving already, and not the actor or someone they act for.
    removable: list = field(default_factory=list)


def cluster_page(*, session: Session, actor: User, cluster_id: int) -> ClusterPage:
    """Return the cluster with what this actor may see and do on its page."""
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
    can_join = [h for h in acting_for if h.id not in taken] if cluster.status in OPEN else []
    pooled = None
    if staff or is_member:
        pooled = int(session.exec(select(func.coalesce(func.sum(LedgerAccount.balance_pence), 0)).where(LedgerAccount.cluster_id == cluster.id)).one())
    return ClusterPage(
        cluster=cluster, members=members, proposals=proposals_of(session=session, actor=actor, cluster=cluster) if (staff or is_member) else [],
        my_memberships=mine, can_join=can_join, voters=eligible_voters(session, cluster), pooled=pooled,
        names={h.id: h.name for h in acting_for},
        notice_over={m.id for m in mine if m.status == MembershipStatus.leaving and m.leaves_on and m.leaves_on < clock.today()},
        area=areas_of(session=session, cluster_ids=[cluster.id]).get(cluster.id, []),
    )


def notice_preview(*, session: Session, actor: User, membership_id: int) -> dict:
    """Return what giving notice would mean: the last day, and the share that would come back (None if the actor may not see money)."""
    membership = get_membership(session=session, actor=actor, membership_id=membership_id)
    holder = holder_for_actor(session=session, actor=actor, holder_id=membership.holder_id)
    if membership.status not in (MembershipStatus.requested, MembershipStatus.admitted, MembershipStatus.active):
        raise BadTransition("This membership is already ending.")
    council = session.get(Council, membership.council_id)
    # The share's balance is money: a representative sees it only with the holder's leave to see money.
    share = None
    if may_see_money(session=session, actor=actor, holder=holder):
        share = balance(session=session, actor=actor, council_id=membership.council_id, code=ledger_rules.pool_code(membership.cluster_id, holder.id))
    cluster = session.get(Cluster, membership.cluster_id)
    weeks = rules.notice_weeks_of(cluster.status, council.notice_weeks)  # none in a group that has not started
    # From notice a member no longer votes (`eligible_voters`), so the votes they cast on open decisions stop counting:
    # the page names those decisions before they confirm.
    open_votes = list(session.exec(
        select(Proposal.title).join(Vote, Vote.proposal_id == Proposal.id)
        .where(Vote.holder_id == holder.id, Proposal.cluster_id == cluster.id, Proposal.status == ProposalStatus.open).order_by(Proposal.id)
    ))
    return {
        "membership": membership, "holder": holder, "cluster": cluster,
        "leaves_on": rules.notice_end(clock.today(), weeks), "notice_weeks": weeks, "share": share, "open_votes": open_votes,
    }


def propose_page(*, session: Session, actor: User, cluster_id: int, undone: str | None = None) -> ClusterPage:
    """Return the cluster page's data for the "put a decision" form, to a broker or someone acting for a member (`undone`: a sent form)."""
    page = cluster_page(session=session, actor=actor, cluster_id=cluster_id)
    require_member_or_broker(session=session, actor=actor, cluster=page.cluster, undone=undone)
    # The same members `governance.propose` accepts for "ask a member to leave": one's own leaving is notice, not a vote.
    own = set() if actor.role == Role.broker else set(visible_holder_ids(session=session, actor=actor))
    page.removable = [(m, h) for m, h in page.members
                      if m.status in (MembershipStatus.admitted, MembershipStatus.active) and h.id not in own]
    return page


def proposal_page(*, session: Session, actor: User, proposal_id: int, undone: str | None = None) -> dict:
    """Return a proposal with its count, its votes and whom the actor may still vote for (`undone`: see `members.holder_for_actor`)."""
    proposal, cluster = get_proposal(session=session, actor=actor, proposal_id=proposal_id)
    mine = set(visible_holder_ids(session=session, actor=actor))
    members = {h.id for _, h in cluster_members(session=session, actor=actor, cluster=cluster)}
    if actor.role not in STAFF and not (mine & (members | set(eligible_voters(session, cluster)))):
        refuse_lost_power(session=session, actor=actor, holder_ids=members | set(eligible_voters(session, cluster)), power=Power.groups,
                          undone=undone)
        raise NotFound()
    votes = votes_of(session=session, actor=actor, proposal=proposal)
    voted = {v.holder_id for v, _, _ in votes}
    eligible = set(eligible_voters(session, cluster))
    can_vote = []
    if proposal.status == ProposalStatus.open and actor.role in (Role.holder, Role.representative):
        can_vote = [h for h in holders_actor_acts_for(session=session, actor=actor) if h.id in eligible and h.id not in voted]
    # Once decided, the votes cast stand as they were counted: members who have left since still count, and the
    # outcome says how many members there were then (today's count would disagree with it).
    cast = Counter(vote.choice for vote, _, _ in votes)
    # Who put it forward, so members can ask them, and tell two like decisions apart.
    proposer = session.get(User, proposal.created_by_id) if proposal.created_by_id else None
    # Those on notice no longer vote: the page tells the actor why they cannot vote for them, and why their votes stop counting.
    leaving = _leaving_ids(session, cluster)
    not_voting = []
    if proposal.status == ProposalStatus.open and actor.role in (Role.holder, Role.representative):
        not_voting = [h for h in holders_actor_acts_for(session=session, actor=actor) if h.id in leaving]
    return {"proposal": proposal, "cluster": cluster, "tally": count(session=session, proposal=proposal), "votes": votes, "can_vote": can_vote,
            "voters": eligible, "cast": {choice.value: cast[choice] for choice in Choice}, "not_voting": not_voting, "leaving_ids": leaving,
            "proposer": f"{proposer.name} ({proposer.role.label.lower()})" if proposer else None}


def _leaving_ids(session: Session, cluster: Cluster) -> set[int]:
    """Return the holders on notice to leave this group."""
    return set(session.exec(select(Membership.holder_id).where(Membership.cluster_id == cluster.id, Membership.status == MembershipStatus.leaving)))
