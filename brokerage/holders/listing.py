"""The staff list of a council's budget holders: found by part of a name or postcode district, 50 a page.

Each holder on the page shown has the read of their weekly allocation logged (`audit.rules.ALLOCATION_LIST`), so
a council of thousands of holders logs one page's worth a view, not every holder it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from brokerage.accounts.models import Role, User
from brokerage.audit.rules import ALLOCATION_LIST
from brokerage.audit.services import log_accesses
from brokerage.errors import NotFound
from brokerage.holders.models import Holder
from brokerage.tables import Paging

PER_PAGE = 50


@dataclass
class HoldersPage(Paging):
    """One page of a council's budget holders in order of name, and how many the search found in all."""

    holders: list[Holder]
    total: int
    page: int
    per_page: int = PER_PAGE
    errors: dict[str, list[str]] = field(default_factory=dict)


def find_holders(*, session: Session, actor: User, text: str | None = None, page: int = 1,
                 errors: dict[str, list[str]] | None = None) -> HoldersPage:
    """Return one page of the actor's council's holders whose name or postcode district holds `text` (staff only).

    A search that could not be read lists nobody and logs nothing; a page past the end shows the last page.
    Raises NotFound for anyone but a broker or a council officer.
    """
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound()
    result = HoldersPage(holders=[], total=0, page=1, errors=dict(errors or {}))
    if result.errors:
        return result
    rows = session.exec(select(Holder.id, Holder.name, Holder.postcode_district).where(Holder.council_id == actor.council_id)).all()
    if text and text.strip():
        # Matched here rather than in SQL, so case is ignored alike in every script on both databases
        # (SQLite's LIKE folds only ASCII) and a % or _ typed in the box means itself.
        wanted = text.strip().casefold()
        rows = [row for row in rows if wanted in row[1].casefold() or wanted in (row[2] or "").casefold()]
    rows.sort(key=lambda row: (row[1].casefold(), row[0]))
    result.total = len(rows)
    result.page = min(max(page, 1), result.pages)
    ids = [row[0] for row in rows[(result.page - 1) * PER_PAGE: result.page * PER_PAGE]]
    found = {holder.id: holder for holder in session.exec(select(Holder).where(Holder.id.in_(ids or [-1])))}
    result.holders = [found[i] for i in ids]
    log_accesses(session=session, actor=actor, council_id=actor.council_id, holder_ids=ids, what=ALLOCATION_LIST)
    return result
