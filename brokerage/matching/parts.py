"""A broker's changes to a proposed part of a matching run: its hours, or its hours in each time of day.

A part may hold what its demand line still wants and its provider still has free: care already contracted
or out to a vote (`snapshot.committed_care`) and the run's other proposed parts come off both, in the
times of day they take. The run's row and then the council's providers' hours are locked (brokerage/locks.py), so two
brokers, or a change racing "send" or a contract change, take turns. Services flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.clusters.models import Cluster
from brokerage.errors import BrokerageError, NotAllowed, ValidationFailed
from brokerage.formatting import plural, service_name
from brokerage.locks import fresh_row, lock_provider_hours, lock_row
from brokerage.matching.explain import reshared, retimed, share_note, took_out_note
from brokerage.matching.models import DemandLine, MatchAssignment, MatchGap, MatchRun
from brokerage.matching.rules import AssignmentStatus, DemandLineStatus, hours_taken_out
from brokerage.matching.snapshot import committed_care, line_slot_hours, still_free, still_wanted
from brokerage.providers.models import Provider
from brokerage.providers.services import provider_slot_hours
from brokerage.slot_hours import at_most, fit, in_week_order, slot_hours_problems, total, without
from brokerage.vocabulary import slot_label


def require_broker(actor: User) -> None:
    """Refuse anyone but a broker (or the council's system user, for queued runs)."""
    # A scheduled or queued run acts as the council's system user (brokerage.accounts.system).
    if actor.role not in (Role.broker, Role.system):
        raise NotAllowed("Only brokers can run and change matching.")


def latest_run_id(session: Session, council_id: int) -> int | None:
    """Return the id of the council's newest matching run."""
    return session.exec(select(MatchRun.id).where(MatchRun.council_id == council_id).order_by(MatchRun.id.desc())).first()


@dataclass(frozen=True)
class PartRoom:
    """What a proposed part may hold: the hours a week its line still wants and its provider still has free.

    Care already contracted or out to a vote (`snapshot.committed_care`) and the run's other proposed parts
    of the same line, or with the same provider, come off both, in the times of day they take. `asked` and
    `free` are {slot: hours}; `line_left` and `week_left` are the weekly totals left (`week_left` None: the
    provider has no weekly cap beyond its times). A run stored before times were matched has no times
    (`timed` False): then only the weekly totals count. `held_because` is why "send" would hold the part back
    ({reason: where}, as `not_fitting` says it), judged with the room itself; empty when it would be sent.
    `locked`: judged under the locks a change takes (`part_room(to_change=True)`), so a change in the same
    transaction may rely on it.
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
    held_because: dict[str, str] = field(default_factory=dict)
    locked: bool = False

    @property
    def most(self) -> dict[str, int]:
        """Return the most hours the part may have in each time of day: what its line still wants then and its provider has free then."""
        return in_week_order({slot: min(hours, self.free.get(slot, 0)) for slot, hours in self.asked.items()})


def part_room(*, session: Session, actor: User, assignment_id: int, to_change: bool = False) -> PartRoom:
    """Return what a proposed part of the actor's council may hold, and why "send" would hold it back (the times page).

    `to_change`: take the locks a change takes first, so the room is the one a change in this transaction is
    checked against (pass it on: `change_times(room=...)`) and the run is judged once.
    """
    if to_change:
        return _editable(session, actor, assignment_id)
    require_broker(actor)
    assignment = get_or_404(session, actor, MatchAssignment, assignment_id, what="assignment")
    _refuse_unchangeable(session, assignment)
    return _judged_room(session, assignment)


def _judged_room(session: Session, assignment: MatchAssignment, *, locked: bool = False) -> PartRoom:
    """Return what a part may hold now and why "send" would hold it back, from one judgement of its run (`_judged`).

    The run's other parts that "send" would send take their hours: not those it would hold back.
    """
    by_line, by_provider, held, fitting = _judged(session, session.get(MatchRun, assignment.run_id))
    return _room(session, assignment, (by_line, by_provider, fitting), held_because=held.get(assignment.id, {}), locked=locked)


def _room(session: Session, assignment: MatchAssignment, known: tuple, *, held_because: dict[str, str] | None = None,
          locked: bool = False) -> PartRoom:
    """Return what a part may hold beside `known`: (committed care by line, by provider, the run's parts that take their hours)."""
    line = session.get(DemandLine, assignment.demand_line_id)
    provider = session.get(Provider, assignment.provider_id)
    by_line, by_provider, proposed = known
    asked = still_wanted(line_slot_hours(line), by_line.get(line.id))
    line_left = min(line.hours, total(asked)) if line.slot_hours or line.slots else line.hours - getattr(by_line.get(line.id), "hours", 0)
    free, week = still_free(provider_slot_hours(provider), provider.capacity_hours, by_provider.get(provider.id))
    if week is None and assignment.slot_hours is None:  # a run without times: the provider's week is what it offers
        week = total(free)
    for other in proposed:
        if other.id == assignment.id:
            continue
        if other.demand_line_id == line.id:
            asked = without(asked, other.slot_hours or {})
            line_left -= other.hours
        if other.provider_id == provider.id:
            free = without(free, other.slot_hours or {})
            week = None if week is None else week - other.hours
    if week is not None and assignment.slot_hours is not None:  # a weekly cap above the hours it works at its times says too much
        week = min(week, total(free))
    cluster = session.get(Cluster, assignment.cluster_id)
    return PartRoom(assignment=assignment, line=line, provider=provider, cluster_name=cluster.name if cluster else "",
                    asked=asked, free=free, line_left=max(line_left, 0), week_left=None if week is None else max(week, 0),
                    timed=assignment.slot_hours is not None, held_because=held_because or {}, locked=locked)


# Why a proposed part is not sent (`not_fitting`): its request changed since the run; or, as `misfits` finds, its line
# wants fewer of its hours now, or its provider has fewer free.
CHANGED, NOT_NEEDED, NOT_FREE = "changed", "not_needed", "not_free"


def still_as_matched(line: DemandLine, run: MatchRun) -> bool:
    """Tell whether a demand line is still open and unchanged since the run that matched it."""
    return line.status == DemandLineStatus.open and (line.changed_at is None or line.changed_at <= run.created_at)


def not_fitting(session: Session, run: MatchRun) -> dict[int, dict[str, str]]:
    """Return {part id: {why: where}} for a run's proposed parts that are not to be sent, and why.

    CHANGED: the group's request was changed, withdrawn or contracted since the run, which matched what it no
    longer asks for (where: "changed", "withdrawn" or "contracted"). Otherwise (see `misfits`): care agreed for
    the request may now give some of the part's hours (NOT_NEEDED), or its provider may have taken hours off its
    offer, or a contract change taken them (NOT_FREE). Such a part is not sent to its group
    (`services.send_to_clusters`), and the review page says why and where.
    """
    return _judged(session, run)[2]


def _judged(session: Session, run: MatchRun) -> tuple[dict, dict, dict[int, dict[str, str]], list[MatchAssignment]]:
    """Return (committed care by line, by provider, the parts held back with why, the parts that would be sent) of a run.

    In id order, each part is judged beside the ones found to fit before it: where two parts of a provider no
    longer both fit its hours, the first is still sent and the second held back, not both.
    """
    by_line, by_provider = committed_care(session, run.council_id)
    proposed = session.exec(select(MatchAssignment).where(
        MatchAssignment.run_id == run.id, MatchAssignment.status == AssignmentStatus.proposed).order_by(MatchAssignment.id)).all()
    fitting: list[MatchAssignment] = []
    held = {}
    for part in proposed:
        line = session.get(DemandLine, part.demand_line_id)
        if not still_as_matched(line, run):
            # A part of 0 hours too: it is never sent, but no change to it can help, and the page says why.
            held[part.id] = {CHANGED: line.status.value if line.status != DemandLineStatus.open else "changed"}
        elif part.hours <= 0:
            continue
        elif why := misfits(_room(session, part, (by_line, by_provider, fitting))):
            held[part.id] = why
        else:
            fitting.append(part)
    return by_line, by_provider, held, fitting


def misfits(room: PartRoom) -> dict[str, str]:
    """Return why a part's hours no longer fit its room, NOT_NEEDED then NOT_FREE, each with where in words; empty when they fit.

    Where: "Tuesday afternoon: 1 hour free, this part has 2", each time that is short in week order, or
    the week ("12 hours a week free in all, this part has 14") when no time is.
    """
    hours = room.assignment.hours
    short_times = _short_times(room, room.assignment.slot_hours if room.timed else {})
    why = {}
    for reason, week, said in ((NOT_NEEDED, room.line_left, "still needed"), (NOT_FREE, room.week_left, "free")):
        short = [f"{slot_label(slot)}: {plural(over[reason], 'hour') if over[reason] else 'none'} {said}, this part has {value}"
                 for slot, (value, over) in short_times.items() if reason in over]
        if not short and week is not None and hours > week:
            short = [f"{plural(week, 'hour')} a week {said} in all, this part has {hours}"]
        if short:
            why[reason] = "; ".join(short)
    return why


def _short_times(room: PartRoom, slot_hours: dict[str, int]) -> dict[str, tuple[int, dict[str, int]]]:
    """Return {slot: (hours, {reason: hours the room has then})}, in week order, for each time where `slot_hours` has more
    than its line still wants then (NOT_NEEDED) or its provider has free then (NOT_FREE), naming each limit it is over."""
    short = {}
    for slot, hours in in_week_order(slot_hours).items():
        over = {reason: room_at.get(slot, 0) for reason, room_at in ((NOT_NEEDED, room.asked), (NOT_FREE, room.free)) if hours > room_at.get(slot, 0)}
        if over:
            short[slot] = (hours, over)
    return short


def _editable(session: Session, actor: User, assignment_id: int) -> PartRoom:
    """Return the room of a proposed part of the latest run, judged once with its run locked (two brokers, or a change
    racing "send", take turns); refuse any other part."""
    require_broker(actor)
    assignment = get_or_404(session, actor, MatchAssignment, assignment_id, what="assignment")
    # The run owns its assignments' totals (a line's hours, a provider's capacity) and their sending.
    lock_row(session, MatchRun, assignment.run_id)
    # The providers' hours, against a contract change passing or the run being sent at the same time (locks.py).
    lock_provider_hours(session, assignment.council_id)
    assignment = fresh_row(session, MatchAssignment, assignment.id)
    _refuse_unchangeable(session, assignment)
    return _judged_room(session, assignment, locked=True)


# What a broker is told when changing a part whose request is no longer as the run matched it: no change to the part
# could get it sent (`still_as_matched`), so none is offered or made.
_REQUEST_MOVED_ON = {
    DemandLineStatus.withdrawn: "The group withdrew this request after the run, so this part will not be sent. Nothing was changed.",
    DemandLineStatus.contracted: "Care for this request was agreed after the run, so this part will not be sent. Nothing was changed.",
}
_REQUEST_CHANGED = "The request was changed after the run, so this part will not be sent. Run matching again for it as it is now."


def _refuse_unchangeable(session: Session, assignment: MatchAssignment) -> None:
    """Refuse (409) a part already sent to its group, of a run a newer one has replaced, or whose request changed since the run."""
    if assignment.status != AssignmentStatus.proposed:
        raise BrokerageError("This part has already been sent to the group and cannot be changed.", field="hours", status=409)
    if assignment.run_id != latest_run_id(session, assignment.council_id):
        raise BrokerageError("This run has been replaced by a newer one; change the newest run instead.", field="hours", status=409)
    line = session.get(DemandLine, assignment.demand_line_id)
    if not still_as_matched(line, session.get(MatchRun, assignment.run_id)):
        raise BrokerageError(_REQUEST_MOVED_ON.get(line.status, _REQUEST_CHANGED), field="hours", status=409)


def adjust(*, session: Session, actor: User, assignment_id: int, hours: int) -> MatchAssignment:
    """Change the hours of a proposed assignment by hand (0 removes it), within what its line still wants and its provider has free.

    Fewer hours come first off times where the part has more than it may have now, then off its latest times; more go to the earliest times both still have free
    (`change_times` sets the times themselves). Raises ValidationFailed (field "hours").
    """
    room = _editable(session, actor, assignment_id)
    assignment = room.assignment
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValidationFailed({"hours": "Enter a whole number of hours, 0 or more"})
    _check_weekly(room, hours, by_times=True)
    after = None
    if room.timed and hours < assignment.hours:
        after = _lowered(assignment.slot_hours, hours, room.most)
    elif room.timed:
        after = fit(assignment.slot_hours, hours, without(room.most, assignment.slot_hours))
        if after is None:  # _check_weekly has refused more than fits at its times
            raise ValidationFailed({"hours": f"Only {plural(total(room.most), 'hour')} a week fit at times the group asked for and {room.provider.name} can work"})
    return _change(session, actor, room, hours, after)


def _lowered(slot_hours: dict[str, int], hours: int, most: dict[str, int]) -> dict[str, int]:
    """Return a part's times lowered to `hours` in all: first the hours beyond what each time may have now (the latest
    such time first), so a part that no longer fits comes to fit; then from the latest times."""
    kept, cut = in_week_order(slot_hours), total(slot_hours) - hours
    for slot in reversed(list(kept)):
        take = min(max(kept[slot] - most.get(slot, 0), 0), cut)
        kept[slot] -= take
        cut -= take
    return at_most(in_week_order(kept), hours)


def change_times(*, session: Session, actor: User, assignment_id: int, slot_hours: dict[str, int],
                 room: PartRoom | None = None) -> MatchAssignment:
    """Set the hours a proposed part gives in each time of day ({slot: hours}), within what its line still wants and its provider has free then.

    `room`: the part's room from `part_room(to_change=True)` earlier in this transaction, so the run is not judged
    again; without it, the locks are taken and the run judged here. Raises ValidationFailed (field "slot_hours",
    each message naming its time) and BrokerageError (409) for a part already sent or of a replaced run.
    """
    if room is None:
        room = _editable(session, actor, assignment_id)
    elif not room.locked or room.assignment.id != assignment_id:
        # A room judged before the locks may be out of date by now: the change must be checked against one judged under them.
        raise ValueError("change_times takes only this part's room from part_room(to_change=True)")
    else:
        require_broker(actor)
        same_council(actor, room.assignment.council_id, what="assignment")
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
    hours = slot_hours_problems(slot_hours, most=None)  # whole numbers, 0 or more: each time's own limit is said below
    if hours:
        return {"": hours}
    most = room.most
    problems = {}
    # Over what the line still wants or the provider has free then (`_short_times`, as `misfits` judges a part): over `most`.
    for slot in _short_times(room, slot_hours):
        if room.asked.get(slot, 0) <= 0:
            problems[slot] = f"{slot_label(slot)}: the group did not ask for care then, or it is already covered"
        elif room.free.get(slot, 0) <= 0:
            problems[slot] = f"{slot_label(slot)}: {room.provider.name} has no hours free then"
        else:
            problems[slot] = f"{slot_label(slot)}: enter no more than {most.get(slot, 0)}, what the group still needs then and {room.provider.name} can work"
    return problems


def _check_weekly(room: PartRoom, hours: int, field: str = "hours", *, by_times: bool = False) -> None:
    """Refuse more hours a week than the part may have: what its line still wants, its provider has left in its week and,
    `by_times`, what fits at its times (more hours go to times with room), saying the smallest of these and why."""
    if hours <= room.assignment.hours:
        return
    elsewhere = room.line.hours - room.line_left
    already = f", and {plural(elsewhere, 'hour')} of it {'is' if elsewhere == 1 else 'are'} already with providers" if elsewhere else ""
    limits = [(room.line_left, f"the group asked for {plural(room.line.hours, 'hour')} a week of {service_name(room.line.service)}{already}")]
    if room.week_left is not None:
        limits.append((room.week_left, f"that is what {room.provider.name} has left in its week beside care already agreed and this run's other parts"))
    if by_times and room.timed:
        limits.append((total(room.most), f"that is all that fits at times the group asked for and {room.provider.name} can work"))
    most, why = min(limits, key=lambda limit: limit[0])  # the first of equal limits: the group's, then the provider's
    if hours > most:
        raise ValidationFailed({field: f"This part can have at most {plural(most, 'hour')} a week: {why}. You asked for {plural(hours, 'hour')}"})


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
        # Hours moved to a time the gap did not have leave a negative there; the times still add up to the gap's hours.
        gap.slot_hours = at_most(in_week_order({slot: hours for slot, hours in left.items() if hours > 0}), gap.hours)
    # The note says how many of the gap's hours the broker took out, and goes once they are all back.
    gap.reason = took_out_note(gap.reason, taken_out_of(gap, parts)[0])
    if gap.hours <= 0:
        if gap.id is not None:
            session.delete(gap)
        return
    session.add(gap)


def taken_out_of(gap: MatchGap, parts: list[MatchAssignment]) -> tuple[int, dict[str, int] | None]:
    """Return how many of a line's gap hours a broker took out of its proposed parts, and their times where they are known."""
    return hours_taken_out(gap.hours, gap.slot_hours, [(a.solver_hours, a.hours, a.solver_slot_hours, a.slot_hours) for a in parts])


def _refigure_line(session: Session, line: DemandLine, parts: list[MatchAssignment]) -> None:
    """Say in each part's explanation how the line is now shared and how much is not covered (after a broker's change).

    Care agreed or out to a vote (this run's parts sent, other runs' and contracts) and this run's proposed parts
    cover the line; the note names their providers.
    """
    _, committed = committed_care(session, line.council_id, demand_line_id=line.id)
    proposed = sorted((a for a in parts if a.status == AssignmentStatus.proposed), key=lambda a: a.id)
    uncovered = line.hours - sum(taken.hours for taken in committed.values()) - sum(a.hours for a in proposed)
    # A part refused by its group's vote gives nothing; a part already sent keeps the words its group is voting on.
    giving = {a.provider_id: a.id for a in sorted(parts, key=lambda a: a.id) if a.hours > 0 and a.status == AssignmentStatus.proposed}
    providers = [*giving, *(provider_id for provider_id in committed if provider_id not in giving)]
    names = {provider_id: session.get(Provider, provider_id).name for provider_id in providers}
    # A part taken down to no hours says so too ("0 of 5 hours here, the rest with …"), not what it gave before.
    for part in proposed:
        others = [names[provider_id] for provider_id in providers if provider_id != part.provider_id]
        note = share_note(part.hours, line.hours, others, uncovered) if others or uncovered > 0 or part.hours == 0 else ""
        part.explanation = reshared(part.explanation, note)
        session.add(part)
