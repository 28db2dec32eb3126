"""Helpers for racing real transactions: committed data, threads that start together, and a row that appears mid-request."""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from typing import Callable

import pytest

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel


def committed_factory(engine) -> sessionmaker:
    """Return a session factory whose commits other connections see (outside the test's rolled-back transaction)."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


@pytest.fixture(name="factory")
def council_factory(engine):
    """Return a committing session factory, and delete every council the test made afterwards (`factory.councils`).

    A race test module imports this (`from tests.races import council_factory`) and asks for `factory`.
    """
    made = committed_factory(engine)
    made.councils = []
    yield made
    for council_id in made.councils:
        purge_council(made, council_id)


def new_council(session):
    """Add a council with a unique slug."""
    from tests import factories as f

    return f.CouncilFactory(session=session, slug=f"race-{uuid.uuid4().hex[:10]}")


def race(factory: sessionmaker, jobs: list[Callable[[Session], object]]) -> list[object]:
    """Run each job in its own thread, session and transaction, all starting at once; return each result or exception.

    A job returns normally to commit; an exception rolls its transaction back and is returned.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index: int, job) -> None:
        with factory() as session:
            # Connect before the barrier, so the jobs really start their work together.
            session.connection()
            barrier.wait(timeout=30)
            try:
                results[index] = job(session)
                session.commit()
            except Exception as error:  # the result under test, not a failure of the helper
                session.rollback()
                results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing transaction never finished (deadlock?)"
    return results


def purge_council(factory: sessionmaker, council_id: int) -> None:
    """Delete everything a test committed for one council, its append-only ledger rows included.

    The ledger's triggers refuse DELETE, so they are switched off for this one transaction only:
    PostgreSQL skips them under `session_replication_role = replica`; SQLite drops them and makes
    them again before the commit (its schema changes are transactional).
    """
    from brokerage.accounts.models import Council

    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if "council_id" in t.c]
    with factory() as session:
        connection = session.connection()
        triggers = []
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = [t.name for t in tables]
            triggers = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({})".format(", ".join(f"'{n}'" for n in names)))
            ).all()
            for name, _ in triggers:
                connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for table in tables:
            connection.execute(delete(table).where(table.c.council_id == council_id))
        connection.execute(delete(Council).where(Council.id == council_id))
        for _, sql in triggers:
            connection.exec_driver_sql(sql)
        session.commit()


@contextmanager
def row_appears_after_check(row, where_columns: tuple[str, ...]):
    """Insert a copy of the unsaved model `row` right after the first SELECT on its table that filters on these columns.

    This is another request committing the same row between a service's "does it exist yet?" check
    and its own insert, the window a unique constraint guards. Yields a list that records the insert.
    """
    table = type(row).__table__
    values = {c.name: getattr(row, c.name) for c in table.columns if getattr(row, c.name) is not None}
    inserted: list[dict] = []

    def after_check(state):
        if inserted or not state.is_select:
            return None
        statement = state.statement
        froms = {getattr(t, "name", None) for t in statement.get_final_froms()}
        where = str(statement.whereclause) if statement.whereclause is not None else ""
        if table.name not in froms or not all(f"{table.name}.{column}" in where for column in where_columns):
            return None
        frozen = state.invoke_statement().freeze()
        state.session.connection().execute(insert(table).values(**values))
        inserted.append(values)
        return frozen()

    event.listen(OrmSession, "do_orm_execute", after_check)
    try:
        yield inserted
    finally:
        event.remove(OrmSession, "do_orm_execute", after_check)


def pause_after_select(session, table, where_column: str, seconds: float, *, for_update: bool = False) -> None:
    """Make this session wait `seconds` right after its first SELECT on `table` (or on any of a list of tables) filtering on `where_column`.

    Holds a transaction open just after it has read what a rule depends on, so a racing request
    surely runs in that window: with the row lock it must wait, without it the rule breaks.
    """
    import time

    tables = table if isinstance(table, (list, tuple)) else [table]
    done: list[bool] = []

    def after(state):
        if done or not state.is_select or (for_update and state.statement._for_update_arg is None):
            return None
        froms = {getattr(t, "name", None) for t in state.statement.get_final_froms()}
        where = str(state.statement.whereclause) if state.statement.whereclause is not None else ""
        if not any(t.name in froms and f"{t.name}.{where_column}" in where for t in tables):
            return None
        done.append(True)
        frozen = state.invoke_statement().freeze()
        time.sleep(seconds)
        return frozen()

    event.listen(session, "do_orm_execute", after)


def count_rows(session, model, **where) -> int:
    """Count the rows of a model matching these column values."""
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return len(session.execute(query).all())
