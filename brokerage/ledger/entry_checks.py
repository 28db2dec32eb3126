"""`ledger verify`'s pass over every entry: balance, hash, closing, sequence and pool summary, on one or two cores.

The pass streams a council's entries with their postings and checks each one (`check_entries`). On
PostgreSQL a big ledger is split in two by entry id (`check_entries_split`): a second process checks
the upper half in the very snapshot this process reads (`pg_export_snapshot`), so the two halves
see one ledger at one moment, and their findings are merged into what one pass would have found.
Should the second process fail to start or to finish, this process checks its half too.
"""

from __future__ import annotations

import multiprocessing
import os
from bisect import bisect_right
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from typing import Callable, Iterator

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session as OrmSession

from brokerage.db import make_engine
from brokerage.ledger import merkle, rules, summary
from brokerage.ledger.models import EntryClose, EntrySequence, JournalEntry, LedgerAccount, LedgerSeal, UnsealedEntry

# Rows fetched per round trip by verify's streaming queries.
VERIFY_BATCH = 5000


@dataclass
class Problem:
    """One thing verification found wrong."""

    council_id: int
    what: str
    entry_id: int | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = f"council {self.council_id}"
        if self.entry_id is not None:
            where += f", entry {self.entry_id}"
        if self.seq is not None:
            where += f" (sequence number {self.seq})"
        return f"{where}: {self.what}"


@dataclass(frozen=True)
class Context:
    """What the pass needs besides the entries: read once, in the same snapshot, and sent to a second process as it is.

    `seal_bounds` is each seal's (first seq, last seq) in seq order; `queued` the ids of entries queued
    for sealing; `originals` the (kind, idempotency key) of every entry that a reversal reverses.
    """

    council_id: int
    seal_bounds: tuple[tuple[int, int], ...]
    queued: frozenset[int]
    originals: dict[int, tuple[str, str]]


@dataclass
class Findings:
    """What the pass found over a range of entries; two ranges' findings add up (`merge`)."""

    entries: int = 0
    postings: int = 0
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)
    leaves: dict[int, bytes] = field(default_factory=dict)  # seq -> Merkle leaf hash
    moved: dict[tuple[int, int], int] = field(default_factory=dict)  # (account id, seal index) -> pence
    pool_totals: dict = field(default_factory=dict)  # as summary.fold_entry builds it
    pids: set[int] = field(default_factory=set)  # the processes that did the checking

    def merge(self, upper: Findings) -> None:
        """Add the findings over the entries after these ones."""
        self.entries += upper.entries
        self.postings += upper.postings
        self.unsealed += upper.unsealed
        self.pids |= upper.pids
        self.problems.extend(upper.problems)
        self.leaves.update(upper.leaves)
        for key, pence in upper.moved.items():
            self.moved[key] = self.moved.get(key, 0) + pence
        for key, (pence, count) in upper.pool_totals.items():
            row = self.pool_totals.setdefault(key, [0, 0])
            row[0] += pence
            row[1] += count


def _between(column, lo: int | None, hi: int | None) -> list:
    """Return the conditions lo <= column < hi, leaving out a bound that is None."""
    conditions = []
    if lo is not None:
        conditions.append(column >= lo)
    if hi is not None:
        conditions.append(column < hi)
    return conditions


def _stream(session: OrmSession, query) -> Iterator:
    """Yield a query's rows (tuples) from a server-side cursor where the database has one, a batch at a time."""
    # On the Core connection: the ORM's row handling would cost more than the database's work.
    result = session.connection().execute(query, execution_options={"yield_per": VERIFY_BATCH})
    for batch in result.partitions():
        yield from batch


def _posting_rows(session: OrmSession, council_id: int, lo: int | None, hi: int | None) -> Iterator[tuple[int, int, int, int]]:
    """Yield the council's postings as (entry id, account id, pence, leg) in entry and leg order, for entries lo <= id < hi.

    Straight from the driver's cursor (a named, server-side one on PostgreSQL): a million rows of four
    integers need no type conversion, and SQLAlchemy's row objects would cost more than the database.
    """
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    postgres = connection.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    where = [f"council_id = {mark}"] + [f"entry_id {op} {mark}" for op, bound in ((">=", lo), ("<", hi)) if bound is not None]
    sql = f"SELECT entry_id, account_id, amount_pence, leg FROM posting WHERE {' AND '.join(where)} ORDER BY entry_id, leg"
    parameters = (council_id, *(bound for bound in (lo, hi) if bound is not None))
    if postgres:
        cursor = raw.cursor(name=f"verify_postings_{council_id}_{lo or 0}")
        cursor.itersize = VERIFY_BATCH
    else:
        cursor = raw.cursor()
    cursor.execute(sql, parameters)
    try:
        while batch := cursor.fetchmany(VERIFY_BATCH):
            yield from batch
    finally:
        cursor.close()


def _entries_with_postings(session: OrmSession, council_id: int, lo: int | None, hi: int | None) -> Iterator[tuple]:
    """Yield (entry row, postings[(code, amount, leg, account_id)]) in id order, for entries lo <= id < hi.

    The entry row is (id, council_id, kind, memo, actor_id, idempotency_key, created_at, reverses_id,
    content_hash, seq, closed_leg_count). Two streaming queries, one over the entries and one over the
    postings, both in entry id order, merged here: no list of ids is ever sent back to the database.
    """
    entries = _stream(
        session,
        select(
            JournalEntry.id, JournalEntry.council_id, JournalEntry.kind, JournalEntry.memo, JournalEntry.actor_id,
            JournalEntry.idempotency_key, JournalEntry.created_at, JournalEntry.reverses_id, JournalEntry.content_hash,
            EntrySequence.seq, EntryClose.leg_count,
        )
        .outerjoin(EntrySequence, EntrySequence.entry_id == JournalEntry.id)
        .outerjoin(EntryClose, EntryClose.entry_id == JournalEntry.id)
        .where(JournalEntry.council_id == council_id, *_between(JournalEntry.id, lo, hi))
        .order_by(JournalEntry.id),
    )
    codes = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code)).all())
    postings = _posting_rows(session, council_id, lo, hi)
    done = (None, None, None, None)
    entry_of, account_id, amount, leg = next(postings, done)
    for row in entries:
        entry_id = row[0]
        legs = []
        while entry_of is not None and entry_of <= entry_id:
            if entry_of == entry_id:
                legs.append((codes.get(account_id), amount, leg, account_id))
            entry_of, account_id, amount, leg = next(postings, done)
        yield row, legs


def check_entries(
    session: OrmSession, context: Context, *, lo: int | None = None, hi: int | None = None, progress: Callable[[int], None] | None = None
) -> Findings:
    """Check every entry of the council with lo <= id < hi (all by default): balanced, closed, hashed, sequenced, queued."""
    council_id = context.council_id
    found = Findings(pids={os.getpid()})
    problems, leaves, moved = found.problems, found.leaves, found.moved
    seal_starts = [first for first, _ in context.seal_bounds]
    for row, postings in _entries_with_postings(session, council_id, lo, hi):
        entry_id, entry_council, kind, memo, actor_id, key, created_at, reverses_id, content_hash, seq, leg_count = row
        found.entries += 1
        found.postings += len(postings)
        total = sum(amount for _, amount, _, _ in postings)
        if leg_count is None:
            problems.append(Problem(council_id, "the entry was never closed", entry_id, seq))
        elif total != 0 or len(postings) < 2 or len(postings) != leg_count:
            problems.append(Problem(council_id, f"{len(postings)} postings sum to {total}p (closed with {leg_count})", entry_id, seq))
        recomputed = rules.entry_hash(
            council_id=entry_council, kind=kind, memo=memo, actor_id=actor_id, idempotency_key=key, created_at=created_at,
            reverses_id=reverses_id, postings=[(code, amount) for code, amount, _, _ in postings],
        )
        if recomputed != content_hash:
            problems.append(Problem(council_id, "the entry's content does not match its hash (changed after it was written)", entry_id, seq))
        summary.fold_entry(
            found.pool_totals, kind=kind, key=key, created_at=created_at, original=context.originals.get(reverses_id) if reverses_id else None,
            postings=[(code, account, amount) for code, amount, _, account in postings],
        )
        if seq is None:
            found.unsealed += 1
            if leg_count is not None and entry_id not in context.queued:
                problems.append(Problem(council_id, "the entry is closed but neither sealed nor queued for sealing", entry_id))
        else:
            leaves[seq] = merkle.leaf_hash(seq, content_hash)
            if entry_id in context.queued:
                problems.append(Problem(council_id, "the entry is sealed but still queued for sealing", entry_id, seq))
            index = bisect_right(seal_starts, seq) - 1
            if index >= 0 and seq <= context.seal_bounds[index][1]:
                for _, amount, _, account_id in postings:
                    moved[(account_id, index)] = moved.get((account_id, index), 0) + amount
        if progress:
            progress(1)
    return found


# --- two cores on PostgreSQL -------------------------------------------------------------------

# A council with at least this many entries is checked in two processes on PostgreSQL: below it,
# starting the second process (about a second) costs more than it saves.
SPLIT_MIN_ENTRIES = 100_000
# This process checks the entries up to this share of the sequence, the second process the rest: the
# second starts about a second later (a new interpreter, its imports, a connection), so this one takes
# a little more than half. Measured on 400,000 entries: at a half, the second finished 1.25 s after the
# first; at 0.56, 0.5 to 1 s after, and verify took 6.0-6.2 s instead of 9.05 s in one pass.
SPLIT_AT = 0.56


def can_split(session: OrmSession, council_id: int) -> bool:
    """Tell whether the pass may run in two processes: PostgreSQL, two cores, a big ledger, and nothing written yet in this transaction.

    The size is the council's sealed entries plus those queued for sealing. The second process reads
    the snapshot this one exports, which holds only committed rows: a transaction that has written
    (`pg_current_xact_id_if_assigned`) is checked in one pass, which sees its own rows.
    """
    if session.get_bind().dialect.name != "postgresql" or multiprocessing.cpu_count() < 2:
        return False
    sealed = select(func.coalesce(func.max(LedgerSeal.last_seq), 0)).where(LedgerSeal.council_id == council_id).scalar_subquery()
    queued = select(func.count()).select_from(UnsealedEntry).where(UnsealedEntry.council_id == council_id).scalar_subquery()
    if session.execute(select(sealed + queued)).scalar_one() < SPLIT_MIN_ENTRIES:
        return False
    return session.execute(text("SELECT pg_current_xact_id_if_assigned() IS NULL")).scalar_one()


def check_entries_split(
    session: OrmSession, context: Context, middle: int, *, progress: Callable[[int], None] | None = None
) -> Findings:
    """Check the entries below `middle` here and the rest in a second process reading this session's exported snapshot; merge.

    `session` must be in a REPEATABLE READ transaction of its own (integrity.verify opens one), so that
    its snapshot is the transaction's and the second process's is the same.
    """
    snapshot = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    context_mp = multiprocessing.get_context("forkserver")
    done = context_mp.Value("q", 0, lock=False)
    pool = ProcessPoolExecutor(1, mp_context=context_mp, initializer=_share_counter, initargs=(done,))
    mine, reported = [0], [0]

    def report_other() -> None:
        # What the second process has checked since the last report, read from the counter it shares.
        now = done.value
        if progress and now > reported[0]:
            progress(now - reported[0])
            reported[0] = now

    def tick(n: int) -> None:
        if progress:
            progress(n)
            mine[0] += n
            if mine[0] % VERIFY_BATCH == 0:
                report_other()

    upper = None
    try:
        try:
            # Starting the process can fail here (no forkserver, a daemon process that may not have children).
            future = pool.submit(_check_upper, url, snapshot, context, middle)
        except Exception:
            future = None
        found = check_entries(session, context, hi=middle, progress=tick)
        if future is not None:
            try:
                while True:
                    try:
                        upper = future.result(timeout=0.5)
                        break
                    except FuturesTimeout:
                        report_other()  # the bar keeps moving while this process waits for the other
            except Exception:  # the second process failed (could not start, or lost its connection): its half is checked here
                upper = None
            else:
                report_other()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if upper is None:
        # What the second process reported before it failed is not counted again.
        skip = [reported[0]]

        def tick_rest(n: int) -> None:
            if skip[0] > 0:
                skip[0] -= n
            elif progress:
                progress(n)

        upper = check_entries(session, context, lo=middle, progress=tick_rest if progress else None)
    found.merge(upper)
    return found


# The second process's count of entries checked, shared with the first for its progress bar.
_counter = None


def _share_counter(counter) -> None:
    global _counter
    _counter = counter


def _check_upper(url: str, snapshot: str, context: Context, middle: int) -> Findings:
    """In the second process: check the entries from `middle` on, in the snapshot the first process exported."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            connection.execute(text(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(snapshot)}'"))
            connection.execute(text("SELECT set_config('cursor_tuple_fraction', '1.0', true)"))
            with OrmSession(bind=connection) as session:
                checked = [0]

                def tick(n: int) -> None:
                    checked[0] += n
                    if checked[0] % VERIFY_BATCH == 0 and _counter is not None:
                        _counter.value = checked[0]

                found = check_entries(session, context, lo=middle, progress=tick)
                if _counter is not None:
                    _counter.value = checked[0]
                return found
    finally:
        engine.dispose()


def _snapshot_id(snapshot: str) -> str:
    """Return an exported snapshot's id, refusing anything else (it is put into SQL text: SET TRANSACTION SNAPSHOT takes no parameter)."""
    if not snapshot or not all(c in "0123456789ABCDEFabcdef-" for c in snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    return snapshot
