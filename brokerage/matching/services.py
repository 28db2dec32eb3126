"""The broker's matching workflow: build an instance from the database, solve, review, adjust, send, contract.

Services flush and never commit. The solver itself is pure (`solver.solve`); the service's own runs give it
format 2, hours per time of day (`snapshot.build_instance`), and keep the times of each proposed part.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.accounts.system import system_actor
from brokerage.clusters import governance, queries
from brokerage.clusters.areas import locate_group
from brokerage.clusters.members import active_member_ids, visible_holder_ids
from brokerage.clusters.models import Cluster, ClusterStatus, Proposal
from brokerage.clusters.rules import ProposalKind, ProposalStatus
from brokerage.db import session_scope
from brokerage.errors import BrokerageError, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import plural, pounds, service_name, slot_hours_words
from brokerage.geo import haversine_km
from brokerage.holders.models import Power
from brokerage.locks import fresh_row, lock_row
from brokerage.matching.explain import reshared, retimed, share_note, took_out_note, without_took_out
from brokerage.matching.instance import parse_instance
from brokerage.matching.models import DemandLine, MatchAssignment, MatchGap, MatchRun
from brokerage.matching.rules import (
    MATCH_TIME_LIMIT_MAX, AssignmentStatus, DemandLineStatus, asked_slot_hours, demand_problems, hours_taken_out, move_assignment,
)
from brokerage.matching.snapshot import (  # noqa: F401 (build_instance, committed_hours and vetted_provider_ids are re-exported)
    build_instance, committed_care, committed_hours, line_slot_hours, still_free, still_wanted, vetted_provider_ids,
)
from brokerage.providers.models import Provider
from brokerage.providers.services import CAPACITY_MAX, provider_slot_hours
from brokerage.slot_hours import fit, in_week_order, slot_hours_problems, total, without
from brokerage.vocabulary import slot_label


def _require_broker(actor: User) -> None:
    # A scheduled or queued run acts as the council's system user (brokerage.accounts.system).
    if actor.role not in (Role.broker, Role.system):
        raise NotAllowed("Only brokers can run and change matching.")


def run_matching(*, session: Session, actor: User, council_id: int) -> MatchRun:
    """Solve the council's matching and store the proposal for the broker to review."""
    # numpy, SciPy and OR-Tools load when a run is solved, not whenever the web app starts.
    from brokerage.matching.improve import solve_within

    _require_broker(actor)
    same_council(actor, council_id, what="council")
    raw = build_instance(session=session, actor=actor, council_id=council_id)
    started = time.perf_counter()
    instance = parse_instance(raw)
    # The engine speaks in file ids; people read group names, so it is given them.
    names = {f"k-{cluster_id}": name for cluster_id, name in queries.cluster_names(session=session, council_id=council_id).items()}
    records = session.exec(select(Provider).where(Provider.council_id == council_id)).all()
    providers = {f"s-{p.id}": p.name for p in records}
    # The instance holds providers' free hours; the reasons for unmet care also need the hours they work, booked or not.
    offered = {f"s-{p.id}": (provider_slot_hours(p), p.capacity_hours) for p in records}
    council = session.get(Council, council_id)
    solution, improvement = solve_within(instance, cluster_names=names, supplier_names=providers, time_limit=council.match_time_limit_s,
                                         offered=offered)
    elapsed = time.perf_counter() - started
    run = MatchRun(
        council_id=council_id, created_by_id=actor.id if actor else None, lines=len(instance.demand), suppliers=len(instance.supply),
        demanded_hours=sum(d.hours for d in instance.demand), covered_hours=solution.covered_hours, cost=float(solution.cost),
        seconds=round(elapsed, 3), lower_bound=round(improvement.lower_bound_pence / 100, 2), gap_pct=round(improvement.gap_pct, 3),
    )
    session.add(run)
    session.flush()
    demand = {d.id: d for d in instance.demand}
    supply = {s.id: s for s in instance.supply}
    for assignment in solution.assignments:
        d, s = demand[assignment.demand], supply[assignment.supplier]
        session.add(MatchAssignment(
            council_id=council_id, run_id=run.id, demand_line_id=int(d.id[2:]), cluster_id=int(d.cluster[2:]), provider_id=int(s.id[2:]),
            hours=assignment.hours, solver_hours=assignment.hours, rate_pence=s.rate_pence,
            distance_km=round(haversine_km(d.lat, d.lon, s.lat, s.lon), 2), explanation=assignment.explanation,
            slot_hours=in_week_order(assignment.slot_hours) if assignment.slot_hours is not None else None,
            solver_slot_hours=in_week_order(assignment.slot_hours) if assignment.slot_hours is not None else None,
        ))
    for unmet in solution.unmet:
        session.add(MatchGap(council_id=council_id, run_id=run.id, demand_line_id=int(unmet.demand[2:]), hours=unmet.hours, reason=unmet.reason,
                             slot_hours=in_week_order(unmet.slot_hours) if unmet.slot_hours is not None else None))
    session.flush()
    return run


def set_match_time_limit(*, session: Session, actor: User, council_id: int, seconds: int) -> Council:
    """Set how long (seconds, 0 to 600, a deterministic work budget) the council's runs improve their first answer; brokers only."""
    _require_broker(actor)
    same_council(actor, council_id, what="council")
    if not 0 <= seconds <= MATCH_TIME_LIMIT_MAX:
        raise ValidationFailed({"time_limit": [f"Enter between 0 and {MATCH_TIME_LIMIT_MAX} seconds"]})
    council = session.get(Council, council_id)
    council.match_time_limit_s = seconds
    session.add(council)
    session.flush()
    return council


def run_job(*, council_id: int) -> dict:
    """Run matching for one council as a job."""
    with session_scope() as session:
        run = run_matching(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id)
        return {"run_id": run.id, "covered_hours": run.covered_hours, "demanded_hours": run.demanded_hours}


def list_runs(*, session: Session, actor: User) -> list[MatchRun]:
    """Return the council's matching runs, newest first."""
    if actor.role not in STAFF:
        raise NotAllowed("Only brokers and council officers can see matching.")
    return list(session.exec(select(MatchRun).where(MatchRun.council_id == actor.council_id).order_by(MatchRun.id.desc())))


def get_run(*, session: Session, actor: User, run_id: int) -> MatchRun:
    """Return one run of the actor's council."""
    run = get_or_404(session, actor, MatchRun, run_id, what="matching run")
    if actor.role not in STAFF:
        raise NotFound()
    return run


def review(*, session: Session, actor: User, run_id: int) -> dict:
    """Return a run's assignments grouped by cluster, and its gaps, with names for the review page."""
    run = get_run(session=session, actor=actor, run_id=run_id)
    assignments = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id).order_by(MatchAssignment.cluster_id, MatchAssignment.demand_line_id, MatchAssignment.id)).all()
    gaps = session.exec(select(MatchGap).where(MatchGap.run_id == run.id).order_by(MatchGap.demand_line_id)).all()
    line_ids = {a.demand_line_id for a in assignments} | {g.demand_line_id for g in gaps}
    lines = {line.id: line for line in session.exec(select(DemandLine).where(DemandLine.id.in_(line_ids or [-1])))}
    providers = {p.id: p for p in session.exec(select(Provider).where(Provider.council_id == run.council_id))}
    clusters = {c.id: c for c in session.exec(select(Cluster).where(Cluster.council_id == run.council_id))}
    by_cluster: dict[int, list[MatchAssignment]] = defaultdict(list)
    for assignment in assignments:
        by_cluster[assignment.cluster_id].append(assignment)
    covered = sum(a.hours for a in assignments if a.status != AssignmentStatus.rejected)
    # Groups whose members are voting on closing: care sent to them would end if they close.
    closing = {p.cluster_id: p for p in session.exec(select(Proposal).where(
        Proposal.council_id == run.council_id, Proposal.kind == ProposalKind.dissolve, Proposal.status == ProposalStatus.open,
        Proposal.cluster_id.in_(list(by_cluster) or [-1]))).all()}
    return {"run": run, "by_cluster": dict(by_cluster), "gaps": gaps, "lines": lines, "providers": providers, "clusters": clusters,
            "latest": run.id == latest_run_id(session, run.council_id), "covered": covered, "closing_votes": closing}


@dataclass(frozen=True)
class PartRoom:
    """What a proposed part may hold: the hours a week its line still wants and its provider still has free.

    Care already contracted or out to a vote (`snapshot.committed_care`) and the run's other proposed parts
    of the same line, or with the same provider, come off both, in the times of day they take. `asked` and
    `free` are {slot: hours}; `line_left` and `week_left` are the weekly totals left (`week_left` None: the
    provider has no weekly cap beyond its times). A run stored before times were matched has no times
    (`timed` False): then only the weekly totals count.
    """

    assignment: MatchAssignment
    line: DemandLine
    provider: Provider
    cluster_name: str
    asked: dict[str, int]
    free: dict[str, int]
    line_left: int
    week_left: int | None
    timed: bool

    @property
    def most(self) -> dict[str, int]:
        """Return the most hours the part may have in each time of day: room at times both have, and never less than it has now."""
        mine = self.assignment.slot_hours or {}
        room = {slot: min(hours, self.free.get(slot, 0)) for slot, hours in self.asked.items()}
        return in_week_order({slot: max(room.get(slot, 0), mine.get(slot, 0)) for slot in {*room, *mine}})

    @property
    def most_hours(self) -> int:
        """Return the most hours a week the part may have."""
        limit = self.line_left if self.week_left is None else min(self.line_left, self.week_left)
        if self.timed:
            limit = min(limit, total(self.most))
        return max(limit, self.assignment.hours)


def part_room(*, session: Session, actor: User, assignment_id: int) -> PartRoom:
    """Return what a proposed part of the actor's council may hold (for the page that changes its times)."""
    _require_broker(actor)
    assignment = get_or_404(session, actor, MatchAssignment, assignment_id, what="assignment")
    return _room(session, assignment)


def _room(session: Session, assignment: MatchAssignment) -> PartRoom:
    """Return what a part may hold now (see PartRoom)."""
    line = session.get(DemandLine, assignment.demand_line_id)
    provider = session.get(Provider, assignment.provider_id)
    by_line, _ = committed_care(session, assignment.council_id, demand_line_id=line.id)
    _, by_provider = committed_care(session, assignment.council_id, provider_id=provider.id)
    # Parts of this run already sent are committed care; parts refused by a vote, or accepted (now contracts), are not proposed.
    others = session.exec(select(MatchAssignment).where(
        MatchAssignment.run_id == assignment.run_id, MatchAssignment.id != assignment.id,
        MatchAssignment.status == AssignmentStatus.proposed,
    ).order_by(MatchAssignment.id)).all()
    asked = still_wanted(line_slot_hours(line), by_line.get(line.id))
    line_left = min(line.hours, total(asked)) if line.slot_hours or line.slots else line.hours - getattr(by_line.get(line.id), "hours", 0)
    free, week = still_free(provider_slot_hours(provider), provider.capacity_hours, by_provider.get(provider.id))
    if week is None and assignment.slot_hours is None:  # a run without times: the provider's week is what it offers
        week = total(free)
    for other in others:
        if other.demand_line_id == line.id:
            asked = without(asked, other.slot_hours or {})
            line_left -= other.hours
        if other.provider_id == provider.id:
            free = without(free, other.slot_hours or {})
            week = None if week is None else week - other.hours
    cluster = session.get(Cluster, assignment.cluster_id)
    return PartRoom(assignment=assignment, line=line, provider=provider, cluster_name=cluster.name if cluster else "",
                    asked=asked, free=free, line_left=max(line_left, 0), week_left=None if week is None else max(week, 0),
                    timed=assignment.slot_hours is not None)


def _editable(session: Session, actor: User, assignment_id: int) -> MatchAssignment:
    """Return a proposed part of the latest run, its run locked (two brokers, or a change racing "send", take turns); refuse any other."""
    _require_broker(actor)
    assignment = get_or_404(session, actor, MatchAssignment, assignment_id, what="assignment")
    # The run owns its assignments' totals (a line's hours, a provider's capacity) and their sending.
    lock_row(session, MatchRun, assignment.run_id)
    assignment = fresh_row(session, MatchAssignment, assignment.id)
    if assignment.status != AssignmentStatus.proposed:
        raise BrokerageError("This part has already been sent to the group and cannot be changed.", field="hours", status=409)
    if assignment.run_id != latest_run_id(session, assignment.council_id):
        raise BrokerageError("This run has been replaced by a newer one; change the newest run instead.", field="hours", status=409)
    return assignment


def adjust(*, session: Session, actor: User, assignment_id: int, hours: int) -> MatchAssignment:
    """Change the hours of a proposed assignment by hand (0 removes it), within what its line still wants and its provider has free.

    Fewer hours come off the part's latest times; more go to the earliest times both still have free
    (`change_times` sets the times themselves). Raises ValidationFailed (field "hours").
    """
    assignment = _editable(session, actor, assignment_id)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValidationFailed({"hours": "Enter a whole number of hours, 0 or more"})
    room = _room(session, assignment)
    _check_weekly(room, hours)
    after = None
    if room.timed:
        after = fit(assignment.slot_hours, hours, without(room.most, assignment.slot_hours))
        if after is None:
            raise ValidationFailed({"hours": f"Only {plural(total(room.most), 'hour')} a week fit at times the group asked for and {room.provider.name} can work"})
    return _change(session, actor, room, hours, after)


def change_times(*, session: Session, actor: User, assignment_id: int, slot_hours: dict[str, int]) -> MatchAssignment:
    """Set the hours a proposed part gives in each time of day ({slot: hours}), within what its line still wants and its provider has free then.

    Raises ValidationFailed (field "slot_hours", each message naming its time) and BrokerageError (409) for
    a part already sent or of a replaced run.
    """
    assignment = _editable(session, actor, assignment_id)
    room = _room(session, assignment)
    if not room.timed:
        raise BrokerageError("This run was made before times of day were matched; change its hours instead.", field="slot_hours", status=409)
    problems = time_problems(room, slot_hours)
    if problems:
        raise ValidationFailed({"slot_hours": list(problems.values())})
    after = in_week_order(slot_hours)
    _check_weekly(room, total(after), field="slot_hours")
    return _change(session, actor, room, total(after), after)


def time_problems(room: PartRoom, slot_hours: object) -> dict[str, str]:
    """Return {slot: message} for each time a part's new hours do not fit (empty when they all do); "" keys the hours as a whole."""
    hours = slot_hours_problems(slot_hours, most=CAPACITY_MAX)
    if hours:
        return {"": hours}
    most, mine = room.most, room.assignment.slot_hours or {}
    problems = {}
    for slot, value in in_week_order(slot_hours).items():
        if value <= most.get(slot, 0):
            continue
        if room.asked.get(slot, 0) <= 0 and mine.get(slot, 0) <= 0:
            problems[slot] = f"{slot_label(slot)}: the group did not ask for care then, or it is already covered"
        elif room.free.get(slot, 0) <= 0 and mine.get(slot, 0) <= 0:
            problems[slot] = f"{slot_label(slot)}: {room.provider.name} has no hours free then"
        else:
            problems[slot] = f"{slot_label(slot)}: enter no more than {most.get(slot, 0)}, what the group still needs then and {room.provider.name} can work"
    return problems


def _check_weekly(room: PartRoom, hours: int, field: str = "hours") -> None:
    """Refuse more hours a week than the line still wants or the provider has left in its week."""
    if hours <= room.assignment.hours:
        return
    if hours > room.line_left:
        elsewhere = room.line.hours - room.line_left
        already = f"; {plural(elsewhere, 'hour')} of it {'is' if elsewhere == 1 else 'are'} already with providers" if elsewhere else ""
        raise ValidationFailed({field: f"The group asked for {plural(room.line.hours, 'hour')} a week of {service_name(room.line.service)}{already}. "
                                       f"This part can have at most {plural(room.line_left, 'hour')}; this would give {hours}"})
    if room.week_left is not None and hours > room.week_left:
        raise ValidationFailed({field: f"{room.provider.name} has {plural(room.week_left, 'hour')} a week left beside care already agreed "
                                       f"and this run's other parts; this would give {hours}"})


def _change(session: Session, actor: User, room: PartRoom, hours: int, after: dict[str, int] | None) -> MatchAssignment:
    """Give a part `hours` a week at times `after` (None: a run without times), and keep the run's figures, the gap and the explanations in step."""
    assignment, line = room.assignment, room.line
    before = dict(assignment.slot_hours) if assignment.slot_hours is not None else None
    if hours == assignment.hours and (before is None or in_week_order(after) == in_week_order(before)):
        return assignment  # no change: nothing is written, not even who edited it
    if before is not None:
        assignment.slot_hours = after
        assignment.explanation = retimed(assignment.explanation, before, after)
    others = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == assignment.run_id, MatchAssignment.id != assignment.id,
                                                        MatchAssignment.demand_line_id == line.id)).all()
    added = hours - assignment.hours
    assignment.hours = hours
    assignment.edited_by_id = actor.id
    session.add(assignment)
    parts = [assignment, *others]
    _regap(session, assignment.run_id, line, added, before, assignment.slot_hours, parts=parts)
    _refigure_line(session, line, parts)
    session.flush()
    return assignment


def _regap(session: Session, run_id: int, line: DemandLine, added: int, before: dict | None, after: dict | None, *,
           parts: list[MatchAssignment]) -> None:
    """Keep the run's covered hours and the line's gap in step with a broker's change of `added` hours (negative: taken out).

    `parts` are the line's proposed parts after the change, which say what the broker has taken out in all.
    """
    run = session.get(MatchRun, run_id)
    run.covered_hours = max(0, run.covered_hours + added)
    session.add(run)
    gap = session.exec(select(MatchGap).where(MatchGap.run_id == run_id, MatchGap.demand_line_id == line.id)).first()
    if gap is None:
        if added >= 0:
            return
        gap = MatchGap(council_id=run.council_id, run_id=run_id, demand_line_id=line.id, hours=0, reason="",
                       slot_hours={} if before is not None else None)
    gap.hours -= added
    if gap.slot_hours is not None and before is not None and after is not None:
        left = {slot: gap.slot_hours.get(slot, 0) + before.get(slot, 0) - after.get(slot, 0) for slot in {*gap.slot_hours, *before, *after}}
        gap.slot_hours = in_week_order({slot: hours for slot, hours in left.items() if hours > 0})
    # The note says how many of the gap's hours the broker took out, and goes once they are all back.
    gap.reason = took_out_note(gap.reason, _taken_out(gap, parts)[0])
    if gap.hours <= 0:
        if gap.id is not None:
            session.delete(gap)
        return
    session.add(gap)


def _taken_out(gap: MatchGap, parts: list[MatchAssignment]) -> tuple[int, dict[str, int] | None]:
    """Return how many of a line's gap hours a broker took out of its proposed parts, and their times where they are known."""
    return hours_taken_out(gap.hours, gap.slot_hours, [(a.solver_hours, a.hours, a.solver_slot_hours, a.slot_hours) for a in parts])


def _refigure_line(session: Session, line: DemandLine, parts: list[MatchAssignment]) -> None:
    """Say in each part's explanation how the line is now shared and how much is not covered (after a broker's change)."""
    given = sorted((a for a in parts if a.hours > 0), key=lambda a: a.id)
    uncovered = line.hours - sum(a.hours for a in given)
    names = {a.id: session.get(Provider, a.provider_id).name for a in given}
    # A part taken down to no hours says so too ("0 of 5 hours here, the rest with …"), not what it gave before.
    for part in sorted(parts, key=lambda a: a.id):
        others = [names[a.id] for a in given if a.id != part.id]
        note = share_note(part.hours, line.hours, others, uncovered) if others or uncovered > 0 or part.hours == 0 else ""
        part.explanation = reshared(part.explanation, note)
        session.add(part)


def send_to_clusters(*, session: Session, actor: User, run_id: int, days: int = 14) -> list[Proposal]:
    """Put each cluster's part of a run to its members as an 'accept a match' proposal."""
    _require_broker(actor)
    run = get_run(session=session, actor=actor, run_id=run_id)
    # Sent twice at once, a run must still ask each group only once.
    run = lock_row(session, MatchRun, run.id)
    if run.id != latest_run_id(session, run.council_id):
        raise BrokerageError("A newer matching run exists. Send that one, so no group is asked twice.", status=409)
    pending = session.exec(
        select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.status == AssignmentStatus.proposed, MatchAssignment.hours > 0)
        .order_by(MatchAssignment.cluster_id, MatchAssignment.id).execution_options(populate_existing=True)
    ).all()
    by_cluster: dict[int, list[MatchAssignment]] = defaultdict(list)
    for assignment in pending:
        by_cluster[assignment.cluster_id].append(assignment)
    proposals = []
    for cluster_id, parts in sorted(by_cluster.items()):
        # The group first, as a broker's edit of its requests locks it (brokerage.matching.demand): a request
        # withdrawn or changed since the run is not sent, as the run matched what it no longer asks for.
        lock_row(session, Cluster, cluster_id)
        parts = [a for a in parts if still_as_matched(session.get(DemandLine, a.demand_line_id), run)]
        if not parts:
            continue
        names = sorted({session.get(Provider, a.provider_id).name for a in parts})
        lines = []
        for a in parts:
            provider = session.get(Provider, a.provider_id)
            line = session.get(DemandLine, a.demand_line_id)
            times = f" ({slot_hours_words(a.slot_hours)})" if a.slot_hours else ""
            lines.append(f"{a.hours} hours a week of {service_name(line.service)} from {provider.name} at {pounds(a.rate_pence)} an hour{times}. {a.explanation}")
        proposal = governance.open_proposal(
            session=session, actor=actor, cluster_id=cluster_id, kind=ProposalKind.accept_match,
            title=f"Accept care from {', '.join(names)}", description="\n".join(lines),
            payload={"run_id": run.id, "assignment_ids": [a.id for a in parts]}, days=days,
        )
        for a in parts:
            a.status = move_assignment(a.status, AssignmentStatus.sent)
            a.proposal_id = proposal.id
            session.add(a)
        proposals.append(proposal)
    session.flush()
    return proposals


def still_as_matched(line: DemandLine, run: MatchRun) -> bool:
    """Tell whether a demand line is still open and unchanged since the run that matched it."""
    return line.status == DemandLineStatus.open and (line.changed_at is None or line.changed_at <= run.created_at)


@dataclass(frozen=True)
class GapRow:
    """One line's gap on the gap report: hours no provider could give, and hours a broker took out of the proposed match."""

    gap: MatchGap
    line: DemandLine
    cluster: Cluster
    unprovided: int  # hours a week no provider could give (the run's own gap, less what a broker has since covered)
    taken_out: int  # hours a week a provider was proposed for and a broker took out
    reason: str  # why no provider could give them, without the note about the broker
    unprovided_times: dict[str, int] | None  # when the unprovided hours fall; None when not known
    taken_out_times: dict[str, int] | None  # when the taken-out hours fall; None when not known


def gap_report(*, session: Session, actor: User) -> dict:
    """Return the latest run's unmet demand for commissioning: what no provider could give, by service, apart from what brokers took out.

    A broker who takes hours out of a proposed part (`adjust`) leaves them uncovered, but a provider
    could give them, so they are not counted as care to commission: a line's taken-out hours are its
    parts' solver hours less their hours now, at most its gap, time by time where the parts kept the
    solver's times (`rules.hours_taken_out`). The gap keeps both in one set of times; each row gets its own.
    """
    if actor.role not in STAFF:
        raise NotAllowed("Only brokers and council officers can see the gap report.")
    run = session.exec(select(MatchRun).where(MatchRun.council_id == actor.council_id).order_by(MatchRun.id.desc())).first()
    if run is None:
        return {"run": None, "rows": [], "taken_out": [], "by_service": [], "unprovided": 0, "taken_out_hours": 0}
    gaps = session.exec(select(MatchGap).where(MatchGap.run_id == run.id).order_by(MatchGap.hours.desc(), MatchGap.id)).all()
    lines = {line.id: line for line in session.exec(select(DemandLine).where(DemandLine.id.in_([g.demand_line_id for g in gaps] or [-1])))}
    clusters = {c.id: c for c in session.exec(select(Cluster).where(Cluster.council_id == run.council_id))}
    parts: dict[int, list[MatchAssignment]] = defaultdict(list)
    for part in session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id)):
        parts[part.demand_line_id].append(part)
    rows = []
    for gap in gaps:
        line = lines[gap.demand_line_id]
        taken_out, taken_out_times = _taken_out(gap, parts[line.id])
        if taken_out_times is not None:
            unprovided_times = without(gap.slot_hours, taken_out_times)
        else:  # all of the gap's times are unprovided, unless a broker took some out at times not kept
            unprovided_times = gap.slot_hours if gap.slot_hours is not None and not taken_out else None
        rows.append(GapRow(gap, line, clusters[line.cluster_id], gap.hours - taken_out, taken_out, without_took_out(gap.reason),
                           unprovided_times, taken_out_times))
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        # A request withdrawn since needs nobody new; one changed since is counted as the run saw it.
        if row.line.status == DemandLineStatus.open:
            totals[row.line.service] += row.unprovided
    unprovided = sorted((row for row in rows if row.unprovided), key=lambda row: (-row.unprovided, row.gap.id))
    taken_out = sorted((row for row in rows if row.taken_out), key=lambda row: (-row.taken_out, row.gap.id))
    return {"run": run, "rows": unprovided, "taken_out": taken_out,
            "by_service": sorted(((k, v) for k, v in totals.items() if v), key=lambda item: (-item[1], item[0])),
            "unprovided": sum(row.unprovided for row in unprovided), "taken_out_hours": sum(row.taken_out for row in taken_out)}


def latest_run_id(session: Session, council_id: int) -> int | None:
    """Return the id of the council's newest matching run."""
    return session.exec(select(MatchRun.id).where(MatchRun.council_id == council_id).order_by(MatchRun.id.desc())).first()


def assignment_run_id(*, session: Session, actor: User, assignment_id: int) -> int:
    """Return the run of an assignment in the actor's council."""
    assignment = get_or_404(session, actor, MatchAssignment, assignment_id, what="assignment")
    return assignment.run_id


def add_demand_line(
    *, session: Session, actor: User, cluster_id: int, service: str, languages: list[str], language_required: bool,
    carer_gender: str | None, max_rate_pence: int, served: list[int] | None = None, slot_hours: dict | None = None,
    hours: int | None = None, slots: list[str] | None = None,
) -> DemandLine:
    """Record what an active group asks for (by a member, their representative or a broker), and whom it serves.

    Its times are the hours a week in each time of day (`slot_hours`), or weekly `hours` spread evenly over `slots`.
    """
    cluster = get_or_404(session, actor, Cluster, cluster_id, what="group")
    members = active_member_ids(session=session, cluster_id=cluster.id)
    # A representative needs the member's leave to manage their care.
    if actor.role != Role.broker and not set(visible_holder_ids(session=session, actor=actor, power=Power.care)) & set(members):
        raise NotAllowed("Only the group's members, their representatives and brokers can say what the group needs.")
    served = list(members) if served is None else served
    errors = demand_problems(service=service, slot_hours=slot_hours, hours=hours, slots=slots, languages=languages, language_required=language_required,
                             carer_gender=carer_gender, max_rate_pence=max_rate_pence, served=served, members=members)
    if cluster.status != ClusterStatus.active:
        errors["cluster_id"] = "Choose an active group"
    place = locate_group(session=session, cluster=cluster)
    if place is None:
        errors["cluster_id"] = "We do not know where this group is. Ask its broker to add its members"
    if errors:
        raise ValidationFailed(errors)
    asked = in_week_order(asked_slot_hours(slot_hours=slot_hours, hours=hours, slots=slots))
    line = DemandLine(
        council_id=cluster.council_id, cluster_id=cluster.id, service=service, slot_hours=asked, hours=total(asked), slots=list(asked),
        languages=sorted(set(languages)), language_required=language_required, carer_gender=carer_gender,
        lat=place[0], lon=place[1], max_rate_pence=max_rate_pence, shares={str(h): 1 for h in sorted(set(served))},
    )
    session.add(line)
    session.flush()
    return line
