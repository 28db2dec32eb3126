"""Sealing, verification that catches tampering behind the application's back, and inclusion proofs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from brokerage.ledger import integrity, merkle, services
from brokerage.ledger.models import LedgerSeal
from brokerage.scheduled import seal_job
from tests.ledger.conftest import issue, sweep


def seal(session, lw):
    return integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id)


def verify(session, lw):
    return integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id)


def pledge(session, lw, amount, index=0, key=None):
    return services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="pledge_collected",
                               postings=[(lw.wallet(index), -amount), (lw.pool(index), amount)], idempotency_key=key or f"pledge-{index}-{amount}")


def without_triggers(session, is_postgres, table, statement, params=None):
    """Run SQL with the ledger's triggers off, as an attacker with database access could."""
    if is_postgres:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text(statement), params or {})
        session.execute(text("SET LOCAL session_replication_role = origin"))
    else:
        names = [row[0] for row in session.execute(text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name=:t"), {"t": table})]
        sql = {name: session.execute(text("SELECT sql FROM sqlite_master WHERE name=:n"), {"n": name}).scalar() for name in names}
        for name in names:
            session.execute(text(f"DROP TRIGGER {name}"))
        session.execute(text(statement), params or {})
        for name in names:
            session.execute(text(sql[name]))


def test_sealing_numbers_entries_without_gaps_and_chains_seals(session, lw):
    for i in range(3):
        issue(session, lw, 100 + i, key=f"a{i}")
    first = seal(session, lw)
    assert (first.first_seq, first.last_seq, first.previous_hash) == (1, 3, None)
    assert seal(session, lw) is None
    for i in range(4):
        issue(session, lw, 200 + i, key=f"b{i}")
    second = seal(session, lw)
    assert (second.first_seq, second.last_seq, second.previous_hash) == (4, 7, first.seal_hash)
    report = verify(session, lw)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.entries, report.seals, report.unsealed) == (7, 2, 0)


def test_verify_passes_on_an_honest_ledger_with_unsealed_entries(session, lw):
    issue(session, lw, 1_000)
    seal(session, lw)
    pledge(session, lw, 300)
    report = verify(session, lw)
    assert report.ok and report.unsealed == 1


@pytest.mark.tampered
def test_verify_names_the_entry_whose_posting_was_changed_behind_our_back(session, lw, is_postgres):
    issue(session, lw, 1_000, key="one")
    target = pledge(session, lw, 300)
    issue(session, lw, 50, key="three")
    seal(session, lw)
    without_triggers(session, is_postgres, "posting", "UPDATE posting SET amount_pence = amount_pence + 1 WHERE entry_id = :e AND amount_pence > 0", {"e": target.id})
    report = verify(session, lw)
    assert not report.ok
    assert report.problems[0].entry_id == target.id
    # The invariant sweep run after every ledger test would have caught it too.
    assert any("sum to" in problem for problem in sweep(session))
    assert "sum to 1p" in report.problems[0].what or "hash" in report.problems[0].what


@pytest.mark.tampered
def test_verify_catches_a_rewritten_memo_even_with_a_recomputed_balance(session, lw, is_postgres):
    entry = issue(session, lw, 1_000, key="one")
    seal(session, lw)
    without_triggers(session, is_postgres, "journal_entry", "UPDATE journal_entry SET memo = 'nothing to see' WHERE id = :e", {"e": entry.id})
    problems = verify(session, lw).problems
    assert problems and problems[0].entry_id == entry.id and "hash" in problems[0].what


@pytest.mark.tampered
def test_verify_catches_a_recomputed_hash_through_the_seal(session, lw, is_postgres):
    entry = issue(session, lw, 1_000, key="one")
    seal(session, lw)
    without_triggers(session, is_postgres, "journal_entry", "UPDATE journal_entry SET content_hash = :h WHERE id = :e", {"e": entry.id, "h": "ab" * 32})
    whats = " ".join(p.what for p in verify(session, lw).problems)
    assert "Merkle root" in whats


@pytest.mark.tampered
def test_verify_catches_a_deleted_entry(session, lw, is_postgres):
    issue(session, lw, 1_000, key="one")
    gone = issue(session, lw, 10, key="two")
    seal(session, lw)
    for table in ("entry_sequence", "entry_close", "posting"):
        without_triggers(session, is_postgres, table, f"DELETE FROM {table} WHERE entry_id = :e", {"e": gone.id})
    without_triggers(session, is_postgres, "journal_entry", "DELETE FROM journal_entry WHERE id = :e", {"e": gone.id})
    assert not verify(session, lw).ok


def test_an_inclusion_proof_checks_against_the_seal(session, lw):
    entries = [issue(session, lw, 100 + i, key=f"k{i}") for i in range(6)]
    record = seal(session, lw)
    proof = integrity.prove(session=session, actor=lw.actor, entry_id=entries[3].id)
    assert proof["seal"]["root"] == record.root
    ok, why = merkle.check_proof(json.loads(json.dumps(proof)))
    assert ok, why
    proof["content_hash"] = entries[2].content_hash
    assert not merkle.check_proof(proof)[0]


def test_an_unsealed_entry_has_no_proof_yet(session, lw):
    from brokerage.ledger.errors import UnknownAccount

    entry = issue(session, lw, 100)
    with pytest.raises(UnknownAccount, match="not sealed"):
        integrity.prove(session=session, actor=lw.actor, entry_id=entry.id)


@pytest.mark.tampered
def test_the_cli_seals_verifies_proves_and_checks(runner, session, lw, tmp_path, is_postgres):
    issue(session, lw, 100, key="a")
    entry = issue(session, lw, 200, key="b")
    session.commit()
    assert runner.invoke(args=["ledger", "seal"]).exit_code == 0
    ok = runner.invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0 and ok.output.startswith("OK"), ok.output
    proof = runner.invoke(args=["ledger", "prove", str(entry.id)])
    assert proof.exit_code == 0
    path = tmp_path / "proof.json"
    path.write_text(proof.output)
    checked = runner.invoke(args=["ledger", "check-proof", str(path)])
    assert checked.exit_code == 0 and checked.output.startswith("OK")
    bad = json.loads(proof.output)
    bad["seq"] = bad["seq"] + 1 if bad["seq"] == 1 else 1
    path.write_text(json.dumps(bad))
    assert runner.invoke(args=["ledger", "check-proof", str(path)]).exit_code == 1
    without_triggers(session, is_postgres, "posting", "UPDATE posting SET amount_pence = amount_pence * 2 WHERE entry_id = :e", {"e": entry.id})
    session.commit()
    tampered = runner.invoke(args=["ledger", "verify"])
    assert tampered.exit_code == 1
    assert tampered.output.startswith(f"FAILED: council {lw.council.id}, entry {entry.id}")


def test_the_cli_refuses_bad_input_with_one_line(runner, tmp_path):
    missing = runner.invoke(args=["ledger", "check-proof", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert runner.invoke(args=["ledger", "prove", "999999"]).exit_code == 2
    assert runner.invoke(args=["ledger", "seal", "--council", "no-such"]).exit_code == 2


def test_the_seal_job_seals_every_council_with_entries_as_its_system_user(app, session, lw):
    issue(session, lw, 100, key="job-a")
    session.commit()
    with app.app_context():
        sealed = seal_job()
    assert lw.council.id in sealed and lw.other_council.id not in sealed
    record = session.execute(select(LedgerSeal).where(LedgerSeal.council_id == lw.council.id)).scalars().one()
    assert record.actor_id == lw.actor.id
