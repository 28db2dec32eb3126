"""Officers' requests for a quarter's auditor pack: asking, listing, downloading, and the job's steps.

Only council officers ask for and download packs. A pack holds every budget holder's money statement
for the quarter; auditing is the officer's job (DESIGN.md section 2), while brokers, who may work for
a user-led organisation rather than the council, see each statement on its own page, where every
read is logged. Another council's pack answers exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.audit.rules import AUDIT_PACK, AUDIT_PACK_VISITS
from brokerage.audit.services import log_accesses
from brokerage.auditpack import rules
from brokerage.auditpack.models import AuditPackRequest
from brokerage.auditpack.pack import file_digest
from brokerage.auditpack.sections import holders_in_statements, holders_in_timesheets
from brokerage.auditpack.rules import OPEN, PackStatus, Quarter, move_pack
from brokerage.errors import Conflict, NotAllowed, ValidationFailed
from brokerage.locks import insert_once, lock_row

QUARTERS_OFFERED = 12
STOPPED = "It stopped before it was finished. Ask for it again."


class AlreadyMaking(Conflict):
    """A pack of this quarter is already being made for the council."""

    title = "This pack is already being made"


def _check_officer(actor: User) -> None:
    if actor.role != Role.council_officer or actor.council_id is None:
        raise NotAllowed("Only council officers can ask for and download auditor packs.")


def request_pack(*, session: Session, actor: User, quarter: Quarter, now: datetime | None = None) -> AuditPackRequest:
    """Record an officer's request for a quarter's pack (queued); refuse while the same quarter's pack is being made."""
    _check_officer(actor)
    now = now or clock.now()
    if quarter > rules.quarter_of(clock.london(now).date()):
        raise ValidationFailed({"quarter": ["Choose a quarter that has begun"]})
    already = AlreadyMaking(f"A pack of {quarter.label} is already being made. It appears below when it is ready.", field="quarter")
    for record in session.exec(select(AuditPackRequest).where(
            AuditPackRequest.council_id == actor.council_id, AuditPackRequest.quarter == str(quarter), AuditPackRequest.status.in_(OPEN))):
        if rules.shown_status(record.status, record.requested_at, now) in OPEN:
            raise already
        # A pack whose job died long ago no longer holds the quarter.
        record.status = move_pack(record.status, PackStatus.failed)
        record.finished_at, record.error = now, STOPPED
        session.add(record)
    session.flush()
    record = AuditPackRequest(council_id=actor.council_id, quarter=str(quarter), requested_by_id=actor.id, requested_at=now)
    with insert_once(session, already):
        session.add(record)
    return record


@dataclass
class PackRow:
    """One request on the packs page."""

    request: AuditPackRequest
    status: PackStatus
    requested_by: str
    quarter: Quarter

    @property
    def size(self) -> str:
        """Return the pack's size for people, or a dash while there is no file."""
        return rules.file_size(self.request.size_bytes) if self.request.size_bytes is not None else "–"


@dataclass
class PacksPage:
    """The packs page: the council's requests, newest first, and the quarters an officer may ask for."""

    rows: list[PackRow]
    quarters: list[Quarter]


def packs_page(*, session: Session, actor: User, now: datetime | None = None, limit: int = 50) -> PacksPage:
    """Return the council's newest pack requests with who asked, and the quarters to choose from."""
    _check_officer(actor)
    now = now or clock.now()
    found = session.exec(
        select(AuditPackRequest, User.name)
        .join(User, User.id == AuditPackRequest.requested_by_id)
        .where(AuditPackRequest.council_id == actor.council_id)
        .order_by(AuditPackRequest.requested_at.desc(), AuditPackRequest.id.desc())
        .limit(limit)
    ).all()
    rows = [PackRow(request=r, status=rules.shown_status(r.status, r.requested_at, now), requested_by=name, quarter=rules.parse_quarter(r.quarter))
            for r, name in found]
    return PacksPage(rows=rows, quarters=quarters_to_choose(now))


def quarters_to_choose(now: datetime | None = None) -> list[Quarter]:
    """Return the quarters an officer may ask a pack of: this one and the eleven before it, newest first."""
    return rules.recent_quarters(clock.london(now or clock.now()).date(), count=QUARTERS_OFFERED)


def stored_name(record: AuditPackRequest) -> str:
    """Return the name a request's pack is stored under, inside its council's folder."""
    return f"pack-{record.id}-{record.quarter}.zip"


def pack_for_download(*, session: Session, actor: User, request_id: int, folder: Path) -> tuple[Path, str]:
    """Return the file of a ready pack and the name to download it as; refuse one not ready, gone, or changed since it was made.

    The download is logged as a read of each holder whose statement is in the pack, and of each named in its timesheets (brokerage.audit).
    """
    record = get_or_404(session, actor, AuditPackRequest, request_id, what="audit pack")
    _check_officer(actor)
    if record.status != PackStatus.ready:
        raise Conflict("This pack is not ready. Its status is shown on the list of packs.")
    path = folder / str(record.council_id) / record.file_name
    if not path.is_file():
        raise Conflict("The file of this pack is no longer kept. Ask for the pack again.")
    size, digest = file_digest(path)
    if (size, digest) != (record.size_bytes, record.sha256):
        raise Conflict("The file of this pack has changed since it was made, so it is not given out. Ask for the pack again.")
    council = session.get(Council, record.council_id)
    quarter = rules.parse_quarter(record.quarter)
    # Whoever downloads the pack reads the money statement of every holder in it: each is told (their record views).
    log_accesses(session=session, actor=actor, council_id=record.council_id, what=AUDIT_PACK,
                 holder_ids=holders_in_statements(session=session, council_id=record.council_id, quarter=quarter))
    # And the care visits of every member named in its timesheets.
    log_accesses(session=session, actor=actor, council_id=record.council_id, what=AUDIT_PACK_VISITS,
                 holder_ids=holders_in_timesheets(session=session, council_id=record.council_id, quarter=quarter))
    return path, rules.pack_file_name(council_slug=council.slug, quarter=quarter)


# --- the job's steps, each in its own short transaction (brokerage.auditpack.jobs) ---------------------


def start_building(*, session: Session, actor: User, request_id: int, now: datetime | None = None) -> AuditPackRequest | None:
    """Mark a queued request as being built and return it; None when another job took it or it is gone."""
    record = lock_row(session, AuditPackRequest, request_id)
    if record is None:
        return None
    same_council(actor, record.council_id, what="audit pack")
    if record.status != PackStatus.queued:
        return None
    record.status = move_pack(record.status, PackStatus.building)
    record.started_at = now or clock.now()
    session.add(record)
    session.flush()
    return record


def finish_building(*, session: Session, actor: User, request_id: int, file_name: str, size: int, sha256: str,
                    now: datetime | None = None) -> AuditPackRequest:
    """Record that a request's pack is ready: its file, size and SHA-256."""
    record = lock_row(session, AuditPackRequest, request_id)
    same_council(actor, record.council_id if record else None, what="audit pack")
    record.status = move_pack(record.status, PackStatus.ready)
    record.finished_at = now or clock.now()
    record.file_name, record.size_bytes, record.sha256, record.error = file_name, size, sha256, ""
    session.add(record)
    session.flush()
    return record


def fail_building(*, session: Session, actor: User, request_id: int, error: str, now: datetime | None = None) -> None:
    """Record that a request's pack could not be made, and why in one line."""
    record = lock_row(session, AuditPackRequest, request_id)
    if record is None:
        return
    same_council(actor, record.council_id, what="audit pack")
    if record.status not in OPEN:
        return
    record.status = move_pack(record.status, PackStatus.failed)
    record.finished_at, record.error = now or clock.now(), " ".join(error.split())[:500]
    session.add(record)
    session.flush()
