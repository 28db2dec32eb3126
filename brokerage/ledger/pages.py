"""Read models of the ledger's pages: the council's journal with its seal status, one entry, and the seal history.

Accounts are shown by name (brokerage.ledger.names), never by code alone. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlmodel import Session

from brokerage import clock
from brokerage.errors import NotAllowed
from brokerage.ledger import integrity, names
from brokerage.ledger.models import EntryClose, EntrySequence, JournalEntry, LedgerAccount, LedgerSeal
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.queries import (
    JOURNAL_READERS, AccountPage, EntryPage, TypeTotal, get_entry, list_accounts, list_entries, trial_balance_by_type,
)
from brokerage.ledger.rules import AccountType
from brokerage.ledger.scope import check_scope

if TYPE_CHECKING:
    from brokerage.accounts.models import User


@dataclass
class JournalPage:
    """The journal page: a filtered page of entries, the seal status, the trial balance by type and the kinds to filter by.

    `names` gives every account code in the page's postings its name.
    """

    page: EntryPage
    status: dict
    types: list[TypeTotal]
    total: int
    kinds: list[str]
    names: dict[str, str] = field(default_factory=dict)
    searched_holders: list[int] = field(default_factory=list)  # holders an account filter found accounts of
    shown_holders: list[int] = field(default_factory=list)  # holders whose accounts the page's postings name


def holders_of(session: Session, account_ids: list[int] | None) -> list[int]:
    """Return the holders owning any of these accounts (a search's finds), for the access log; none for no search."""
    if not account_ids:
        return []
    return sorted(set(session.execute(
        select(LedgerAccount.holder_id).where(LedgerAccount.id.in_(account_ids), LedgerAccount.holder_id.is_not(None))
    ).scalars()))


def holders_named(session: Session, council_id: int, codes: list[str]) -> list[int]:
    """Return the holders owning any of these accounts (those a page shows), for the access log, in one query."""
    if not codes:
        return []
    return sorted(set(session.execute(
        select(LedgerAccount.holder_id).where(LedgerAccount.council_id == council_id, LedgerAccount.code.in_(sorted(set(codes))),
                                              LedgerAccount.holder_id.is_not(None))
    ).scalars()))


def journal_page(
    *, session: Session, actor: User, council_id: int, kind: str | None = None, account: str | None = None,
    start: date | None = None, end: date | None = None, page: int = 1, refused: bool = False,
) -> JournalPage:
    """Return the council's journal page; `start` and `end` are days in England, both included.

    `account` is part of an account's name (a person's, a group's or a provider's) or of its code.
    `refused` is for filters that could not be read: the page then lists no entries.
    """
    status = integrity.seal_status(session=session, actor=actor, council_id=council_id)
    searched_holders: list[int] = []
    if refused:
        entries = EntryPage(rows=[], total=0, page=1, per_page=50)
    else:
        check_scope(actor, council_id)
        account_ids = names.find_accounts(session=session, council_id=council_id, text=account) if account else None
        searched_holders = holders_of(session, account_ids)
        entries = list_entries(
            session=session, actor=actor, council_id=council_id, kind=kind, account_ids=account_ids,
            # People type days as they live them: a day in England, not a UTC day.
            start=clock.start_of_day(start) if start else None, end=clock.end_of_day(end) if end else None, page=page,
            known_total=status["entries"],
        )
    types, total = trial_balance_by_type(session=session, actor=actor, council_id=council_id)
    codes = [code for _, _, postings in entries.rows for code, _ in postings]
    account_names = names.name_accounts(session=session, council_id=council_id, codes=codes)
    # Every kind the product posts, so the filter costs no pass over the journal.
    kinds = [kind.value for kind in EntryKind]
    return JournalPage(page=entries, status=status, types=types, total=total, kinds=kinds, names=account_names,
                       searched_holders=searched_holders, shown_holders=holders_named(session, council_id, codes))


@dataclass
class AccountsPage:
    """A page of the council's accounts with names and balances, the trial balance by type, and the filter used."""

    page: AccountPage
    types: list[TypeTotal]
    total: int
    names: dict[str, str]
    account_type: AccountType | None
    searched_holders: list[int] = field(default_factory=list)  # holders an account filter found accounts of
    shown_holders: list[int] = field(default_factory=list)  # holders whose accounts the page lists


def accounts_page(
    *, session: Session, actor: User, council_id: int, account_type: AccountType | None = None, account: str | None = None,
    page: int = 1, refused: bool = False,
) -> AccountsPage:
    """Return a page of the council's accounts (one type, or all), biggest balance first, each named.

    `account` is part of an account's name or code; `refused` is for filters that could not be read.
    """
    types, total = trial_balance_by_type(session=session, actor=actor, council_id=council_id)
    searched_holders: list[int] = []
    if refused:
        rows = AccountPage(rows=[], total=0, page=1, per_page=50)
    else:
        account_ids = names.find_accounts(session=session, council_id=council_id, text=account) if account else None
        searched_holders = holders_of(session, account_ids)
        rows = list_accounts(session=session, actor=actor, council_id=council_id, account_type=account_type, account_ids=account_ids, page=page)
    codes = [row.code for row in rows.rows]
    account_names = names.name_accounts(session=session, council_id=council_id, codes=codes)
    return AccountsPage(page=rows, types=types, total=total, names=account_names, account_type=account_type,
                        searched_holders=searched_holders, shown_holders=holders_named(session, council_id, codes))


@dataclass
class EntryView:
    """One entry with its postings, sequence number, any reversal of it, and its accounts' names."""

    entry: JournalEntry
    seq: int | None
    postings: list[tuple[str, int]]
    reversal: JournalEntry | None
    names: dict[str, str]


def entry_page(*, session: Session, actor: User, entry_id: int) -> EntryView:
    """Return an entry's page for staff of its council."""
    entry, seq, postings, reversal = get_entry(session=session, actor=actor, entry_id=entry_id)
    account_names = names.name_accounts(session=session, council_id=entry.council_id, codes=[code for code, _ in postings])
    return EntryView(entry=entry, seq=seq, postings=postings, reversal=reversal, names=account_names)


def entry_proof(*, session: Session, actor: User, entry_id: int) -> dict:
    """Return the inclusion proof of a sealed entry, for staff who may read the entry."""
    get_entry(session=session, actor=actor, entry_id=entry_id)
    return integrity.prove(session=session, actor=actor, entry_id=entry_id)


@dataclass
class SealHistory:
    """A page of a council's seals, newest first, with what sealing still waits for."""

    seals: list[LedgerSeal]
    total: int
    page: int
    per_page: int
    status: dict
    oldest_unsealed_at: datetime | None

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def seal_history(*, session: Session, actor: User, council_id: int, page: int = 1, per_page: int = 50) -> SealHistory:
    """Return a page of the council's seals (newest first), the seal status and when the oldest unsealed entry was made."""
    if actor.role not in JOURNAL_READERS:
        raise NotAllowed("Only brokers and council officers can read the council's seals.")
    status = integrity.seal_status(session=session, actor=actor, council_id=council_id)
    total = session.execute(select(func.count()).select_from(LedgerSeal).where(LedgerSeal.council_id == council_id)).scalar_one()
    page = min(max(page, 1), max(1, -(-total // per_page)))
    seals = list(
        session.execute(
            select(LedgerSeal).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.last_seq.desc())
            .limit(per_page).offset((page - 1) * per_page)
        ).scalars()
    )
    oldest = None
    if status["unsealed"]:
        oldest = session.execute(
            select(func.min(JournalEntry.created_at))
            .join(EntryClose, EntryClose.entry_id == JournalEntry.id)
            .outerjoin(EntrySequence, EntrySequence.entry_id == JournalEntry.id)
            .where(JournalEntry.council_id == council_id, EntrySequence.entry_id.is_(None))
        ).scalar_one_or_none()
    return SealHistory(seals=seals, total=total, page=page, per_page=per_page, status=status, oldest_unsealed_at=oldest)


def seal_of(*, session: Session, council_id: int, seq: int) -> LedgerSeal | None:
    """Return the council's seal that covers a sequence number; the caller has checked who may see it."""
    return session.execute(
        select(LedgerSeal).where(LedgerSeal.council_id == council_id, LedgerSeal.first_seq <= seq, LedgerSeal.last_seq >= seq)
    ).scalar_one_or_none()
