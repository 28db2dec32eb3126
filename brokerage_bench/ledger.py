"""`brokerage bench ledger`: how fast the ledger posts, against plain inserts of the same rows.

Three measurements on one database, in one run:

1. service: W worker processes post one three-legged entry per transaction through `post_entry`
   (a pledge from a holder's wallet split across two of their pool shares) for S seconds;
2. raw: the same W processes insert the same shape of rows (one entry row, three posting rows)
   per transaction into two bench_ tables with no constraints, triggers or indexes;
3. batch: this process posts entries in batches through `post_entries`, one transaction a batch.

Human-readable lines go to stdout (progress to stderr) and the last stdout line is one JSON object.

The database must be a scratch one: `--database-url` is required and the database's name (the
PostgreSQL database, or the SQLite file) must start with `bench`, unless `--i-know-this-is-scratch`
is given. The bench migrates it to head and posts into a council of its own (slug bench-<random>);
that council and its ledger rows stay (the ledger is append-only, and the database is scratch).
The two bench_raw_ tables are the bench's own: it creates them after migrating and drops them at
the end, also when a run fails, so they never appear in the migration history.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import random
import secrets
import sys
import time
from dataclasses import dataclass, field

import click

HOLDERS = 200
CLUSTERS = 20
ISSUE_PENCE = 100_000_000  # £1m per holder, far more than a run can pledge
BATCH_TARGET = 20_000  # entries the batch phase aims for, unless S seconds run out first
MAX_ATTEMPTS = 10  # tries per transaction before it counts as an error
MAX_ERRORS = 20  # a worker that hits this many non-transient errors stops early
READY_TIMEOUT = 180.0  # seconds a worker may take to start (imports, first connection)
PHASES = ("service", "raw")


class BenchError(Exception):
    """The bench cannot run; the message is one line for stderr."""


@dataclass(frozen=True)
class HolderCodes:
    """The accounts a holder's pledges move money between."""

    wallet: str
    pool_a: str
    pool_b: str


@dataclass(frozen=True)
class Job:
    """What each worker process needs (pickled to spawned processes)."""

    url: str
    run_id: str
    council_id: int
    actor_id: int  # the bench council's system user, whom every entry names as its actor
    holders: tuple[HolderCodes, ...]
    seconds: float
    seed: int


@dataclass
class PhaseResult:
    """What W workers did in one timed phase."""

    committed: int = 0
    retries: int = 0
    errors: int = 0
    first_error: str | None = None
    elapsed: float = 0.0
    cpu_s: float = 0.0  # CPU time the worker processes themselves used (not the database's)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.committed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def cpu_ms_per_entry(self) -> float:
        return self.cpu_s * 1000 / self.committed if self.committed else 0.0


# --- database helpers ---------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    """Use the psycopg (3) driver for bare postgresql:// URLs, as the app's settings expect."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return (text.splitlines() or [type(error).__name__])[0][:300]


def check_database(url: str, *, bench: str = "the ledger bench") -> str:
    """Return the backend name ("sqlite" or "postgresql") after connecting once, or raise BenchError."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BenchError(f"{url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BenchError(f"{bench} runs on sqlite or postgresql, not {backend}")
    if backend == "sqlite" and (not parsed.database or parsed.database == ":memory:" or "mode=memory" in url):
        raise BenchError(f"{bench} needs a SQLite file that several connections can share, not an in-memory database")
    shown = parsed.render_as_string(hide_password=True)
    connect_args = {"connect_timeout": 5} if backend == "postgresql" else {"timeout": 5}
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except Exception as error:  # an unknown driver, a malformed query string
        raise BenchError(f"cannot use the database URL {shown}: {_first_line(error)}") from None
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as error:
        raise BenchError(f"cannot reach the database at {shown}: {_first_line(error)}") from None
    finally:
        engine.dispose()
    return backend


def _raw_tables():
    """Two plain tables shaped like journal_entry and posting: an id primary key and nothing else."""
    from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table

    # Their own MetaData, so they never join the app's models or its migrations.
    metadata = MetaData()
    entry = Table(
        "bench_raw_entry", metadata,
        Column("id", Integer, primary_key=True),
        Column("council_id", Integer, nullable=False),
        Column("kind", String(40), nullable=False),
        Column("memo", String(500), nullable=False),
        Column("idempotency_key", String(200), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("content_hash", String(64), nullable=False),
    )
    posting = Table(
        "bench_raw_posting", metadata,
        Column("id", Integer, primary_key=True),
        Column("council_id", Integer, nullable=False),
        Column("entry_id", Integer, nullable=False),
        Column("leg", Integer, nullable=False),
        Column("account_id", Integer, nullable=False),
        Column("amount_pence", BigInteger, nullable=False),
    )
    return entry, posting


def _is_transient(error: BaseException) -> bool:
    """Tell whether retrying the transaction may succeed: lock waits, serialisation, lost connections."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if code in ("40001", "40P01", "55P03"):  # serialization_failure, deadlock_detected, lock_not_available
        return True
    # SQLite's "database is locked"/"busy" after busy_timeout, and connection trouble on PostgreSQL.
    return isinstance(error, OperationalError)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# --- setup --------------------------------------------------------------------------------------


def setup_world(url: str, *, holders: int, clusters: int, seconds: float) -> Job:
    """Migrate, create a bench council with holders and clusters, issue each holder a DP."""
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from brokerage.accounts.models import Council
    from brokerage.accounts.system import system_actor
    from brokerage.clusters.models import Cluster, ClusterStatus
    from brokerage.db import make_engine
    from brokerage.holders.models import Holder
    from brokerage.ledger import rules
    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.services import EntrySpec, get_or_create_account, post_entries
    from brokerage.migrate import upgrade
    from brokerage.wiring import connect_domains

    connect_domains()  # the ledger checks accounts' owners through hooks create_app would register
    upgrade("head", url=url)
    engine = make_engine(url)
    try:
        run_id = secrets.token_hex(4)
        factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
        with factory() as session:
            council = Council(slug=f"bench-{run_id}", name=f"Ledger bench {run_id}", area_districts="E1")
            session.add(council)
            session.flush()
            holder_rows = [
                Holder(
                    council_id=council.id, name=f"Bench holder {i + 1}", weekly_allocation_pence=50_000, postcode_district="E1",
                    lat=51.5155, lon=-0.0590, languages=["en"], care_needs=["home_care"],
                )
                for i in range(holders)
            ]
            cluster_rows = [
                Cluster(council_id=council.id, name=f"Bench cluster {k + 1}", kinds=["neighbourhood"], status=ClusterStatus.active)
                for k in range(clusters)
            ]
            session.add_all(holder_rows + cluster_rows)
            session.flush()
            # Each holder has a share in two clusters' pools; a pledge splits between them.
            codes = tuple(
                HolderCodes(
                    wallet=rules.wallet_code(h.id),
                    pool_a=rules.pool_code(cluster_rows[i % clusters].id, h.id),
                    pool_b=rules.pool_code(cluster_rows[(i + 1) % clusters].id, h.id),
                )
                for i, h in enumerate(holder_rows)
            )
            funding = rules.funding_code(council.id)
            actor = system_actor(session=session, council_id=council.id)
            post_entries(
                session=session, actor=actor, council_id=council.id,
                entries=[
                    EntrySpec(kind=EntryKind.dp_issued, postings=[(funding, -ISSUE_PENCE), (c.wallet, ISSUE_PENCE)],
                              idempotency_key=f"bench:{run_id}:dp:{i}", memo="Bench direct payment")
                    for i, c in enumerate(codes)
                ],
            )
            # Open the pool accounts now, so the timed runs measure posting, not first use.
            for c in codes:
                for code in (c.pool_a, c.pool_b):
                    get_or_create_account(session=session, council_id=council.id, code=code)
            session.commit()
            council_id, actor_id = council.id, actor.id
    finally:
        engine.dispose()
    return Job(
        url=url, run_id=run_id, council_id=council_id, actor_id=actor_id, holders=codes, seconds=seconds, seed=secrets.randbits(32),
    )


def create_raw_tables(url: str) -> None:
    """Create the raw baseline's tables (their own MetaData: no model or migration knows them)."""
    from sqlalchemy.schema import CreateTable

    from brokerage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table in _raw_tables():
                connection.execute(CreateTable(table, if_not_exists=True))
    finally:
        engine.dispose()


def drop_raw_tables(url: str) -> None:
    """Drop the raw baseline's tables, if they are there."""
    from brokerage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(_raw_tables()):
                table.drop(connection, checkfirst=True)
    finally:
        engine.dispose()


def _pledge(rng: random.Random, holder: HolderCodes) -> list[tuple[str, int]]:
    amount = rng.randint(200, 5_000)
    first = rng.randint(1, amount - 1)
    return [(holder.wallet, -amount), (holder.pool_a, first), (holder.pool_b, amount - first)]


# --- worker processes ---------------------------------------------------------------------------


def _actor(factory, job: Job):
    """Load the bench council's system user, the actor of every entry the bench posts."""
    from brokerage.accounts.models import User

    with factory() as session:
        return session.get(User, job.actor_id)


def _service_loop(engine, job: Job, index: int, deadline: float, counters) -> dict:
    """Post one entry per transaction through post_entry until the deadline."""
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.services import post_entry

    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    actor = _actor(factory, job)
    rng = random.Random(job.seed * 1000 + index)
    stats = {"committed": 0, "retries": 0, "errors": 0, "first_error": None, "latencies_ms": []}
    latencies = stats["latencies_ms"]
    number = 0
    cpu_started = time.process_time()
    while time.time() < deadline and stats["errors"] < MAX_ERRORS:
        postings = _pledge(rng, rng.choice(job.holders))
        key = f"bench:{job.run_id}:s{index}:{number}"
        number += 1
        started = time.perf_counter()
        for attempt in range(MAX_ATTEMPTS):
            session = factory()
            try:
                post_entry(session=session, actor=actor, council_id=job.council_id, kind=EntryKind.pledge_collected, postings=postings,
                           idempotency_key=key, memo="Bench pledge")
                session.commit()
            except Exception as error:
                session.rollback()
                if _is_transient(error) and attempt + 1 < MAX_ATTEMPTS:
                    stats["retries"] += 1
                    continue
                stats["errors"] += 1
                stats["first_error"] = stats["first_error"] or f"{type(error).__name__}: {_first_line(error)}"
                break
            finally:
                session.close()
            latencies.append((time.perf_counter() - started) * 1000)
            stats["committed"] += 1
            counters[index] = stats["committed"]
            break
    stats["cpu_s"] = time.process_time() - cpu_started
    return stats


def _raw_loop(engine, job: Job, index: int, deadline: float, counters) -> dict:
    """Insert one entry row and three posting rows per transaction with SQLAlchemy Core until the deadline."""
    from brokerage.types import utcnow

    entry, posting = _raw_tables()
    insert_entry = entry.insert().returning(entry.c.id)
    insert_posting = posting.insert()
    rng = random.Random(job.seed * 1000 + 500 + index)
    stats = {"committed": 0, "retries": 0, "errors": 0, "first_error": None, "latencies_ms": []}
    latencies = stats["latencies_ms"]
    number = 0
    cpu_started = time.process_time()
    with engine.connect() as connection:
        while time.time() < deadline and stats["errors"] < MAX_ERRORS:
            legs = _pledge(rng, rng.choice(job.holders))
            key = f"bench:{job.run_id}:r{index}:{number}"
            digest = hashlib.sha256(key.encode()).hexdigest()
            number += 1
            started = time.perf_counter()
            for attempt in range(MAX_ATTEMPTS):
                try:
                    with connection.begin():
                        now = utcnow()
                        entry_id = connection.execute(insert_entry, {
                            "council_id": job.council_id, "kind": "pledge", "memo": "Bench pledge", "idempotency_key": key,
                            "fingerprint": digest, "created_at": now, "content_hash": digest,
                        }).scalar_one()
                        connection.execute(insert_posting, [
                            {"council_id": job.council_id, "entry_id": entry_id, "leg": leg, "account_id": leg * 1000 + index,
                             "amount_pence": amount, "created_at": now}
                            for leg, (_, amount) in enumerate(legs, start=1)
                        ])
                except Exception as error:
                    if _is_transient(error) and attempt + 1 < MAX_ATTEMPTS:
                        stats["retries"] += 1
                        continue
                    stats["errors"] += 1
                    stats["first_error"] = stats["first_error"] or f"{type(error).__name__}: {_first_line(error)}"
                    break
                latencies.append((time.perf_counter() - started) * 1000)
                stats["committed"] += 1
                counters[index] = stats["committed"]
                break
    stats["cpu_s"] = time.process_time() - cpu_started
    return stats


def _worker_main(index: int, job: Job, events, start_times, counters, results) -> None:
    """Run each phase in turn: report ready, wait for the start, loop until the deadline, report."""
    engine = None
    phase = "start"
    try:
        from brokerage.db import make_engine
        from brokerage.wiring import connect_domains

        connect_domains()  # a spawned process starts with empty registries
        engine = make_engine(job.url)
        with engine.connect() as connection:  # open the first connection before the clock starts
            connection.exec_driver_sql("SELECT 1")
        loops = {"service": _service_loop, "raw": _raw_loop}
        for number, phase in enumerate(PHASES):
            results.put(("ready", index, phase, None))
            events[number].wait()
            deadline = start_times[number] + job.seconds
            stats = loops[phase](engine, job, index, deadline, counters)
            stats["ended_at"] = time.time()
            results.put(("done", index, phase, stats))
    except BaseException as error:  # noqa: BLE001 - report anything, the parent decides
        results.put(("failed", index, phase, f"{type(error).__name__}: {_first_line(error)}"))
    finally:
        if engine is not None:
            engine.dispose()


class _Workers:
    """W spawned processes that run the timed phases together."""

    def __init__(self, job: Job, workers: int) -> None:
        import multiprocessing

        self.ctx = multiprocessing.get_context("spawn")
        self.workers = workers
        self.events = [self.ctx.Event() for _ in PHASES]
        self.start_times = self.ctx.Array("d", len(PHASES), lock=False)
        self.counters = self.ctx.Array("q", workers, lock=False)
        self.results = self.ctx.Queue()
        self.early: list[tuple] = []
        self.ready: set[int] = set()
        self.processes = [
            self.ctx.Process(
                target=_worker_main, args=(i, job, self.events, self.start_times, self.counters, self.results),
                name=f"ledger-bench-{i}", daemon=True,
            )
            for i in range(workers)
        ]
        for process in self.processes:
            process.start()

    def _collect(self, kind: str, phase: str, timeout: float | None, tick=None) -> dict[int, object]:
        """Wait for one `kind` message from every worker; a failure or a silent death raises BenchError."""
        got: dict[int, object] = {}
        give_up = time.time() + timeout if timeout else None
        quiet_dead: dict[int, float] = {}
        later: list[tuple] = []
        while len(got) < self.workers:
            try:
                # A quick worker's next message (ready for the next phase) may come before a slow one's done.
                message, index, message_phase, payload = self.early.pop(0) if self.early else self.results.get(timeout=0.2)
            except queue.Empty:
                if tick:
                    tick()
                now = time.time()
                for i, process in enumerate(self.processes):
                    if i not in got and not process.is_alive():
                        # Give a dead worker's last message a moment to arrive through the pipe.
                        if now - quiet_dead.setdefault(i, now) > 5:
                            raise BenchError(f"worker {i} exited (code {process.exitcode}) during the {phase} phase")
                if give_up and now > give_up:
                    raise BenchError(f"the workers did not get ready within {timeout:.0f} s")
                continue
            if message == "failed":
                raise BenchError(f"worker {index} failed in the {message_phase} phase: {payload}")
            if message == kind and message_phase == phase:
                got[index] = payload
            else:
                later.append((message, index, message_phase, payload))
        self.early.extend(later)
        return got

    def wait_ready(self, number: int) -> None:
        """Wait until every worker is connected and waiting to start phase `number`."""
        if number not in self.ready:
            self._collect("ready", PHASES[number], READY_TIMEOUT)
            self.ready.add(number)

    def run_phase(self, number: int, on_tick=None) -> PhaseResult:
        phase = PHASES[number]
        self.wait_ready(number)
        for i in range(self.workers):
            self.counters[i] = 0
        start = time.time()
        self.start_times[number] = start
        self.events[number].set()
        done = self._collect("done", phase, None, tick=(lambda: on_tick(start, sum(self.counters))) if on_tick else None)
        result = PhaseResult()
        for stats in done.values():
            result.committed += stats["committed"]
            result.retries += stats["retries"]
            result.errors += stats["errors"]
            result.cpu_s += stats["cpu_s"]
            result.first_error = result.first_error or stats["first_error"]
            result.latencies_ms.extend(stats["latencies_ms"])
        result.elapsed = max(stats["ended_at"] for stats in done.values()) - start
        result.latencies_ms.sort()
        return result

    def close(self) -> None:
        for event in self.events:
            event.set()  # release anyone still waiting, e.g. after a failure
        for process in self.processes:
            process.join(timeout=10)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        self.results.close()
        self.results.join_thread()


# --- batch phase --------------------------------------------------------------------------------


@dataclass
class BatchResult:
    entries: int = 0
    postings: int = 0
    batches: int = 0
    retries: int = 0
    elapsed: float = 0.0

    @property
    def postings_per_second(self) -> float:
        return self.postings / self.elapsed if self.elapsed > 0 else 0.0


def run_batches(job: Job, *, batch_size: int, target: int = BATCH_TARGET, on_tick=None) -> BatchResult:
    """Post up to `target` entries in batches through post_entries, one transaction a batch, within S seconds."""
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from brokerage.db import make_engine
    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.services import EntrySpec, post_entries

    engine = make_engine(job.url)
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    actor = _actor(factory, job)
    rng = random.Random(job.seed * 1000 + 999)
    result = BatchResult()
    try:
        with engine.connect() as connection:  # warm the pool before the clock starts
            connection.exec_driver_sql("SELECT 1")
        started = time.perf_counter()
        deadline = time.time() + job.seconds
        while result.entries < target and (result.batches == 0 or time.time() < deadline):
            size = min(batch_size, target - result.entries)
            specs = [
                EntrySpec(kind=EntryKind.pledge_collected, postings=_pledge(rng, rng.choice(job.holders)),
                          idempotency_key=f"bench:{job.run_id}:b:{result.entries + i}", memo="Bench pledge batch")
                for i in range(size)
            ]
            for attempt in range(MAX_ATTEMPTS):
                session = factory()
                try:
                    post_entries(session=session, actor=actor, council_id=job.council_id, entries=specs)
                    session.commit()
                    break
                except Exception as error:
                    session.rollback()
                    if not (_is_transient(error) and attempt + 1 < MAX_ATTEMPTS):
                        raise BenchError(f"batch posting failed: {type(error).__name__}: {_first_line(error)}") from None
                    result.retries += 1
                finally:
                    session.close()
            result.entries += size
            result.postings += sum(len(spec.postings) for spec in specs)
            result.batches += 1
            if on_tick:
                on_tick(result.entries)
        result.elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    return result


# --- the command --------------------------------------------------------------------------------


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def database_name(url: str) -> str:
    """The name the scratch rule looks at: the PostgreSQL database, or the SQLite file's name."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BenchError(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        return os.path.basename(parsed.database or "")
    return parsed.database or ""


def check_scratch(url: str | None, scratch: bool) -> str:
    """Return the URL (normalised) if it names a scratch database, or raise BenchError."""
    if not url:
        raise BenchError("--database-url is required: name a scratch database whose name starts with 'bench'")
    url = normalise_url(url)
    name = database_name(url)
    if not scratch and not name.startswith("bench"):
        raise BenchError(
            f"the database {name or '(none)'!r} does not start with 'bench'; the bench adds rows that cannot be removed, "
            "so give it a scratch database (or add --i-know-this-is-scratch)"
        )
    return url


@click.command("ledger")
@click.option("--database-url", default=None, metavar="URL",
              help="Scratch database to bench (required); its name must start with 'bench'. It is migrated to head.")
@click.option("--i-know-this-is-scratch", "scratch", is_flag=True,
              help="Allow a database whose name does not start with 'bench'.")
@click.option("--workers", default=4, show_default=True, type=int, help="Worker processes for the timed runs.")
@click.option("--seconds", default=5.0, show_default=True, type=float, help="Length of each timed run.")
@click.option("--batch-size", default=1000, show_default=True, type=int, help="Entries per post_entries call in the batch run.")
def bench_ledger_command(database_url: str | None, scratch: bool, workers: int, seconds: float, batch_size: int) -> None:
    """Measure ledger posting throughput and latency against raw inserts of the same rows.

    Needs a scratch database: the bench council it creates and that council's ledger rows stay
    there (the ledger is append-only). Its own bench_raw_ tables are dropped at the end. The last
    stdout line is JSON.
    """
    from rich.console import Console

    if workers < 1:
        _fail(f"--workers must be at least 1, not {workers}")
    if not seconds > 0 or math.isinf(seconds):
        _fail(f"--seconds must be a positive number, not {seconds}")
    if batch_size < 1:
        _fail(f"--batch-size must be at least 1, not {batch_size}")
    try:
        url = check_scratch(database_url, scratch)
        backend = check_database(url)
    except BenchError as error:
        _fail(str(error))
    _run(url, backend, workers, seconds, batch_size, Console(stderr=True))


def _run(url: str, backend: str, workers: int, seconds: float, batch_size: int, console) -> None:
    """Set up, run the three measurements, print the summary and the JSON line."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    pool = None
    try:
        try:
            with console.status("Migrating and creating the bench council…"):
                job = setup_world(url, holders=HOLDERS, clusters=CLUSTERS, seconds=seconds)
                create_raw_tables(url)
        except Exception as error:
            click.echo(f"error: could not set up the bench: {type(error).__name__}: {_first_line(error)}", err=True)
            sys.exit(1)
        click.echo(f"Ledger bench on {backend} ({shown}): {workers} worker process(es), {seconds:g} s per timed run, "
                   f"council bench-{job.run_id} (id {job.council_id}), {HOLDERS} holders, {CLUSTERS} clusters")

        with console.status(f"Starting {workers} worker process(es)…"):
            pool = _Workers(job, workers)
            pool.wait_ready(0)
        progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=False)
        with progress:
            phases = {}
            for number, (phase, label) in enumerate([("service", "post_entry"), ("raw", "raw inserts")]):
                task = progress.add_task(f"{label:<12} 0 entries", total=seconds)

                def tick(start, count, task=task, label=label):
                    progress.update(task, completed=min(time.time() - start, seconds), description=f"{label:<12} {count:,} entries")

                phases[phase] = pool.run_phase(number, on_tick=tick)
                result = phases[phase]
                progress.update(task, completed=seconds, description=f"{label:<12} {result.committed:,} entries")
            pool.close()
            pool = None
            target = BATCH_TARGET
            task = progress.add_task(f"{'post_entries':<12} 0 entries", total=target)
            batch = run_batches(job, batch_size=batch_size, target=target,
                                on_tick=lambda n: progress.update(task, completed=n, description=f"{'post_entries':<12} {n:,} entries"))
            progress.update(task, completed=target)
    except BenchError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    finally:
        if pool is not None:
            pool.close()
        try:
            drop_raw_tables(url)  # on success and on failure alike: the tables are the bench's own
        except Exception as error:
            click.echo(f"warning: could not drop the bench_raw tables: {_first_line(error)}", err=True)

    service, raw = phases["service"], phases["raw"]
    for name, result in (("post_entry (service API)", service), ("raw inserts (baseline)", raw)):
        click.echo(
            f"{name:<25} {result.committed:>9,} entries in {result.elapsed:6.2f} s = {result.per_second:>9,.1f} entries/s; "
            f"p50 {_percentile(result.latencies_ms, 0.50):.2f} ms, p99 {_percentile(result.latencies_ms, 0.99):.2f} ms; "
            f"client CPU {result.cpu_ms_per_entry:.2f} ms/entry; {result.retries} retried, {result.errors} failed"
        )
        if result.first_error:
            click.echo(f"  first failure: {result.first_error}")
    ratio = service.per_second / raw.per_second if raw.per_second else 0.0
    click.echo(f"{'service / raw':<25} {ratio:.3f}")
    click.echo(
        f"{'post_entries (batches)':<25} {batch.entries:>9,} entries ({batch.postings:,} postings) in {batch.elapsed:6.2f} s, "
        f"{batch.batches} batch(es) of up to {batch_size} = {batch.postings_per_second:,.1f} postings/s"
        + (f"; {batch.retries} retried" if batch.retries else "")
    )
    if backend == "sqlite" and workers > 1:
        click.echo("note: SQLite allows one writer at a time, so the worker processes take turns at the write lock")
    summary = {
        "entries_per_s": round(service.per_second, 1),
        "raw_entries_per_s": round(raw.per_second, 1),
        "ratio": round(ratio, 3),
        "p50_ms": round(_percentile(service.latencies_ms, 0.50), 2),
        "p99_ms": round(_percentile(service.latencies_ms, 0.99), 2),
        "batch_postings_per_s": round(batch.postings_per_second, 1),
        "workers": workers,
        "database": backend,
    }
    click.echo(json.dumps(summary))
    if service.errors or raw.errors:
        sys.exit(1)


if __name__ == "__main__":  # python -m brokerage_bench.ledger --help
    bench_ledger_command()
