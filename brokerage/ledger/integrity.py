"""Sealing, verifying and proving: the ledger's tamper evidence.

Writers never wait on each other for tamper evidence: each entry carries only its own content
hash. Sealing, run as a command or a periodic job, gives the not-yet-sequenced entries of a council
gap-free sequence numbers and a Merkle root chained to the previous seal. `verify` recomputes
everything from the rows; `prove` prints an inclusion proof that `merkle.check_proof` checks.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from sqlalchemy import func, select, text
from sqlmodel import Session

from brokerage.ledger import merkle, rules, snapshots, summary
from brokerage.ledger.errors import UnknownAccount
from brokerage.ledger.models import EntryClose, EntrySequence, JournalEntry, LedgerAccount, LedgerSeal, Posting, UnsealedEntry
from brokerage.ledger.scope import check_scope

if TYPE_CHECKING:
    from brokerage.accounts.models import User

# The ledger's own namespace of PostgreSQL advisory locks: (SEALING_LOCK, council id) serialises sealers.
SEALING_LOCK = 7301


def lock_sealing(session: Session, council_id: int) -> None:
    """Make sealers of one council take turns until the transaction ends.

    A transaction-scoped PostgreSQL advisory lock keyed by the ledger's namespace and the council id:
    it locks no row of any table (not the council's, which the ledger does not own), and exists from
    the council's first seal, when there is no sequence or seal row yet to lock. SQLite needs none:
    its writers already take turns (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :council)"), {"namespace": SEALING_LOCK, "council": council_id})


# Entries sealed per round trip: memory stays bounded however many entries one seal covers.
SEAL_CHUNK = 5000


def seal(*, session: Session, actor: User, council_id: int, limit: int | None = None, chunk: int = SEAL_CHUNK) -> LedgerSeal | None:
    """Sequence the council's closed, unsequenced entries and seal them; None when there are none.

    The entries come from the queue of unsealed entries in id order, `chunk` at a time, and the Merkle
    root is built as they stream, so memory does not grow with the number sealed. The seal also writes
    a balance snapshot for every account its entries post to (see BalanceSnapshot).
    """
    check_scope(actor, council_id)
    lock_sealing(session, council_id)
    # Only what is queued when the seal starts: writers committing meanwhile wait for the next seal.
    max_id = session.execute(select(func.max(UnsealedEntry.entry_id)).where(UnsealedEntry.council_id == council_id)).scalar_one()
    if max_id is None:
        return None
    last_seq = session.execute(
        select(func.coalesce(func.max(EntrySequence.seq), 0)).where(EntrySequence.council_id == council_id)
    ).scalar_one()
    previous = session.execute(
        select(LedgerSeal.seal_hash, LedgerSeal.last_seq, LedgerSeal.through_created_at)
        .where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.last_seq.desc()).limit(1)
    ).first()
    first = last_seq + 1
    builder = merkle.RootBuilder()
    after = 0
    earliest = latest = None
    connection = session.connection()
    while limit is None or builder.count < limit:
        take = chunk if limit is None else min(chunk, limit - builder.count)
        rows = session.execute(
            select(JournalEntry.id, JournalEntry.content_hash, JournalEntry.created_at)
            .join(UnsealedEntry, UnsealedEntry.entry_id == JournalEntry.id)
            .where(UnsealedEntry.council_id == council_id, UnsealedEntry.entry_id > after, UnsealedEntry.entry_id <= max_id)
            .order_by(UnsealedEntry.entry_id)
            .limit(take)
        ).all()
        if not rows:
            break
        start = first + builder.count
        connection.execute(
            EntrySequence.__table__.insert(),
            [{"entry_id": row.id, "council_id": council_id, "seq": start + i} for i, row in enumerate(rows)],
        )
        for i, row in enumerate(rows):
            builder.add(merkle.leaf_hash(start + i, row.content_hash))
            earliest = row.created_at if earliest is None or row.created_at < earliest else earliest
            latest = row.created_at if latest is None or row.created_at > latest else latest
        after = rows[-1].id
    if builder.count == 0:
        return None
    last = first + builder.count - 1
    # Unqueue exactly what was sequenced (never a range of ids: a writer may have queued one inside it meanwhile).
    connection.execute(
        UnsealedEntry.__table__.delete().where(
            UnsealedEntry.entry_id.in_(
                select(EntrySequence.entry_id).where(EntrySequence.council_id == council_id, EntrySequence.seq.between(first, last))
            )
        )
    )
    through = latest
    if previous is not None:
        before = previous.through_created_at
        if before is None:  # the seals before snapshots existed: their span, once
            before = session.execute(
                select(func.max(JournalEntry.created_at))
                .join(EntrySequence, EntrySequence.entry_id == JournalEntry.id)
                .where(EntrySequence.council_id == council_id, EntrySequence.seq < first)
            ).scalar_one()
        through = max(through, before) if before is not None else through
    root_hex = builder.root().hex()
    previous_hash = previous.seal_hash if previous is not None else None
    record = LedgerSeal(
        council_id=council_id, first_seq=first, last_seq=last, root=root_hex, previous_hash=previous_hash,
        seal_hash=merkle.seal_hash(council_id=council_id, first_seq=first, last_seq=last, root_hex=root_hex, previous_hex=previous_hash),
        actor_id=actor.id, min_created_at=earliest, through_created_at=through,
    )
    session.add(record)
    session.flush()
    snapshots.write(session, council_id, record, previous_complete=previous is None or previous.through_created_at is not None)
    return record


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
            where += f" (seq {self.seq})"
        return f"{where}: {self.what}"


@dataclass
class VerifyReport:
    """What verification checked and what it found."""

    entries: int = 0
    postings: int = 0
    accounts: int = 0
    seals: int = 0
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether nothing was wrong."""
        return not self.problems


# Rows fetched per round trip by verify's streaming queries.
VERIFY_BATCH = 5000


def _stream(session: Session, query) -> Iterator:
    """Yield a query's rows (tuples) from a server-side cursor where the database has one, a batch at a time."""
    # On the Core connection: the ORM's row handling would cost more than the database's work.
    result = session.connection().execute(query, execution_options={"yield_per": VERIFY_BATCH})
    for batch in result.partitions():
        yield from batch


def _posting_rows(session: Session, council_id: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield the council's postings as (entry id, account id, pence, leg) in entry and leg order.

    Straight from the driver's cursor (a named, server-side one on PostgreSQL): a million rows of four
    integers need no type conversion, and SQLAlchemy's row objects would cost more than the database.
    """
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    columns = "SELECT entry_id, account_id, amount_pence, leg FROM posting WHERE council_id = {} ORDER BY entry_id, leg"
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"verify_postings_{council_id}")
        cursor.itersize = VERIFY_BATCH
        cursor.execute(columns.format("%s"), (council_id,))
    else:
        cursor = raw.cursor()
        cursor.execute(columns.format("?"), (council_id,))
    try:
        while batch := cursor.fetchmany(VERIFY_BATCH):
            yield from batch
    finally:
        cursor.close()


def _entries_with_postings(session: Session, council_id: int) -> Iterator[tuple]:
    """Yield (entry row, postings[(code, amount, leg, account_id)]) in id order.

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
        .where(JournalEntry.council_id == council_id)
        .order_by(JournalEntry.id),
    )
    codes = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code)).all())
    postings = _posting_rows(session, council_id)
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


def verify(
    *, session: Session, actor: User, council_id: int, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Recompute every entry's balance and hash, every cached balance, the sequence, every seal and every balance snapshot."""
    check_scope(actor, council_id)
    if session.get_bind().dialect.name == "postgresql":
        # Every row of verify's cursors is read: plan them for the whole result, not the first rows.
        session.execute(text("SELECT set_config('cursor_tuple_fraction', '1.0', true)"))
    report = VerifyReport()
    leaves_by_seq: dict[int, bytes] = {}
    seals = list(session.execute(select(LedgerSeal).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.first_seq)).scalars())
    seal_starts = [record.first_seq for record in seals]
    # What each seal moved on each account, to check the snapshots: (account id, seal index) -> pence.
    moved: dict[tuple[int, int], int] = {}
    queued = set(session.execute(select(UnsealedEntry.entry_id).where(UnsealedEntry.council_id == council_id)).scalars())
    # The pool summary, recomputed from the same rows; a reversal counts under its original's kind and key.
    pool_totals: dict = {}
    reversed_ids = set(
        session.execute(select(JournalEntry.reverses_id).where(JournalEntry.council_id == council_id, JournalEntry.reverses_id.is_not(None))).scalars()
    )
    originals: dict[int, tuple[str, str]] = {}
    for row, postings in _entries_with_postings(session, council_id):
        entry_id, entry_council, kind, memo, actor_id, key, created_at, reverses_id, content_hash, seq, leg_count = row
        report.entries += 1
        report.postings += len(postings)
        total = sum(amount for _, amount, _, _ in postings)
        if leg_count is None:
            report.problems.append(Problem(council_id, "the entry was never closed", entry_id, seq))
        elif total != 0 or len(postings) < 2 or len(postings) != leg_count:
            report.problems.append(Problem(council_id, f"{len(postings)} postings sum to {total}p (closed with {leg_count})", entry_id, seq))
        recomputed = rules.entry_hash(
            council_id=entry_council, kind=kind, memo=memo, actor_id=actor_id, idempotency_key=key, created_at=created_at,
            reverses_id=reverses_id, postings=[(code, amount) for code, amount, _, _ in postings],
        )
        if recomputed != content_hash:
            report.problems.append(Problem(council_id, "the entry's content does not match its hash (changed after it was written)", entry_id, seq))
        if entry_id in reversed_ids:
            originals[entry_id] = (kind, key)
        summary.fold_entry(
            pool_totals, kind=kind, key=key, created_at=created_at, original=originals.get(reverses_id) if reverses_id else None,
            postings=[(code, account, amount) for code, amount, _, account in postings],
        )
        if seq is None:
            report.unsealed += 1
            if leg_count is not None and entry_id not in queued:
                report.problems.append(Problem(council_id, "the entry is closed but neither sealed nor queued for sealing", entry_id))
        else:
            leaves_by_seq[seq] = merkle.leaf_hash(seq, content_hash)
            if entry_id in queued:
                report.problems.append(Problem(council_id, "the entry is sealed but still queued for sealing", entry_id, seq))
            index = bisect_right(seal_starts, seq) - 1
            if index >= 0 and seq <= seals[index].last_seq:
                for _, amount, _, account_id in postings:
                    moved[(account_id, index)] = moved.get((account_id, index), 0) + amount
        if progress:
            progress(1)

    seqs = sorted(leaves_by_seq)
    if seqs and seqs != list(range(1, len(seqs) + 1)):
        missing = next(i for i, s in enumerate(seqs, start=1) if s != i)
        report.problems.append(Problem(council_id, f"the sequence has a gap at {missing}", seq=missing))

    sums = dict(
        session.execute(
            select(Posting.account_id, func.sum(Posting.amount_pence)).where(Posting.council_id == council_id).group_by(Posting.account_id)
        ).all()
    )
    for account in session.execute(select(LedgerAccount).where(LedgerAccount.council_id == council_id).order_by(LedgerAccount.id)).scalars():
        report.accounts += 1
        actual = int(sums.get(account.id) or 0)
        if actual != account.balance_pence:
            report.problems.append(Problem(council_id, f"account {account.code} caches {account.balance_pence}p but its postings sum to {actual}p"))
        if account.non_negative and actual < 0:
            report.problems.append(Problem(council_id, f"account {account.code} is below zero ({actual}p)"))
    grand_total = sum(int(v or 0) for v in sums.values())
    if grand_total != 0:
        report.problems.append(Problem(council_id, f"all postings sum to {grand_total}p, not zero"))

    previous = None
    expected_first = 1
    for record in seals:
        report.seals += 1
        label = f"seal {record.id} (seq {record.first_seq}–{record.last_seq})"
        if record.first_seq != expected_first:
            report.problems.append(Problem(council_id, f"{label} should start at seq {expected_first}"))
        if record.previous_hash != previous:
            report.problems.append(Problem(council_id, f"{label} is not chained to the seal before it"))
        if record.seal_hash != merkle.seal_hash(
            council_id=council_id, first_seq=record.first_seq, last_seq=record.last_seq, root_hex=record.root, previous_hex=record.previous_hash
        ):
            report.problems.append(Problem(council_id, f"{label}: its hash does not match its contents"))
        builder = merkle.RootBuilder()
        missing = False
        for number in range(record.first_seq, record.last_seq + 1):
            leaf = leaves_by_seq.get(number)
            if leaf is None:
                missing = True
                break
            builder.add(leaf)
        if missing:
            report.problems.append(Problem(council_id, f"{label} covers entries that are missing"))
        elif builder.root().hex() != record.root:
            report.problems.append(Problem(council_id, f"{label}: the entries no longer match its Merkle root"))
        previous = record.seal_hash
        expected_first = record.last_seq + 1
    if seqs and expected_first != seqs[-1] + 1:
        report.problems.append(Problem(council_id, f"sequenced entries from seq {expected_first} are not covered by a seal"))
    report.problems.extend(Problem(council_id, problem) for problem in snapshots.differences(session, council_id, seals, moved))
    report.problems.extend(Problem(council_id, problem) for problem in summary.differences(session=session, council_id=council_id, recomputed=pool_totals))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0, p.entry_id or 0))
    return report


def prove(*, session: Session, actor: User, entry_id: int) -> dict:
    """Return an inclusion proof of a sealed entry in its seal."""
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise UnknownAccount(f"There is no entry {entry_id}.", field="entry")
    check_scope(actor, entry.council_id)
    seq = session.execute(select(EntrySequence.seq).where(EntrySequence.entry_id == entry_id)).scalar_one_or_none()
    if seq is None:
        raise UnknownAccount(f"Entry {entry_id} is not sealed yet; run `brokerage ledger seal` first.", field="entry")
    record = session.execute(
        select(LedgerSeal).where(LedgerSeal.council_id == entry.council_id, LedgerSeal.first_seq <= seq, LedgerSeal.last_seq >= seq)
    ).scalar_one()
    hashes = dict(
        session.execute(
            select(EntrySequence.seq, JournalEntry.content_hash)
            .join(JournalEntry, JournalEntry.id == EntrySequence.entry_id)
            .where(EntrySequence.council_id == entry.council_id, EntrySequence.seq.between(record.first_seq, record.last_seq))
        ).all()
    )
    leaves = [merkle.leaf_hash(s, hashes[s]) for s in range(record.first_seq, record.last_seq + 1)]
    path = merkle.audit_path(seq - record.first_seq, leaves)
    return {
        "format": "carepool-ledger-proof/1",
        "entry": entry_id,
        "seq": seq,
        "content_hash": entry.content_hash,
        "path": [{"side": side, "hash": digest.hex()} for side, digest in path],
        "seal": {
            "council": record.council_id, "first_seq": record.first_seq, "last_seq": record.last_seq, "root": record.root,
            "previous": record.previous_hash, "hash": record.seal_hash,
        },
    }


def seal_status(*, session: Session, actor: User, council_id: int) -> dict:
    """Return how much of the council's ledger is sealed, and the latest seal."""
    check_scope(actor, council_id)
    entries = session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id == council_id)).scalar_one()
    latest = session.execute(
        select(LedgerSeal).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.last_seq.desc()).limit(1)
    ).scalar_one_or_none()
    # Sequence numbers are given only by seal(), contiguous from 1 and each run of them sealed in the same
    # transaction (verify checks both), so the latest seal's last number is how many entries are sealed.
    sealed = latest.last_seq if latest else 0
    return {"entries": entries, "sealed": sealed, "unsealed": entries - sealed, "latest": latest}
