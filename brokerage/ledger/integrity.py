"""Sealing, verifying and proving: the ledger's tamper evidence.

Writers never wait on each other for tamper evidence: each entry carries only its own content
hash. Sealing, run as a command or a periodic job, gives the not-yet-sequenced entries of a council
gap-free sequence numbers and a Merkle root chained to the previous seal. `verify` recomputes
everything from the rows; `prove` prints an inclusion proof that `merkle.check_proof` checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session

from brokerage.ledger import entry_checks, merkle, snapshots, summary
from brokerage.ledger.entry_checks import Problem
from brokerage.ledger.errors import UnknownAccount
from brokerage.ledger.models import EntrySequence, JournalEntry, LedgerAccount, LedgerSeal, Posting, UnsealedEntry
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


def verify(
    *, session: Session, actor: User, council_id: int, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Recompute every entry's balance and hash, every cached balance, the sequence, every seal and every balance snapshot.

    On PostgreSQL a big ledger is read in one REPEATABLE READ snapshot on a connection of its own, and
    its entries are checked on two cores (brokerage.ledger.entry_checks); the report is the same.
    """
    check_scope(actor, council_id)
    if entry_checks.can_split(session, council_id):
        with session.get_bind().engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            with Session(bind=connection) as reader:
                return _verify(reader, council_id, progress, split=True)
    return _verify(session, council_id, progress, split=False)


def _verify(session: Session, council_id: int, progress: Callable[[int], None] | None, *, split: bool) -> VerifyReport:
    if session.get_bind().dialect.name == "postgresql":
        # Every row of verify's cursors is read: plan them for the whole result, not the first rows.
        session.execute(text("SELECT set_config('cursor_tuple_fraction', '1.0', true)"))
    report = VerifyReport()
    seals = list(session.execute(select(LedgerSeal).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.first_seq)).scalars())
    queued = frozenset(session.execute(select(UnsealedEntry.entry_id).where(UnsealedEntry.council_id == council_id)).scalars())
    # A reversal counts in the pool summary under its original's kind and key.
    reversed_entry = aliased(JournalEntry)
    originals = {
        row.id: (row.kind, row.idempotency_key)
        for row in session.execute(
            select(JournalEntry.id, JournalEntry.kind, JournalEntry.idempotency_key)
            .join(reversed_entry, reversed_entry.reverses_id == JournalEntry.id)
            .where(JournalEntry.council_id == council_id, reversed_entry.council_id == council_id)
            .distinct()
        )
    }
    context = entry_checks.Context(council_id, tuple((s.first_seq, s.last_seq) for s in seals), queued, originals)
    middle = _middle_entry(session, council_id, seals) if split else None
    if middle is not None:
        found = entry_checks.check_entries_split(session, context, middle, progress=progress)
    else:
        found = entry_checks.check_entries(session, context, progress=progress)
    report.entries, report.postings, report.unsealed = found.entries, found.postings, found.unsealed
    report.problems.extend(found.problems)
    leaves_by_seq, moved, pool_totals = found.leaves, found.moved, found.pool_totals

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
        label = f"seal {record.id} (sequence numbers {record.first_seq}–{record.last_seq})"
        if record.first_seq != expected_first:
            report.problems.append(Problem(council_id, f"{label} should start at sequence number {expected_first}"))
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
        report.problems.append(Problem(council_id, f"entries from sequence number {expected_first} on are not covered by a seal"))
    report.problems.extend(Problem(council_id, problem) for problem in snapshots.differences(session, council_id, seals, moved))
    report.problems.extend(Problem(council_id, problem) for problem in summary.differences(session=session, council_id=council_id, recomputed=pool_totals))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0, p.entry_id or 0))
    return report


def _middle_entry(session: Session, council_id: int, seals: list[LedgerSeal]) -> int | None:
    """Return the id of the sealed entry where verify splits its pass (entry_checks.SPLIT_AT of the way); None without one."""
    if not seals:
        return None
    seq = max(1, round(seals[-1].last_seq * entry_checks.SPLIT_AT))
    return session.execute(select(EntrySequence.entry_id).where(EntrySequence.council_id == council_id, EntrySequence.seq == seq)).scalar_one_or_none()


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
