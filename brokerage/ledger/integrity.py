"""Sealing, verifying and proving: the ledger's tamper evidence.

Writers never wait on each other for tamper evidence: each entry carries only its own content
hash. Sealing, run as a command or a periodic job, gives the not-yet-sequenced entries of a council
gap-free sequence numbers and a Merkle root chained to the previous seal. `verify` recomputes
everything from the rows; `prove` prints an inclusion proof that `merkle.check_proof` checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from sqlalchemy import func, select, text
from sqlmodel import Session

from brokerage.ledger import merkle, rules, summary
from brokerage.ledger.errors import UnknownAccount
from brokerage.ledger.models import EntryClose, EntrySequence, JournalEntry, LedgerAccount, LedgerSeal, Posting
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


def seal(*, session: Session, actor: User, council_id: int, limit: int | None = None) -> LedgerSeal | None:
    """Sequence the council's closed, unsequenced entries and seal them; None when there are none."""
    check_scope(actor, council_id)
    lock_sealing(session, council_id)
    last_seq = session.execute(
        select(func.coalesce(func.max(EntrySequence.seq), 0)).where(EntrySequence.council_id == council_id)
    ).scalar_one()
    pending = (
        select(JournalEntry.id, JournalEntry.content_hash)
        .join(EntryClose, EntryClose.entry_id == JournalEntry.id)
        .outerjoin(EntrySequence, EntrySequence.entry_id == JournalEntry.id)
        .where(JournalEntry.council_id == council_id, EntrySequence.entry_id.is_(None))
        .order_by(JournalEntry.id)
    )
    if limit:
        pending = pending.limit(limit)
    rows = session.execute(pending).all()
    if not rows:
        return None
    first = last_seq + 1
    sequence_rows = [{"entry_id": row.id, "council_id": council_id, "seq": first + i} for i, row in enumerate(rows)]
    session.execute(EntrySequence.__table__.insert(), sequence_rows)
    leaves = [merkle.leaf_hash(first + i, row.content_hash) for i, row in enumerate(rows)]
    root_hex = merkle.root(leaves).hex()
    previous = session.execute(
        select(LedgerSeal.seal_hash).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.last_seq.desc()).limit(1)
    ).scalar_one_or_none()
    last = first + len(rows) - 1
    record = LedgerSeal(
        council_id=council_id, first_seq=first, last_seq=last, root=root_hex, previous_hash=previous,
        seal_hash=merkle.seal_hash(council_id=council_id, first_seq=first, last_seq=last, root_hex=root_hex, previous_hex=previous),
        actor_id=actor.id,
    )
    session.add(record)
    session.flush()
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


def _entries_with_postings(session: Session, council_id: int, chunk: int = 2000) -> Iterator[tuple]:
    """Yield (entry, seq, closed_leg_count, postings[(code, amount, leg)]) in id order, a chunk at a time."""
    after = 0
    while True:
        entries = session.execute(
            select(
                JournalEntry.id, JournalEntry.council_id, JournalEntry.kind, JournalEntry.memo, JournalEntry.actor_id,
                JournalEntry.idempotency_key, JournalEntry.created_at, JournalEntry.reverses_id, JournalEntry.content_hash,
                EntrySequence.seq, EntryClose.leg_count,
            )
            .outerjoin(EntrySequence, EntrySequence.entry_id == JournalEntry.id)
            .outerjoin(EntryClose, EntryClose.entry_id == JournalEntry.id)
            .where(JournalEntry.council_id == council_id, JournalEntry.id > after)
            .order_by(JournalEntry.id)
            .limit(chunk)
        ).all()
        if not entries:
            return
        ids = [row.id for row in entries]
        postings: dict[int, list] = {i: [] for i in ids}
        for entry_id, code, amount, leg in session.execute(
            select(Posting.entry_id, LedgerAccount.code, Posting.amount_pence, Posting.leg)
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(Posting.entry_id.in_(ids))
            .order_by(Posting.entry_id, Posting.leg)
        ):
            postings[entry_id].append((code, amount, leg))
        for row in entries:
            yield row, row.seq, row.leg_count, postings[row.id]
        after = ids[-1]


def verify(
    *, session: Session, actor: User, council_id: int, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Recompute every entry's balance and hash, every cached balance, the sequence and every seal."""
    check_scope(actor, council_id)
    report = VerifyReport()
    leaves_by_seq: dict[int, bytes] = {}
    for entry, seq, leg_count, postings in _entries_with_postings(session, council_id):
        report.entries += 1
        report.postings += len(postings)
        total = sum(amount for _, amount, _ in postings)
        if leg_count is None:
            report.problems.append(Problem(council_id, "the entry was never closed", entry.id, seq))
        elif total != 0 or len(postings) < 2 or len(postings) != leg_count:
            report.problems.append(Problem(council_id, f"{len(postings)} postings sum to {total}p (closed with {leg_count})", entry.id, seq))
        recomputed = rules.content_hash(
            rules.entry_content(
                council_id=entry.council_id, entry_id=0, kind=entry.kind, memo=entry.memo, actor_id=entry.actor_id,
                idempotency_key=entry.idempotency_key, created_at=entry.created_at, reverses_id=entry.reverses_id,
                postings=[(code, amount) for code, amount, _ in postings],
            )
        )
        if recomputed != entry.content_hash:
            report.problems.append(Problem(council_id, "the entry's content does not match its hash (changed after it was written)", entry.id, seq))
        if seq is None:
            report.unsealed += 1
        else:
            leaves_by_seq[seq] = merkle.leaf_hash(seq, entry.content_hash)
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
    for record in session.execute(select(LedgerSeal).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.first_seq)).scalars():
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
        leaves = [leaves_by_seq.get(s) for s in range(record.first_seq, record.last_seq + 1)]
        if any(leaf is None for leaf in leaves):
            report.problems.append(Problem(council_id, f"{label} covers entries that are missing"))
        elif merkle.root(leaves).hex() != record.root:
            report.problems.append(Problem(council_id, f"{label}: the entries no longer match its Merkle root"))
        previous = record.seal_hash
        expected_first = record.last_seq + 1
    if seqs and expected_first != seqs[-1] + 1:
        report.problems.append(Problem(council_id, f"sequenced entries from seq {expected_first} are not covered by a seal"))
    report.problems.extend(Problem(council_id, problem) for problem in summary.differences(session=session, council_id=council_id))
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
