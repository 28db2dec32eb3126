"""`brokerage audit pack`: a zip whose files are all there and agree, and bad input refused in one line with no file left."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from brokerage.auditpack import readme
from brokerage.auditpack.pack import FILES
from tests.ledger.test_export import assert_clean, bean_check


def test_the_command_writes_the_pack_and_bean_check_passes_on_its_ledger(runner, q3, tmp_path):
    out = tmp_path / "council-a-2026Q3.zip"
    result = runner.invoke(args=["audit", "pack", "--council", "council-a", "--quarter", "2026Q3", "--out", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.startswith(f"wrote {out} (") and "3 statements" in result.output and result.stderr == ""
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == sorted(FILES)
        (tmp_path / "ledger.beancount").write_bytes(archive.read(readme.LEDGER_BEANCOUNT))
        statements = list(csv.DictReader(io.StringIO(archive.read(readme.STATEMENTS).decode(), newline="")))
    assert_clean(bean_check(tmp_path / "ledger.beancount"))
    closing = {line["account_code"]: line["balance_gbp"] for line in statements if line["line"] == "closing"}
    assert closing == {f"holder:{q3.holder.id}:wallet": "200.00", f"pool:{q3.cluster.id}:{q3.holder.id}": "56.00", f"holder:{q3.neighbour.id}:wallet": "50.00"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("options, says", [
    (["--quarter", "2026Q5"], "like 2026Q3"),
    (["--quarter", "Q3-2026"], "like 2026Q3"),
    (["--quarter", ""], "like 2026Q3"),
    (["--council", "no-such-council"], "no council called 'no-such-council'"),
    (["--council", "Not A Slug"], "short name"),
    (["--out", "{tmp}/missing/pack.zip"], "does not exist"),
    (["--out", "{tmp}"], "it is a folder, not a file"),
], ids=["quarter-5", "quarter-backwards", "quarter-empty", "unknown-council", "bad-slug", "missing-folder", "out-is-a-folder"])
def test_bad_input_exits_2_with_one_line_on_stderr_and_writes_nothing(runner, world, tmp_path, options, says):
    values = {"--council": "council-a", "--quarter": "2026Q3", "--out": str(tmp_path / "pack.zip")}
    for name, value in zip(options[::2], options[1::2]):
        values[name] = value.replace("{tmp}", str(tmp_path))
    result = runner.invoke(args=["audit", "pack", *[part for pair in values.items() for part in pair]])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_option_is_one_line_too(runner, tmp_path):
    result = runner.invoke(args=["audit", "pack", "--council", "council-a", "--out", str(tmp_path / "pack.zip")])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and "--quarter" in result.stderr
