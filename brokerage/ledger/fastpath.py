"""The ledger's write path on PostgreSQL: a batch of entries in one call of ledger_post_batch (migration 0031, rewritten by 0035).

`posting.post_entries` and `post_in_batches` come here on PostgreSQL (reversals excepted); the checks,
errors and idempotency are those of the Python path in posting.py, which SQLite keeps.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime
from typing import TYPE_CHECKING

from psycopg.rows import tuple_row
from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from brokerage.errors import ValidationFailed
from brokerage.formatting import pounds
from brokerage.ledger import rules, summary
from brokerage.ledger.errors import IdempotencyConflict, LedgerDatabaseRefused, Overdraft
from brokerage.ledger.models import JournalEntry, LedgerAccount
from brokerage.ledger.rules import Leg
from brokerage.validation import CONTROL_MESSAGE

if TYPE_CHECKING:
    from brokerage.accounts.models import User


def ordered_legs(legs: list[Leg], account_ids: dict[str, int]) -> list[Leg]:
    """Return the legs in account-id order, the order their leg numbers (and the content hash) follow."""
    return sorted(legs, key=lambda leg: (account_ids[leg.account], leg.amount))


def entry_row(council_id, actor_id, now, kind, key, memo, fingerprint, reverses_id, ordered: list[Leg]) -> dict:
    """Return an entry's row as written, with its content hash over the legs in their written order."""
    content = rules.entry_content(
        council_id=council_id, entry_id=0, kind=kind, memo=memo, actor_id=actor_id, idempotency_key=key,
        created_at=now, reverses_id=reverses_id, postings=[(leg.account, leg.amount) for leg in ordered],
    )
    return {
        "council_id": council_id, "kind": kind, "memo": memo, "actor_id": actor_id, "idempotency_key": key,
        "fingerprint": fingerprint, "created_at": now, "reverses_id": reverses_id, "content_hash": rules.content_hash(content),
    }


def expire_balances(session: Session, touched: set[int]) -> None:
    """The balance trigger changed these rows behind the ORM's back."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, LedgerAccount) and obj.id in touched:
            session.expire(obj, ["balance_pence"])


# --- the lean path on PostgreSQL ----------------------------------------------------------------
#
# One call of the ledger_post_batch function (migrations 0031 and 0035) per batch: it locks, checks, claims the
# keys and writes, with every trigger still on, and answers one row per entry. What it needs from
# Python is each leg's account id, to put the legs in id order before the content hash is taken.
# Ids never change (the 0002 guard trigger), so they are cached by council and code; the function
# checks every id against its code and answers `stale` when one is wrong (an account created in a
# transaction that was rolled back, another database), and the ids are then read again.
#
# Hot accounts: every DP issue posts to council:{c}:funding and every top-up to external:topups.
# Accounts that may go negative need no overdraft check, so the function does not lock them up
# front: the balance trigger (once per INSERT statement since migration 0038) locks them in id order
# at the end of the postings' INSERT, so their row lock is held from the end of the call to the commit only. Their cached balance stays one exact column on the account
# row, as for every account: the invariant sweep, `ledger verify` and every reader of balance_pence
# (trial balance, statements, spending, surplus, payments, audit packs) read it unchanged and in one
# row per account. Sharded counters or summing on read would free the row entirely, but would make
# balance_pence inexact inside a transaction or turn every balance read into a sum; with one call
# and a commit per batch, the remaining queue is the commit itself.

_ACCOUNT_IDS: dict[tuple, int] = {}
_ACCOUNT_IDS_LIMIT = 200_000
# On its first miss for a council, a process reads the ids of all the council's accounts at once (up to
# this many), not one entry's at a time: a new worker meeting its holders one by one paid a query per
# holder, about a third more client time per entry in the ledger bench's first round.
_COUNCIL_READ_LIMIT = 50_000
_COUNCILS_READ: set[int] = set()

# The call in the driver's own parameter style, run on the driver's cursor (`_execute`), so
# brokerage.db's NUL check of every parameter is done in `_call_parameters` instead.
# The arrays go as PostgreSQL array literals (`array_literal`), each one string cast on the server:
# the driver's own list adaptation inspects and dumps every element in Python, and was a fifth of the
# client's time per entry (measured with cProfile on `brokerage bench ledger`'s service step).
_ARGUMENTS = (
    ("council", ""), ("actor", ""), ("created_at", ""), ("all_or_nothing", ""),
    ("e_kind", "text[]"), ("e_key", "text[]"), ("e_memo", "text[]"), ("e_fingerprint", "text[]"), ("e_hash", "text[]"),
    ("l_entry", "integer[]"), ("l_leg", "integer[]"), ("l_account", "integer[]"), ("l_code", "text[]"), ("l_amount", "bigint[]"),
    ("s_entry", "integer[]"), ("s_account", "integer[]"), ("s_month", "date[]"), ("s_kind", "text[]"), ("s_provider", "integer[]"),
    ("s_contract", "integer[]"), ("s_amount", "bigint[]"), ("s_cluster", "integer[]"), ("s_holder", "integer[]"),
)
# Positional placeholders, a tuple of parameters and rows read as plain tuples: the driver then maps
# no names either way, which took the call's client CPU from about 0.46 to 0.38 ms an entry (one entry a call).
_CALL = (
    "SELECT r_index, r_status, r_entry_id, r_detail FROM ledger_post_batch("
    + ", ".join(f"%s::{cast}" if cast else "%s" for _, cast in _ARGUMENTS)
    + ")"
)
_Answer = namedtuple("_Answer", "r_index r_status r_entry_id r_detail")
# The integer arrays that may hold NULL (a pool effect with no provider or contract); the others go through _int_array.
_NULLABLE = {"s_provider", "s_contract"}


# The field a NUL character is reported against, by argument.
_FIELDS = {"e_memo": "memo", "e_key": "idempotency_key", "l_code": "postings"}


def lean(session: Session) -> bool:
    """Tell whether this session posts through ledger_post_batch (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def _account_ids(session: Session, council_id: int, codes: set[str], *, fresh: bool = False) -> dict[str, int]:
    """Return code -> account id for the council, from the cache where it can, creating accounts on first use.

    The cache needs no database in its key: ledger_post_batch checks every id names its code in
    the council, so an id from another database, or from a transaction rolled back, is caught there.
    """
    found: dict[str, int] = {}
    if not fresh:
        for code in codes:
            account_id = _ACCOUNT_IDS.get((council_id, code))
            if account_id is not None:
                found[code] = account_id
    missing = sorted(codes - found.keys())
    if missing and not fresh and council_id not in _COUNCILS_READ:
        _read_council(session, council_id)
        found.update({code: _ACCOUNT_IDS[(council_id, code)] for code in missing if (council_id, code) in _ACCOUNT_IDS})
        missing = sorted(codes - found.keys())
    if missing:
        for row in session.execute(
            select(LedgerAccount.id, LedgerAccount.code).where(LedgerAccount.council_id == council_id, LedgerAccount.code.in_(missing))
        ):
            found[row.code] = row.id
        for code in missing:
            if code not in found:
                from brokerage.ledger.posting import get_or_create_account  # the slower path: owners are checked

                found[code] = get_or_create_account(session=session, council_id=council_id, code=code).id
        if len(_ACCOUNT_IDS) > _ACCOUNT_IDS_LIMIT:
            _ACCOUNT_IDS.clear()
            _COUNCILS_READ.clear()
        _ACCOUNT_IDS.update({(council_id, code): found[code] for code in missing})
    return found


def _read_council(session: Session, council_id: int) -> None:
    """Cache the ids of every account of the council, when it has no more than _COUNCIL_READ_LIMIT."""
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.code).where(LedgerAccount.council_id == council_id).limit(_COUNCIL_READ_LIMIT + 1)
    ).all()
    if len(rows) > _COUNCIL_READ_LIMIT:
        return
    if len(_ACCOUNT_IDS) + len(rows) > _ACCOUNT_IDS_LIMIT:
        _ACCOUNT_IDS.clear()
        _COUNCILS_READ.clear()
    _ACCOUNT_IDS.update({(council_id, row.code): row.id for row in rows})
    _COUNCILS_READ.add(council_id)


def post_lean(
    session: Session, actor: User, council_id: int, prepared: list, *, all_or_nothing: bool, now: datetime
) -> list[JournalEntry | Exception]:
    """Post prepared entries with one call of ledger_post_batch; return each entry, or the error that refused it.

    With `all_or_nothing`, one refusal means nothing is written (the errors are returned for the caller
    to raise). A key repeated in the batch returns its first occurrence's entry, or IdempotencyConflict.
    """
    outcomes: list[JournalEntry | Exception | None] = [None] * len(prepared)
    firsts: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []
    unique = []
    for index, item in enumerate(prepared):
        key, fingerprint = item[2], item[5]
        if key in firsts:
            if prepared[firsts[key]][5] != fingerprint:
                conflict = IdempotencyConflict(f"The idempotency key {key!r} is used twice in this batch for different entries.", field="idempotency_key")
                if all_or_nothing:
                    return [conflict]
                outcomes[index] = conflict
            else:
                repeats.append((index, firsts[key]))
            continue
        firsts[key] = index
        unique.append((index, item))

    codes = {leg.account for _, item in unique for leg in item[3]}
    account_ids = _account_ids(session, council_id, codes)
    rows = None
    for attempt in range(2):
        call, entry_rows, posting_sets = _call_parameters(council_id, actor.id, unique, account_ids, all_or_nothing, now)
        rows = _execute(session, call)
        if rows and rows[0].r_status == "stale" and attempt == 0:
            account_ids = _account_ids(session, council_id, codes, fresh=True)
            continue
        break
    if rows and rows[0].r_index == 0:
        if rows[0].r_status == "stale":
            raise RuntimeError("ledger_post_batch: account ids are still stale after reading them again")
        return _lean_error(session, council_id, [item for _, item in unique], rows[0].r_detail, all_or_nothing, len(prepared))

    existing_ids = [row.r_entry_id for row in rows if row.r_status in ("existing", "conflict")]
    existing = {e.id: e for e in session.execute(select(JournalEntry).where(JournalEntry.id.in_(existing_ids))).scalars()} if existing_ids else {}
    touched: set[int] = set()
    for row, (index, item), entry_row, ordered in zip(rows, unique, entry_rows, posting_sets):
        spec, kind, key, legs, memo, fingerprint = item
        if row.r_status == "posted":
            outcomes[index] = _written(session, row.r_entry_id, entry_row)
            touched.update(account_ids[leg.account] for leg in ordered)
        elif row.r_status == "existing":
            outcomes[index] = existing[row.r_entry_id]
        elif row.r_status == "conflict":
            outcomes[index] = IdempotencyConflict(
                f"The idempotency key {key!r} was already used for a different entry ({row.r_entry_id}).", field="idempotency_key"
            )
        elif row.r_status == "overdraft":
            code, before, delta = row.r_detail.rsplit(" ", 2)
            outcomes[index] = Overdraft(
                f"Not enough money in {code}: it has {pounds(int(before))} and this needs {pounds(-int(delta))}.", field="postings"
            )
        else:  # skipped: all or nothing, and another entry was refused
            outcomes[index] = None
    for index, first in repeats:
        outcomes[index] = outcomes[first]
    if touched:
        expire_balances(session, touched)
    if all_or_nothing and any(isinstance(o, Exception) for o in outcomes):
        return [o for o in outcomes if isinstance(o, Exception)][:1]
    return outcomes


def _execute(session: Session, call: dict) -> list:
    """Run the call on the session's own driver connection, in its transaction; return the rows as named tuples.

    The driver's cursor, not Connection.exec_driver_sql: SQLAlchemy's statement and result machinery
    was a sixth of the client's time per entry. Its NUL check is done in _call_parameters instead,
    and a driver error is raised as SQLAlchemy's own (OperationalError, IntegrityError, …), as
    callers and retry loops expect; a lost connection is invalidated, as SQLAlchemy would.
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    cursor = driver.cursor(row_factory=tuple_row)
    parameters = tuple(call[name] for name, _ in _ARGUMENTS)
    try:
        cursor.execute(_CALL, parameters)
        return [_Answer._make(row) for row in cursor.fetchall()]
    except driver.__class__.Error as error:  # psycopg.Error
        dialect = connection.dialect
        lost = dialect.is_disconnect(error, driver, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(_CALL, parameters, error, driver.__class__.Error, connection_invalidated=lost, dialect=dialect) from error
    finally:
        cursor.close()


def _call_parameters(council_id: int, actor_id: int, unique: list, account_ids: dict[str, int], all_or_nothing: bool, now: datetime):
    """Return the function's arguments, and each entry's row and legs in id order as written, all made at `now`."""
    month = summary.month_of(now)
    call = {
        "council": council_id, "actor": actor_id, "created_at": now, "all_or_nothing": all_or_nothing,
        **{name: [] for name in ("e_kind", "e_key", "e_memo", "e_fingerprint", "e_hash", "l_entry", "l_leg", "l_account", "l_code",
                                 "l_amount", "s_entry", "s_account", "s_month", "s_kind", "s_provider", "s_contract", "s_amount",
                                 "s_cluster", "s_holder")},
    }
    entry_rows, posting_sets = [], []
    for number, (_, (spec, kind, key, legs, memo, fingerprint)) in enumerate(unique, start=1):
        ordered = ordered_legs(legs, account_ids)
        row = entry_row(council_id, actor_id, now, kind, key, memo, fingerprint, None, ordered)
        entry_rows.append(row)
        posting_sets.append(ordered)
        call["e_kind"].append(kind)
        call["e_key"].append(key)
        call["e_memo"].append(memo)
        call["e_fingerprint"].append(fingerprint)
        call["e_hash"].append(row["content_hash"])
        for leg_number, leg in enumerate(ordered, start=1):
            call["l_entry"].append(number)
            call["l_leg"].append(leg_number)
            call["l_account"].append(account_ids[leg.account])
            call["l_code"].append(leg.account)
            call["l_amount"].append(leg.amount)
        effects: dict[tuple, int] = {}
        for code, counted_kind, provider, contract, amount in summary.pool_effects(
            kind=kind, key=key, postings=[(leg.account, leg.amount) for leg in ordered]
        ):
            effects[(code, counted_kind, provider, contract)] = effects.get((code, counted_kind, provider, contract), 0) + amount
        for (code, counted_kind, provider, contract), amount in effects.items():
            _, cluster_id, holder_id = code.split(":")
            call["s_entry"].append(number)
            call["s_account"].append(account_ids[code])
            call["s_month"].append(month)
            call["s_kind"].append(counted_kind)
            call["s_provider"].append(provider)
            call["s_contract"].append(contract)
            call["s_amount"].append(amount)
            call["s_cluster"].append(int(cluster_id))
            call["s_holder"].append(int(holder_id))
    for name, cast in _ARGUMENTS:
        if cast in ("integer[]", "bigint[]"):
            call[name] = _int_array(call[name]) if name not in _NULLABLE else array_literal(call[name])
        elif cast:
            call[name] = array_literal(call[name])
            if "\x00" in call[name]:  # brokerage.db's check of every parameter, which this call does not pass through
                raise ValidationFailed({_FIELDS.get(name, name): [CONTROL_MESSAGE]})
    return call, entry_rows, posting_sets


def _int_array(values: list[int]) -> str:
    """Return a PostgreSQL array literal of ints, the common case of array_literal; TypeError for anything else."""
    return "{" + ",".join(map(int.__repr__, values)) + "}"


def array_literal(values: list) -> str:
    """Return a one-dimensional PostgreSQL array literal of ints, strings or dates; None is NULL.

    Strings are double-quoted with backslash and double quote escaped, the quoting PostgreSQL's array
    input documents ("Array Value Input"), so any text comes back exactly; the NUL character, which
    PostgreSQL text cannot hold, is refused before this.
    """
    if all(type(value) is int for value in values):  # ids, leg numbers and pence: most of the arrays
        return "{" + ",".join(map(str, values)) + "}"
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif type(value) is int:
            parts.append(str(value))
        else:
            if isinstance(value, str):
                text = str.__str__(value)  # a str enum's own text, not "Kind.name"
            elif isinstance(value, date):
                text = value.isoformat()
            else:
                raise TypeError(f"array_literal takes ints, strings and dates, not {type(value).__name__}")
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _written(session: Session, entry_id: int, row: dict) -> JournalEntry:
    """Return the entry the function wrote, built from what was sent, in the session without a SELECT.

    Built as the ORM builds a row it loads (no model validation: the values are what was written),
    which costs a seventh of the model's constructor.
    """
    entry = session.identity_map.get(identity_key(JournalEntry, entry_id))
    if entry is not None:
        return entry
    entry = _journal_entry_manager().new_instance()
    entry.__dict__.update(row, id=entry_id)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


_MANAGER = []


def _journal_entry_manager():
    """JournalEntry's ORM class manager, with the mappers configured (looked up once)."""
    if not _MANAGER:
        configure_mappers()
        _MANAGER.append(inspect(JournalEntry).class_manager)
    return _MANAGER[0]


def _lean_error(session, council_id, items, detail: str, all_or_nothing: bool, count: int):
    """The database refused the writes (and undid them): name the error as the Python path would."""
    state, constraint, message = (detail.split(" ", 2) + ["", ""])[:3]
    if constraint == "uq_journal_entry_idempotency":
        found = {
            e.idempotency_key: e
            for e in session.execute(
                select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_([item[2] for item in items]))
            ).scalars()
        }
        for _, _, key, _, _, fingerprint in items:
            if key in found and found[key].fingerprint != fingerprint:
                error: Exception = IdempotencyConflict(
                    f"The idempotency key {key!r} was already used for a different entry ({found[key].id}).", field="idempotency_key"
                )
                break
        else:
            error = LedgerDatabaseRefused(message)
    elif "non_negative" in constraint or "non_negative" in message:
        error = Overdraft("Not enough money in an account for this entry.", field="postings")
    else:
        error = LedgerDatabaseRefused(f"The database refused the entries ({state} {constraint}): {message}")
    if not all_or_nothing:  # post_in_batches posts the batch again one entry at a time
        return [LedgerDatabaseRefused(f"The database refused the batch ({state} {constraint}): {message}")] * count
    return [error]
