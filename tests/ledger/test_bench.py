"""`brokerage bench ledger` runs end to end on a SQLite file and leaves a ledger that verifies."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from brokerage.accounts.models import Council
from brokerage.db import make_engine
from brokerage.ledger.bench import bench_ledger_command
from brokerage.ledger.integrity import verify

KEYS = {"entries_per_s", "raw_entries_per_s", "ratio", "p50_ms", "p99_ms", "batch_postings_per_s", "workers", "database"}


def test_bench_ledger_runs_and_leaves_a_verified_ledger(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    result = CliRunner().invoke(
        bench_ledger_command, ["--database-url", url, "--workers", "2", "--seconds", "1", "--batch-size", "200"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert KEYS <= figures.keys()
    assert figures["workers"] == 2 and figures["database"] == "sqlite"
    # Rates are not asserted: a loaded machine may commit little in one second. The batch run posts a fixed count.
    assert figures["entries_per_s"] >= 0 and figures["raw_entries_per_s"] >= 0
    assert figures["batch_postings_per_s"] > 0

    engine = make_engine(url)
    try:
        with sessionmaker(bind=engine, class_=Session)() as session:
            council = session.execute(select(Council).where(Council.slug.like("bench-%"))).scalars().one()
            report = verify(session=session, actor=None, council_id=council.id)
            assert report.entries > 200  # the direct payments and what the bench posted
            assert report.ok, [str(p) for p in report.problems]
            tables = session.connection().exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE 'bench_raw%'").all()
            assert tables == []  # the raw baseline's tables are dropped
    finally:
        engine.dispose()


def test_bench_ledger_refuses_bad_options(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    for args, says in [
        (["--workers", "0"], "--workers"),
        (["--seconds", "0"], "--seconds"),
        (["--database-url", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.sqlite'}"], "cannot reach"),
        (["--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/none"], "cannot reach"),
    ]:
        result = CliRunner().invoke(bench_ledger_command, ["--database-url", url, *args] if "--database-url" not in args else args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr
