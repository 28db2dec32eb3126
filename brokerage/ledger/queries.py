"""Reading the ledger: balances, statements, the trial balance, and pages of the journal. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Collection

from sqlalchemy import case, func, select
from sqlmodel import Session

from brokerage.errors import NotAllowed, NotFound
from brokerage.ledger.errors import UnknownAccount
from brokerage.ledger.models import EntrySequence, JournalEntry, LedgerAccount, Posting
from brokerage.ledger.posting import entry_postings
from brokerage.ledger.rules import AccountType
from brokerage.ledger.scope import check_scope
from brokerage.types import Role

if TYPE_CHECKING:
    from brokerage.accounts.models import User

# Who may read a council's whole journal.
JOURNAL_READERS = (Role.broker, Role.council_officer)


@dataclass
class StatementLine:
    """One posting on a statement, with the balance after it."""

    entry_id: int
    at: datetime
    kind: str
    memo: str
    amount: int
    balance: int


@dataclass
class Statement:
    """An account's postings over a period, with opening and closing balances."""

    account: LedgerAccount
    opening: int
    closing: int
    lines: list[StatementLine] = field(default_factory=list)


def find_account(*, session: Session, actor: User, council_id: int, code: str) -> LedgerAccount:
    """Return an existing account of the council by code."""
    check_scope(actor, council_id)
    account = session.execute(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
    ).scalars().first()
    if account is None:
        raise UnknownAccount(f"There is no account {code} in this council.", field="account")
    return account


def balance(*, session: Session, actor: User, council_id: int, code: str, as_of: datetime | None = None) -> int:
    """Return an account's balance now (cached) or at a past moment (summed from postings)."""
    check_scope(actor, council_id)
    account = session.execute(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
    ).scalars().first()
    if account is None:
        return 0
    if as_of is None:
        session.refresh(account, ["balance_pence"])
        return account.balance_pence
    return balance_as_of(session=session, account_id=account.id, as_of=as_of)


def balance_as_of(*, session: Session, account_id: int, as_of: datetime) -> int:
    """Sum an account's postings made at or before `as_of`."""
    total = session.execute(
        select(func.coalesce(func.sum(Posting.amount_pence), 0))
        .where(Posting.account_id == account_id, Posting.created_at <= as_of)
    ).scalar_one()
    return int(total)


def statement(
    *, session: Session, actor: User, council_id: int, code: str, start: datetime | None = None, end: datetime | None = None
) -> Statement:
    """Return an account's postings between two moments, with running balances."""
    account = find_account(session=session, actor=actor, council_id=council_id, code=code)
    opening = balance_as_of(session=session, account_id=account.id, as_of=start) if start else 0
    query = (
        select(JournalEntry.id, JournalEntry.created_at, JournalEntry.kind, JournalEntry.memo, Posting.amount_pence)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == account.id)
        .order_by(JournalEntry.created_at, JournalEntry.id, Posting.leg)
    )
    if start:
        query = query.where(JournalEntry.created_at > start)
    if end:
        query = query.where(JournalEntry.created_at <= end)
    running = opening
    lines = []
    for entry_id, at, kind, memo, amount in session.execute(query):
        running += amount
        lines.append(StatementLine(entry_id=entry_id, at=at, kind=kind, memo=memo, amount=amount, balance=running))
    return Statement(account=account, opening=opening, closing=running, lines=lines)


def trial_balance(*, session: Session, actor: User, council_id: int) -> tuple[list[LedgerAccount], int]:
    """Return every account of the council with its balance, and their total (always zero)."""
    check_scope(actor, council_id)
    # populate_existing: the cached balances are kept by a trigger, so rows already in the session may be stale.
    accounts = list(
        session.execute(
            select(LedgerAccount).where(LedgerAccount.council_id == council_id).order_by(LedgerAccount.code).execution_options(populate_existing=True)
        ).scalars()
    )
    return accounts, sum(a.balance_pence for a in accounts)


@dataclass(frozen=True)
class TypeTotal:
    """One line of the trial balance by type: how many accounts of a type there are, and their balances' sum in pence."""

    account_type: AccountType
    accounts: int
    balance_pence: int


def trial_balance_by_type(*, session: Session, actor: User, council_id: int) -> tuple[list[TypeTotal], int]:
    """Return the council's trial balance in one query: a line per account type, in the order money flows, and the total (always zero)."""
    check_scope(actor, council_id)
    rows = session.execute(
        select(LedgerAccount.account_type, func.count(), func.coalesce(func.sum(LedgerAccount.balance_pence), 0))
        .where(LedgerAccount.council_id == council_id)
        .group_by(LedgerAccount.account_type)
    ).all()
    flow = list(AccountType)
    lines = sorted((TypeTotal(AccountType(kind), count, int(total)) for kind, count, total in rows), key=lambda line: flow.index(line.account_type))
    return lines, sum(line.balance_pence for line in lines)


@dataclass
class AccountRow:
    """One account on a page of accounts: its id, code, type and balance in pence."""

    id: int
    code: str
    account_type: AccountType
    balance_pence: int


@dataclass
class AccountPage:
    """One page of a council's accounts: in the order money flows, then biggest balance first."""

    rows: list[AccountRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def list_accounts(
    *, session: Session, actor: User, council_id: int, account_type: AccountType | None = None,
    account_ids: Collection[int] | None = None, page: int = 1, per_page: int = 50,
) -> AccountPage:
    """Return a page of the council's accounts with their balances, of one type or all, or only `account_ids`.

    Raises NotAllowed for anyone but the council's brokers and officers.
    """
    if actor.role not in JOURNAL_READERS:
        raise NotAllowed("Only brokers and council officers can read the council's accounts.")
    check_scope(actor, council_id)
    where = [LedgerAccount.council_id == council_id]
    if account_type is not None:
        where.append(LedgerAccount.account_type == account_type)
    if account_ids is not None:
        where.append(LedgerAccount.id.in_(sorted(account_ids)))
    total = session.execute(select(func.count()).select_from(LedgerAccount).where(*where)).scalar_one()
    page = min(max(page, 1), max(1, -(-total // per_page)))
    flow = case({kind: index for index, kind in enumerate(AccountType)}, value=LedgerAccount.account_type)
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.account_type, LedgerAccount.balance_pence)
        .where(*where)
        .order_by(flow, LedgerAccount.balance_pence.desc(), LedgerAccount.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return AccountPage(
        rows=[AccountRow(id=r.id, code=r.code, account_type=AccountType(r.account_type), balance_pence=r.balance_pence) for r in rows],
        total=total, page=page, per_page=per_page,
    )


def accounts_of_holder(*, session: Session, actor: User, council_id: int, holder_id: int) -> list[LedgerAccount]:
    """Return the council's accounts a holder owns (wallet, then pool shares); the caller checks who may see them."""
    check_scope(actor, council_id)
    return list(
        session.execute(
            select(LedgerAccount)
            .where(LedgerAccount.council_id == council_id, LedgerAccount.holder_id == holder_id)
            .order_by(LedgerAccount.account_type.desc(), LedgerAccount.code)
        ).scalars()
    )


def council_ids_with_entries(*, session: Session) -> list[int]:
    """Return the ids of the councils whose ledger has any entries, in id order (callers name them)."""
    return list(session.execute(select(JournalEntry.council_id).distinct().order_by(JournalEntry.council_id)).scalars())


def council_of_entry(*, session: Session, entry_id: int) -> int | None:
    """Return the council an entry belongs to, or None when there is no such entry."""
    return session.execute(select(JournalEntry.council_id).where(JournalEntry.id == entry_id)).scalar_one_or_none()


@dataclass
class EntryPage:
    """One page of a council's journal, newest first."""

    rows: list[tuple[JournalEntry, int | None, list[tuple[str, int]]]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def list_entries(
    *,
    session: Session,
    actor: User,
    council_id: int,
    kind: str | None = None,
    account: str | None = None,
    account_ids: Collection[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
    known_total: int | None = None,
) -> EntryPage:
    """Return a filtered page of the council's entries with their postings and sequence numbers.

    `account` keeps entries with a posting to an account whose code contains it; `account_ids`, entries with a
    posting to one of these accounts (none at all when it is empty). `known_total` is the number of the
    council's entries when the caller has just counted them (the seal status does); it is used only when
    nothing filters the page, and saves counting them again.
    """
    if actor.role not in JOURNAL_READERS:
        raise NotAllowed("Only brokers and council officers can read the council's journal.")
    check_scope(actor, council_id)
    query = select(JournalEntry.id).where(JournalEntry.council_id == council_id)
    if kind:
        query = query.where(JournalEntry.kind == kind)
    if start:
        query = query.where(JournalEntry.created_at >= start)
    if end:
        query = query.where(JournalEntry.created_at < end)
    if account:
        query = query.where(
            JournalEntry.id.in_(
                select(Posting.entry_id)
                .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
                .where(LedgerAccount.council_id == council_id, LedgerAccount.code.contains(account))
            )
        )
    if account_ids is not None:
        query = query.where(
            JournalEntry.id.in_(select(Posting.entry_id).where(Posting.council_id == council_id, Posting.account_id.in_(sorted(account_ids))))
        )
    unfiltered = not (kind or start or end or account) and account_ids is None
    if unfiltered and known_total is not None:
        total = known_total
    elif account_ids is not None and not (kind or start or end or account):
        # Only accounts filter: count their entries from the postings' (account, entry) index alone, never
        # reading the entries; the accounts are first narrowed to the council's own.
        own = select(LedgerAccount.id).where(LedgerAccount.council_id == council_id, LedgerAccount.id.in_(sorted(account_ids)))
        total = session.execute(select(func.count(func.distinct(Posting.entry_id))).where(Posting.account_id.in_(own))).scalar_one()
    else:
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    # A page past the end (an old link, a typed number) shows the last page, never "page 99 of 6" over nothing.
    page = min(page, max(1, -(-total // per_page)))
    ids = list(session.execute(query.order_by(JournalEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)).scalars())
    entries = {e.id: e for e in session.execute(select(JournalEntry).where(JournalEntry.id.in_(ids))).scalars()}
    seqs = dict(session.execute(select(EntrySequence.entry_id, EntrySequence.seq).where(EntrySequence.entry_id.in_(ids))).all())
    postings: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    for entry_id, code, amount in session.execute(
        select(Posting.entry_id, LedgerAccount.code, Posting.amount_pence)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.entry_id.in_(ids))
        .order_by(Posting.entry_id, Posting.leg)
    ):
        postings[entry_id].append((code, amount))
    rows = [(entries[i], seqs.get(i), postings[i]) for i in ids]
    return EntryPage(rows=rows, total=total, page=page, per_page=per_page)


def entry_kinds(*, session: Session, actor: User, council_id: int) -> list[str]:
    """Return the kinds of entry the council's journal holds, for filters."""
    check_scope(actor, council_id)
    return list(session.execute(select(JournalEntry.kind).where(JournalEntry.council_id == council_id).distinct().order_by(JournalEntry.kind)).scalars())


def get_entry(*, session: Session, actor: User, entry_id: int) -> tuple[JournalEntry, int | None, list[tuple[str, int]], JournalEntry | None]:
    """Return an entry for staff of its council, with its sequence number, postings and any reversal of it."""
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound()
    check_scope(actor, entry.council_id)
    if actor.role not in JOURNAL_READERS:
        raise NotFound()
    seq = session.execute(select(EntrySequence.seq).where(EntrySequence.entry_id == entry_id)).scalar_one_or_none()
    reversal = session.execute(select(JournalEntry).where(JournalEntry.reverses_id == entry_id)).scalar_one_or_none()
    return entry, seq, entry_postings(session=session, entry_id=entry_id), reversal
