"""The auditor pack: every file there, consistent with the ledger and with each other, and checkable by tools that are not ours."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from brokerage.accounts.models import Role
from brokerage.auditpack import readme
from brokerage.auditpack.pack import FILES, write_pack, write_pack_file
from brokerage.auditpack.rules import Quarter
from brokerage.contracts.models import Contract
from brokerage.ledger.models import JournalEntry, LedgerAccount, LedgerSeal, Posting
from tests.auditpack.conftest import Q3, utc
from tests.ledger.test_export import assert_clean, bean_check


def open_pack(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture()
def pack(q3, session, tmp_path) -> dict[str, str]:
    """Write 2026Q3's pack of council A, as of 5 October 2026, and return its files."""
    written = write_pack_file(session=session, council_id=q3.council.id, quarter=Q3, target=tmp_path / "pack.zip", made_at=utc(2026, 10, 5, 10))
    files = open_pack(written.path)
    assert written.size == (tmp_path / "pack.zip").stat().st_size
    assert written.sha256 == hashlib.sha256((tmp_path / "pack.zip").read_bytes()).hexdigest()
    return files


def balance_at_quarter_end(session, account_id: int) -> int:
    return session.execute(
        select(func.coalesce(func.sum(Posting.amount_pence), 0)).join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account_id, JournalEntry.created_at < Q3.end_before)
    ).scalar_one()


def test_the_pack_holds_every_file_and_its_manifest_gives_their_sha256(pack):
    assert sorted(pack) == sorted(FILES)
    listed = dict(reversed(line.split("  ", 1)) for line in pack[readme.MANIFEST].splitlines())
    assert sorted(listed) == sorted(set(FILES) - {readme.MANIFEST})
    for name, digest in listed.items():
        assert hashlib.sha256(pack[name].encode("utf-8")).hexdigest() == digest, name


def test_each_statement_runs_from_its_opening_balance_to_the_accounts_balance_at_the_quarters_end(pack, q3, session):
    lines = rows(pack[readme.STATEMENTS])
    by_account = defaultdict(list)
    for line in lines:
        by_account[line["account_code"]].append(line)
    codes = dict(session.execute(select(LedgerAccount.code, LedgerAccount.id).where(LedgerAccount.council_id == q3.council.id)).all())
    for code, mine in by_account.items():
        assert (mine[0]["line"], mine[0]["what"], mine[0]["date"]) == ("opening", "Balance brought forward", "2026-07-01")
        assert (mine[-1]["line"], mine[-1]["what"], mine[-1]["date"]) == ("closing", "Balance carried forward", "2026-09-30")
        assert {line["line"] for line in mine[1:-1]} <= {"movement"}
        balance = int(mine[0]["balance_pence"])
        for line in mine[1:-1]:
            balance += int(line["amount_pence"])
            assert int(line["balance_pence"]) == balance and line["balance_gbp"] == f"{balance // 100}.{balance % 100:02d}"
        assert int(mine[-1]["balance_pence"]) == balance == balance_at_quarter_end(session, codes[code])
    wallet = by_account[f"holder:{q3.holder.id}:wallet"]
    assert wallet[0]["account"] == "Holder a's wallet" and wallet[0]["holder"] == "Holder a"
    # The pledge at 00:30 on 1 July in England is in the quarter; the payment at 00:30 on 1 October is not.
    assert [(line["date"], line["amount_gbp"]) for line in wallet] == [
        ("2026-07-01", ""), ("2026-07-01", "-100.00"), ("2026-08-03", "5.00"), ("2026-08-04", "-5.00"), ("2026-09-30", "")]
    assert (wallet[0]["balance_gbp"], wallet[-1]["balance_gbp"]) == ("300.00", "200.00")
    assert wallet[1]["at_london"] == "2026-07-01T00:30:00+01:00" and wallet[1]["what"] == "Pledge week of 29 June 2026"
    pool = by_account[f"pool:{q3.cluster.id}:{q3.holder.id}"]
    assert pool[0]["account"] == "Holder a's share of Cluster a" and pool[0]["group"] == "Cluster a"
    assert [line["balance_gbp"] for line in pool] == ["0.00", "100.00", "56.00", "56.00"]
    late = by_account[f"holder:{q3.neighbour.id}:wallet"]
    assert [line["balance_gbp"] for line in late] == ["0.00", "50.00", "50.00"]
    assert not any(code.startswith(("council:", "provider:", "external:")) for code in by_account)


def test_an_account_that_only_held_money_has_its_balance_brought_and_carried_forward(q3, session, tmp_path):
    # 2026Q4 of a world frozen before it: the wallets hold money, but only the October payment moves.
    written = write_pack_file(session=session, council_id=q3.council.id, quarter=Quarter(2026, 4), target=tmp_path / "q4.zip",
                              made_at=utc(2026, 10, 5, 10))
    files = open_pack(written.path)
    assert "The quarter had not ended when this pack was made" in files[readme.README]
    lines = rows(files[readme.STATEMENTS])
    pool = [line for line in lines if line["account_code"] == f"pool:{q3.cluster.id}:{q3.holder.id}"]
    assert [(line["line"], line["balance_gbp"]) for line in pool] == [("opening", "56.00"), ("closing", "56.00")]
    wallet = [line for line in lines if line["account_code"] == f"holder:{q3.holder.id}:wallet"]
    assert [line["amount_gbp"] for line in wallet][1] == "10.00"


def test_the_ledger_csv_holds_the_quarters_entries_each_summing_to_zero(pack, q3):
    lines = rows(pack[readme.LEDGER_CSV])
    totals = defaultdict(int)
    for line in lines:
        totals[int(line["entry_id"])] += int(line["amount_pence"])
    assert set(totals.values()) == {0}
    e = q3.entries
    assert set(totals) == {e["pledge"].id, e["care"].id, e["mistake"].id, e["reversal"].id, e["late_dp"].id}


def test_bean_check_accepts_the_beancount_file_and_its_days_are_days_in_england(pack, tmp_path):
    path = tmp_path / "ledger.beancount"
    path.write_text(pack[readme.LEDGER_BEANCOUNT], encoding="utf-8")
    assert_clean(bean_check(path))
    assert "2026-07-01 * \"Pledge 2026-W27\"" in pack[readme.LEDGER_BEANCOUNT]
    assert "(Europe/London days)" in pack[readme.LEDGER_BEANCOUNT]
    assert "2026-10-01 balance" in pack[readme.LEDGER_BEANCOUNT]


def test_the_timesheets_are_the_weeks_that_begin_in_the_quarter_and_those_decided_in_it(pack, q3):
    lines = rows(pack[readme.TIMESHEETS])
    by_sheet = {int(line["timesheet_id"]): line for line in lines}
    assert set(by_sheet) == {q3.sheets["approved"].id, q3.sheets["sent_back"].id, q3.sheets["draft"].id}
    approved = by_sheet[q3.sheets["approved"].id]
    assert (approved["week"], approved["iso_week"], approved["member"], approved["visits"], approved["hours"], approved["travel_hours"]) == (
        "week of 13 July 2026", "2026-W29", "Holder a", "2", "2.50", "0.33")
    broker = q3.world.users["a"][Role.broker].name
    assert (approved["status"], approved["approver"], approved["approved_at_london"]) == ("Approved", broker, "2026-07-20T13:00:00+01:00")
    assert (approved["member_part_gbp"], approved["ledger_entry_id"], approved["provider"], approved["group"]) == (
        "44.00", str(q3.entries["care"].id), "Co-op a", "Cluster a")
    sent_back = by_sheet[q3.sheets["sent_back"].id]
    assert (sent_back["status"], sent_back["approver"], sent_back["week"]) == ("Sent back", "", "week of 29 June 2026")
    assert by_sheet[q3.sheets["draft"].id]["member"] == ""


def test_the_contracts_vetting_and_seals_are_there_with_names(pack, q3, session):
    contracts = rows(pack[readme.CONTRACTS])
    assert {line["provider"] for line in contracts} == {"Co-op a", "Other co-op a"}
    mine = next(line for line in contracts if int(line["contract_id"]) == q3.contract.id)
    assert (mine["group"], mine["service"], mine["hours_per_week"], mine["rate_gbp"], mine["weekly_cost_gbp"], mine["start_date"], mine["end_date"]) == (
        "Cluster a", "home care", "10", "22.00", "220.00", "2026-01-05", "")
    assert (mine["days_and_times"], mine["slot_hours"]) == ("Not agreed", "")  # the world's contracts were made with no times
    vetting = rows(pack[readme.VETTING])
    # The world's providers never gave evidence: a line for each piece they need.
    assert {(line["provider"], line["evidence"], line["reference"], line["provider_vetted"], line["as_of"]) for line in vetting} == {
        (name, evidence, "never given", "no", "2026-09-30") for name in ("Co-op a", "Other co-op a") for evidence in ("DBS check", "insurance")}
    seals = rows(pack[readme.SEALS])
    stored = session.execute(select(LedgerSeal).where(LedgerSeal.council_id == q3.council.id).order_by(LedgerSeal.first_seq)).scalars().all()
    assert [(line["root"], line["seal_hash"], line["previous_hash"]) for line in seals] == [(s.root, s.seal_hash, s.previous_hash or "") for s in stored]
    assert len(stored) == 2 and seals[1]["previous_hash"] == seals[0]["seal_hash"]


def test_the_contracts_say_the_days_and_times_agreed_in_words_and_as_slot_hours(q3, session, tmp_path):
    contract = q3.contract
    contract.slot_hours = {"mon_am": 3, "tue_am": 3, "wed_am": 2, "fri_pm": 2}
    other = session.get(Contract, q3.world.records["a"]["other_contract"].id)
    other.hours_per_week, other.slot_hours = 12, {"sat_eve": 10}  # a change of hours passed after the times were agreed
    session.add_all([contract, other])
    session.commit()
    written = write_pack_file(session=session, council_id=q3.council.id, quarter=Q3, target=tmp_path / "times.zip", made_at=utc(2026, 10, 5, 10))
    files = open_pack(written.path)
    by_id = {int(line["contract_id"]): line for line in rows(files[readme.CONTRACTS])}
    mine = by_id[contract.id]
    assert mine["days_and_times"] == "Monday and Tuesday mornings, 3 hours each; Wednesday morning, 2 hours; Friday afternoon, 2 hours"
    assert json.loads(mine["slot_hours"]) == contract.slot_hours and mine["slot_hours"] == '{"mon_am":3,"tue_am":3,"wed_am":2,"fri_pm":2}'
    assert by_id[other.id]["days_and_times"] == "Saturday evening, 10 hours (agreed for 10 hours a week, before the hours changed)"
    assert '"days_and_times" in words' in files[readme.README] and "as JSON in week order" in files[readme.README]


def test_the_readme_names_the_council_the_quarter_and_the_moment_and_how_to_check(pack):
    text = pack[readme.README]
    assert "Council A" in text and "2026Q3 - July to September 2026" in text
    assert "5 October 2026 at 11am (UK time)" in text
    for command in ("bean-check ledger.beancount", "brokerage ledger verify --council council-a", "brokerage ledger prove ENTRY_ID > proof.json",
                    "brokerage ledger check-proof proof.json", "sha256sum -c MANIFEST.sha256"):
        assert command in text
    assert "The quarter had not ended when this pack was made" not in text


def test_a_pack_written_from_a_stream_names_another_councils_nothing(q3, session):
    out = io.BytesIO()
    summary = write_pack(session=session, council_id=q3.world.councils["b"].id, quarter=Q3, out=out, made_at=utc(2026, 10, 5, 10))
    files = open_pack(io.BytesIO(out.getvalue()))
    text = "".join(files.values())
    assert "Holder a" not in text and "Co-op a" not in text and "Council B" in files[readme.README]
    assert summary.facts.entries == 0 and summary.facts.accounts == 0


def test_a_failed_pack_leaves_no_file_behind(q3, session, tmp_path, monkeypatch):
    from brokerage.auditpack import sections

    def broken(**_):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(sections, "write_seals", broken)
    with pytest.raises(RuntimeError):
        write_pack_file(session=session, council_id=q3.council.id, quarter=Q3, target=tmp_path / "pack.zip")
    assert list(tmp_path.iterdir()) == []
