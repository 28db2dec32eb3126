"""Posting: open and lock accounts, post balanced entries (one, a batch, or many in batches) and reverse them.

Services flush, never commit. Every money feature posts through `post_entry`, `post_entries` or
`post_in_batches`. The rules enforced here are enforced again by the database (see the 0002
migration): balanced entries, append-only rows, and non-negative accounts.

On PostgreSQL a batch is one call of the ledger_post_batch function (migrations 0031 and 0035), with the same
checks, errors and idempotency; reversals and SQLite take the Python path (`_post_python`). How
shared ("hot") accounts such as a council's funding are kept from queueing writers is explained
above `_ACCOUNT_IDS` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from brokerage.errors import BrokerageError
from brokerage.formatting import pounds
from brokerage.ledger import fastpath, rules, summary
from brokerage.ledger.errors import (
    AlreadyReversed, IdempotencyConflict, LedgerDatabaseRefused, Overdraft, Unbalanced, UnknownAccount, UnknownKind,
)
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import EntryClose, JournalEntry, LedgerAccount, Posting
from brokerage.ledger.owners import owner_ids
from brokerage.ledger.rules import Leg
from brokerage.ledger.scope import check_scope
from brokerage.types import utcnow

if TYPE_CHECKING:
    from brokerage.accounts.models import User

# What one entry of a batch may fail with, without failing the others (post_in_batches).
ENTRY_ERRORS = (BrokerageError, SQLAlchemyError)


@dataclass(frozen=True)
class EntrySpec:
    """One entry for `post_entries`."""

    kind: EntryKind | str
    postings: Sequence[Leg | tuple[str, int]]
    idempotency_key: str
    memo: str = ""
    reverses_id: int | None = None


def _legs(postings: Iterable[Leg | tuple[str, int]]) -> list[Leg]:
    legs = [p if isinstance(p, Leg) else Leg(p[0], p[1]) for p in postings]
    try:
        rules.check_balanced(legs)
    except ValueError as error:
        raise Unbalanced(f"The entry does not balance: {error}.", field="postings") from None
    return legs


def _kind(kind: EntryKind | str) -> str:
    """Return the stored value of an EntryKind; anything else is refused (the kinds are the ledger's vocabulary)."""
    try:
        return EntryKind(kind).value
    except ValueError:
        raise UnknownKind(f"{kind!r} is not a kind of ledger entry.", field="kind") from None


def _find_account(session: Session, council_id: int, code: str) -> LedgerAccount | None:
    return session.execute(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
    ).scalars().first()


def get_or_create_account(*, session: Session, council_id: int, code: str) -> LedgerAccount:
    """Return the council's account with this code, creating it on first use once its owners are checked."""
    account = _find_account(session, council_id, code)
    if account is not None:
        return account
    owners = owner_ids(session, council_id, code)
    kind = rules.type_of_code(code)
    account = LedgerAccount(
        council_id=council_id, code=code, account_type=kind, non_negative=not rules.may_go_negative(kind), **owners
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        # Another writer created it first; use theirs.
        account = session.execute(
            select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
        ).scalars().one()
    return account


def _fetch_and_lock(session: Session, council_id: int, codes: list[str]) -> dict[str, tuple[int, int, bool]]:
    query = (
        select(LedgerAccount.id, LedgerAccount.balance_pence, LedgerAccount.non_negative, LedgerAccount.code)
        .where(LedgerAccount.council_id == council_id, LedgerAccount.code.in_(codes))
        .order_by(LedgerAccount.non_negative.desc(), LedgerAccount.id)
    )
    # Row locks in one order, so writers never deadlock: the non-negative accounts by id, then those that
    # may go negative by id, the order ledger_post_batch takes them in. SQLite needs none: every
    # transaction there holds the write lock (BEGIN IMMEDIATE).
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.code: (row.id, row.balance_pence, row.non_negative) for row in session.execute(query)}


def lock_accounts(*, session: Session, council_id: int, codes: Iterable[str]) -> dict[str, tuple[int, int, bool]]:
    """Lock the council's accounts with these codes, creating missing ones; return code -> (id, balance, non_negative)."""
    codes = sorted(set(codes))
    locked = _fetch_and_lock(session, council_id, codes)
    if len(locked) < len(codes):
        for code in codes:
            if code not in locked:
                get_or_create_account(session=session, council_id=council_id, code=code)
        locked = _fetch_and_lock(session, council_id, codes)
    return locked


def _same_request(existing: JournalEntry, fingerprint: str, key: str) -> JournalEntry:
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"The idempotency key {key!r} was already used for a different entry ({existing.id}).", field="idempotency_key"
        )
    return existing


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise Unbalanced("Every entry needs an idempotency key of 1 to 200 characters.", field="idempotency_key")
    return key


def post_entry(
    *,
    session: Session,
    actor: User,
    council_id: int,
    kind: EntryKind | str,
    postings: Sequence[Leg | tuple[str, int]],
    idempotency_key: str,
    memo: str = "",
    reverses_id: int | None = None,
) -> JournalEntry:
    """Post one balanced entry; the same key with the same content returns the first entry."""
    entries = post_entries(
        session=session,
        actor=actor,
        council_id=council_id,
        entries=[EntrySpec(kind=kind, postings=postings, idempotency_key=idempotency_key, memo=memo, reverses_id=reverses_id)],
    )
    return entries[0]


def _prepare(entries: Sequence[EntrySpec]) -> list[tuple[EntrySpec, str, str, list[Leg], str, str]]:
    """Check each entry and return (spec, kind, key, legs, memo, fingerprint)."""
    prepared = []
    for spec in entries:
        key = _check_key(spec.idempotency_key)
        kind = _kind(spec.kind)
        legs = _legs(spec.postings)
        memo = (spec.memo or "")[:500]
        fingerprint = rules.request_fingerprint(kind=kind, memo=memo, legs=legs, reverses_id=spec.reverses_id)
        prepared.append((spec, kind, key, legs, memo, fingerprint))
    return prepared


def post_entries(
    *, session: Session, actor: User, council_id: int, entries: Sequence[EntrySpec], each: bool = False
) -> list[JournalEntry] | list[JournalEntry | Exception]:
    """Post many entries in the caller's transaction, with the same checks as post_entry, all or nothing.

    Raises Unbalanced, UnknownKind, UnknownAccount, Overdraft, IdempotencyConflict or AlreadyReversed;
    nothing is written when it raises. With `each` (post_in_batches), every entry stands alone: the
    list holds each entry, or the error that refused it, and the others are written.
    """
    check_scope(actor, council_id)
    if not entries:
        return []
    if each:
        return _post_each(session, actor, council_id, list(entries))
    prepared = _prepare(entries)
    if fastpath.lean(session) and all(item[0].reverses_id is None for item in prepared):
        outcomes = fastpath.post_lean(session, actor, council_id, prepared, all_or_nothing=True, now=utcnow())
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return outcomes
    return _post_python(session, actor, council_id, prepared)


def _post_python(session: Session, actor: User, council_id: int, prepared: list) -> list[JournalEntry]:
    """The write path in Python: SQLite, and reversals on PostgreSQL."""
    # Repeats of a key, in this batch or from before, return the first entry.
    keys = [key for _, _, key, _, _, _ in prepared]
    existing = {
        e.idempotency_key: e
        for e in session.execute(
            select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_(set(keys)))
        ).scalars()
    }
    results: list[JournalEntry | None] = []
    fresh = []
    seen: dict[str, str] = {}
    for item in prepared:
        key, fingerprint = item[2], item[5]
        if key in existing:
            results.append(_same_request(existing[key], fingerprint, key))
        elif key in seen:
            if seen[key] != fingerprint:
                raise IdempotencyConflict(f"The idempotency key {key!r} is used twice in this batch for different entries.", field="idempotency_key")
            results.append(None)  # filled from its first occurrence below
        else:
            seen[key] = fingerprint
            fresh.append(item)
            results.append(None)
    if not fresh:
        return [r if r is not None else existing[k] for r, k in zip(results, keys)]
    for spec, *_ in fresh:
        if spec.reverses_id is not None:
            _check_reversible(session, council_id, spec.reverses_id)

    locked = lock_accounts(session=session, council_id=council_id, codes=(leg.account for *_, legs, _, _ in fresh for leg in legs))
    account_ids = {code: row[0] for code, row in locked.items()}
    _check_overdraft(fresh, account_ids, {row[0]: (row[1], row[2]) for row in locked.values()})

    now = utcnow()
    actor_id = actor.id
    entry_rows = []
    posting_sets = []
    for spec, kind, key, legs, memo, fingerprint in fresh:
        ordered = fastpath.ordered_legs(legs, account_ids)
        entry_rows.append(fastpath.entry_row(council_id, actor_id, now, kind, key, memo, fingerprint, spec.reverses_id, ordered))
        posting_sets.append(ordered)

    try:
        ids = _insert(session, council_id, entry_rows, posting_sets, account_ids)
    except IntegrityError as error:
        return _after_conflict(session, council_id, fresh, error, keys, results, existing)

    fastpath.expire_balances(session, set(account_ids.values()))
    created = {e.id: e for e in session.execute(select(JournalEntry).where(JournalEntry.id.in_(ids))).scalars()}
    by_key = {created[i].idempotency_key: created[i] for i in ids}
    return [r if r is not None else (existing.get(k) or by_key[k]) for r, k in zip(results, keys)]


def _check_overdraft(fresh: list, account_ids: dict[str, int], balances: dict[int, tuple[int, bool]]) -> None:
    """Run the balances forward entry by entry, so a batch cannot overdraw midway either."""
    running = {account_id: balance for account_id, (balance, _) in balances.items()}
    for *_, legs, _, _ in fresh:
        for code, delta in sorted(rules.net_by_account(legs).items()):
            account_id = account_ids[code]
            running[account_id] += delta
            if balances[account_id][1] and running[account_id] < 0:
                raise Overdraft(
                    f"Not enough money in {code}: it has {pounds(running[account_id] - delta)} "
                    f"and this needs {pounds(-delta)}.",
                    field="postings",
                )


def _insert(session: Session, council_id: int, entry_rows: list[dict], posting_sets: list[list[Leg]], account_ids: dict[str, int]) -> list[int]:
    """Insert the entries, their postings and their close rows in one savepoint; return the new entry ids in order."""
    with session.begin_nested():
        # Core inserts on the session's connection: the ORM's bulk path costs more than the database work.
        connection = session.connection()
        entry_table = JournalEntry.__table__
        ids = [
            row.id
            for row in connection.execute(entry_table.insert().returning(entry_table.c.id, sort_by_parameter_order=True), entry_rows)
        ]
        posting_rows = [
            {
                "council_id": council_id, "entry_id": entry_id, "leg": index, "account_id": account_ids[leg.account],
                "amount_pence": leg.amount, "created_at": row["created_at"],
            }
            for entry_id, row, ordered in zip(ids, entry_rows, posting_sets)
            for index, leg in enumerate(ordered, start=1)
        ]
        connection.execute(Posting.__table__.insert(), posting_rows)
        connection.execute(
            EntryClose.__table__.insert(),
            [{"entry_id": entry_id, "council_id": council_id, "leg_count": len(ordered)} for entry_id, ordered in zip(ids, posting_sets)],
        )
        # The reports' summary of pool shares, in the same savepoint: it stands or falls with the entries.
        summary.add_entries(
            session, council_id,
            [
                (row["kind"], row["idempotency_key"], row["created_at"], row["reverses_id"], [(leg.account, leg.amount) for leg in ordered])
                for row, ordered in zip(entry_rows, posting_sets)
            ],
            account_ids,
        )
    return ids


def _after_conflict(session, council_id, fresh, error, keys, results, existing):
    """A concurrent writer used one of our keys first: return its entries if they match ours."""
    found = {
        e.idempotency_key: e
        for e in session.execute(
            select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_([item[2] for item in fresh]))
        ).scalars()
    }
    if len(found) != len(fresh):
        message = str(getattr(error, "orig", error)).splitlines()[0]
        if "append-only" in message or "reverses" in message or "uq_journal_entry_reverses" in message:
            raise AlreadyReversed("That entry has already been reversed.") from None
        if "non_negative" in message or "ck_ledger_account" in message:
            raise Overdraft("Not enough money in an account for this entry.", field="postings") from None
        raise
    for _, _, key, _, _, fingerprint in fresh:
        _same_request(found[key], fingerprint, key)
    return [r if r is not None else (existing.get(k) or found[k]) for r, k in zip(results, keys)]


# The ledger's namespace of PostgreSQL advisory locks (integrity.SEALING_LOCK is 7301): (RUN_WRITER_LOCK,
# council id) makes a council's money runs post one at a time.
RUN_WRITER_LOCK = 7302


def lock_run_writer(session: Session, council_id: int) -> None:
    """Make the council's batch writers (money runs) take turns until the transaction ends; SQLite's writers already do."""
    if fastpath.lean(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :council)"), {"namespace": RUN_WRITER_LOCK, "council": council_id})


def post_in_batches(
    *,
    session: Session,
    actor: User,
    council_id: int,
    entries: Sequence[EntrySpec],
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> list[JournalEntry | Exception]:
    """Post many entries a batch at a time, each batch in a savepoint; return each entry, or the error that refused it.

    One bad entry holds up no other: it alone is left out, and its error is returned in its place.
    On PostgreSQL the council's runs take turns (`lock_run_writer`, until the caller commits) and a
    batch is one call of ledger_post_batch, which answers for each entry; elsewhere, or when the
    database refuses a batch, it is posted again one entry at a time. Every entry has an idempotency
    key, so a run that died is simply run again: what it posted comes back as the first entries.
    `progress(done, total)` is called after each batch.
    """
    check_scope(actor, council_id)
    lean = fastpath.lean(session)
    if lean:
        lock_run_writer(session, council_id)
    outcomes: list[JournalEntry | Exception] = []
    for start in range(0, len(entries), batch_size):
        batch = list(entries[start:start + batch_size])
        done = _batch_lean(session, actor, council_id, batch) if lean else None
        if done is None:
            done = _batch_python(session, actor, council_id, batch)
        outcomes.extend(done)
        if progress:
            progress(start + len(batch), len(entries))
    return outcomes


def _batch_python(session: Session, actor: User, council_id: int, batch: list[EntrySpec]) -> list[JournalEntry | Exception]:
    try:
        with session.begin_nested():
            return post_entries(session=session, actor=actor, council_id=council_id, entries=batch)
    except ENTRY_ERRORS:
        return _one_by_one(session, actor, council_id, batch)


def _one_by_one(session: Session, actor: User, council_id: int, batch: list[EntrySpec]) -> list[JournalEntry | Exception]:
    outcomes: list[JournalEntry | Exception] = []
    for spec in batch:
        try:
            with session.begin_nested():
                outcomes.extend(post_entries(session=session, actor=actor, council_id=council_id, entries=[spec]))
        except ENTRY_ERRORS as error:
            outcomes.append(error)
    return outcomes


def _batch_lean(session: Session, actor: User, council_id: int, batch: list[EntrySpec]) -> list[JournalEntry | Exception] | None:
    """Post a batch with one call that answers per entry; None when it must be posted one entry at a time."""
    if any(spec.reverses_id is not None for spec in batch):
        return None
    try:
        with session.begin_nested():
            return post_entries(session=session, actor=actor, council_id=council_id, entries=batch, each=True)
    except ENTRY_ERRORS:
        return _one_by_one(session, actor, council_id, batch)


def _post_each(session: Session, actor: User, council_id: int, batch: list[EntrySpec]) -> list[JournalEntry | Exception]:
    """Post each entry on its own merits: one call of ledger_post_batch on PostgreSQL, one savepoint each elsewhere."""
    if not fastpath.lean(session) or any(spec.reverses_id is not None for spec in batch):
        return _one_by_one(session, actor, council_id, batch)
    outcomes: list[JournalEntry | Exception | None] = [None] * len(batch)
    good, places = [], []
    for index, spec in enumerate(batch):
        try:
            good.append(_prepare([spec])[0])
            places.append(index)
        except BrokerageError as error:
            outcomes[index] = error
    if good:
        done = fastpath.post_lean(session, actor, council_id, good, all_or_nothing=False, now=utcnow())
        if any(isinstance(o, LedgerDatabaseRefused) for o in done):
            return _one_by_one(session, actor, council_id, batch)
        for index, outcome in zip(places, done):
            outcomes[index] = outcome
    return outcomes


def _check_reversible(session: Session, council_id: int, entry_id: int) -> None:
    original = session.get(JournalEntry, entry_id)
    if original is None or original.council_id != council_id:
        raise UnknownAccount("There is no such entry to reverse.", field="entry")
    if session.execute(select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id)).first() is not None:
        raise AlreadyReversed(f"Entry {entry_id} has already been reversed.", field="entry")


def entry_postings(*, session: Session, entry_id: int) -> list[tuple[str, int]]:
    """Return an entry's postings as (account code, amount) in leg order."""
    rows = session.execute(
        select(LedgerAccount.code, Posting.amount_pence)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.entry_id == entry_id)
        .order_by(Posting.leg)
    )
    return [(code, amount) for code, amount in rows]


def reverse_entry(*, session: Session, actor: User, entry_id: int, idempotency_key: str, memo: str = "") -> JournalEntry:
    """Post an entry that undoes another, pointing at it; an entry can be reversed once."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise UnknownAccount("There is no such entry.", field="entry")
    check_scope(actor, original.council_id)
    if original.reverses_id is not None:
        raise AlreadyReversed("A reversal cannot itself be reversed; post a new entry instead.", field="entry")
    legs = [Leg(code, -amount) for code, amount in entry_postings(session=session, entry_id=entry_id)]
    return post_entry(
        session=session, actor=actor, council_id=original.council_id, kind=EntryKind.reversal, postings=legs,
        idempotency_key=idempotency_key, memo=memo or f"Reverses entry {entry_id}: {original.memo}"[:500], reverses_id=entry_id,
    )
