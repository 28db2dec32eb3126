"""`brokerage bench ledger-reads`: how fast the ledger reads over a year of history.

Builds (or, with --reuse, finds) a bench council whose ledger holds about `--postings` postings spread
over the past year, sealed as a periodic job would seal it, then times:

- `balance(as_of=)` at a moment mid-year, for a holder's wallet and for the council's funding account
  (the busiest: every direct payment touches it), the median of several calls;
- a year's statement of the funding account: its first page, and the whole year;
- `trial_balance`;
- `seal` when nothing is new (excluding start-up: the app and the connection are warm);
- a full `verify` of the council.

The ledger is built quickly with bulk inserts of rows the application would have written (correct
content hashes, balanced entries, the pool summary kept), so the result passes `verify`. On PostgreSQL
the row triggers are skipped while building (session_replication_role = replica) and what they would
have done (cached balances, the queue of unsealed entries) is done once at the end.

Human lines go to stdout and the last line is JSON. The database must be a scratch one whose name starts
with `bench` (the ledger is append-only: the rows stay).
"""

from __future__ import annotations

import json
import math
import secrets
import statistics
import sys
import time
from datetime import timedelta

import click

from brokerage_bench.ledger import BenchError, _fail, check_database, check_scratch

HOLDERS = 300
CLUSTERS = 30
SLUG_PREFIX = "bench-reads-"
INSERT_BATCH = 5000  # entries per bulk insert
SEALS = 50  # the build seals the year in this many seals, as a periodic job would
REPEATS = 15  # calls per timed read; the median is reported


def _timed(call, repeats: int = 1) -> tuple[float, object]:
    """Return the median seconds of `repeats` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _find_reusable(session, postings: int):
    """Return (council id, postings) of the biggest bench-reads council with at least `postings` postings, or None."""
    from sqlalchemy import func, select

    from brokerage.accounts.models import Council
    from brokerage.ledger.models import Posting

    rows = session.execute(
        select(Council.id, func.count(Posting.id))
        .join(Posting, Posting.council_id == Council.id)
        .where(Council.slug.startswith(SLUG_PREFIX))
        .group_by(Council.id)
        .order_by(func.count(Posting.id).desc())
    ).all()
    for council_id, count in rows:
        if count >= postings:
            return council_id, count
    return None


def build_ledger(session, *, postings: int, echo) -> int:
    """Create a bench council with about `postings` postings over the past year, sealed periodically; return its id."""
    from sqlalchemy import func, select, text

    from brokerage.accounts.models import Council
    from brokerage.accounts.system import system_actor
    from brokerage.clusters.models import Cluster, ClusterStatus
    from brokerage.holders.models import Holder
    from brokerage.ledger import integrity, rules, summary
    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.models import EntryClose, JournalEntry, LedgerAccount, Posting, UnsealedEntry
    from brokerage.ledger.posting import get_or_create_account
    from brokerage.types import utcnow

    postgres = session.get_bind().dialect.name == "postgresql"
    run_id = secrets.token_hex(4)
    council = Council(slug=f"{SLUG_PREFIX}{run_id}", name=f"Ledger reads bench {run_id}", area_districts="E1")
    session.add(council)
    session.flush()
    holders = [
        Holder(council_id=council.id, name=f"Bench holder {i + 1}", weekly_allocation_pence=50_000, postcode_district="E1",
               lat=51.5155, lon=-0.0590, languages=["en"], care_needs=["home_care"])
        for i in range(HOLDERS)
    ]
    clusters = [Cluster(council_id=council.id, name=f"Bench cluster {k + 1}", kinds=["neighbourhood"], status=ClusterStatus.active)
                for k in range(CLUSTERS)]
    session.add_all(holders + clusters)
    session.flush()
    actor = system_actor(session=session, council_id=council.id)
    funding = rules.funding_code(council.id)
    codes = {funding}
    plan = []
    for i, holder in enumerate(holders):
        wallet = rules.wallet_code(holder.id)
        pools = (rules.pool_code(clusters[i % CLUSTERS].id, holder.id), rules.pool_code(clusters[(i + 1) % CLUSTERS].id, holder.id))
        codes.update((wallet, *pools))
        plan.append((wallet, pools))
    ids = {code: get_or_create_account(session=session, council_id=council.id, code=code).id for code in sorted(codes)}
    session.flush()

    # A direct payment (2 postings) then a pledge split over two pool shares (3 postings), per holder in turn:
    # 5 postings per pair of entries, and no wallet ever goes below zero.
    entries = max(2, round(postings / 2.5))
    start = utcnow() - timedelta(days=365)
    step = timedelta(days=365) / entries
    connection = session.connection()
    if postgres:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    balances = {code: 0 for code in codes}
    built = 0
    echo(f"building {entries} entries (about {postings} postings)…")
    started = time.perf_counter()
    while built < entries:
        batch = []
        for n in range(built, min(entries, built + INSERT_BATCH)):
            wallet, (pool_a, pool_b) = plan[(n // 2) % HOLDERS]
            at = start + step * n
            if n % 2 == 0:
                kind, legs, memo = EntryKind.dp_issued.value, [(funding, -1_000), (wallet, 1_000)], "Bench direct payment"
            else:
                kind, legs, memo = EntryKind.pledge_collected.value, [(wallet, -700), (pool_a, 400), (pool_b, 300)], "Bench pledge"
            key = f"bench-reads:{run_id}:{n}"
            content = rules.entry_content(council_id=council.id, entry_id=0, kind=kind, memo=memo, actor_id=actor.id, idempotency_key=key,
                                          created_at=at, reverses_id=None, postings=legs)
            batch.append(({"council_id": council.id, "kind": kind, "memo": memo, "actor_id": actor.id, "idempotency_key": key,
                           "fingerprint": "0" * 64, "created_at": at, "reverses_id": None, "content_hash": rules.content_hash(content)}, legs))
            for code, amount in legs:
                balances[code] += amount
        table = JournalEntry.__table__
        new_ids = [row.id for row in connection.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), [b[0] for b in batch])]
        connection.execute(Posting.__table__.insert(), [
            {"council_id": council.id, "entry_id": entry_id, "leg": leg, "account_id": ids[code], "amount_pence": amount, "created_at": row["created_at"]}
            for entry_id, (row, legs) in zip(new_ids, batch) for leg, (code, amount) in enumerate(legs, start=1)
        ])
        connection.execute(EntryClose.__table__.insert(), [
            {"entry_id": entry_id, "council_id": council.id, "leg_count": len(legs)} for entry_id, (_, legs) in zip(new_ids, batch)
        ])
        summary.add_entries(session, council.id, [(row["kind"], row["idempotency_key"], row["created_at"], None, legs) for row, legs in batch], ids)
        built += len(batch)
    if postgres:
        # What the skipped triggers would have done: the cached balances and the queue of unsealed entries.
        connection.execute(text("SET LOCAL session_replication_role = origin"))
        connection.execute(LedgerAccount.__table__.update().where(LedgerAccount.id == text(":account")).values(balance_pence=text(":balance")),
                           [{"account": ids[code], "balance": balance} for code, balance in balances.items()])
        connection.execute(text(
            "INSERT INTO ledger_unsealed_entry (entry_id, council_id, created_at) SELECT e.id, e.council_id, e.created_at "
            "FROM journal_entry e WHERE e.council_id = :c"), {"c": council.id})
    echo(f"  inserted in {time.perf_counter() - started:.1f} s; sealing in {SEALS} seals…")
    started = time.perf_counter()
    per_seal = -(-entries // SEALS)
    while integrity.seal(session=session, actor=actor, council_id=council.id, limit=per_seal) is not None:
        pass
    echo(f"  sealed in {time.perf_counter() - started:.1f} s")
    queued = session.execute(select(func.count()).select_from(UnsealedEntry).where(UnsealedEntry.council_id == council.id)).scalar_one()
    assert queued == 0
    session.commit()
    if postgres:
        with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as plain:
            plain.execute(text("VACUUM ANALYZE posting, journal_entry, entry_sequence, entry_close, ledger_account, ledger_balance_snapshot, ledger_seal, "
                               "ledger_unsealed_entry, ledger_pool_month"))
    return council.id


def _autovacuum_off(session) -> bool:
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return False
    return session.execute(text("SHOW autovacuum")).scalar() != "on"


def _index_only(session, account_id: int, as_of) -> bool:
    """Tell whether PostgreSQL sums a balance at a past moment from the index alone (no seal fitting)."""
    from sqlalchemy import text

    plan = session.execute(text(
        "EXPLAIN SELECT COALESCE(SUM(amount_pence), 0) FROM posting WHERE account_id = :a AND created_at <= :t"
    ), {"a": account_id, "t": as_of}).scalars().all()
    return any("Index Only Scan" in line for line in plan)


def run(url: str, *, postings: int, reuse: bool, echo) -> dict:
    """Build or reuse the ledger, time the reads, and return the figures."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from brokerage.accounts.system import system_actor
    from brokerage.db import make_engine
    from brokerage.ledger import integrity, queries, rules
    from brokerage.ledger.models import JournalEntry, LedgerAccount, Posting
    from brokerage.migrate import upgrade
    from brokerage.wiring import connect_domains

    connect_domains()
    upgrade("head", url=url)
    engine = make_engine(url)
    try:
        factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
        with factory() as session:
            backend = engine.dialect.name
            if _autovacuum_off(session):
                echo("warning: autovacuum is off: ledger_account (updated by every posting) will bloat and every timing will suffer")
            found = _find_reusable(session, postings) if reuse else None
            build_s = 0.0
            if found:
                council_id = found[0]
                echo(f"reusing council {council_id} ({found[1]} postings)")
            else:
                started = time.perf_counter()
                council_id = build_ledger(session, postings=postings, echo=echo)
                build_s = time.perf_counter() - started
        with factory() as session:
            actor = system_actor(session=session, council_id=council_id, create=False)
            count = session.execute(select(func.count()).select_from(Posting).where(Posting.council_id == council_id)).scalar_one()
            entries = session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id == council_id)).scalar_one()
            first, last = session.execute(
                select(func.min(JournalEntry.created_at), func.max(JournalEntry.created_at)).where(JournalEntry.council_id == council_id)
            ).one()
            middle = first + (last - first) / 2
            funding = rules.funding_code(council_id)
            wallet = session.execute(
                select(LedgerAccount.code).where(LedgerAccount.council_id == council_id, LedgerAccount.account_type == "wallet").order_by(LedgerAccount.id).limit(1)
            ).scalar_one()
            funding_id = session.execute(select(LedgerAccount.id).where(LedgerAccount.council_id == council_id, LedgerAccount.code == funding)).scalar_one()
            accounts = session.execute(select(func.count()).select_from(LedgerAccount).where(LedgerAccount.council_id == council_id)).scalar_one()
            echo(f"Ledger reads on {backend}: {count} postings, {entries} entries, {accounts} accounts")

            def as_of(code):
                return lambda: queries.balance(session=session, actor=actor, council_id=council_id, code=code, as_of=middle)

            wallet_s, _ = _timed(as_of(wallet), REPEATS)
            funding_s, funding_mid = _timed(as_of(funding), REPEATS)
            plain_s, plain_mid = _timed(lambda: queries.balance_as_of(session=session, account_id=funding_id, as_of=last + timedelta(days=1)), 3)
            index_only = _index_only(session, funding_id, middle) if backend == "postgresql" else None
            page_s, page = _timed(lambda: queries.statement(session=session, actor=actor, council_id=council_id, code=funding,
                                                            start=first - timedelta(seconds=1), end=last, page=1), 5)
            year_s, year = _timed(lambda: queries.statement(session=session, actor=actor, council_id=council_id, code=funding,
                                                            start=first - timedelta(seconds=1), end=last))
            trial_s, (_, total) = _timed(lambda: queries.trial_balance(session=session, actor=actor, council_id=council_id), REPEATS)
            session.rollback()
            seal_s, sealed = _timed(lambda: integrity.seal(session=session, actor=actor, council_id=council_id), 5)
            session.rollback()
            verify_s, report = _timed(lambda: integrity.verify(session=session, actor=actor, council_id=council_id))
            session.rollback()
    finally:
        engine.dispose()
    figures = {
        "postings": count, "entries": entries, "accounts": accounts, "build_s": round(build_s, 1),
        "balance_as_of_ms": round(wallet_s * 1000, 2), "balance_as_of_funding_ms": round(funding_s * 1000, 2),
        "balance_as_of_funding_all_ms": round(plain_s * 1000, 2), "balance_as_of_index_only": index_only,
        "statement_first_page_ms": round(page_s * 1000, 2), "statement_year_s": round(year_s, 3), "statement_year_lines": len(year.lines),
        "trial_balance_ms": round(trial_s * 1000, 2), "seal_nothing_new_ms": round(seal_s * 1000, 2), "verify_s": round(verify_s, 2),
        "verify_ok": report.ok, "database": backend,
    }
    assert total == 0 and sealed is None and page.closing == year.closing
    echo(f"{'balance(as_of), a wallet':<38} {figures['balance_as_of_ms']:>10.2f} ms")
    echo(f"{'balance(as_of), funding (busiest)':<38} {figures['balance_as_of_funding_ms']:>10.2f} ms  ({funding_mid}p)")
    echo(f"{'balance(as_of), funding, after all':<38} {figures['balance_as_of_funding_all_ms']:>10.2f} ms  ({plain_mid}p)")
    if index_only is not None:
        echo(f"{'plain sum index-only (EXPLAIN)':<38} {str(index_only):>10}")
    echo(f"{'statement of a year, first page':<38} {figures['statement_first_page_ms']:>10.2f} ms")
    echo(f"{'statement of a year, every line':<38} {figures['statement_year_s']:>10.3f} s   ({len(year.lines)} lines)")
    echo(f"{'trial balance':<38} {figures['trial_balance_ms']:>10.2f} ms")
    echo(f"{'seal, nothing new':<38} {figures['seal_nothing_new_ms']:>10.2f} ms")
    echo(f"{'verify, everything':<38} {figures['verify_s']:>10.2f} s   ({'OK' if report.ok else 'FAILED: ' + str(report.problems[0])})")
    return figures


@click.command("ledger-reads")
@click.option("--database-url", default=None, metavar="URL",
              help="Scratch database (required); its name must start with 'bench'. It is migrated to head.")
@click.option("--i-know-this-is-scratch", "scratch", is_flag=True, help="Allow a database whose name does not start with 'bench'.")
@click.option("--postings", default=1_000_000, show_default=True, type=int, help="Postings in the ledger to read.")
@click.option("--reuse", is_flag=True, help="Reuse a ledger an earlier run built with at least --postings postings.")
def bench_ledger_reads_command(database_url: str | None, scratch: bool, postings: int, reuse: bool) -> None:
    """Time balances at a past moment, a year's statement, the trial balance, an empty seal and a full verify."""
    if postings < 10 or math.isinf(postings):
        _fail(f"--postings must be at least 10, not {postings}")
    try:
        url = check_scratch(database_url, scratch)
        check_database(url, bench="the ledger-reads bench")
    except BenchError as error:
        _fail(str(error))
    figures = run(url, postings=postings, reuse=reuse, echo=click.echo)
    click.echo(json.dumps(figures))
    if not figures["verify_ok"]:
        sys.exit(1)
