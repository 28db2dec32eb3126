"""Reading the ledger: balances, statements, the trial balance, and pages of the journal. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Collection

from sqlalchemy import case, func, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from brokerage.errors import NotAllowed, NotFound
from brokerage.ledger.errors import UnknownAccount
from brokerage.ledger.models import BalanceSnapshot, EntrySequence, JournalEntry, LedgerAccount, LedgerSeal, Posting, UnsealedEntry
from brokerage.ledger.posting import entry_postings
from brokerage.ledger.rules import AccountType
from brokerage.ledger.scope import check_scope
from brokerage.tables import Paging
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
    page: int = 1
    per_page: int = 50
    total_lines: int = 0

    @property
    def pages(self) -> int:
        """Return the number of pages of the period's lines."""
        return max(1, -(-self.total_lines // self.per_page))


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
        return _balance_now(session, account.id)
    return balance_as_of(session=session, account_id=account.id, as_of=as_of)


def current_balance(account=LedgerAccount):
    """Return the SQL expression for an account's balance now, in pence: the one place every reader takes it from."""
    return account.balance_pence


def balance_as_of(*, session: Session, account_id: int, as_of: datetime) -> int:
    """Sum an account's postings made at or before `as_of`, in pence, starting from a balance snapshot where one fits.

    A snapshot at seal S holds the sum of the account's postings whose entries have seq <= S.last_seq
    (the set X_S). S fits when every entry it covers was made at or before `as_of`
    (S.through_created_at <= as_of). Every visible entry outside X_S is either sealed later (made at or
    after the earliest min_created_at of the later seals) or queued unsealed (made at or after the
    queue's earliest created_at); call the smaller of those two times L. Then

        balance(as_of) = snapshot(S) + sum of postings with L <= created_at <= as_of whose entry is not in X_S

    computed in one statement, so the seals, the queue and the postings are read at one moment. With no
    seal that fits, it is the plain sum, index-only on PostgreSQL.
    """
    nearest = (
        select(LedgerSeal.last_seq)
        .where(LedgerSeal.council_id == LedgerAccount.council_id, LedgerSeal.through_created_at <= as_of)
        .order_by(LedgerSeal.through_created_at.desc(), LedgerSeal.last_seq.desc()).limit(1)
        .scalar_subquery()
    )
    council_id, last_seq = session.execute(select(LedgerAccount.council_id, nearest).where(LedgerAccount.id == account_id)).one_or_none() or (None, None)
    if last_seq is None:
        total = session.execute(
            select(func.coalesce(func.sum(Posting.amount_pence), 0))
            .where(Posting.account_id == account_id, Posting.created_at <= as_of)
        ).scalar_one()
        return int(total)
    snapshot = (
        select(BalanceSnapshot.balance_pence)
        .where(BalanceSnapshot.account_id == account_id, BalanceSnapshot.last_seq <= last_seq)
        .order_by(BalanceSnapshot.last_seq.desc()).limit(1)
        .scalar_subquery()
    )
    later = select(func.min(LedgerSeal.min_created_at)).where(LedgerSeal.council_id == council_id, LedgerSeal.last_seq > last_seq).scalar_subquery()
    queued = select(func.min(UnsealedEntry.created_at)).where(UnsealedEntry.council_id == council_id).scalar_subquery()
    # The smaller of two times, either of which may be NULL (then the other; both NULL: nothing is outside the snapshot).
    if session.get_bind().dialect.name == "postgresql":
        floor = func.least(later, queued)  # LEAST skips NULLs
    else:
        floor = func.min(func.coalesce(later, queued), func.coalesce(queued, later))
    covered = select(EntrySequence.entry_id).where(EntrySequence.entry_id == Posting.entry_id, EntrySequence.seq <= last_seq).exists()
    since = (
        select(func.coalesce(func.sum(Posting.amount_pence), 0))
        .where(Posting.account_id == account_id, Posting.created_at <= as_of, Posting.created_at >= floor, ~covered)
        .scalar_subquery()
    )
    total = session.execute(select(func.coalesce(snapshot, 0) + since)).scalar_one()
    return int(total)


def statement(
    *, session: Session, actor: User, council_id: int, code: str, start: datetime | None = None, end: datetime | None = None,
    page: int | None = None, per_page: int = 50,
) -> Statement:
    """Return an account's postings between two moments, oldest first, with running balances in pence.

    With `page`, only that page of `per_page` lines is read (the last page when past the end or below 1); its
    opening balance is the period's opening plus the sum of the lines before it, both summed by the
    database. Pages are counted back from the newest line, so the last page, the one people open
    first, is full and the first page holds what is left over. Without `page`, every line of the period.
    """
    account = find_account(session=session, actor=actor, council_id=council_id, code=code)
    opening = balance_as_of(session=session, account_id=account.id, as_of=start) if start else 0
    where = [Posting.account_id == account.id]
    if start:
        where.append(Posting.created_at > start)
    if end:
        where.append(Posting.created_at <= end)
    order = (Posting.created_at, Posting.entry_id, Posting.leg)
    total_lines = None
    skip = 0
    if page is not None:
        total_lines = session.execute(select(func.count()).select_from(Posting).where(*where)).scalar_one()
        pages = max(1, -(-total_lines // per_page))
        page = pages if page < 1 else min(page, pages)
        last = total_lines - (pages - page) * per_page  # the page's lines end here, counted from the newest
        skip = max(0, last - per_page)
        if skip:
            before = select(Posting.amount_pence).where(*where).order_by(*order).limit(skip).subquery()
            opening += int(session.execute(select(func.coalesce(func.sum(before.c.amount_pence), 0))).scalar_one())
    query = (
        select(Posting.entry_id, Posting.created_at, JournalEntry.kind, JournalEntry.memo, Posting.amount_pence)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(*where)
        .order_by(*order)
    )
    if page is not None:
        query = query.limit(last - skip).offset(skip)
    running = opening
    lines = []
    for entry_id, at, kind, memo, amount in session.execute(query):
        running += amount
        lines.append(StatementLine(entry_id=entry_id, at=at, kind=kind, memo=memo, amount=amount, balance=running))
    closing = running
    if page is not None and skip + len(lines) < total_lines:
        closing = (balance_as_of(session=session, account_id=account.id, as_of=end) if end else _balance_now(session, account.id))
    return Statement(account=account, opening=opening, closing=closing, lines=lines, page=page or 1, per_page=per_page,
                     total_lines=len(lines) if total_lines is None else total_lines)


def _balance_now(session: Session, account_id: int) -> int:
    return int(session.execute(select(current_balance()).where(LedgerAccount.id == account_id)).scalar_one())


def trial_balance(*, session: Session, actor: User, council_id: int) -> tuple[list[LedgerAccount], int]:
    """Return every account of the council with its balance in pence, and their total (always zero), in one query."""
    check_scope(actor, council_id)
    accounts = []
    for account, balance_pence in session.execute(
        select(LedgerAccount, current_balance().label("balance_now")).where(LedgerAccount.council_id == council_id).order_by(LedgerAccount.code)
    ):
        # The balance read now, set as loaded (not as a change to write back): rows already in the session may be stale.
        set_committed_value(account, "balance_pence", int(balance_pence))
        accounts.append(account)
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
        select(LedgerAccount.account_type, func.count(), func.coalesce(func.sum(current_balance()), 0))
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
class AccountPage(Paging):
    """One page of a council's accounts: in the order money flows, then biggest balance first."""

    rows: list[AccountRow]
    total: int
    page: int
    per_page: int


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
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.account_type, current_balance().label("balance_pence"))
        .where(*where)
        .order_by(flow, current_balance().desc(), LedgerAccount.id)
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
class EntryPage(Paging):
    """One page of a council's journal, newest first."""

    rows: list[tuple[JournalEntry, int | None, list[tuple[str, int]]]]
    total: int
    page: int
    per_page: int


def list_entries(
    *,
    session: Session,
    actor: User,
    council_id: int,
    kind: str | None = None,
    account_ids: Collection[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
    known_total: int | None = None,
) -> EntryPage:
    """Return a filtered page of the council's entries with their postings and sequence numbers.

    `account_ids` keeps entries with a posting to one of these accounts (none at all when it is empty;
    `names.find_accounts` finds them from what a person typed). `known_total` is the number of the
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
    if account_ids is not None:
        query = query.where(
            JournalEntry.id.in_(select(Posting.entry_id).where(Posting.council_id == council_id, Posting.account_id.in_(sorted(account_ids))))
        )
    unfiltered = not (kind or start or end) and account_ids is None
    if unfiltered and known_total is not None:
        total = known_total
    elif account_ids is not None and not (kind or start or end):
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
