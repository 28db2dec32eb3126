"""Recording and reading the access log: staff reads of holders' records, for officers and for the holder read about."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import func, or_
from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.audit import rules
from brokerage.audit.models import AccessLog
from brokerage.errors import NotAllowed
from brokerage.holders.models import Holder
from brokerage.tables import Paging

PER_PAGE = 50


def log_access(*, session: Session, actor: User, holder_id: int, what: str) -> None:
    """Record that a member of staff read part of a holder's record."""
    holder = session.get(Holder, holder_id)
    same_council(actor, holder.council_id if holder else None, what="person")
    session.add(AccessLog(council_id=holder.council_id, actor_id=actor.id, holder_id=holder_id, what=what))
    session.flush()


def log_accesses(*, session: Session, actor: User, council_id: int, holder_ids: Iterable[int], what: str) -> None:
    """Record one staff read of each of these holders' records (a page that shows several people), in one flush."""
    ids = sorted(set(holder_ids))
    if not ids:
        return
    same_council(actor, council_id, what="person")
    found = set(session.exec(select(Holder.id).where(Holder.council_id == council_id, Holder.id.in_(ids))))
    session.add_all([AccessLog(council_id=council_id, actor_id=actor.id, holder_id=i, what=what) for i in ids if i in found])
    session.flush()


@dataclass
class Read:
    """One staff read of a holder's record, as a page or a download shows it."""

    at: datetime
    who: str  # "Priya Shah, broker at Riverside Borough Council"
    staff_name: str
    role: str
    holder_id: int
    holder_name: str
    what: str
    what_label: str


@dataclass
class LogPage(Paging):
    """A page of reads, newest first, with the choices the filters offer."""

    reads: list[Read]
    total: int
    page: int
    per_page: int = PER_PAGE
    staff_choices: list[tuple[int, str]] = field(default_factory=list)
    what_choices: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


def _officer_only(actor: User) -> None:
    if actor.role != Role.council_officer:
        raise NotAllowed("Only council officers can read the access log.")


def _reads(session: Session, rows) -> list[Read]:
    """Turn (log line, staff name, role, staff's council, holder name) rows into reads, naming councils in one query."""
    rows = list(rows)
    council_ids = sorted({row[3] for row in rows if row[3] is not None})
    councils = dict(session.exec(select(Council.id, Council.name).where(Council.id.in_(council_ids))).all()) if council_ids else {}
    return [
        Read(
            at=line.at, who=rules.describe_reader(name=name, role_label=role.label, council_name=councils.get(council_id)),
            staff_name=name, role=role.label, holder_id=line.holder_id, holder_name=holder_name, what=line.what, what_label=rules.what_label(line.what),
        )
        for line, name, role, council_id, holder_name in rows
    ]


def _query(council_id: int):
    return (
        select(AccessLog, User.name, User.role, User.council_id, Holder.name)
        .join(User, User.id == AccessLog.actor_id)
        .join(Holder, Holder.id == AccessLog.holder_id)
        .where(AccessLog.council_id == council_id)
    )


def staff_choices(*, session: Session, actor: User) -> list[tuple[int, str]]:
    """Return (id, "name (role)") of everyone an officer can filter the log by: the council's staff and anyone in its log."""
    _officer_only(actor)
    in_log = select(AccessLog.actor_id).where(AccessLog.council_id == actor.council_id).distinct()
    people = session.exec(
        select(User.id, User.name, User.role)
        .where(or_(User.id.in_(in_log), (User.council_id == actor.council_id) & User.role.in_(STAFF)))
        .order_by(User.name, User.id)
    ).all()
    return [(user_id, f"{name} ({role.label})") for user_id, name, role in people]


def _staff_problem(staff: int | None, choices: list[tuple[int, str]]) -> dict[str, list[str]]:
    # Another council's staff are not among the choices: refused exactly like an id that does not exist.
    if staff is not None and staff not in {user_id for user_id, _ in choices}:
        return {"staff": ["Choose a member of staff from the list"]}
    return {}


def _filtered(session: Session, actor: User, *, staff: int | None, person: str | None, what: str | None, start: date | None, end: date | None):
    query = _query(actor.council_id)
    if staff is not None:
        query = query.where(AccessLog.actor_id == staff)
    if what:
        query = query.where(AccessLog.what == what)
    if start:
        query = query.where(AccessLog.at >= clock.start_of_day(start))
    if end:
        query = query.where(AccessLog.at < clock.end_of_day(end))
    if person:
        # Matched here rather than in SQL, so that case is ignored the same way for every name on every database.
        wanted = person.casefold()
        holders = session.exec(select(Holder.id, Holder.name).where(Holder.council_id == actor.council_id)).all()
        query = query.where(AccessLog.holder_id.in_(sorted(i for i, name in holders if wanted in name.casefold())))
    return query


def access_log_page(
    *, session: Session, actor: User, staff: int | None = None, person: str | None = None, what: str | None = None,
    start: date | None = None, end: date | None = None, page: int = 1, errors: dict[str, list[str]] | None = None,
) -> LogPage:
    """Return a page of the officer's council's log, newest first; filters that could not be read (`errors`) list nothing.

    `start` and `end` are days in England, both included. A staff id that is not among the choices is refused beside its field.
    """
    _officer_only(actor)
    errors = dict(errors or {})
    choices = staff_choices(session=session, actor=actor)
    errors.update(_staff_problem(staff, choices))
    result = LogPage(reads=[], total=0, page=1, staff_choices=choices, what_choices=list(rules.WHAT_LABELS.items()), errors=errors)
    if errors:
        return result
    query = _filtered(session, actor, staff=staff, person=person, what=what, start=start, end=end)
    result.total = session.exec(select(func.count()).select_from(query.subquery())).one()
    # A page past the end (an old link, a typed number) shows the last page.
    result.page = min(page, result.pages)
    rows = session.exec(query.order_by(AccessLog.at.desc(), AccessLog.id.desc()).limit(PER_PAGE).offset((result.page - 1) * PER_PAGE)).all()
    result.reads = _reads(session, rows)
    return result


def access_log_download(
    *, session: Session, actor: User, staff: int | None = None, person: str | None = None, what: str | None = None,
    start: date | None = None, end: date | None = None,
) -> tuple[list[Read], dict[str, list[str]]]:
    """Return every read the filters keep, newest first, for the officer's CSV download; or no reads and what is wrong."""
    _officer_only(actor)
    errors = _staff_problem(staff, staff_choices(session=session, actor=actor))
    if errors:
        return [], errors
    query = _filtered(session, actor, staff=staff, person=person, what=what, start=start, end=end)
    return _reads(session, session.exec(query.order_by(AccessLog.at.desc(), AccessLog.id.desc())).all()), {}


def reads_of_holder(*, session: Session, holder: Holder, page: int = 1) -> LogPage:
    """Return a page of the staff reads of one holder's record, newest first; the caller has checked who may see them."""
    query = _query(holder.council_id).where(AccessLog.holder_id == holder.id)
    result = LogPage(reads=[], total=0, page=1)
    result.total = session.exec(select(func.count()).select_from(query.subquery())).one()
    result.page = min(page, result.pages)
    rows = session.exec(query.order_by(AccessLog.at.desc(), AccessLog.id.desc()).limit(PER_PAGE).offset((result.page - 1) * PER_PAGE)).all()
    result.reads = _reads(session, rows)
    return result


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
