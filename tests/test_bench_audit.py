"""`brokerage bench audit` (in brokerage_bench, outside the app) builds a history that balances, times it, and refuses bad input."""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from brokerage import clock
from brokerage.accounts.models import Council
from brokerage.accounts.system import system_actor
from brokerage.db import make_engine
from brokerage.ledger import summary
from brokerage.ledger.integrity import verify
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import JournalEntry, LedgerSeal, PoolMonth
from brokerage.payments.run_models import PaymentLine
from brokerage.timesheets.models import Timesheet
from brokerage_bench.audit import bench_audit_command
from brokerage_bench.audit_queries import PACK, QUERIES, quarter
from brokerage_bench.audit_world import group_sizes

SIZE = ["--holders", "20", "--weeks", "3", "--repeat", "1"]
EVERY_KIND = {
    EntryKind.dp_issued, EntryKind.pledge_collected, EntryKind.care_cost, EntryKind.reversal, EntryKind.member_left,
    EntryKind.payout_sent, EntryKind.payout_paid,
}


def _run(args: list[str]):
    result = CliRunner().invoke(bench_audit_command, args)
    assert result.exit_code == 0, result.output + result.stderr + repr(result.exception)
    return result, json.loads(result.stdout.strip().splitlines()[-1])


def _check_history(url: str, figures: dict, *, threads: int = 1) -> None:
    """The council the bench built balances, its summary agrees with its postings, and the figures count its rows."""
    engine = make_engine(url)
    try:
        with sessionmaker(bind=engine, class_=Session)() as session:
            council = session.execute(select(Council).where(Council.slug.like("bench-audit-%"))).scalars().one()
            report = verify(session=session, actor=system_actor(session=session, council_id=council.id, create=False), council_id=council.id)
            assert report.ok, [str(p) for p in report.problems]
            assert summary.differences(session=session, council_id=council.id) == []
            assert (report.entries, report.postings) == (figures["entries"], figures["postings"])
            assert report.unsealed == 0 and report.seals >= 1
            entries = list(session.execute(select(JournalEntry).where(JournalEntry.council_id == council.id).order_by(JournalEntry.id)).scalars())
            assert set(Counter(e.kind for e in entries)) == {k.value for k in EVERY_KIND}
            # Dated across the weeks, which end before this week (the clock moved through them), and by the week's own keys.
            today = clock.today()
            this_monday = today - timedelta(days=today.weekday())
            first = this_monday - timedelta(weeks=3)
            assert all(clock.start_of_day(first) <= e.created_at < clock.start_of_day(this_monday) for e in entries)
            # The clock only goes forwards; with threads, the entries of one step may interleave, never by more than a minute.
            slack = timedelta(0) if threads == 1 else timedelta(minutes=1)
            assert all(later.created_at >= earlier.created_at - slack for earlier, later in zip(entries, entries[1:]))
            care = [e for e in entries if e.kind == EntryKind.care_cost]
            assert all(e.idempotency_key.startswith("care:") for e in care)
            sheets = session.execute(select(Timesheet).where(Timesheet.council_id == council.id)).scalars().all()
            assert {s.care_entry_id for s in sheets} == {e.id for e in care}
            assert session.execute(select(PaymentLine.status).where(PaymentLine.council_id == council.id)).scalars().all()
            assert session.execute(select(PoolMonth.id).where(PoolMonth.council_id == council.id)).first()
            assert session.execute(select(LedgerSeal.id).where(LedgerSeal.council_id == council.id)).first()
    finally:
        engine.dispose()


def _check_figures(figures: dict) -> None:
    assert {f"{timed.name}_ms" for timed in QUERIES} <= figures.keys()
    assert {"pack_s", "postings", "entries", "holders", "weeks", "build_s"} <= figures.keys()
    assert (figures["holders"], figures["weeks"]) == (20, 3)
    # No timing is asserted (a loaded machine is slow); only that each was measured.
    assert all(figures[f"{timed.name}_ms"] >= 0 for timed in QUERIES) and figures["pack_s"] >= 0
    assert figures["postings"] > figures["entries"] > 20 * 3


def test_bench_audit_builds_a_balanced_history_on_sqlite_and_prints_its_figures_last(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench-audit.sqlite'}"
    result, figures = _run(["--database-url", url, *SIZE])
    _check_figures(figures)
    assert figures["reused"] is False and figures["database"] == "sqlite"
    assert all(f"{timed.name} " in result.stdout for timed in QUERIES)
    _check_history(url, figures)


def test_bench_audit_reuses_a_finished_history_of_the_same_size(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench-audit.sqlite'}"
    _, first = _run(["--database-url", url, *SIZE])
    result, again = _run(["--database-url", url, *SIZE, "--reuse"])
    assert again["reused"] is True and "Reusing the history" in result.stdout
    assert (again["entries"], again["postings"], again["build_s"]) == (first["entries"], first["postings"], first["build_s"])
    # Another size is not the same history: it is built.
    result, other = _run(["--database-url", url, "--holders", "10", "--weeks", "2", "--repeat", "1", "--reuse"])
    assert other["reused"] is False and "building one" in result.stdout


@pytest.fixture()
def postgres_scratch():
    """Create a PostgreSQL database named like a scratch one beside TEST_DATABASE_URL, and drop it afterwards."""
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"bench_audit_test_{secrets.token_hex(4)}"
    admin = make_engine(base.render_as_string(hide_password=False)).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres_only
def test_bench_audit_builds_a_balanced_history_on_postgresql_with_two_threads(postgres_scratch):
    _, figures = _run(["--database-url", postgres_scratch, *SIZE, "--threads", "2", "--batch-size", "7"])
    _check_figures(figures)
    assert figures["database"] == "postgresql"
    _check_history(postgres_scratch, figures, threads=2)


def _refused(args: list[str], says: str) -> None:
    result = CliRunner().invoke(bench_audit_command, args)
    assert result.exit_code == 2, (args, result.output)
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr, (args, result.stderr)
    assert result.stdout == ""


def test_bench_audit_refuses_bad_input_with_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench-audit.sqlite'}"
    for args, says in [
        ([], "--database-url is required"),
        (["--database-url", f"sqlite:///{tmp_path / 'carepool.sqlite'}"], "does not start with 'bench'"),
        (["--database-url", "postgresql://postgres@127.0.0.1:5432/carepool"], "does not start with 'bench'"),
        (["--database-url", url, "--holders", "4"], "--holders must be at least 5"),
        (["--database-url", url, "--holders", "-1"], "--holders must be at least 5"),
        (["--database-url", url, "--weeks", "0"], "--weeks must be between 1 and 520"),
        (["--database-url", url, "--weeks", "521"], "--weeks must be between 1 and 520"),
        (["--database-url", url, "--repeat", "0"], "--repeat must be at least 1"),
        (["--database-url", url, "--batch-size", "0"], "--batch-size must be at least 1"),
        (["--database-url", url, "--threads", "0"], "--threads must be between 1 and 16"),
        (["--database-url", f"sqlite:///{tmp_path / 'missing' / 'bench.sqlite'}"], "cannot reach"),
        (["--database-url", "sqlite:///:memory:", "--i-know-this-is-scratch"], "in-memory"),
    ]:
        _refused(args, says)
    assert not (tmp_path / "carepool.sqlite").exists() and not (tmp_path / "bench-audit.sqlite").exists()


def test_holders_are_dealt_into_groups_of_about_five_with_nobody_left_out():
    import random

    for holders in (5, 6, 7, 9, 20, 101, 5000):
        sizes = group_sizes(holders, random.Random(holders))
        assert sum(sizes) == holders
        assert all(3 <= size <= 8 for size in sizes) or sizes == [holders]


def test_quarters_are_calendar_quarters_counted_back_across_years():
    assert quarter(date(2026, 12, 1)) == (date(2026, 10, 1), date(2027, 1, 1))
    assert quarter(date(2026, 12, 1), 1) == (date(2026, 7, 1), date(2026, 10, 1))
    assert quarter(date(2026, 2, 14), 1) == (date(2025, 10, 1), date(2026, 1, 1))
    assert quarter(date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 4, 1))


def test_the_bench_group_finds_the_audit_bench_and_the_pack_is_timed_apart():
    from brokerage.cli import bench_group

    assert bench_group.get_command(None, "audit") is bench_audit_command
    result = CliRunner().invoke(bench_group, ["--help"])
    assert "audit" in result.output
    assert PACK.name == "pack" and PACK.name not in {timed.name for timed in QUERIES}
    assert len({timed.name for timed in QUERIES}) == len(QUERIES)
