"""Export the ledger to Beancount and CSV, so people outside the application can check it.

The Beancount file is meant for `bean-check` (design invariant 8): it carries our own balances as
assertions with zero tolerance, so any difference between Beancount's sums and ours fails it.
Both exports read entries in id order a chunk at a time, so a large ledger is never in memory.

On PostgreSQL, run an export in a REPEATABLE READ transaction: the chunks are separate queries,
and under READ COMMITTED an entry committed midway could appear in the balances but not the
transactions.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Iterator, TextIO

from sqlalchemy import func, select
from sqlmodel import Session

from brokerage.ledger import rules
from brokerage.ledger.models import EntrySequence, JournalEntry, LedgerAccount, Posting
from brokerage.ledger.rules import AccountType

CHUNK_SIZE = 5_000
CURRENCY = "GBP"
CSV_COLUMNS = (
    "entry_id", "seq", "council_id", "created_at", "kind", "memo", "idempotency_key", "reverses_id",
    "account_code", "amount_pence", "amount_gbp", "content_hash",
)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    entries: int
    postings: int
    accounts: int

    def __str__(self) -> str:
        return f"{self.entries} entries, {self.postings} postings, {self.accounts} accounts"


def gbp(pence: int) -> str:
    """Format integer pence as a plain pounds amount with two decimals, e.g. -1234 -> '-12.34'."""
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError("money must be integer pence")
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{part:02d}"


@lru_cache(maxsize=65_536)
def beancount_account(council_id: int, code: str) -> str:
    """Return the Beancount account name for one of a council's account codes (remembered: a big export names each thousands of times)."""
    kind = rules.type_of_code(code)
    parts = code.split(":")
    root = f"C{council_id}"
    if kind == AccountType.funding:
        return f"Equity:{root}:Funding"
    if kind == AccountType.wallet:
        return f"Assets:{root}:Wallet:H{parts[1]}"
    if kind == AccountType.pool:
        return f"Assets:{root}:Pool:K{parts[1]}:H{parts[2]}"
    if kind == AccountType.payable:
        return f"Assets:{root}:Payable:P{parts[1]}"
    if kind == AccountType.paid:
        return f"Expenses:{root}:Paid:P{parts[1]}"
    if kind == AccountType.clearing:
        return f"Assets:{root}:Clearing:Stripe"
    return f"Income:{root}:Topups"


def opening_account(council_id: int) -> str:
    """Return the Beancount account that balances the opening balances of a dated export."""
    return f"Equity:C{council_id}:Opening"


# Beancount's lexer knows no escape for control characters other than \n, \r and \t, so they cannot survive as they are.
_UNSPEAKABLE = {code: "\ufffd" for code in (*range(0x20), 0x7F)}


@lru_cache(maxsize=8_192)
def beancount_string(text: str) -> str:
    """Quote text as a Beancount string literal (remembered: memos repeat, one a week for every holder)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped.translate(_UNSPEAKABLE)}"'


@dataclass(frozen=True)
class _Window:
    """The filters of one export, as conditions on entries; its days are days in `zone`."""

    council_id: int | None
    start: date | None
    end: date | None
    zone: tzinfo = timezone.utc

    @property
    def start_at(self) -> datetime | None:
        return _midnight(self.start, self.zone) if self.start is not None else None

    @property
    def end_before(self) -> datetime | None:
        # The end day is inclusive, so entries must be before the midnight that ends it.
        if self.end is None or self.end == date.max:
            return None
        return _midnight(self.end + timedelta(days=1), self.zone)

    def day(self, moment: datetime) -> date:
        """Return the day a stored moment falls on, in this export's zone."""
        return moment.astimezone(self.zone).date()

    def conditions(self, *, before_start: bool = False) -> list:
        """Return the WHERE conditions on JournalEntry: the window, or everything before it."""
        found = []
        if self.council_id is not None:
            found.append(JournalEntry.council_id == self.council_id)
        if before_start:
            found.append(JournalEntry.created_at < self.start_at)
            return found
        if self.start_at is not None:
            found.append(JournalEntry.created_at >= self.start_at)
        if self.end_before is not None:
            found.append(JournalEntry.created_at < self.end_before)
        return found


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def _window(council_id: int | None, start: date | None, end: date | None, zone: tzinfo | None) -> _Window:
    if start is not None and end is not None and start > end:
        raise ValueError("the start date must not be after the end date")
    return _Window(council_id, start, end, zone or timezone.utc)


def _codes(session: Session, window: _Window) -> dict[int, str]:
    """Return the code of every account the window's entries can touch, by account id (read once, not joined per posting)."""
    query = select(LedgerAccount.id, LedgerAccount.code)
    if window.council_id is not None:
        query = query.where(LedgerAccount.council_id == window.council_id)
    return dict(session.connection().execute(query).all())


def _chunks(session: Session, window: _Window, chunk_size: int) -> Iterator[list[tuple]]:
    """Yield the window's entries in id order, a chunk at a time, each with its postings in leg order."""
    # Core rows from the session's own connection (the same transaction and snapshot): no ORM work per row.
    connection = session.connection()
    codes = _codes(session, window)
    after = 0
    while True:
        entries = connection.execute(
            select(
                JournalEntry.id, JournalEntry.council_id, JournalEntry.created_at, JournalEntry.kind, JournalEntry.memo,
                JournalEntry.idempotency_key, JournalEntry.reverses_id, JournalEntry.content_hash, EntrySequence.seq,
            )
            .outerjoin(EntrySequence, EntrySequence.entry_id == JournalEntry.id)
            .where(JournalEntry.id > after, *window.conditions())
            .order_by(JournalEntry.id)
            .limit(chunk_size)
        ).all()
        if not entries:
            return
        first, last = entries[0].id, entries[-1].id
        postings: dict[int, list[tuple]] = {row.id: [] for row in entries}
        # A range plus the window's conditions, rather than IN (5,000 ids), keeps the query small.
        for entry_id, account_id, amount in connection.execute(
            select(Posting.entry_id, Posting.account_id, Posting.amount_pence)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.entry_id >= first, Posting.entry_id <= last, *window.conditions())
            .order_by(Posting.entry_id, Posting.leg)
        ).all():
            postings[entry_id].append((account_id, codes[account_id], amount))
        yield [(row, postings[row.id]) for row in entries]
        after = last


def _sums(session: Session, conditions: list) -> dict[tuple[int, str], int]:
    """Sum postings per account over the entries these conditions select: {(council id, code): pence}."""
    rows = session.connection().execute(
        select(LedgerAccount.council_id, LedgerAccount.code, func.sum(Posting.amount_pence))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(*conditions)
        .group_by(LedgerAccount.council_id, LedgerAccount.code)
    ).all()
    return {(council_id, code): int(total) for council_id, code, total in rows}


def _balances(session: Session, window: _Window) -> tuple[list[tuple[int, str, int]], list[tuple[int, str, int]]]:
    """Return the closing balance of every account up to the window's end, and the non-zero opening balances at its start.

    Both are summed by the database. With a start, closing = opening + the window's own sums: one pass over
    the postings before the start, not two.
    """
    if window.start is None:
        closing = _sums(session, _Window(window.council_id, None, window.end, window.zone).conditions())
        return [(c, code, total) for (c, code), total in closing.items()], []
    before = _sums(session, window.conditions(before_start=True))
    during = _sums(session, window.conditions())
    closing = {key: before.get(key, 0) + during.get(key, 0) for key in before.keys() | during.keys()}
    return [(c, code, total) for (c, code), total in closing.items()], [(c, code, total) for (c, code), total in before.items() if total]


class _BeancountWriter:
    """Writes one window as Beancount: the accounts and opening balances at once, each chunk's transactions, then the assertions."""

    def __init__(self, session: Session, window: _Window, out: TextIO) -> None:
        self.out = out
        self.window = window
        self.entries = self.postings = 0
        self.money = lru_cache(maxsize=65_536)(gbp)  # amounts repeat: the same pledge and payment every week
        first_at, last_at = session.execute(
            select(func.min(JournalEntry.created_at), func.max(JournalEntry.created_at)).where(*window.conditions())
        ).one()
        # The balances we assert are summed by the database, separately from the rows streamed below,
        # so an entry lost or changed on the way into the file makes bean-check fail.
        closing, opening = _balances(session, window)
        out.write(_header(window))
        self.empty = first_at is None and not opening
        if self.empty:
            self.balances: dict[str, int] = {}
            return
        open_day = window.start if window.start is not None else window.day(first_at)
        self.last_day = window.day(last_at) if last_at is not None else open_day
        self.balances = {beancount_account(c, code): total for c, code, total in closing}
        for council in sorted({c for c, _, _ in opening}):
            # Every opening transaction is balanced here, so this account must end at zero.
            self.balances[opening_account(council)] = 0
        for name in sorted(self.balances):
            out.write(f"{open_day.isoformat()} open {name} {CURRENCY}\n")
        out.write("\n")
        for council, code, total in sorted(opening):
            name = beancount_account(council, code)
            out.write(f"{open_day.isoformat()} * {beancount_string(f'Opening balance of {code}')}\n")
            out.write(f"  {name}  {gbp(total)} {CURRENCY}\n")
            out.write(f"  {opening_account(council)}  {gbp(-total)} {CURRENCY}\n\n")

    def chunk(self, chunk: list[tuple]) -> None:
        """Write a chunk of entries as transactions."""
        lines = []
        for row, legs in chunk:
            lines.append(f"{self.window.day(row.created_at).isoformat()} * {beancount_string(row.memo)}\n")
            lines.append(f'  entry: "{row.id}"\n')
            lines.append(f"  kind: {beancount_string(row.kind)}\n")
            if row.seq is not None:
                lines.append(f'  seq: "{row.seq}"\n')
            if row.reverses_id is not None:
                lines.append(f'  reverses: "{row.reverses_id}"\n')
            lines.append(f'  hash: "{row.content_hash}"\n')
            for _, code, amount in legs:
                lines.append(f"  {beancount_account(row.council_id, code)}  {self.money(amount)} {CURRENCY}\n")
            lines.append("\n")
            self.entries += 1
            self.postings += len(legs)
        self.out.write("".join(lines))

    def finish(self) -> ExportSummary:
        """Write the balance assertions and return what was written."""
        if self.empty:
            return ExportSummary(entries=0, postings=0, accounts=0)
        # An assertion holds at the start of its day, so the day after the last one covers every entry.
        assert_day = (self.last_day + timedelta(days=1)).isoformat()
        for name in sorted(self.balances):
            # "~ 0.00" overrides the tolerance Beancount would infer (half a penny), leaving no slack at all.
            self.out.write(f"{assert_day} balance {name}  {gbp(self.balances[name])} ~ 0.00 {CURRENCY}\n")
        return ExportSummary(entries=self.entries, postings=self.postings, accounts=len(self.balances))


def _header(window: _Window) -> str:
    scope = "every council" if window.council_id is None else f"council {window.council_id}"
    days = f"{window.start or 'the beginning'} to {window.end or 'the end'}"
    return f'; Carepool ledger export: {scope}, {days} ({_zone_name(window.zone)} days).\noption "operating_currency" "{CURRENCY}"\n\n'


def _zone_name(zone: tzinfo) -> str:
    return "UTC" if zone is timezone.utc else str(getattr(zone, "key", zone))


class _CsvWriter:
    """Writes one CSV row per posting."""

    def __init__(self, out: TextIO) -> None:
        self.writer = csv.writer(out)
        self.writer.writerow(CSV_COLUMNS)
        self.entries = self.postings = 0
        self.accounts: set[int] = set()
        self.money = lru_cache(maxsize=65_536)(gbp)  # amounts repeat: the same pledge and payment every week

    def chunk(self, chunk: list[tuple]) -> None:
        """Write a chunk of entries, a row per posting."""
        rows = []
        for row, legs in chunk:
            self.entries += 1
            created = row.created_at.astimezone(timezone.utc).isoformat(timespec="microseconds")
            for account_id, code, amount in legs:
                self.accounts.add(account_id)
                self.postings += 1
                rows.append((
                    row.id, "" if row.seq is None else row.seq, row.council_id, created, row.kind, row.memo,
                    row.idempotency_key, "" if row.reverses_id is None else row.reverses_id, code, amount, self.money(amount),
                    row.content_hash,
                ))
        self.writer.writerows(rows)

    def finish(self) -> ExportSummary:
        """Return what was written."""
        return ExportSummary(entries=self.entries, postings=self.postings, accounts=len(self.accounts))


def _stream(session: Session, window: _Window, chunk_size: int, writers: list) -> list[ExportSummary]:
    """Read the window's entries once, giving each chunk to every writer, and return each writer's summary."""
    if not all(getattr(writer, "empty", False) for writer in writers):
        for chunk in _chunks(session, window, chunk_size):
            for writer in writers:
                writer.chunk(chunk)
    return [writer.finish() for writer in writers]


def export_beancount(
    *,
    session: Session,
    council_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    out: TextIO,
    chunk_size: int = CHUNK_SIZE,
    zone: tzinfo | None = None,
) -> ExportSummary:
    """Write the ledger as a Beancount file whose balance assertions hold our balances to the penny.

    `start` and `end` are days in `zone` (default UTC), and so are the dates of the transactions.
    """
    window = _window(council_id, start, end, zone)
    return _stream(session, window, chunk_size, [_BeancountWriter(session, window, out)])[0]


def export_csv(
    *,
    session: Session,
    council_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    out: TextIO,
    chunk_size: int = CHUNK_SIZE,
    zone: tzinfo | None = None,
) -> ExportSummary:
    """Write one CSV row per posting, in entry id and leg order; open `out` with newline=''.

    `start` and `end` are days in `zone` (default UTC); `created_at` is always written in UTC.
    """
    window = _window(council_id, start, end, zone)
    return _stream(session, window, chunk_size, [_CsvWriter(out)])[0]


def export_both(
    *,
    session: Session,
    council_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    csv_out: TextIO,
    beancount_out: TextIO,
    chunk_size: int = CHUNK_SIZE,
    zone: tzinfo | None = None,
) -> tuple[ExportSummary, ExportSummary]:
    """Write the CSV and the Beancount file of one window in a single pass over its entries; return (csv, beancount) summaries.

    The same files as `export_csv` and `export_beancount`, read once (the auditor pack wants both).
    """
    window = _window(council_id, start, end, zone)
    csv_summary, beancount_summary = _stream(session, window, chunk_size, [_CsvWriter(csv_out), _BeancountWriter(session, window, beancount_out)])
    return csv_summary, beancount_summary


__all__ = ["ExportSummary", "export_beancount", "export_both", "export_csv", "beancount_account", "gbp"]
