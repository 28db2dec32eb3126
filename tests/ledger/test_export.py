"""Exports: bean-check, which is not our code, accepts the Beancount file and agrees with our balances (invariant 8).

Beancount is GPL, so it only ever runs in a separate process; nothing here imports it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from brokerage.accounts.system import system_actor
from brokerage.ledger import integrity, posting, rules, services
from brokerage.ledger.export import CSV_COLUMNS, beancount_account, export_beancount, export_csv, gbp
from brokerage.ledger.models import Posting
from tests.ledger.conftest import issue

BEAN_CHECK = Path(sys.executable).parent / "bean-check"

# Sums every posting per account as Beancount parsed them, printed as {account: "12.34"}.
BALANCES_SCRIPT = """
import json, sys
from collections import defaultdict
from decimal import Decimal
from beancount import loader
from beancount.core import data

entries, errors, _ = loader.load_file(sys.argv[1])
if errors:
    sys.exit("beancount reported errors: %d" % len(errors))
totals = defaultdict(Decimal)
for entry in entries:
    if isinstance(entry, data.Transaction):
        for posting in entry.postings:
            assert posting.units.currency == "GBP"
            totals[posting.account] += posting.units.number
print(json.dumps({account: f"{total:.2f}" for account, total in totals.items()}))
"""

TRICKY_MEMO = 'Top-up for "Café" \\ night care\nsecond line\tend'


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=timezone.utc)


def post(session, lw, kind, postings, key, memo=""):
    return services.post_entry(
        session=session, actor=lw.actor, council_id=lw.council.id, kind=kind, postings=postings, idempotency_key=key, memo=memo
    )


def realistic_ledger(session, lw):
    """Issue, pledge, allocate a cost, pay out, fail a payout, and touch another council; return the failed payout."""
    issue(session, lw, 100_00, 0)
    issue(session, lw, 50_00, 1)
    issue(session, lw, 25_55, 2)
    post(session, lw, "adjustment", [(rules.TOPUPS_CODE, -5_01), (lw.wallet(2), 5_01)], "topup:1", memo=TRICKY_MEMO)
    for index, amount in enumerate([40_00, 30_00, 20_01]):
        post(session, lw, "pledge_collected", [(lw.wallet(index), -amount), (lw.pool(index), amount)], f"pledge:{index}", "Pledge")
    shares = rules.allocate_shared_cost(50_00, [1, 1, 1])
    post(
        session, lw, "care_cost",
        [(lw.pool(i), -share) for i, share in enumerate(shares)] + [(lw.payable, sum(shares))], "timesheet:1", "Week 10 care",
    )
    clearing, paid = rules.CLEARING_CODE, rules.paid_code(lw.provider.id)
    post(session, lw, "payout_sent", [(lw.payable, -20_00), (clearing, 20_00)], "payout:1", "Payout 1")
    post(session, lw, "payout_paid", [(clearing, -20_00), (paid, 20_00)], "payout:1:paid", "Payout 1 paid")
    failed = post(session, lw, "payout_sent", [(lw.payable, -30_00), (clearing, 30_00)], "payout:2", "Payout 2")
    integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id)
    # After the seal, so the export holds sequenced and unsequenced entries alike.
    services.reverse_entry(session=session, actor=lw.actor, entry_id=failed.id, idempotency_key="payout:2:failed")
    other = lw.other_council.id
    services.post_entry(
        session=session, actor=lw.other_actor, council_id=other, kind="dp_issued", idempotency_key="other:dp",
        postings=[(rules.funding_code(other), -7_77), (rules.wallet_code(lw.other_holder.id), 7_77)],
    )
    return failed


def our_balances(session, council_ids) -> dict[str, str]:
    """Return our cached balances, named as in the export."""
    found = {}
    for council_id in council_ids:
        actor = system_actor(session=session, council_id=council_id)
        accounts, total = services.trial_balance(session=session, actor=actor, council_id=council_id)
        assert total == 0
        found.update({beancount_account(council_id, a.code): gbp(a.balance_pence) for a in accounts})
    return found


def write_beancount(session, path: Path, **filters) -> str:
    with path.open("w", encoding="utf-8") as out:
        export_beancount(session=session, out=out, **filters)
    return path.read_text(encoding="utf-8")


def bean_check(path: Path) -> subprocess.CompletedProcess:
    if not BEAN_CHECK.exists():
        pytest.skip(f"bean-check is not installed next to {sys.executable} (pip install beancount)")
    return subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=60)


def beancount_balances(path: Path) -> dict[str, str]:
    result = subprocess.run([sys.executable, "-c", BALANCES_SCRIPT, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_clean(result: subprocess.CompletedProcess) -> None:
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_bean_check_accepts_the_export_and_its_balances_equal_ours(session, lw, tmp_path):
    realistic_ledger(session, lw)
    path = tmp_path / "ledger.beancount"
    text = write_beancount(session, path)

    assert_clean(bean_check(path))
    # Other tests may have committed ledgers of their own; an export of every council includes them.
    councils = services.council_ids_with_entries(session=session)
    assert {lw.council.id, lw.other_council.id} <= set(councils)
    ours = our_balances(session, councils)
    assert beancount_balances(path) == ours
    asserted = dict(re.findall(r"^\S+ balance (\S+)\s+(-?\d+\.\d\d) ~ 0\.00 GBP$", text, re.M))
    assert asserted == ours
    assert ours[beancount_account(lw.council.id, lw.payable)] == "30.00"
    assert ours[beancount_account(lw.council.id, lw.pool(2))] == "3.35"


def test_the_export_carries_entry_metadata_and_escapes_memos(session, lw, tmp_path):
    failed = realistic_ledger(session, lw)
    text = write_beancount(session, tmp_path / "ledger.beancount", council_id=lw.council.id)

    assert '"Top-up for \\"Café\\" \\\\ night care\\nsecond line\\tend"' in text
    block = text.split(f'  entry: "{failed.id}"\n')[1].split("\n\n")[0]
    assert '  kind: "payout_sent"' in block and '  seq: "' in block
    reversal = text.split(f'  reverses: "{failed.id}"\n')[0].rsplit("\n\n", 1)[1]
    assert '  kind: "reversal"' in reversal and "seq:" not in reversal
    assert f"  {beancount_account(lw.council.id, lw.payable)}  30.00 GBP" in text


def test_a_one_penny_difference_makes_bean_check_fail(session, lw, tmp_path):
    realistic_ledger(session, lw)
    path = tmp_path / "ledger.beancount"
    text = write_beancount(session, path, council_id=lw.council.id)
    assert_clean(bean_check(path))

    def one_penny_more(match: re.Match) -> str:
        pounds, pence = match.group("amount").split(".")
        total = int(pounds) * 100 + (-1 if pounds.startswith("-") else 1) * int(pence) + 1
        return match.group("before") + gbp(total) + match.group("after")

    posting = re.compile(r"^(?P<before>  Assets:\S+  )(?P<amount>-?\d+\.\d\d)(?P<after> GBP)$", re.M)
    (tmp_path / "posting.beancount").write_text(posting.sub(one_penny_more, text, count=1), encoding="utf-8")
    result = bean_check(tmp_path / "posting.beancount")
    assert result.returncode != 0 and "does not balance" in result.stdout + result.stderr

    assertion = re.compile(r"^(?P<before>\S+ balance \S+\s+)(?P<amount>-?\d+\.\d\d)(?P<after> ~ 0\.00 GBP)$", re.M)
    (tmp_path / "assertion.beancount").write_text(assertion.sub(one_penny_more, text, count=1), encoding="utf-8")
    result = bean_check(tmp_path / "assertion.beancount")
    assert result.returncode != 0 and "Balance failed" in result.stdout + result.stderr


def test_the_csv_has_one_balanced_row_per_posting(session, lw):
    realistic_ledger(session, lw)
    out = io.StringIO(newline="")
    summary = export_csv(session=session, council_id=lw.council.id, out=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    expected = session.execute(
        select(func.count()).select_from(Posting).where(Posting.council_id == lw.council.id)
    ).scalar_one()
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == summary.postings == expected
    per_entry: dict[str, int] = defaultdict(int)
    for row in rows:
        pence = int(row["amount_pence"])
        assert row["amount_gbp"] == gbp(pence) and row["council_id"] == str(lw.council.id)
        assert row["created_at"].endswith("+00:00")
        per_entry[row["entry_id"]] += pence
    assert set(per_entry.values()) == {0} and len(per_entry) == summary.entries
    assert [int(e) for e in per_entry] == sorted(int(e) for e in per_entry)
    assert any(row["memo"] == TRICKY_MEMO for row in rows)
    reversal = next(row for row in rows if row["kind"] == "reversal")
    assert reversal["reverses_id"] and reversal["seq"] == "" and rows[0]["seq"] == "1"


def test_small_chunks_give_the_same_files(session, lw):
    realistic_ledger(session, lw)
    for writer in (export_beancount, export_csv):
        whole, chunked = io.StringIO(), io.StringIO()
        big = writer(session=session, out=whole)
        small = writer(session=session, out=chunked, chunk_size=2)
        assert chunked.getvalue() == whole.getvalue() and small == big


def test_one_pass_for_both_files_writes_the_same_files_as_two(session, lw):
    from brokerage import clock
    from brokerage.ledger.export import export_both

    realistic_ledger(session, lw)
    for window in ({}, {"council_id": lw.council.id, "start": date(2026, 1, 2), "zone": clock.LONDON}, {"end": date(2000, 1, 1)}):
        alone = io.StringIO(newline=""), io.StringIO()
        summaries = export_csv(session=session, out=alone[0], **window), export_beancount(session=session, out=alone[1], **window)
        together = io.StringIO(newline=""), io.StringIO()
        assert export_both(session=session, csv_out=together[0], beancount_out=together[1], chunk_size=3, **window) == summaries
        assert [f.getvalue() for f in together] == [f.getvalue() for f in alone]


def test_a_council_filter_leaves_out_other_councils(session, lw, tmp_path):
    realistic_ledger(session, lw)
    path = tmp_path / "ledger.beancount"
    text = write_beancount(session, path, council_id=lw.council.id)

    assert_clean(bean_check(path))
    assert f":C{lw.other_council.id}:" not in text and f":C{lw.council.id}:" in text
    assert beancount_balances(path) == our_balances(session, [lw.council.id])


def test_a_dated_export_opens_with_earlier_balances_and_still_checks(session, lw, tmp_path, monkeypatch):
    def on(moment, action):
        monkeypatch.setattr(posting, "utcnow", lambda: moment)
        return action()

    on(at(1), lambda: issue(session, lw, 100_00, 0))
    on(at(1), lambda: post(session, lw, "pledge_collected", [(lw.wallet(0), -60_00), (lw.pool(0), 60_00)], "pledge", "Pledge"))
    # The last microsecond of 2 March still belongs to 2 March in UTC.
    late = datetime(2026, 3, 2, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    on(late, lambda: post(session, lw, "care_cost", [(lw.pool(0), -25_00), (lw.payable, 25_00)], "ts", "Care"))
    on(at(3, 0), lambda: issue(session, lw, 1_00, 1))

    path = tmp_path / "day2.beancount"
    text = write_beancount(session, path, council_id=lw.council.id, start=date(2026, 3, 2), end=date(2026, 3, 2))

    assert_clean(bean_check(path))
    transactions = re.findall(r"^(\S+) \* ", text, re.M)
    assert transactions == ["2026-03-02"] * 4  # three opening balances and the day's entry
    assert "Equity:C%d:Opening" % lw.council.id in text
    assert set(re.findall(r"^(\S+) balance ", text, re.M)) == {"2026-03-03"}
    expected = {
        beancount_account(lw.council.id, code): gbp(
            services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=code, as_of=late)
        )
        for code in (lw.funding, lw.wallet(0), lw.pool(0), lw.payable)
    }
    got = beancount_balances(path)
    assert got.pop(f"Equity:C{lw.council.id}:Opening") == "0.00"
    assert got == expected == {
        f"Equity:C{lw.council.id}:Funding": "-100.00", f"Assets:C{lw.council.id}:Wallet:H{lw.holders[0].id}": "40.00",
        f"Assets:C{lw.council.id}:Pool:K{lw.cluster.id}:H{lw.holders[0].id}": "35.00",
        f"Assets:C{lw.council.id}:Payable:P{lw.provider.id}": "25.00",
    }

    before = write_beancount(session, tmp_path / "before.beancount", council_id=lw.council.id, end=date(2026, 3, 1))
    assert "Payable" not in before and "Opening" not in before
    assert_clean(bean_check(tmp_path / "before.beancount"))
    csv_out = io.StringIO(newline="")
    assert export_csv(session=session, council_id=lw.council.id, start=date(2026, 3, 3), out=csv_out).entries == 1


def test_an_empty_window_writes_a_file_bean_check_accepts(session, lw, tmp_path):
    path = tmp_path / "empty.beancount"
    with path.open("w", encoding="utf-8") as out:
        summary = export_beancount(session=session, council_id=lw.council.id, out=out)
    assert (summary.entries, summary.postings, summary.accounts) == (0, 0, 0)
    assert_clean(bean_check(path))
    with pytest.raises(ValueError, match="start date"):
        export_csv(session=session, start=date(2026, 3, 2), end=date(2026, 3, 1), out=io.StringIO())


def test_the_export_command_writes_a_file_bean_check_accepts(runner, session, lw, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from tests.ledger.conftest import issue

    issue(session, lw, 1_234, key="cli-export")
    session.commit()
    out = tmp_path / "ledger.beancount"
    result = runner.invoke(args=["ledger", "export", "--format", "beancount", "--out", str(out), "--council", lw.council.slug])
    assert result.exit_code == 0, result.output
    check = subprocess.run([str(Path(sys.executable).parent / "bean-check"), str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    csv_out = tmp_path / "ledger.csv"
    assert runner.invoke(args=["ledger", "export", "--format", "csv", "--out", str(csv_out)]).exit_code == 0
    assert "12.34" in csv_out.read_text()


def test_the_export_command_refuses_bad_options_and_writes_nothing(runner, tmp_path):
    out = tmp_path / "x.beancount"
    backwards = runner.invoke(args=["ledger", "export", "--format", "beancount", "--out", str(out), "--from", "2026-02-01", "--to", "2026-01-01"])
    assert backwards.exit_code == 2 and not out.exists()
    assert runner.invoke(args=["ledger", "export", "--format", "pdf", "--out", str(out)]).exit_code == 2
    assert runner.invoke(args=["ledger", "export", "--format", "csv", "--out", str(tmp_path / "missing" / "x.csv")]).exit_code == 2
