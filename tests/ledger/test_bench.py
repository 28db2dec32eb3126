"""`brokerage bench ledger` (in brokerage_bench, outside the app) runs only on a scratch database and cleans up its own tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

import brokerage_bench.ledger as ledger_bench
from brokerage.accounts.models import Council
from brokerage.accounts.system import system_actor
from brokerage.db import make_engine
from brokerage.ledger.integrity import verify
from brokerage.ledger.models import JournalEntry
from brokerage_bench.ledger import BenchError, bench_ledger_command

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "entries_per_s", "raw_entries_per_s", "ratio", "raw_floor_ratio", "p50_ms", "p99_ms", "batch_entries_per_s",
    "batch_ratio_vs_raw_single", "hot_account_ratio", "workers", "database", "rounds", "batch_postings_per_s",
}


def _bench_tables(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE 'bench_raw%'").all()
    finally:
        engine.dispose()


@pytest.mark.long
def test_bench_ledger_runs_and_leaves_a_verified_ledger(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    result = CliRunner().invoke(
        bench_ledger_command, ["--database-url", url, "--workers", "2", "--seconds", "1", "--rounds", "2", "--batch-size", "200"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert KEYS <= figures.keys()
    assert figures["workers"] == 2 and figures["database"] == "sqlite" and figures["rounds"] == 2
    assert len(figures["ratios_by_round"]) == 2 and figures["batch_entries_per_s"] > 0
    # Rates are not asserted: a loaded machine may commit little in one second. The batch run posts a fixed count.
    assert figures["entries_per_s"] >= 0 and figures["raw_entries_per_s"] >= 0
    assert figures["batch_postings_per_s"] > 0

    engine = make_engine(url)
    try:
        with sessionmaker(bind=engine, class_=Session)() as session:
            council = session.execute(select(Council).where(Council.slug.like("bench-%"))).scalars().one()
            actor = system_actor(session=session, council_id=council.id)
            report = verify(session=session, actor=actor, council_id=council.id)
            assert report.entries and {e.actor_id for e in session.execute(select(JournalEntry)).scalars()} == {actor.id}
            assert report.entries > 200  # the direct payments and what the bench posted
            assert report.ok, [str(p) for p in report.problems]
    finally:
        engine.dispose()
    assert _bench_tables(url) == []  # the raw baseline's tables are dropped


def test_bench_ledger_drops_its_tables_when_a_run_fails(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bench-failing.sqlite'}"

    def no_workers(job, workers):
        assert _bench_tables(url) != []  # created by now, so the drop below is the bench's doing
        raise BenchError("the workers could not start")

    monkeypatch.setattr(ledger_bench, "_Workers", no_workers)
    result = CliRunner().invoke(bench_ledger_command, ["--database-url", url, "--workers", "1", "--seconds", "1"])
    assert result.exit_code == 1 and "the workers could not start" in result.stderr, result.output
    assert _bench_tables(url) == []


def _refused(args: list[str], says: str) -> None:
    result = CliRunner().invoke(bench_ledger_command, args)
    assert result.exit_code == 2, (args, result.output)
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr, (args, result.stderr)
    assert result.stdout == ""


def test_bench_ledger_needs_a_database_url(monkeypatch, tmp_path):
    # No falling back to DATABASE_URL: that is the real ledger.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bench.sqlite'}")
    _refused([], "--database-url is required")
    _refused(["--i-know-this-is-scratch"], "--database-url is required")
    assert not (tmp_path / "bench.sqlite").exists()


def test_bench_ledger_refuses_a_database_not_named_bench(tmp_path):
    for url in [
        f"sqlite:///{tmp_path / 'carepool.sqlite'}",
        f"sqlite:///{tmp_path / 'bench' / 'carepool.sqlite'}",  # the file's name counts, not a directory's
        "postgresql+psycopg://postgres@127.0.0.1:5432/carepool",
        "postgresql://postgres@127.0.0.1:5432/carepool_bench",
    ]:
        _refused(["--database-url", url], "does not start with 'bench'")
    assert not (tmp_path / "carepool.sqlite").exists()


def test_scratch_flag_allows_another_name(tmp_path):
    # Past the name rule, the next check is reaching the database: a missing directory cannot be reached.
    url = f"sqlite:///{tmp_path / 'missing' / 'carepool.sqlite'}"
    _refused(["--database-url", url, "--i-know-this-is-scratch"], "cannot reach")


def test_bench_ledger_refuses_bad_options(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    for args, says in [
        (["--workers", "0"], "--workers"),
        # One process each: it tried to start 100,000 (here the missing folder stops the old code before it starts any).
        (["--database-url", f"sqlite:///{tmp_path / 'missing' / 'bench.sqlite'}", "--workers", "100000"], "--workers must be between 1 and 256"),
        (["--seconds", "0"], "--seconds"),
        (["--database-url", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'bench.sqlite'}"], "cannot reach"),
        (["--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/bench_none"], "cannot reach"),
        (["--database-url", "sqlite:///:memory:", "--i-know-this-is-scratch"], "in-memory"),
    ]:
        _refused(["--database-url", url, *args] if "--database-url" not in args else args, says)


def test_the_app_does_not_import_the_benchmarks(tmp_path):
    script = (
        "import sys\n"
        "from brokerage import create_app\n"
        "app = create_app()\n"
        "assert 'bench' in app.cli.commands, sorted(app.cli.commands)\n"
        "print(sorted(name for name in sys.modules if name.startswith('brokerage_bench') or name.endswith('.bench')))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    environment.update(PYTHONPATH=str(ROOT), CAREPOOL_ENV="development", DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite'}")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_bench_group_still_lists_and_finds_both_benchmarks():
    from brokerage.cli import bench_group

    result = CliRunner().invoke(bench_group, ["--help"])
    assert result.exit_code == 0, result.output
    assert "ledger" in result.output and "match" in result.output
    assert bench_group.get_command(None, "ledger") is bench_ledger_command
    assert bench_group.get_command(None, "nope") is None


def _scratch_postgres_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_DATABASE_URL"])
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.mark.long
@pytest.mark.postgres_only
def test_bench_ledger_on_postgres_times_every_slice_and_leaves_a_verified_ledger():
    from sqlalchemy import text

    name = f"bench_{make_url_database()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = make_engine(os.environ["TEST_DATABASE_URL"]).execution_options(isolation_level="AUTOCOMMIT")
    url = _scratch_postgres_url(name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        result = CliRunner().invoke(
            bench_ledger_command, ["--database-url", url, "--workers", "2", "--seconds", "0.5", "--rounds", "1", "--batch-size", "50"]
        )
        assert result.exit_code == 0, result.output + result.stderr
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        assert KEYS <= figures.keys() and figures["database"] == "postgresql"
        engine = make_engine(url)
        try:
            with sessionmaker(bind=engine, class_=Session)() as session:
                autovacuum = session.execute(text("SHOW autovacuum")).scalar()
                assert ("autovacuum is off" in result.stderr) == (autovacuum != "on")
                council = session.execute(select(Council).where(Council.slug.like("bench-%"))).scalars().one()
                actor = system_actor(session=session, council_id=council.id)
                report = verify(session=session, actor=actor, council_id=council.id)
                assert report.ok, [str(p) for p in report.problems]
                assert session.execute(text("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_raw%'")).scalar() == 0
        finally:
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_url_database() -> str:
    from sqlalchemy.engine import make_url

    return make_url(os.environ["TEST_DATABASE_URL"]).database


def test_the_batch_slices_post_as_many_entries_at_once_as_runs_do():
    import inspect

    from brokerage.ledger.posting import post_in_batches

    assert ledger_bench.BATCH_SIZE == inspect.signature(post_in_batches).parameters["batch_size"].default
    assert next(p for p in bench_ledger_command.params if p.name == "batch_size").default == ledger_bench.BATCH_SIZE
