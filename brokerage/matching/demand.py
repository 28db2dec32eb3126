"""What groups ask for (demand lines) as people see them, and a broker's edits and withdrawals.

Each line is shown with its times in plain words and how it stands: hours arranged by contracts, hours
out to the group's vote, a match the broker is still checking, or the reason the newest matching run
could not cover it (its gap). A broker may edit an open line or withdraw it; a withdrawn line leaves
matching and stays for the record, and every edit and withdrawal is kept with who made it and what the
line was before (`DemandLineChange`).

Services flush and never commit. An edit or withdrawal locks the group first, as a deciding vote does
(locks.py: cluster first), so it never crosses a vote that is contracting the same care.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF, get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters import queries
from brokerage.clusters.members import active_member_ids, cluster_members, get_cluster, live_members_by_group, require_member_or_broker
from brokerage.clusters.models import Cluster, Membership, MembershipStatus, Proposal
from brokerage.clusters.rules import ProposalKind, ProposalStatus, Sharing, sharing_words, who_shares
from brokerage.contracts.services import contracted_hours
from brokerage.errors import Conflict, NotAllowed, ValidationFailed
from brokerage.formatting import long_date
from brokerage.holders.models import Holder, Power
from brokerage.locks import lock_row
from brokerage.matching.models import DemandLine, DemandLineChange, MatchAssignment, MatchGap, MatchRun
from brokerage.matching.rules import (
    asked_slot_hours,
    AssignmentStatus,
    DemandLineChangeKind,
    change_words,
    DemandLineStatus,
    demand_line_changes,
    demand_problems,
    edit_problems,
    move_demand_line,
)
from brokerage.matching.services import latest_run_id, list_runs
from brokerage.matching.snapshot import committed_care, line_slot_hours
from brokerage.slot_hours import in_week_order, total
from brokerage.types import utcnow

REASON_LIMIT = 500


@dataclass
class DemandView:
    """A demand line and how it stands: arranged, out to a vote, being checked, or why it could not be met."""

    line: DemandLine
    contracted: int = 0
    voting: int = 0
    # Hours the newest run proposed that the broker has not sent to the group yet.
    checking: int = 0
    # Hours the newest run could not cover, and why (its gap); 0 and None when it covered them or never saw the line.
    unmet: int = 0
    reason: str | None = None
    run_at: datetime | None = None
    # The line is newer than the newest run, or was changed after it: the next run will match it as it is now.
    waiting_for_run: bool = False
    # Who of the members it is for share its cost from today (a member on notice pays only until their last day), in words.
    sharing: Sharing | None = None
    shared_by: str = ""


def demand_views(*, session: Session, council_id: int, lines: list[DemandLine]) -> list[DemandView]:
    """Return how each of a council's demand lines stands, from its contracts, the votes out and the newest run."""
    if not lines:
        return []
    ids = [line.id for line in lines]
    contracted, _ = contracted_hours(session=session, council_id=council_id)
    voting: dict[int, int] = defaultdict(int)
    for line_id, hours in session.exec(
        select(MatchAssignment.demand_line_id, MatchAssignment.hours)
        .where(MatchAssignment.council_id == council_id, MatchAssignment.status == AssignmentStatus.sent, MatchAssignment.demand_line_id.in_(ids))
    ):
        voting[line_id] += hours
    run = None
    run_id = latest_run_id(session, council_id)
    checking: dict[int, int] = defaultdict(int)
    gaps: dict[int, MatchGap] = {}
    if run_id is not None:
        run = session.get(MatchRun, run_id)
        for line_id, hours in session.exec(
            select(MatchAssignment.demand_line_id, MatchAssignment.hours)
            .where(MatchAssignment.run_id == run_id, MatchAssignment.status == AssignmentStatus.proposed, MatchAssignment.demand_line_id.in_(ids))
        ):
            checking[line_id] += hours
        gaps = {gap.demand_line_id: gap for gap in session.exec(select(MatchGap).where(MatchGap.run_id == run_id, MatchGap.demand_line_id.in_(ids)))}
    live = live_members_by_group(session=session, cluster_ids={line.cluster_id for line in lines})
    today = clock.today()
    views = []
    for line in lines:
        view = DemandView(line=line, contracted=contracted.get(line.id, 0), voting=voting.get(line.id, 0), checking=checking.get(line.id, 0),
                          sharing=who_shares([int(h) for h in line.shares], live[line.cluster_id], today))
        view.shared_by = sharing_words(view.sharing)
        since = max(line.created_at, line.changed_at or line.created_at)
        if run is None or since > run.created_at:
            view.waiting_for_run = line.status == DemandLineStatus.open
        elif line.id in gaps:
            view.unmet, view.reason, view.run_at = gaps[line.id].hours, gaps[line.id].reason, run.created_at
        views.append(view)
    return views


def demand_of_cluster(*, session: Session, actor: User, cluster: Cluster) -> list[DemandView]:
    """Return what a cluster asks for now (its open lines), each with how it stands."""
    same_council(actor, cluster.council_id, what="group")
    lines = list(session.exec(
        select(DemandLine).where(DemandLine.cluster_id == cluster.id, DemandLine.status == DemandLineStatus.open).order_by(DemandLine.id)
    ))
    return demand_views(session=session, council_id=cluster.council_id, lines=lines)


def demand_overview(*, session: Session, actor: User) -> dict:
    """Return the council's open demand lines with their groups and how each stands, for the matching page."""
    if actor.role not in STAFF:
        raise NotAllowed("Only brokers and council officers can see matching.")
    rows = session.exec(
        select(DemandLine, Cluster).join(Cluster, Cluster.id == DemandLine.cluster_id)
        .where(DemandLine.council_id == actor.council_id, DemandLine.status == DemandLineStatus.open).order_by(Cluster.name, DemandLine.id)
    ).all()
    views = demand_views(session=session, council_id=actor.council_id, lines=[line for line, _ in rows])
    return {"demand": [(view, cluster) for view, (_, cluster) in zip(views, rows)], "demanded_hours": sum(line.hours for line, _ in rows)}


def matching_page(*, session: Session, actor: User) -> dict:
    """Return the matching page: the open demand, past runs, and the active groups demand can be added for."""
    data = demand_overview(session=session, actor=actor)
    council = session.get(Council, actor.council_id)
    return {**data, "runs": list_runs(session=session, actor=actor), "clusters": queries.active_clusters(session=session, actor=actor),
            "time_limit": council.match_time_limit_s}


@dataclass
class ClusterDemandPage:
    """The form where a group says what it needs: the group, and the active members the care can serve."""

    cluster: Cluster
    members: list[tuple[Membership, Holder]]
    # The group's open vote on closing, if it has one: care asked for now would end if the group closes.
    closing_vote: Proposal | None = None


def cluster_demand_page(*, session: Session, actor: User, cluster_id: int, undone: str | None = None) -> ClusterDemandPage:
    """Return a group and its active members, to a broker or someone acting for a member (`undone`: a sent form)."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    # A representative needs the member's leave to manage their care.
    require_member_or_broker(session=session, actor=actor, cluster=cluster, power=Power.care, undone=undone)
    live = cluster_members(session=session, actor=actor, cluster=cluster)
    closing = session.exec(select(Proposal).where(Proposal.cluster_id == cluster.id, Proposal.kind == ProposalKind.dissolve,
                                                  Proposal.status == ProposalStatus.open).order_by(Proposal.id)).first()
    return ClusterDemandPage(cluster=cluster, members=[(m, h) for m, h in live if m.status == MembershipStatus.active], closing_vote=closing)


# --- a broker changes a line ------------------------------------------------------------------------


@dataclass
class DemandLinePage:
    """A demand line for a broker to change or withdraw: its group, whom it may serve, how it stands, and its history."""

    line: DemandLine
    cluster: Cluster
    # Whom the care may be for: the group's active members and anyone it is already for.
    people: list[Holder]
    view: DemandView
    # (change, who made it, what it changed in words), oldest first.
    history: list[tuple[DemandLineChange, User, str]] = field(default_factory=list)
    # The hours it asks for in each time of day.
    asked: dict[str, int] = field(default_factory=dict)
    # {holder id: "leaving the group on 12 January 2027"} for those it may be for who are on notice or gone.
    notes: dict[int, str] = field(default_factory=dict)


def _require_broker(actor: User) -> None:
    if actor.role != Role.broker:
        raise NotAllowed("Only brokers can change or withdraw what a group asks for.")


def demand_line_page(*, session: Session, actor: User, line_id: int) -> DemandLinePage:
    """Return one of the council's demand lines with everything its edit page shows (brokers only)."""
    _require_broker(actor)
    line = get_or_404(session, actor, DemandLine, line_id, what="demand line")
    cluster = session.get(Cluster, line.cluster_id)
    served = {int(h) for h in line.shares}
    wanted = set(active_member_ids(session=session, cluster_id=cluster.id)) | served
    people = list(session.exec(select(Holder).where(Holder.id.in_(wanted or [-1])).order_by(Holder.name, Holder.id)))
    history = [(change, who, change_words(change.changes)) for change, who in session.exec(
        select(DemandLineChange, User).join(User, User.id == DemandLineChange.actor_id)
        .where(DemandLineChange.demand_line_id == line.id).order_by(DemandLineChange.at, DemandLineChange.id)
    ).all()]
    (view,) = demand_views(session=session, council_id=line.council_id, lines=[line])
    notes = {holder: f"leaving the group on {long_date(day)}" for holder, day in view.sharing.leaving}
    notes |= {holder: "has left the group" for holder in view.sharing.gone}
    return DemandLinePage(line=line, cluster=cluster, people=people, view=view, history=history, asked=line_slot_hours(line), notes=notes)


def _locked_line(session: Session, actor: User, line_id: int) -> DemandLine:
    """Return the line of the actor's council, locked after its group (the order a deciding vote takes)."""
    line = get_or_404(session, actor, DemandLine, line_id, what="demand line")
    lock_row(session, Cluster, line.cluster_id)
    return lock_row(session, DemandLine, line.id)


def _committed(session: Session, line: DemandLine) -> tuple[int, int]:
    """Return the hours of a line already contracted or out to a vote, and how many of them are contracted."""
    contracted = contracted_hours(session=session, council_id=line.council_id)[0].get(line.id, 0)
    voting = sum(session.exec(
        select(MatchAssignment.hours).where(MatchAssignment.demand_line_id == line.id, MatchAssignment.status == AssignmentStatus.sent)
    ).all())
    return contracted + voting, contracted


def _not_open(line: DemandLine) -> Conflict:
    word = "withdrawn" if line.status == DemandLineStatus.withdrawn else "fully arranged"
    return Conflict(f"This request for care was {word}, so it can no longer be changed.")


def edit_demand_line(
    *, session: Session, actor: User, line_id: int, service: str, languages: list[str], language_required: bool, carer_gender: str | None,
    max_rate_pence: int, served: list[int], slot_hours: dict | None = None, hours: int | None = None, slots: list[str] | None = None,
) -> DemandLine:
    """Change an open demand line (brokers), keeping what it was in its history; return it.

    Its times are hours per time of day (`slot_hours`), or weekly `hours` spread evenly over `slots`. Once some
    of its care is contracted or out to a vote, its service and members stay, and its hours cannot drop below
    that care, in all or at any time of day that care covers (ValidationFailed). An edit that changes nothing records nothing.
    """
    _require_broker(actor)
    line = _locked_line(session, actor, line_id)
    if line.status != DemandLineStatus.open:
        raise _not_open(line)
    allowed = set(active_member_ids(session=session, cluster_id=line.cluster_id)) | {int(h) for h in line.shares}
    errors = demand_problems(service=service, slot_hours=slot_hours, hours=hours, slots=slots, languages=languages, language_required=language_required,
                             carer_gender=carer_gender, max_rate_pence=max_rate_pence, served=served, members=allowed, kept=line_slot_hours(line))
    if errors:
        raise ValidationFailed(errors)
    asked = in_week_order(asked_slot_hours(slot_hours=slot_hours, hours=hours, slots=slots))
    before = {name: getattr(line, name) for name in ("service", "hours", "languages", "language_required", "carer_gender", "max_rate_pence", "shares")}
    before["slot_hours"] = line_slot_hours(line)
    # Shares keep each member's weight; a member added by the edit gets the usual one.
    shares = {str(h): line.shares.get(str(h), 1) for h in sorted(set(served))}
    after = {"service": service, "hours": total(asked), "slot_hours": asked, "languages": sorted(set(languages)),
             "language_required": bool(language_required), "carer_gender": carer_gender, "max_rate_pence": max_rate_pence, "shares": shares}
    changes = demand_line_changes(before, after)
    if not changes:
        return line
    committed, contracted = _committed(session, line)
    taken = committed_care(session, line.council_id, demand_line_id=line.id)[0].get(line.id)
    problems = edit_problems(changes, committed=committed, contracted=contracted, committed_slots=taken.slot_hours if taken else None)
    if problems:
        raise ValidationFailed(problems)
    for name, (_, new) in changes.items():
        setattr(line, name, new)
    line.slot_hours, line.slots = asked, list(asked)
    line.changed_at = utcnow()
    if contracted and contracted >= line.hours:
        # Everything it now asks for is already contracted: it is done, as a passed match would leave it.
        line.status = move_demand_line(line.status, DemandLineStatus.contracted)
    session.add(line)
    session.add(DemandLineChange(council_id=line.council_id, demand_line_id=line.id, actor_id=actor.id, kind=DemandLineChangeKind.edited,
                                 changes=changes, at=line.changed_at))
    session.flush()
    return line


def withdraw_demand_line(*, session: Session, actor: User, line_id: int, reason: str = "") -> DemandLine:
    """Withdraw an open demand line (brokers): it leaves matching and stays, with who withdrew it and why, for the record."""
    _require_broker(actor)
    reason = (reason or "").strip()
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed({"reason": f"Use {REASON_LIMIT} characters or fewer"})
    line = _locked_line(session, actor, line_id)
    if line.status != DemandLineStatus.open:
        raise _not_open(line)
    line.status = move_demand_line(line.status, DemandLineStatus.withdrawn)
    line.changed_at = utcnow()
    session.add(line)
    session.add(DemandLineChange(council_id=line.council_id, demand_line_id=line.id, actor_id=actor.id, kind=DemandLineChangeKind.withdrawn,
                                 reason=reason, at=line.changed_at))
    session.flush()
    return line
