"""Read models of the ledger's pages: the council's journal with its seal status, and an entry's proof. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from brokerage import clock
from brokerage.ledger import integrity
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.queries import EntryPage, entry_kinds, get_entry, list_entries, trial_balance

if TYPE_CHECKING:
    from brokerage.accounts.models import User


@dataclass
class JournalPage:
    """The journal page: a filtered page of entries, the seal status, the trial balance and the kinds to filter by."""

    page: EntryPage
    status: dict
    accounts: list[LedgerAccount]
    total: int
    kinds: list[str]


def journal_page(
    *, session: Session, actor: User, council_id: int, kind: str | None = None, account: str | None = None,
    start: date | None = None, end: date | None = None, page: int = 1, refused: bool = False,
) -> JournalPage:
    """Return the council's journal page; `start` and `end` are days in England, both included.

    `refused` is for filters that could not be read: the page then lists no entries.
    """
    entries = EntryPage(rows=[], total=0, page=1, per_page=50) if refused else list_entries(
        session=session, actor=actor, council_id=council_id, kind=kind, account=account,
        # People type days as they live them: a day in England, not a UTC day.
        start=clock.start_of_day(start) if start else None, end=clock.end_of_day(end) if end else None, page=page,
    )
    status = integrity.seal_status(session=session, actor=actor, council_id=council_id)
    accounts, total = trial_balance(session=session, actor=actor, council_id=council_id)
    kinds = entry_kinds(session=session, actor=actor, council_id=council_id)
    return JournalPage(page=entries, status=status, accounts=accounts, total=total, kinds=kinds)


def entry_proof(*, session: Session, actor: User, entry_id: int) -> dict:
    """Return the inclusion proof of a sealed entry, for staff who may read the entry."""
    get_entry(session=session, actor=actor, entry_id=entry_id)
    return integrity.prove(session=session, actor=actor, entry_id=entry_id)
