"""The pool summary (`ledger_pool_month`): every pool share's money in and out by month in England.

The council's reports read it instead of a million postings. It stays exact because the posting path
writes it in the same savepoint as the entries it sums (`add_entries`), and `ledger verify` recomputes
it from the postings (`recompute`) and names any row that disagrees. A row is keyed by pool share,
month, kind of entry, provider and contract; amounts are signed pence as posted to the share (a
pledge is positive, a care cost negative). A reversal counts under the kind of the entry it reverses,
in the month it was posted, so a reversed care cost nets out of that kind's spend.

Every writer that touches a pool share holds its account row lock (brokerage.ledger.posting
lock_accounts), so the summary rows of that share are never updated by two writers at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from brokerage import clock
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import JournalEntry, LedgerAccount, PoolMonth, Posting
from brokerage.ledger.rules import AccountType

# (account id, month, kind, provider id, contract id) -> [amount in pence, entries]
Key = tuple[int, date, str, int, int]


def month_of(moment: datetime) -> date:
    """Return the first day of the month in England that a stored (UTC) moment falls in."""
    return clock.london(moment).date().replace(day=1)


def contract_of(kind: str, key: str) -> int:
    """Return the contract a care cost's idempotency key names (`care:{contract}:{week}`), or 0."""
    parts = key.split(":")
    if kind == EntryKind.care_cost.value and len(parts) == 3 and parts[0] == "care" and parts[1].isascii() and parts[1].isdigit():
        return int(parts[1])
    return 0


def provider_of(codes: Iterable[str]) -> int:
    """Return the provider whose payable an entry touches (`provider:{p}:payable`), or 0 for none or several."""
    found = {int(code.split(":")[1]) for code in codes if code.startswith("provider:") and code.endswith(":payable")}
    return found.pop() if len(found) == 1 else 0


def pool_effects(*, kind: str, key: str, postings: Sequence[tuple[str, int]], original: tuple[str, str] | None = None) -> list[tuple[str, str, int, int, int]]:
    """Return what one entry does to pool shares: (pool code, kind counted, provider id, contract id, pence).

    `original` is the (kind, idempotency key) of the entry a reversal reverses: the reversal counts under it.
    """
    counted_kind, counted_key = original if (kind == EntryKind.reversal.value and original) else (kind, key)
    provider = provider_of(code for code, _ in postings)
    contract = contract_of(counted_kind, counted_key)
    return [(code, counted_kind, provider, contract, amount) for code, amount in postings if code.startswith("pool:")]


def _fold(into: dict[Key, list[int]], account_id: int, month: date, effects: list[tuple[str, str, int, int, int]]) -> None:
    seen: set[Key] = set()
    for _, kind, provider, contract, amount in effects:
        key = (account_id, month, kind, provider, contract)
        row = into.setdefault(key, [0, 0])
        row[0] += amount
        if key not in seen:
            row[1] += 1
            seen.add(key)


def add_entries(session: Session, council_id: int, entries: Sequence[tuple[str, str, datetime, int | None, Sequence[tuple[str, int]]]], account_ids: dict[str, int]) -> None:
    """Add new entries to the summary: each is (kind, idempotency key, created at, reverses id, postings as (code, pence)).

    Called by the posting path inside its savepoint, after the entries are written.
    """
    if not any(code.startswith("pool:") for *_, postings in entries for code, _ in postings):
        return
    reversed_ids = {reverses for _, _, _, reverses, _ in entries if reverses is not None}
    originals = {}
    if reversed_ids:
        originals = {
            row.id: (row.kind, row.idempotency_key)
            for row in session.execute(select(JournalEntry.id, JournalEntry.kind, JournalEntry.idempotency_key).where(JournalEntry.id.in_(reversed_ids)))
        }
    totals: dict[Key, list[int]] = {}
    for kind, key, created_at, reverses, postings in entries:
        month = month_of(created_at)
        effects = pool_effects(kind=kind, key=key, postings=postings, original=originals.get(reverses))
        for code in {code for code, *_ in effects}:
            _fold(totals, account_ids[code], month, [e for e in effects if e[0] == code])
    _upsert(session, council_id, totals, {account_ids[c]: c for *_, postings in entries for c, _ in postings if c.startswith("pool:")})


def _upsert(session: Session, council_id: int, totals: dict[Key, list[int]], codes: dict[int, str]) -> None:
    rows = []
    for (account_id, month, kind, provider, contract), (amount, count) in sorted(totals.items()):
        _, cluster_id, holder_id = codes[account_id].split(":")
        rows.append({
            "council_id": council_id, "account_id": account_id, "cluster_id": int(cluster_id), "holder_id": int(holder_id),
            "month": month, "kind": kind, "provider_id": provider, "contract_id": contract, "amount_pence": amount, "entries": count,
        })
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = PoolMonth.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id", "month", "kind", "provider_id", "contract_id"],
        set_={"amount_pence": table.c.amount_pence + statement.excluded.amount_pence, "entries": table.c.entries + statement.excluded.entries},
    )
    session.connection().execute(statement, rows)


def recompute(*, session: Session, council_id: int) -> dict[Key, tuple[int, int]]:
    """Recompute the council's summary from its postings: key -> (pence, entries)."""
    pool_entries = (
        select(Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.council_id == council_id, LedgerAccount.account_type == AccountType.pool)
        .distinct()
    )
    original = aliased(JournalEntry)
    rows = session.connection().execute(
        select(
            JournalEntry.id, JournalEntry.kind, JournalEntry.idempotency_key, JournalEntry.created_at,
            original.kind, original.idempotency_key, LedgerAccount.code, LedgerAccount.id, Posting.amount_pence,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .outerjoin(original, and_(original.id == JournalEntry.reverses_id))
        .where(JournalEntry.council_id == council_id, JournalEntry.id.in_(pool_entries))
        .order_by(JournalEntry.id, Posting.leg)
        .execution_options(yield_per=5000)
    )
    totals: dict[Key, list[int]] = {}
    current: list = []
    for row in rows:
        if current and current[0][0] != row[0]:
            _fold_entry(totals, current)
            current = []
        current.append(row)
    if current:
        _fold_entry(totals, current)
    return {key: (amount, count) for key, (amount, count) in totals.items()}


def _fold_entry(totals: dict[Key, list[int]], rows: list) -> None:
    first = rows[0]
    original = (first[4], first[5]) if first[4] is not None else None
    ids = {row[6]: row[7] for row in rows}
    effects = pool_effects(kind=first[1], key=first[2], postings=[(row[6], row[8]) for row in rows], original=original)
    month = month_of(first[3])
    for code in {code for code, *_ in effects}:
        _fold(totals, ids[code], month, [e for e in effects if e[0] == code])


def stored(*, session: Session, council_id: int) -> dict[Key, tuple[int, int]]:
    """Return the council's summary as stored: key -> (pence, entries)."""
    return {
        (row.account_id, row.month, row.kind, row.provider_id, row.contract_id): (row.amount_pence, row.entries)
        for row in session.connection().execute(
            select(PoolMonth.account_id, PoolMonth.month, PoolMonth.kind, PoolMonth.provider_id, PoolMonth.contract_id, PoolMonth.amount_pence, PoolMonth.entries)
            .where(PoolMonth.council_id == council_id)
        )
    }


def fold_entry(
    totals: dict[Key, list[int]], *, kind: str, key: str, created_at: datetime, original: tuple[str, str] | None,
    postings: Sequence[tuple[str, int, int]],
) -> None:
    """Add one entry, its postings given as (code, account id, pence), to totals being recomputed (as `recompute` does)."""
    if not any(code is not None and code.startswith("pool:") for code, _, _ in postings):
        return
    _fold_entry(totals, [(None, kind, key, created_at, *(original or (None, None)), code, account_id, amount) for code, account_id, amount in postings])


def differences(*, session: Session, council_id: int, recomputed: dict[Key, list[int]] | None = None) -> list[str]:
    """Name every summary row that disagrees with the postings (empty when the summary is exact).

    `recomputed` is the summary the caller already recomputed from the postings with `fold_entry`
    (verify does, as it reads every entry); without it the postings are read again.
    """
    if recomputed is None:
        want = recompute(session=session, council_id=council_id)
    else:
        want = {key: (amount, count) for key, (amount, count) in recomputed.items()}
    have = stored(session=session, council_id=council_id)
    problems = []
    for key in sorted(set(want) | set(have)):
        if want.get(key, (0, 0)) != have.get(key, (0, 0)):
            account_id, month, kind, provider, contract = key
            problems.append(
                f"the pool summary of account {account_id} for {month:%B %Y} ({kind}, provider {provider}, contract {contract}) "
                f"says {have.get(key, (0, 0))[0]}p in {have.get(key, (0, 0))[1]} entries, but the postings say "
                f"{want.get(key, (0, 0))[0]}p in {want.get(key, (0, 0))[1]}"
            )
    return problems
