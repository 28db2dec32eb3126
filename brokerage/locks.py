"""Row locks for rules that span rows, and clear answers when two requests insert the same row.

A rule that spans several rows (a group's size, one first member, a holder's pledges within their
allocation, a proposal decided once) is guarded by a lock on the one row that owns it. On
PostgreSQL that is `SELECT ... FOR UPDATE`; the locked row is re-read, so a request that waited
sees what the other one committed. SQLite has no row locks: there every writing transaction holds
the database's write lock from its start (`BEGIN IMMEDIATE`, see `db.py`), so writers take turns.

Locks are always taken in this order, and never the other way round, so two requests cannot
each hold a lock the other waits for (a deadlock):

    0. the money runs      the council's one writer, by name (`ledger.services.lock_run_writer`)
    1. the cluster         size, admission, the first member, deciding its proposals, dissolving
    2. the proposal        deciding it once (after its cluster)
    3. providers' hours    the council's, by name (`lock_provider_hours`, below)
    4. a contract          a change to it passing (`contracts.changes.apply_change`)
       or holders          pledges within the allocation, the allocation itself; several in id order
    5. ledger accounts     in id order (`ledger.services.lock_accounts`)

A batch of decisions may lock a holder and then a contract, or a contract and then a holder: it
holds the providers' hours, which every decision takes, and nothing else locks one and then waits
for the other.

Every transaction that decides proposals (a vote, a notice settling the group's votes, the batch of
due proposals) takes the providers' hours right after its groups and proposals, before any decision
locks a contract or a holder: deciding one proposal can settle others, and a pledge change and a
contract change decided in opposite orders by two such transactions would otherwise wait for each
other (one holding a member's row, the other the providers' hours). So decisions in one council take
turns; they are few, and each is quick.

An email address is locked by name (`lock_name`), after the holder, provider or invitation row its
request locks and before nothing else: inviting someone at an address (one waiting invitation per
address that would make an account) has no row of its own to lock. Inviting a provider, and accepting
its invitation, lock the provider's row (after the invitation's, when accepting), so one provider never
gets two accounts.

A matching run's row guards its assignments (hours within a line and a provider's capacity, sent
once) and is locked before anything else: `matching.parts.adjust` and `change_times` (or, before it on
the times page, `part_room(to_change=True)`) lock it, then the providers' hours; `send_to_clusters` locks it, then all the groups it sends to (in id order),
then the providers' hours. No decision locks a run.

The council's providers' free hours beside care already agreed or out to a vote are locked by name,
one lock for the whole council (`lock_provider_hours`): a send covers several providers, and so does
a batch of decisions, and providers' rows locked in two orders would deadlock; nor does it meet the
key-share lock that inserting a contract takes on its provider's row. Holders are also locked FOR NO
KEY UPDATE (KEY_SHARE_TABLES), so a vote's insert referring to its member never holds a decision up.
The money runs queue on their writer before any row, then lock the groups they pay into or out of
(the pledge collection locks every active group, so a group closed meanwhile gets nothing after its
refunds), then accounts. Preparing a payment run locks the council's payable accounts and nothing else, so a
timesheet approved meanwhile is in both what a line pays and the timesheets it lists, or in neither. A provider saving its offer locks its own row and nothing else, so a save
that waited is checked against the other's (fewer staff and more hours in one time of day, saved at once,
each checked against the staff count it had read, both passed). It takes no part in the providers' hours:
it may take hours off that care already uses (that care goes on), and what is sent after is checked.

The cluster comes before its proposals because deciding one proposal can touch the others (a
dissolve closes them all) and change the group's size: a vote therefore locks its group first.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from brokerage.errors import BrokerageError

Row = TypeVar("Row")

# SQLSTATE codes: unique violation, and the ones that mean "busy, try again".
PG_UNIQUE_VIOLATION = "23505"
PG_RETRYABLE = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


# Tables whose rows are locked FOR NO KEY UPDATE: it does not wait for the key-share lock that inserting a row
# referring to one takes (a member's vote refers to its holder), so a vote cannot close a circle of waits with a
# batch of decisions that locks the holder after the providers' hours. Every other table keeps FOR UPDATE: some
# rules rely on it making such an insert wait (a pool share opened in a group that a vote is dissolving).
KEY_SHARE_TABLES = frozenset({"holder"})


def _key_share(model) -> bool:
    """Tell whether a table's rows are locked FOR NO KEY UPDATE (KEY_SHARE_TABLES) rather than FOR UPDATE."""
    return getattr(model, "__tablename__", None) in KEY_SHARE_TABLES


def lock_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """Lock one row until the transaction ends and return it with its latest committed values."""
    statement = (
        select(model)
        .where(model.id == row_id)
        # SQLite's compiler leaves this out: its writers already hold the write lock.
        .with_for_update(key_share=_key_share(model))
        .execution_options(populate_existing=True)
    )
    return session.execute(statement).scalars().first()


def lock_rows(session: Session, model: type[Row], row_ids: Iterable[int]) -> list[Row]:
    """Lock several rows of one table in id order (so two requests never wait on each other) and return them."""
    ids = sorted({int(i) for i in row_ids})
    if not ids:
        return []
    statement = (
        select(model)
        .where(model.id.in_(ids))
        .order_by(model.id)
        .with_for_update(key_share=_key_share(model))
        .execution_options(populate_existing=True)
    )
    return list(session.execute(statement).scalars())


def lock_name(session: Session, name: str) -> None:
    """Lock a name (an email address, say) until the transaction ends, for a rule that no one row owns.

    PostgreSQL: a transaction-level advisory lock on a 64-bit hash of the name (two names sharing a hash
    only wait for each other). SQLite: nothing to do, its writers already take turns.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})


def lock_provider_hours(session: Session, council_id: int) -> None:
    """Lock the free hours of a council's providers (their offer less care agreed or out to a vote) until the transaction ends.

    Taken last (see the order above) by whatever gives a provider's hours: sending a run, a broker
    changing a proposed part, a contract change passing.
    """
    lock_name(session, f"provider-hours:{int(council_id)}")


def fresh_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """Re-read one row as committed now, replacing what the session remembered (no lock)."""
    statement = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    return session.execute(statement).scalars().first()


def is_unique_violation(error: BaseException) -> bool:
    """Tell whether a database error is a unique constraint refusing a second copy of a row."""
    if not isinstance(error, IntegrityError):
        return False
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == PG_UNIQUE_VIOLATION:
        return True
    message = str(original or error)
    return "UNIQUE constraint failed" in message


def is_busy(error: BaseException) -> bool:
    """Tell whether a database error means it was busy with other writers, so trying again later will work."""
    if not isinstance(error, OperationalError):
        return False
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in PG_RETRYABLE:
        return True
    message = str(original or error).lower()
    return "database is locked" in message or "database is busy" in message or "database table is locked" in message


@contextmanager
def insert_once(session: Session, error: BrokerageError) -> Iterator[None]:
    """Flush the inserts made inside this block in a savepoint; if another request inserted the same row first, raise `error`.

    The check before an insert ("has this member voted already?") cannot see a row another request
    has not committed yet; the unique constraint does, and this turns its refusal into the domain's
    own clear answer instead of a 500. The savepoint keeps the rest of the transaction usable.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as failure:
        if not is_unique_violation(failure):
            raise
        raise error from None
