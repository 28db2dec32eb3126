"""The broker's matching workflow: build an instance from the database, solve, review, send, contract (changing a part: `parts.py`).

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
from brokerage.formatting import plural, pounds, service_name, slot_hours_words, words_list
from brokerage.geo import haversine_km
from brokerage.holders.models import Power
from brokerage.holders.services import refuse_lost_power
from brokerage.locks import lock_provider_hours, lock_row, lock_rows
from brokerage.matching.explain import retimed, without_took_out
from brokerage.matching.instance import parse_instance
from brokerage.matching.models import DemandLine, MatchAssignment, MatchGap, MatchRun
from brokerage.matching.parts import latest_run_id, not_fitting, require_broker, taken_out_of
from brokerage.matching.rules import (
    MATCH_TIME_LIMIT_MAX, AssignmentStatus, DemandLineStatus, asked_slot_hours, demand_problems, move_assignment,
)
from brokerage.matching.snapshot import (  # noqa: F401 (build_instance and vetted_provider_ids are re-exported)
    build_instance, vetted_provider_ids,
)
from brokerage.providers.models import Provider
from brokerage.providers.services import provider_slot_hours
from brokerage.slot_hours import in_week_order, total, without


def run_matching(*, session: Session, actor: User, council_id: int) -> MatchRun:
    """Solve the council's matching and store the proposal for the broker to review."""
    # numpy, SciPy and OR-Tools load when a run is solved, not whenever the web app starts.
    from brokerage.matching.improve import solve_within

    require_broker(actor)
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
    require_broker(actor)
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
    latest = run.id == latest_run_id(session, run.council_id)
    # Proposed parts that no longer fit what their line wants or their provider has free, and why: they are not sent (send_to_clusters).
    misfits = not_fitting(session, run) if latest else {}
    return {"run": run, "by_cluster": dict(by_cluster), "gaps": gaps, "lines": lines, "providers": providers, "clusters": clusters,
            "latest": latest, "covered": covered, "closing_votes": closing, "no_longer_fits": misfits}


@dataclass(frozen=True)
class SentRun:
    """What sending a run did: a proposal per group, and the parts held back with why ({part id: {reason: words}}, `parts.not_fitting`)."""

    proposals: list[Proposal]
    held: dict[int, dict[str, str]]


def send_to_clusters(*, session: Session, actor: User, run_id: int, days: int = 14) -> SentRun:
    """Put each cluster's part of a run to its members as an 'accept a match' proposal; say which parts were held back and why.

    The parts are judged under the locks (the run, its groups, the providers' hours), so what is held back is
    what was judged, whatever changed a moment before.
    """
    require_broker(actor)
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
    # The groups first, as a broker's edit of its requests locks its group (brokerage.matching.demand): a request
    # withdrawn or changed since the run is not sent, as the run matched what it no longer asks for. Then the
    # providers' hours, last (locks.py): a part whose provider no longer has those hours free (it took them off its
    # offer, or a contract change took them) is not sent, and a change passing at the same time waits for this one.
    lock_rows(session, Cluster, by_cluster)
    lock_provider_hours(session, run.council_id)
    unfit = not_fitting(session, run)
    proposals = []
    for cluster_id, parts in sorted(by_cluster.items()):
        parts = [a for a in parts if a.id not in unfit]
        if not parts:
            continue
        names = sorted({session.get(Provider, a.provider_id).name for a in parts})
        lines = []
        for a in parts:
            provider = session.get(Provider, a.provider_id)
            line = session.get(DemandLine, a.demand_line_id)
            times = f" ({slot_hours_words(a.slot_hours)})" if a.slot_hours else ""
            # The hours in each time of day are said once: the explanation's own times sentence is left out.
            why = retimed(a.explanation, a.slot_hours or {}, {})
            lines.append(f"{plural(a.hours, 'hour')} a week of {service_name(line.service)} from {provider.name} at {pounds(a.rate_pence)} an hour{times}. {why}")
        proposal = governance.open_proposal(
            session=session, actor=actor, cluster_id=cluster_id, kind=ProposalKind.accept_match,
            # The hours tell two votes on care from the same provider apart (from two runs, say).
            title=f"Accept {plural(sum(a.hours for a in parts), 'hour')} a week of care from {words_list(names)}", description="\n".join(lines),
            payload={"run_id": run.id, "assignment_ids": [a.id for a in parts]}, days=days,
        )
        for a in parts:
            a.status = move_assignment(a.status, AssignmentStatus.sent)
            a.proposal_id = proposal.id
            session.add(a)
        proposals.append(proposal)
    session.flush()
    # A part of 0 hours is never sent, so it is not said to be held back.
    sendable = {a.id for a in pending}
    return SentRun(proposals=proposals, held={part_id: why for part_id, why in unfit.items() if part_id in sendable})


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
        taken_out, taken_out_times = taken_out_of(gap, parts[line.id])
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
        refuse_lost_power(session=session, actor=actor, holder_ids=members, power=Power.care, undone="nothing was asked for")
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
