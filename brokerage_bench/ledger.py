"""`brokerage bench ledger`: how fast the ledger posts, against plain inserts of the same rows.

Several rounds on one database, in one run; each round times these slices, in an order that turns
round by round, so load from elsewhere on the machine falls on every slice alike:

1. service: W worker processes post one three-legged entry per transaction through `post_entry`
   (a pledge from a holder's wallet split across two of their pool shares) for S seconds;
2. raw: the same W processes insert the same shape of rows (one entry row, three posting rows) per
   transaction into two bench_ tables with no constraints, triggers or indexes, in two statements;
3. floor: the same rows in one statement per transaction (PostgreSQL; on SQLite, as raw);
4. hot: the W processes post one direct payment per transaction, every one from the council's
   funding account: eight writers through one shared account;
5. batch: this process posts entries in batches through `post_entries`, one transaction a batch (by
   default of 500 entries, the batch size of `post_in_batches`, which runs post through);
6. raw batch: this process inserts the same rows a batch per transaction (one statement per table).

Every slice checks a connection out of the same kind of engine per transaction (brokerage.db
make_engine), so service and raw pay the same connection costs. The ratios are taken within each
round (service / raw, service / floor, hot / raw, batch / raw) and the median over rounds is reported.

Human-readable lines go to stdout (progress and warnings to stderr) and the last stdout line is one
JSON object: entries_per_s, raw_entries_per_s, ratio, raw_floor_ratio, p50_ms, p99_ms (service),
batch_entries_per_s, batch_ratio_vs_raw_single, hot_account_ratio, workers, database, rounds (and a
few more figures).

The database must be a scratch one: `--database-url` is required and the database's name (the
PostgreSQL database, or the SQLite file) must start with `bench`, unless `--i-know-this-is-scratch`
is given. The bench migrates it to head and posts into a council of its own (slug bench-<random>);
that council and its ledger rows stay (the ledger is append-only, and the database is scratch).
The two bench_raw_ tables are the bench's own: it creates them after migrating and drops them at
the end, also when a run fails, so they never appear in the migration history. With autovacuum off
the ledger's account rows bloat and every figure drifts down: the bench warns.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import random
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field

import click

HOLDERS = 200
CLUSTERS = 20
ISSUE_PENCE = 100_000_000  # £1m per holder, far more than a run can pledge
BATCH_SIZE = 500  # entries a post_entries call in the batch slices, by default: post_in_batches' own, the size runs post in
BATCH_TARGET = 20_000  # entries a batch slice posts at most, unless S seconds run out first
MAX_ATTEMPTS = 10  # tries per transaction before it counts as an error
MAX_ERRORS = 20  # a worker that hits this many non-transient errors stops early
READY_TIMEOUT = 180.0  # seconds a worker may take to start (imports, first connection)
PHASES = ("service", "raw", "floor", "hot")  # the worker slices of a round


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
        Column("created_at", DateTime(timezone=True), nullable=False),
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


def _loop(job: Job, index: int, deadline: float, counters, one) -> dict:
    """Call `one(number)` (one transaction; retried when transient) until the deadline; return the worker's figures."""
    stats = {"committed": 0, "retries": 0, "errors": 0, "first_error": None, "latencies_ms": []}
    latencies = stats["latencies_ms"]
    number = 0
    cpu_started = time.process_time()
    while time.time() < deadline and stats["errors"] < MAX_ERRORS:
        number += 1
        started = time.perf_counter()
        for attempt in range(MAX_ATTEMPTS):
            try:
                one(number)
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


def _service_step(engine, job: Job, index: int, phase: str, round_number: int):
    """Return a function posting one entry per transaction through post_entry, on a session checked out for it.

    `service` posts a pledge (wallet -> two pool shares); `hot` a direct payment from the council's funding.
    """
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from brokerage.ledger import rules
    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.services import post_entry

    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    actor = _actor(factory, job)
    rng = random.Random(job.seed * 1000 + index * 10 + round_number)
    funding = rules.funding_code(job.council_id)

    def one(number: int) -> None:
        holder = rng.choice(job.holders)
        if phase == "hot":
            amount = rng.randint(200, 5_000)
            kind, postings = EntryKind.dp_issued, [(funding, -amount), (holder.wallet, amount)]
        else:
            kind, postings = EntryKind.pledge_collected, _pledge(rng, holder)
        key = f"bench:{job.run_id}:{phase}{round_number}:{index}:{number}"
        with factory() as session:
            try:
                post_entry(session=session, actor=actor, council_id=job.council_id, kind=kind, postings=postings,
                           idempotency_key=key, memo="Bench pledge")
                session.commit()
            except Exception:
                session.rollback()
                raise

    return one


def _raw_step(engine, job: Job, index: int, phase: str, round_number: int):
    """Return a function inserting one entry row and three posting rows in one transaction, on a connection checked out for it.

    `raw`: an INSERT … RETURNING for the entry, then one for its postings. `floor`: all four rows in
    one statement on PostgreSQL (a data-modifying WITH), the least a database can be asked.
    """
    from sqlalchemy import text

    from brokerage.types import utcnow

    entry, posting = _raw_tables()
    insert_entry = entry.insert().returning(entry.c.id)
    insert_posting = posting.insert()
    in_one = text(
        "WITH e AS (INSERT INTO bench_raw_entry (council_id, kind, memo, idempotency_key, fingerprint, created_at, content_hash) "
        "VALUES (:council_id, 'pledge', 'Bench pledge', :key, :digest, :created_at, :digest) RETURNING id) "
        "INSERT INTO bench_raw_posting (council_id, entry_id, leg, account_id, amount_pence, created_at) "
        "SELECT :council_id, e.id, v.leg, v.account_id, v.amount, :created_at FROM e, "
        "(VALUES (1, :a1, CAST(:m1 AS bigint)), (2, :a2, CAST(:m2 AS bigint)), (3, :a3, CAST(:m3 AS bigint))) AS v(leg, account_id, amount)"
    )
    floor = phase == "floor" and engine.dialect.name == "postgresql"
    rng = random.Random(job.seed * 1000 + 500 + index * 10 + round_number)

    def one(number: int) -> None:
        legs = _pledge(rng, rng.choice(job.holders))
        key = f"bench:{job.run_id}:{phase}{round_number}:{index}:{number}"
        digest = hashlib.sha256(key.encode()).hexdigest()
        with engine.begin() as connection:
            now = utcnow()
            if floor:
                connection.execute(in_one, {
                    "council_id": job.council_id, "key": key, "digest": digest, "created_at": now,
                    **{f"a{leg}": leg * 1000 + index for leg in (1, 2, 3)}, **{f"m{leg}": amount for leg, (_, amount) in enumerate(legs, start=1)},
                })
                return
            entry_id = connection.execute(insert_entry, {
                "council_id": job.council_id, "kind": "pledge", "memo": "Bench pledge", "idempotency_key": key,
                "fingerprint": digest, "created_at": now, "content_hash": digest,
            }).scalar_one()
            connection.execute(insert_posting, [
                {"council_id": job.council_id, "entry_id": entry_id, "leg": leg, "account_id": leg * 1000 + index,
                 "amount_pence": amount, "created_at": now}
                for leg, (_, amount) in enumerate(legs, start=1)
            ])

    return one


def _worker_main(index: int, job: Job, inbox, counters, results) -> None:
    """Report ready, then run each slice the parent sends: wait for its start, loop until its deadline, report."""
    engine = None
    phase = "start"
    try:
        from brokerage.db import make_engine
        from brokerage.wiring import connect_domains

        connect_domains()  # a spawned process starts with empty registries
        engine = make_engine(job.url)  # one engine for every slice: the same pool, the same checkouts
        with engine.connect() as connection:  # open the first connection before the clock starts
            connection.exec_driver_sql("SELECT 1")
        results.put(("ready", index, "start", None))
        while True:
            command = inbox.get()
            if command is None:
                return
            phase, round_number, start_at, seconds = command
            make = _service_step if phase in ("service", "hot") else _raw_step
            one = make(engine, job, index, phase, round_number)
            time.sleep(max(0.0, start_at - time.time()))
            stats = _loop(job, index, start_at + seconds, counters, one)
            stats["ended_at"] = time.time()
            results.put(("done", index, phase, stats))
    except BaseException as error:  # noqa: BLE001 - report anything, the parent decides
        results.put(("failed", index, phase, f"{type(error).__name__}: {_first_line(error)}"))
    finally:
        if engine is not None:
            engine.dispose()


class _Workers:
    """W spawned processes that run the timed slices together, as the parent sends them."""

    def __init__(self, job: Job, workers: int) -> None:
        import multiprocessing

        self.ctx = multiprocessing.get_context("spawn")
        self.job = job
        self.workers = workers
        self.counters = self.ctx.Array("q", workers, lock=False)
        self.inboxes = [self.ctx.Queue() for _ in range(workers)]
        self.results = self.ctx.Queue()
        self.ready = False
        self.processes = [
            self.ctx.Process(
                target=_worker_main, args=(i, job, self.inboxes[i], self.counters, self.results),
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
        while len(got) < self.workers:
            try:
                message, index, message_phase, payload = self.results.get(timeout=0.2)
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
            if message == kind:
                got[index] = payload
        return got

    def wait_ready(self) -> None:
        """Wait until every worker is connected and waiting for its first slice."""
        if not self.ready:
            self._collect("ready", "start", READY_TIMEOUT)
            self.ready = True

    def run_phase(self, phase: str, round_number: int, on_tick=None) -> PhaseResult:
        self.wait_ready()
        for i in range(self.workers):
            self.counters[i] = 0
        start = time.time() + 0.1
        for inbox in self.inboxes:
            inbox.put((phase, round_number, start, self.job.seconds))
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
        for inbox in self.inboxes:
            inbox.put(None)  # let every worker finish, also after a failure
        for process in self.processes:
            process.join(timeout=10)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        for q in (*self.inboxes, self.results):
            q.close()
            q.join_thread()


# --- batch slices (this process, one writer) -----------------------------------------------------


@dataclass
class BatchResult:
    entries: int = 0
    postings: int = 0
    batches: int = 0
    retries: int = 0
    elapsed: float = 0.0

    @property
    def per_second(self) -> float:
        return self.entries / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def postings_per_second(self) -> float:
        return self.postings / self.elapsed if self.elapsed > 0 else 0.0


def run_batches(job: Job, *, batch_size: int, round_number: int = 0, raw: bool = False, target: int = BATCH_TARGET, engine=None,
                on_tick=None) -> BatchResult:
    """Post up to `target` entries in batches within S seconds, one transaction a batch: through post_entries, or raw."""
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from brokerage.db import make_engine
    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.services import EntrySpec, post_entries
    from brokerage.types import utcnow

    own = engine is None
    engine = engine or make_engine(job.url)
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    actor = _actor(factory, job)
    rng = random.Random(job.seed * 1000 + 999 + round_number * 2 + raw)
    entry, posting = _raw_tables()
    result = BatchResult()
    tag = f"rb{round_number}" if raw else f"b{round_number}"
    try:
        with engine.connect() as connection:  # warm the pool before the clock starts
            connection.exec_driver_sql("SELECT 1")
        started = time.perf_counter()
        deadline = time.time() + job.seconds
        while result.entries < target and (result.batches == 0 or time.time() < deadline):
            size = min(batch_size, target - result.entries)
            specs = [
                EntrySpec(kind=EntryKind.pledge_collected, postings=_pledge(rng, rng.choice(job.holders)),
                          idempotency_key=f"bench:{job.run_id}:{tag}:{result.entries + i}", memo="Bench pledge batch")
                for i in range(size)
            ]
            for attempt in range(MAX_ATTEMPTS):
                try:
                    if raw:
                        _raw_batch(engine, job, entry, posting, specs, utcnow())
                    else:
                        with factory() as session:
                            try:
                                post_entries(session=session, actor=actor, council_id=job.council_id, entries=specs)
                                session.commit()
                            except Exception:
                                session.rollback()
                                raise
                    break
                except Exception as error:
                    if not (_is_transient(error) and attempt + 1 < MAX_ATTEMPTS):
                        raise BenchError(f"batch posting failed: {type(error).__name__}: {_first_line(error)}") from None
                    result.retries += 1
            result.entries += size
            result.postings += sum(len(spec.postings) for spec in specs)
            result.batches += 1
            if on_tick:
                on_tick(result.entries)
        result.elapsed = time.perf_counter() - started
    finally:
        if own:
            engine.dispose()
    return result


def _raw_batch(engine, job: Job, entry, posting, specs, now) -> None:
    """Insert a batch's entry rows in one statement and their posting rows in another, in one transaction."""
    with engine.begin() as connection:
        ids = [
            row.id for row in connection.execute(entry.insert().returning(entry.c.id, sort_by_parameter_order=True), [
                {"council_id": job.council_id, "kind": "pledge", "memo": "Bench pledge batch", "idempotency_key": spec.idempotency_key,
                 "fingerprint": "0" * 64, "created_at": now, "content_hash": "0" * 64}
                for spec in specs
            ])
        ]
        connection.execute(posting.insert(), [
            {"council_id": job.council_id, "entry_id": entry_id, "leg": leg, "account_id": leg, "amount_pence": amount, "created_at": now}
            for entry_id, spec in zip(ids, specs)
            for leg, (_, amount) in enumerate(spec.postings, start=1)
        ])


def vacuum_ledger(url: str) -> None:
    """VACUUM the rows every posting updates (accounts, the pool summary), as autovacuum would between rounds."""
    from brokerage.db import make_engine

    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) ledger_account, ledger_pool_month")
    finally:
        engine.dispose()


def autovacuum_off(url: str) -> bool:
    """Tell whether PostgreSQL's autovacuum is off (the ledger's account rows then bloat and every figure drifts)."""
    from brokerage.db import make_engine

    if not url.startswith("postgresql"):
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SHOW autovacuum").scalar() != "on"
    finally:
        engine.dispose()


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
@click.option("--workers", default=8, show_default=True, type=int, help="Worker processes for the timed slices.")
@click.option("--seconds", default=5.0, show_default=True, type=float, help="Length of each timed slice.")
@click.option("--rounds", default=3, show_default=True, type=int, help="Rounds of slices; the median ratio is reported.")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=int,
              help="Entries per post_entries call in the batch slices (by default as many as runs post at once).")
@click.option("--vacuum/--no-vacuum", "vacuum_between_rounds", default=True, show_default=True,
              help="Where autovacuum is off, VACUUM the ledger's account and summary rows before each round, as autovacuum would.")
def bench_ledger_command(database_url: str | None, scratch: bool, workers: int, seconds: float, rounds: int, batch_size: int,
                         vacuum_between_rounds: bool) -> None:
    """Measure ledger posting throughput and latency against raw inserts of the same rows.

    Needs a scratch database: the bench council it creates and that council's ledger rows stay
    there (the ledger is append-only). Its own bench_raw_ tables are dropped at the end. The last
    stdout line is JSON.
    """
    from rich.console import Console

    if not 1 <= workers <= 256:  # one process each: a mistyped --workers 80000 tried to start 80,000
        _fail(f"--workers must be between 1 and 256, not {workers}")
    if not seconds > 0 or math.isinf(seconds):
        _fail(f"--seconds must be a positive number, not {seconds}")
    if rounds < 1:
        _fail(f"--rounds must be at least 1, not {rounds}")
    if batch_size < 1:
        _fail(f"--batch-size must be at least 1, not {batch_size}")
    try:
        url = check_scratch(database_url, scratch)
        backend = check_database(url)
    except BenchError as error:
        _fail(str(error))
    _run(url, backend, workers, seconds, rounds, batch_size, Console(stderr=True), vacuum_between_rounds)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _run(url: str, backend: str, workers: int, seconds: float, rounds: int, batch_size: int, console, vacuum_between_rounds: bool = True) -> None:
    """Set up, run the rounds of slices, print the summary and the JSON line."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy.engine import make_url

    from brokerage.db import make_engine

    shown = make_url(url).render_as_string(hide_password=True)
    pool = None
    engine = None
    slices = ("service", "raw", "floor", "hot", "batch", "raw batch")
    vacuum = False
    per_round: list[dict] = []
    try:
        try:
            with console.status("Migrating and creating the bench council…"):
                job = setup_world(url, holders=HOLDERS, clusters=CLUSTERS, seconds=seconds)
                create_raw_tables(url)
            vacuum = vacuum_between_rounds and autovacuum_off(url)
            if autovacuum_off(url):
                click.echo("warning: autovacuum is off on this database: ledger_account rows bloat with every posting and "
                           "the figures drift down run by run (see the README's production section)"
                           + ("; the bench vacuums the ledger's account and summary rows before each round" if vacuum else ""), err=True)
        except Exception as error:
            click.echo(f"error: could not set up the bench: {type(error).__name__}: {_first_line(error)}", err=True)
            sys.exit(1)
        click.echo(f"Ledger bench on {backend} ({shown}): {workers} worker process(es), {rounds} round(s) of {seconds:g} s slices, "
                   f"council bench-{job.run_id} (id {job.council_id}), {HOLDERS} holders, {CLUSTERS} clusters")

        with console.status(f"Starting {workers} worker process(es)…"):
            pool = _Workers(job, workers)
            pool.wait_ready()
        engine = make_engine(url)
        progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True)
        with progress:
            for round_number in range(rounds):
                if vacuum:
                    vacuum_ledger(url)
                figures: dict = {}
                # The order turns each round, so no slice always follows the same one.
                shift = round_number % len(slices)
                for name in slices[shift:] + slices[:shift]:
                    label = f"round {round_number + 1} {name}"
                    task = progress.add_task(f"{label:<20} 0 entries", total=seconds)
                    if name in PHASES:
                        def tick(start, count, task=task, label=label):
                            progress.update(task, completed=min(max(time.time() - start, 0), seconds), description=f"{label:<20} {count:,} entries")

                        figures[name] = pool.run_phase(name, round_number, on_tick=tick)
                    else:
                        started = time.time()
                        figures[name] = run_batches(
                            job, batch_size=batch_size, round_number=round_number, raw=name == "raw batch", engine=engine,
                            on_tick=lambda n, task=task, label=label, started=started: progress.update(
                                task, completed=min(time.time() - started, seconds), description=f"{label:<20} {n:,} entries"),
                        )
                    progress.update(task, completed=seconds)
                per_round.append(figures)
            pool.close()
            pool = None
    except BenchError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    finally:
        if pool is not None:
            pool.close()
        if engine is not None:
            engine.dispose()
        try:
            drop_raw_tables(url)  # on success and on failure alike: the tables are the bench's own
        except Exception as error:
            click.echo(f"warning: could not drop the bench_raw tables: {_first_line(error)}", err=True)

    def rate(figures, name):
        return figures[name].per_second

    def ratio(a, b):
        return [rate(f, a) / rate(f, b) if rate(f, b) else 0.0 for f in per_round]

    errors = 0
    for number, figures in enumerate(per_round, start=1):
        click.echo(f"round {number}:")
        for name, label in (("service", "post_entry (service API)"), ("raw", "raw inserts (2 statements)"),
                            ("floor", "raw floor (1 statement)"), ("hot", "post_entry, shared account")):
            result = figures[name]
            errors += result.errors
            click.echo(
                f"  {label:<28} {result.committed:>8,} entries in {result.elapsed:6.2f} s = {result.per_second:>9,.1f} entries/s; "
                f"p50 {_percentile(result.latencies_ms, 0.50):.2f} ms, p99 {_percentile(result.latencies_ms, 0.99):.2f} ms; "
                f"client CPU {result.cpu_ms_per_entry:.2f} ms/entry; {result.retries} retried, {result.errors} failed"
            )
            if result.first_error:
                click.echo(f"    first failure: {result.first_error}")
        for name, label in (("batch", "post_entries (batches)"), ("raw batch", "raw inserts (batches)")):
            result = figures[name]
            click.echo(
                f"  {label:<28} {result.entries:>8,} entries in {result.elapsed:6.2f} s = {result.per_second:>9,.1f} entries/s, "
                f"{result.batches} batch(es) of up to {batch_size}" + (f"; {result.retries} retried" if result.retries else "")
            )
    service = [f["service"] for f in per_round]
    latencies = sorted(ms for result in service for ms in result.latencies_ms)
    summary = {
        "entries_per_s": round(_median([r.per_second for r in service]), 1),
        "raw_entries_per_s": round(_median([f["raw"].per_second for f in per_round]), 1),
        "ratio": round(_median(ratio("service", "raw")), 3),
        "raw_floor_ratio": round(_median(ratio("service", "floor")), 3),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
        "batch_entries_per_s": round(_median([f["batch"].per_second for f in per_round]), 1),
        "batch_ratio_vs_raw_single": round(_median(ratio("batch", "raw")), 3),
        "hot_account_ratio": round(_median(ratio("hot", "raw")), 3),
        "workers": workers,
        "database": backend,
        "rounds": rounds,
        "hot_entries_per_s": round(_median([f["hot"].per_second for f in per_round]), 1),
        "raw_floor_entries_per_s": round(_median([f["floor"].per_second for f in per_round]), 1),
        "raw_batch_entries_per_s": round(_median([f["raw batch"].per_second for f in per_round]), 1),
        "batch_postings_per_s": round(_median([f["batch"].postings_per_second for f in per_round]), 1),
        "ratios_by_round": ratio("service", "raw"),
    }
    summary["ratios_by_round"] = [round(r, 3) for r in summary["ratios_by_round"]]
    click.echo(f"{'service / raw (median)':<30} {summary['ratio']:.3f}  (rounds: {', '.join(f'{r:.3f}' for r in summary['ratios_by_round'])})")
    click.echo(f"{'service / raw floor':<30} {summary['raw_floor_ratio']:.3f}")
    click.echo(f"{'shared account / raw':<30} {summary['hot_account_ratio']:.3f}")
    click.echo(f"{'batches / raw single':<30} {summary['batch_ratio_vs_raw_single']:.3f}")
    if backend == "sqlite" and workers > 1:
        click.echo("note: SQLite allows one writer at a time, so the worker processes take turns at the write lock; "
                   "the raw floor is the raw slice again (SQLite has no INSERT in WITH)")
    click.echo(json.dumps(summary))
    if errors:
        sys.exit(1)


if __name__ == "__main__":  # python -m brokerage_bench.ledger --help
    bench_ledger_command()
