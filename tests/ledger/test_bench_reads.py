"""`brokerage bench ledger-reads` builds a ledger that verifies, times its reads and prints JSON last (no speed asserted)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from brokerage_bench.ledger_reads import bench_ledger_reads_command


def test_bench_ledger_reads_runs_on_a_tiny_ledger_and_reuses_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench_reads.sqlite'}"
    first = CliRunner().invoke(bench_ledger_reads_command, ["--database-url", url, "--postings", "500"])
    assert first.exit_code == 0, first.output
    figures = json.loads(first.output.strip().splitlines()[-1])
    assert figures["verify_ok"] and figures["postings"] >= 500 and figures["database"] == "sqlite"
    assert {"balance_as_of_ms", "statement_first_page_ms", "statement_year_s", "trial_balance_ms", "seal_nothing_new_ms", "verify_s"} <= set(figures)
    again = CliRunner().invoke(bench_ledger_reads_command, ["--database-url", url, "--postings", "500", "--reuse"])
    assert again.exit_code == 0, again.output
    assert "reusing council" in again.output and json.loads(again.output.strip().splitlines()[-1])["build_s"] == 0


def test_bench_ledger_reads_refuses_a_database_not_named_bench(tmp_path):
    result = CliRunner().invoke(bench_ledger_reads_command, ["--database-url", f"sqlite:///{tmp_path / 'real.sqlite'}"])
    assert result.exit_code == 2 and "bench" in result.output
