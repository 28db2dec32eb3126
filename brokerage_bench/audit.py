"""`brokerage bench audit`: build a council's full history, then time the audit pages' queries and the pack on it.

1. Build (brokerage_bench.audit_world, brokerage_bench.audit_money): one council with H holders in
   groups of about five, providers of every kind, contracts, and W weeks of money posted through
   the ledger's batch API with every check on, dated week by week by moving `brokerage.clock`; the
   ledger is sealed every fourth week and at the end.
2. Time (brokerage_bench.audit_queries): each query in QUERIES a few times as the council's officer
   (the median counts), and the pack once.

Human-readable lines go to stdout (progress to stderr, drawn only on a terminal) and the last stdout
line is one JSON object with `{query}_ms` for each query, `pack_s`, and the history's size.

The database must be a scratch one, named as `brokerage bench ledger` requires (its name starts
with `bench`, or --i-know-this-is-scratch). The bench migrates it to head. The councils it builds
stay (the ledger is append-only). A finished build is recorded in the bench's own table
`bench_audit_history` (created here, in no migration) once its last seal is committed; with
--reuse, a recorded history of the same holders, weeks and seed is timed again instead of built.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import click
from sqlalchemy import BigInteger, Column, DateTime, Float, Integer, MetaData, Table, event, func, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.schema import CreateTable
from sqlmodel import Session

from brokerage import clock
from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.db import make_engine, reading_only
from brokerage.ledger.integrity import seal
from brokerage.ledger.models import JournalEntry, LedgerSeal, PoolMonth, Posting
from brokerage.holders.models import Holder
from brokerage.migrate import upgrade
from brokerage.payments.run_models import PaymentRun
from brokerage.providers.models import Provider
from brokerage.timesheets.models import Timesheet
from brokerage.types import Role
from brokerage.wiring import connect_domains
from brokerage_bench.audit_money import HistoryClock, History
from brokerage_bench.audit_queries import PACK, QUERIES, Timed
from brokerage_bench.audit_world import create_world
from brokerage_bench.ledger import BenchError, _first_line, check_database, check_scratch

QUERY_GOAL_MS = 300
PACK_GOAL_S = 20
MAX_WEEKS = 520

# The bench's own record of finished builds: its own MetaData, so it never joins the app's models or migrations.
_metadata = MetaData()
HISTORY = Table(
    "bench_audit_history", _metadata,
    Column("id", Integer, primary_key=True),
    Column("council_id", Integer, nullable=False),
    Column("holders", Integer, nullable=False),
    Column("weeks", Integer, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("entries", BigInteger, nullable=False),
    Column("postings", BigInteger, nullable=False),
    Column("build_s", Float, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False),
)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def frozen_clock(moment: datetime) -> Iterator[None]:
    """Hold `brokerage.clock.now` at one moment (aware), then give the real clock back."""
    real = clock.now
    clock.now = lambda: moment
    try:
        yield
    finally:
        clock.now = real


def _fast_commits(engine: Engine) -> None:
    """Let the build's PostgreSQL sessions commit without waiting for the disk (a crash could lose the last commits, never corrupt)."""
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _no_wait(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
            dbapi_connection.commit()


class DatabaseCpu:
    """Add up the CPU time of the PostgreSQL processes serving an engine's connections, when they run on this machine."""

    def __init__(self, engine: Engine) -> None:
        self.pids: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pids.add(cursor.fetchone()[0])
        dbapi_connection.commit()

    def seconds(self) -> float | None:
        """Return the CPU seconds those processes used so far, or None when none of them can be seen here."""
        ticks, seen = 0, False
        for pid in self.pids:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                    continue  # a database elsewhere: the number is some local process's
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
            seen = True
        return ticks / os.sysconf("SC_CLK_TCK") if seen else None


@dataclass
class Built:
    """A finished history: its council, how long it took and when it ended; CPU figures only when built in this run."""

    council_id: int
    build_s: float
    built_at: datetime
    cpu_s: float | None = None
    database_cpu_s: float | None = None


# Every table the build writes, for VACUUM (ANALYZE) at the end.
WRITTEN = ("journal_entry", "posting", "entry_close", "entry_sequence", "ledger_seal", "ledger_account", "ledger_pool_month",
           "timesheet", "payment_run", "payment_line", "membership", "contract", "cluster", "holder", "provider", "vetting_item")


def _vacuum(engine: Engine, tables: tuple[str, ...], *, analyze: bool = False) -> None:
    """VACUUM (and ANALYZE) tables on PostgreSQL, outside any transaction; nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.exec_driver_sql(f"VACUUM {'(ANALYZE) ' if analyze else ''}{table}")


def _tidy(engine: Engine) -> Callable[[int], None] | None:
    """Return what the build does between weeks on PostgreSQL: what autovacuum would have done in a week.

    Every posting updates its account's cached balance, so a week leaves tens of thousands of dead
    account rows behind, and the funding account, which every direct payment touches, drags its own
    dead versions through each update until they are vacuumed: a direct payment run then costs more
    every month. In a real council a week passes between runs and autovacuum clears them; the bench
    plays weeks seconds apart (and autovacuum may be off, as on the development machine), so it
    vacuums the accounts every week and, every quarter, vacuums and analyses the ledger's tables.
    """
    if engine.dialect.name != "postgresql":
        return None

    def tidy(week: int) -> None:
        if week % 13 == 0:
            _vacuum(engine, WRITTEN[:7], analyze=True)
        else:
            _vacuum(engine, ("ledger_account",))

    return tidy


def find_built(engine: Engine, *, holders: int, weeks: int, seed: int):
    """Return the newest recorded build of this size and seed whose council is still there, or None."""
    with engine.connect() as connection:
        return connection.execute(
            select(HISTORY).join(Council.__table__, Council.__table__.c.id == HISTORY.c.council_id)
            .where(HISTORY.c.holders == holders, HISTORY.c.weeks == weeks, HISTORY.c.seed == seed)
            .order_by(HISTORY.c.id.desc()).limit(1)
        ).first()


def build(engine: Engine, *, holders: int, weeks: int, seed: int, batch: int, threads: int = 1, on_week=None) -> Built:
    """Build and record a history, posting with `threads` threads at once."""
    _fast_commits(engine)
    meter = DatabaseCpu(engine)
    engine.dispose()  # the connections made from here on wait for no disk and are counted
    if engine.dialect.name == "postgresql":
        # A batch's entries go in as multi-row INSERTs, and psycopg parses each statement's text in Python: once per
        # text when it has at most 50 parameters, else every time. Pages of five rows stay under that, which saves
        # about a sixth of the build's own CPU; the database does the same work either way.
        engine = engine.execution_options(insertmanyvalues_page_size=5)
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    real_now = clock.now()
    today = clock.london(real_now).date()
    # The history's last week is the one before this week, so every entry lies in the past.
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks)
    history_clock = HistoryClock()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        history_clock.at(start - timedelta(days=7), 9)
        world = create_world(factory, slug=f"bench-audit-{secrets.token_hex(4)}", holders=holders, weeks=weeks, start=start,
                             today=today, seed=seed, parts=threads)
        history = History(world, factory, history_clock, batch=batch, seed=seed)
        history.play(on_week=on_week, between_weeks=_tidy(engine))
    finally:
        history_clock.restore()
    # The figures are of a council in steady state, whose tables autovacuum has visited since: statistics for the
    # planner, and visibility maps for index-only scans.
    _vacuum(engine, WRITTEN, analyze=True)
    with factory() as session:
        # Anything still unsealed (nothing, normally) is sealed with the record, which marks the build finished.
        seal(session=session, actor=history.system, council_id=world.council_id)
        entries, postings = _counts(session, world.council_id)
        build_s = time.perf_counter() - started
        built_at = clock.now()
        session.connection().execute(HISTORY.insert().values(
            council_id=world.council_id, holders=holders, weeks=weeks, seed=seed, entries=entries, postings=postings,
            build_s=build_s, built_at=built_at,
        ))
        session.commit()
    return Built(world.council_id, build_s, built_at, time.process_time() - cpu_started, meter.seconds())


def _counts(session: Session, council_id: int) -> tuple[int, int]:
    entries = session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id == council_id)).scalar_one()
    postings = session.execute(select(func.count()).select_from(Posting).where(Posting.council_id == council_id)).scalar_one()
    return entries, postings


def time_one(factory: sessionmaker, timed: Timed, actor: User, council: Council, repeat: int) -> list[float]:
    """Run one query `repeat` times, each in a session of its own; return the times in ms."""
    times = []
    for _ in range(repeat):
        with reading_only(), factory() as session:
            if timed.prepare is not None:
                timed.prepare(session, actor, council)
            started = time.perf_counter()
            timed.run(session, actor, council)
            times.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return times


def _shape(session: Session, council_id: int) -> str:
    """Describe the history in one line: its size in the tables the audit pages read."""
    def count(model, *where):
        return session.execute(select(func.count()).select_from(model).where(model.council_id == council_id, *where)).scalar_one()

    figures = [(count(m), word) for m, word in (
        (Holder, "holders"), (Cluster, "groups"), (Provider, "providers"), (Contract, "contracts"), (Timesheet, "approved timesheets"),
        (PaymentRun, "payment runs"), (LedgerSeal, "seals"), (PoolMonth, "pool summary rows"),
    )]
    return ", ".join(f"{n:,} {word}" for n, word in figures)


@click.command("audit")
@click.option("--database-url", default=None, metavar="URL",
              help="Scratch database (required); its name must start with 'bench'. It is migrated to head.")
@click.option("--i-know-this-is-scratch", "scratch", is_flag=True, help="Allow a database whose name does not start with 'bench'.")
@click.option("--holders", default=5000, show_default=True, type=int, help="Budget holders in the council (at least 5: one group).")
@click.option("--weeks", default=104, show_default=True, type=int, help=f"Weeks of history, ending last week (1 to {MAX_WEEKS}).")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**31 - 1), help="Random seed of the history.")
@click.option("--reuse", is_flag=True,
              help="Time the newest history of the same holders, weeks and seed already built in this database (recorded in "
                   "bench_audit_history), instead of building another; builds one if there is none.")
@click.option("--repeat", default=5, show_default=True, type=int, help="Runs of each query; the median counts.")
@click.option("--batch-size", default=1000, show_default=True, type=int, help="Entries per post_entries call (one transaction each).")
@click.option("--threads", default=2, show_default=True, type=int,
              help="Threads posting at once while building on PostgreSQL (SQLite takes one writer at a time, so one).")
def bench_audit_command(database_url, scratch, holders, weeks, seed, reuse, repeat, batch_size, threads) -> None:
    """Build a council's full history (or --reuse one) and time the audit queries and the pack on it.

    Needs a scratch database: the council it builds and its ledger stay there. The last stdout line is
    JSON with each query's median in ms (`*_ms`), `pack_s`, and the history's size.
    """
    if holders < 5:
        _fail(f"--holders must be at least 5 (one group), not {holders}")
    if not 1 <= weeks <= MAX_WEEKS:
        _fail(f"--weeks must be between 1 and {MAX_WEEKS}, not {weeks}")
    if repeat < 1:
        _fail(f"--repeat must be at least 1, not {repeat}")
    if batch_size < 1:
        _fail(f"--batch-size must be at least 1, not {batch_size}")
    if not 1 <= threads <= 16:
        _fail(f"--threads must be between 1 and 16, not {threads}")
    try:
        url = check_scratch(database_url, scratch)
        backend = check_database(url, bench="the audit bench")
    except BenchError as error:
        _fail(str(error))
    threads = threads if backend == "postgresql" else 1
    _run(url, backend, holders=holders, weeks=weeks, seed=seed, reuse=reuse, repeat=repeat, batch=batch_size, threads=threads)


def _run(url: str, backend: str, *, holders: int, weeks: int, seed: int, reuse: bool, repeat: int, batch: int, threads: int) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        try:
            with console.status("Migrating…"):
                connect_domains()  # the ledger checks accounts' owners through hooks create_app would register
                upgrade("head", url=url)
                with engine.begin() as connection:
                    connection.execute(CreateTable(HISTORY, if_not_exists=True))
            found = find_built(engine, holders=holders, weeks=weeks, seed=seed) if reuse else None
        except Exception as error:
            _fail(f"could not set up the bench: {type(error).__name__}: {_first_line(error)}", 1)
        load_start = os.getloadavg()[0]
        click.echo(f"Audit bench on {backend} ({shown}): {holders:,} holders, {weeks} weeks, seed {seed}; "
                   f"this machine has {os.cpu_count()} CPUs, load average {load_start:.1f}")
        if found is not None:
            built = Built(found.council_id, found.build_s, found.built_at)
            with engine.begin() as connection:
                # A history built before councils could publish a report is made to publish one, so the public page is timed.
                connection.execute(update(Council).where(Council.id == built.council_id).values(publish_report=True))
            click.echo(f"Reusing the history built at {built.built_at:%Y-%m-%d %H:%M} UTC in {built.build_s:.1f} s (council "
                       f"{built.council_id}; recorded in bench_audit_history when its build finished)")
        else:
            if reuse:
                click.echo("No finished history of this size and seed is recorded here (bench_audit_history), so building one")
            columns = (TextColumn("Building"), BarColumn(), MofNCompleteColumn(), TextColumn("weeks"), TimeElapsedColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
                task = progress.add_task("build", total=weeks)
                try:
                    built = build(
                        engine, holders=holders, weeks=weeks, seed=seed, batch=batch, threads=threads,
                        on_week=lambda n: progress.update(task, completed=n),
                    )
                except Exception as error:
                    _fail(f"the build failed: {type(error).__name__}: {_first_line(error)}", 1)
            database = f", {built.database_cpu_s:.0f} s in PostgreSQL" if built.database_cpu_s is not None else ""
            click.echo(f"Built in {built.build_s:.1f} s with {threads} thread(s); CPU: {built.cpu_s:.0f} s in this process{database}")
        summary = _time_all(engine, built.council_id, built.built_at, repeat, console)
    finally:
        engine.dispose()
    summary["load"] = (load_start, os.getloadavg()[0])
    _report(summary, built, holders=holders, weeks=weeks, reused=found is not None, backend=backend, repeat=repeat)


def _time_all(engine: Engine, council_id: int, built_at: datetime, repeat: int, console) -> dict:
    """Time every query and the pack with the clock held at the history's end; return the figures."""
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    with reading_only(), factory() as session:
        council = session.get(Council, council_id)
        officer = session.execute(
            select(User).where(User.council_id == council_id, User.role == Role.council_officer).order_by(User.id).limit(1)
        ).scalar_one()
        entries, postings = _counts(session, council_id)
        shape = _shape(session, council_id)
    click.echo(f"History: {entries:,} entries, {postings:,} postings; {shape}")
    figures: dict = {"entries": entries, "postings": postings, "times": {}}
    # SQLite gives the moment back without its zone; it was stored in UTC.
    with frozen_clock(built_at if built_at.tzinfo else built_at.replace(tzinfo=timezone.utc)):
        for timed in QUERIES:
            with console.status(f"Timing {timed.name}…"):
                figures["times"][timed.name] = time_one(factory, timed, officer, council, repeat)
        with console.status("Timing the pack…"):
            figures["pack_s"] = time_one(factory, PACK, officer, council, 1)[0] / 1000
    return figures


def _report(figures: dict, built: Built, *, holders: int, weeks: int, reused: bool, backend: str, repeat: int) -> None:
    """Print a line per query, the verdict against the goals, and the JSON line last."""
    summary = {"holders": holders, "weeks": weeks, "entries": figures["entries"], "postings": figures["postings"],
               "build_s": round(built.build_s, 1), "reused": reused, "database": backend}
    if built.cpu_s is not None:
        summary["build_cpu_s"] = round(built.cpu_s, 1)
    if built.database_cpu_s is not None:
        summary["build_db_cpu_s"] = round(built.database_cpu_s, 1)
    slow = []
    for name, times in figures["times"].items():
        median = statistics.median(times)
        summary[f"{name}_ms"] = round(median, 1)
        if median >= QUERY_GOAL_MS:
            slow.append(name)
        click.echo(f"{name:<22} {median:9.1f} ms  (median of {repeat}; fastest {min(times):.1f}, slowest {max(times):.1f})"
                   + ("  SLOW" if median >= QUERY_GOAL_MS else ""))
    summary["pack_s"] = round(figures["pack_s"], 2)
    # Other work on the machine slows every figure: the load average (processes wanting a CPU) before and after.
    summary["cpus"], (summary["load_start"], summary["load_end"]) = os.cpu_count(), (round(n, 1) for n in figures["load"])
    click.echo(f"{'pack':<22} {figures['pack_s']:9.2f} s   (the auditor pack of last quarter)")
    click.echo(f"Goal: every query under {QUERY_GOAL_MS} ms: " + ("met" if not slow else f"missed by {', '.join(slow)}"))
    click.echo(f"Goal: the quarterly pack under {PACK_GOAL_S} s: " + ("met" if figures["pack_s"] < PACK_GOAL_S else "missed"))
    click.echo(json.dumps(summary))


if __name__ == "__main__":  # python -m brokerage_bench.audit --help
    bench_audit_command()
