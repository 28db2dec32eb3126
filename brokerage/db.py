"""The database engine and one SQLModel session per request, as in flaskr's db.py."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

from brokerage.errors import ValidationFailed
from brokerage.validation import CONTROL_MESSAGE


# Requests that only read start a deferred SQLite transaction, which takes no write lock; every
# other transaction (forms, CLI commands, jobs) takes the write lock at BEGIN.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long a web request waits for SQLite's write lock before answering 503 "busy, try again";
# commands and jobs nobody is watching wait longer.
REQUEST_BUSY_SECONDS = 5
BACKGROUND_BUSY_SECONDS = 30
_begin_mode: ContextVar[str | None] = ContextVar("sqlite_begin_mode", default=None)


def _sqlite_begin_statement() -> tuple[str, float]:
    """Return how this SQLite transaction begins (deferred for reads) and how long it waits for the write lock."""
    in_request = has_request_context()
    mode = _begin_mode.get()
    if mode is None:
        mode = "deferred" if in_request and request_reads_only() else "immediate"
    busy = float(current_app.config.get("SQLITE_REQUEST_BUSY_SECONDS", REQUEST_BUSY_SECONDS)) if in_request else BACKGROUND_BUSY_SECONDS
    return ("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN DEFERRED"), busy


@contextmanager
def reading_only() -> Iterator[None]:
    """Begin SQLite transactions deferred inside this block (no write lock): for work that only reads."""
    token = _begin_mode.set("deferred")
    try:
        yield
    finally:
        _begin_mode.reset(token)


def _nul_parameter(parameters, names) -> str | None:
    """Return the name of the first statement parameter holding a NUL character, or None."""
    batches = parameters if isinstance(parameters, list) else [parameters]
    for batch in batches:
        items = batch.items() if isinstance(batch, dict) else enumerate(batch or ())
        for key, value in items:
            if isinstance(value, str) and "\x00" in value:
                if isinstance(key, int):
                    key = names[key] if names and key < len(names) else "text"
                return re.sub(r"(_\d+)+$", "", str(key))
    return None


def refuse_nul_characters(engine: Engine) -> None:
    """Refuse any statement that would send a NUL character, the same way on every database.

    PostgreSQL cannot store NUL in text and fails with a bare error; SQLite stores it silently.
    Forms and schemas refuse control characters beside the field; this is the safety net for any
    input that reaches the database another way, so a new field cannot bring the 500 back.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_nul(_connection, _cursor, _statement, parameters, context, _executemany):
        compiled = getattr(context, "compiled", None)
        name = _nul_parameter(parameters, getattr(compiled, "positiontup", None))
        if name is not None:
            raise ValidationFailed({name: [CONTROL_MESSAGE]})


def writes_when_reading(view):
    """Mark a view whose GET also writes (a staff read recorded in the access log).

    On SQLite a deferred transaction that has read cannot take the write lock while another
    connection holds it (it fails at once, without waiting), so such a view begins with the write
    lock like a form does, and waits for a busy database instead of failing.
    """
    view.writes_when_reading = True
    return view


def only_jobs_write(view):
    """Mark a view (a form sent with POST) that writes nothing itself: the jobs it enqueues do the writing.

    A job works in its own session. Such a view's transaction only reads, so on SQLite it begins
    without the write lock and an inline job can take it at once; and nothing of the view's is left
    uncommitted for the job not to see. The commit point checks that the view wrote nothing.
    """
    view.only_jobs_write = True
    return view


def _view_marker(name: str) -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, name, False))


def request_reads_only() -> bool:
    """Tell whether this request's transaction only reads: a page (GET, HEAD), a view marked `only_jobs_write`,
    or any request once its changes are committed."""
    if g.get("db_committed") or _view_marker("only_jobs_write"):
        return True
    return request.method in SAFE_METHODS and not _view_marker("writes_when_reading")


def make_engine(url: str) -> Engine:
    """Create an engine, with foreign keys and sane locking on SQLite."""
    engine = _make_engine(url)
    refuse_nul_characters(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BACKGROUND_BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Foreign keys are off by default in SQLite; WAL lets readers work during a write.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BACKGROUND_BUSY_SECONDS * 1000}")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
            # Let SQLAlchemy, not the driver, decide when transactions begin, so SAVEPOINTs work.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # A writer takes the write lock up front: a deferred transaction that reads and then
            # writes can fail at once with "database is locked" instead of waiting, and ledger
            # writers must see each other's balances (SQLite has no row locks; see locks.py).
            # A read-only request begins deferred, so one long writer does not stall every page.
            statement, busy_seconds = _sqlite_begin_statement()
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
            connection.exec_driver_sql(statement)

        return engine
    # Pre-ping: a connection the server dropped (a restart, a failover) is replaced at checkout instead
    # of failing a request. It costs one round trip per checkout. It was off for a while because the
    # ledger bench fell from about 830 to 150 entries a second with it on; the fall came from the
    # write function's cached plans scanning the council's entries and accounts (migration 0035), not
    # from the ping: with 0035, the service slice posts 480-510 entries a second with pre-ping on.
    # Connections are replaced after an hour, before most idle timeouts.
    return create_engine(url, pool_pre_ping=True, pool_recycle=3600)


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and close the session at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["db_engine"]


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
        event.listen(g.db_session, "after_flush", _track_written_tables)
        event.listen(g.db_session, "do_orm_execute", _track_written_statement)
    return g.db_session


def rollback_request_session() -> None:
    """Roll back whatever this request did not commit."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


@dataclass
class Changes:
    """What a block wrote, as counted by `noting_changes`."""

    rows: int = 0

    @property
    def none(self) -> bool:
        """Whether the block added, changed and deleted nothing."""
        return self.rows == 0


@contextmanager
def noting_changes(session: Session) -> Iterator[Changes]:
    """Count the rows the block adds, changes or deletes (it flushes at the end), so a page can say "Nothing was changed".

    A row given values equal to those it has is not counted: SQLAlchemy writes nothing for it either.
    """
    changes = Changes()

    def count_flush(flushed: Session, _flush_context) -> None:
        changes.rows += len(flushed.new) + len(flushed.deleted) + sum(1 for record in flushed.dirty if flushed.is_modified(record))

    def count_statement(state) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            changes.rows += 1

    event.listen(session, "after_flush", count_flush)
    event.listen(session, "do_orm_execute", count_statement)
    try:
        yield changes
        session.flush()
    finally:
        event.remove(session, "after_flush", count_flush)
        event.remove(session, "do_orm_execute", count_statement)


# A page that only reads (GET, HEAD) may record two things: that staff read a person's record, and a public
# report's quarter frozen the first time it is shown (brokerage.transparency.models.PublishedQuarter).
READS_MAY_WRITE = frozenset({"access_log", "published_quarter"})


def _track_written_tables(session: Session, _flush_context) -> None:
    """Remember which tables this session has written, so a read-only request that writes is caught."""
    written = session.info.setdefault("written_tables", set())
    for record in (*session.new, *session.dirty, *session.deleted):
        table = getattr(record, "__tablename__", None)
        if table:
            written.add(table)


def _track_written_statement(state) -> None:
    """Remember the table of an INSERT, UPDATE or DELETE statement run through the session (not a flush)."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        state.session.info.setdefault("written_tables", set()).add(table or "?")


def _check_reads_only(session: Session) -> None:
    written = session.info.get("written_tables", set())
    if _view_marker("only_jobs_write"):
        problem = "a view whose jobs do the writing must not write itself"
    elif request.method in SAFE_METHODS:
        written = written - READS_MAY_WRITE
        problem = "a page that reads must not write"
    else:
        return
    if written:
        message = f"{request.method} {request.path} wrote to {', '.join(sorted(written))}: {problem}"
        if current_app.testing:
            raise RuntimeError(message)
        current_app.logger.error(message)


def keep_changes_when_refused() -> None:
    """Commit this request's changes even though it answers with an error (a failed sign-in still counts)."""
    g.db_keep_when_refused = True


def after_commit(callback) -> None:
    """Call `callback()` once this request's changes are committed, and never if they are rolled back.

    `jobs.enqueue_after_commit` uses it: a job that must see what the request wrote (a stored Stripe
    event, a released payment run) is queued only once that is committed.
    """
    g.setdefault("db_after_commit", []).append(callback)


def finish_request(status: int) -> None:
    """The one commit point of a request: commit when the answer is a success or a redirect, roll back otherwise.

    Views and services never commit (STYLE.md habits 3 and 4). An error raised from a view never gets
    here: its handler rolls back. A commit that fails (a unique or deferred check) raises into the
    request's error handlers like any other error, so a race is a clear 409, never a 500.
    """
    session = g.get("db_session")
    if session is None:
        return
    if status < 400 or g.pop("db_keep_when_refused", False):
        # Flush first, so the check below sees every write the commit would make.
        session.flush()
        _check_reads_only(session)
        session.commit()
        g.db_committed = True
        for callback in g.pop("db_after_commit", []):
            callback()
    else:
        _check_reads_only(session)
        session.rollback()


def close_session(_exc: BaseException | None = None) -> None:
    """Roll back uncommitted work and close the request's session."""
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """Yield a session for CLI and job work that commits on success and rolls back on error.

    On SQLite its transaction takes the write lock up front, even inside a read-only request.
    """
    app = app or current_app
    session = app.extensions["db_sessionmaker"]()
    token = _begin_mode.set("immediate")
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        _begin_mode.reset(token)
