"""`ledger verify` on two cores (brokerage.ledger.entry_checks): the same report as one pass, tampering found in either half.

The second process reads the snapshot the first exports, so only committed rows are checked this
way: these tests commit a council's ledger (and delete it after, `tests.races.council_factory`).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text

from brokerage.accounts.system import system_actor
from brokerage.ledger import entry_checks, integrity, rules, services
from brokerage.ledger.models import EntrySequence
from tests import factories as f
from tests.races import council_factory, new_council  # noqa: F401  (council_factory is the `factory` fixture)

ENTRIES = 40


@pytest.fixture()
def ledger(factory, monkeypatch):
    """Commit a council's ledger of direct payments, pledges, care costs and one reversal, sealed twice with some left unsealed.

    Any ledger is big enough to split here (SPLIT_MIN_ENTRIES is 1).
    """
    monkeypatch.setattr(entry_checks, "SPLIT_MIN_ENTRIES", 1)
    with factory() as session:
        council = new_council(session)
        holder = f.HolderFactory(session=session, council_id=council.id)
        cluster = f.ClusterFactory(session=session, council_id=council.id)
        provider = f.ProviderFactory(session=session, council_id=council.id)
        session.commit()
        factory.councils.append(council.id)
        actor = system_actor(session=session, council_id=council.id)
        wallet, pool, payable = rules.wallet_code(holder.id), rules.pool_code(cluster.id, holder.id), rules.payable_code(provider.id)
        entries = []
        for n in range(ENTRIES):
            postings, kind = [
                ([(rules.funding_code(council.id), -1_000), (wallet, 1_000)], "dp_issued"),
                ([(wallet, -600), (pool, 600)], "pledge_collected"),
                ([(pool, -200), (payable, 200)], "care_cost"),
            ][n % 3]
            entries.append(services.post_entry(session=session, actor=actor, council_id=council.id, kind=kind, postings=postings,
                                               idempotency_key=f"split:{n}", memo=f"Entry {n}"))
            if n == ENTRIES // 2:
                integrity.seal(session=session, actor=actor, council_id=council.id)
        services.reverse_entry(session=session, actor=actor, entry_id=entries[5].id, idempotency_key="split:reverse", memo="Wrong care cost")
        integrity.seal(session=session, actor=actor, council_id=council.id)
        services.post_entry(session=session, actor=actor, council_id=council.id, kind="dp_issued",
                            postings=[(rules.funding_code(council.id), -5), (wallet, 5)], idempotency_key="split:unsealed")
        session.commit()
    return council.id, actor, entries


def _verify(factory, council_id, actor):
    with factory() as session:
        return integrity.verify(session=session, actor=actor, council_id=council_id)


def _one_pass(monkeypatch, factory, council_id, actor):
    with monkeypatch.context() as patch:
        patch.setattr(entry_checks, "can_split", lambda session, council_id: False)
        return _verify(factory, council_id, actor)


def _seen(report):
    return (report.entries, report.postings, report.accounts, report.seals, report.unsealed, [str(p) for p in report.problems])


def _checked_by(monkeypatch) -> list:
    """Record the findings of every split pass (their `pids` name the processes that checked)."""
    merged = []
    real = entry_checks.check_entries_split

    def spy(*args, **kwargs):
        merged.append(real(*args, **kwargs))
        return merged[-1]

    monkeypatch.setattr(entry_checks, "check_entries_split", spy)
    return merged


@pytest.mark.postgres_only
def test_two_processes_give_the_report_one_pass_gives(factory, ledger, monkeypatch):
    council_id, actor, _ = ledger
    merged = _checked_by(monkeypatch)
    split = _verify(factory, council_id, actor)
    assert split.ok, [str(p) for p in split.problems]
    assert (split.entries, split.seals, split.unsealed) == (ENTRIES + 2, 2, 1)
    assert len(merged) == 1 and len(merged[0].pids) == 2 and os.getpid() in merged[0].pids
    assert _seen(split) == _seen(_one_pass(monkeypatch, factory, council_id, actor))


@pytest.mark.postgres_only
@pytest.mark.tampered
def test_tampering_in_either_half_is_named_as_one_pass_names_it(factory, ledger, monkeypatch):
    council_id, actor, entries = ledger
    low, high = entries[3], entries[-2]
    with factory() as session:
        middle = session.execute(select(EntrySequence.entry_id).where(
            EntrySequence.council_id == council_id, EntrySequence.seq == round((ENTRIES + 1) * entry_checks.SPLIT_AT))).scalar_one()
        assert low.id < middle <= high.id  # one change in each process's half
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("UPDATE posting SET amount_pence = amount_pence + 1 WHERE entry_id = :e AND amount_pence > 0"), {"e": low.id})
        session.execute(text("UPDATE journal_entry SET memo = 'nothing to see' WHERE id = :e"), {"e": high.id})
        session.commit()
    merged = _checked_by(monkeypatch)
    split = _verify(factory, council_id, actor)
    assert len(merged) == 1 and len(merged[0].pids) == 2
    named = {p.entry_id for p in split.problems}
    assert {low.id, high.id} <= named
    assert _seen(split) == _seen(_one_pass(monkeypatch, factory, council_id, actor))


@pytest.mark.postgres_only
@pytest.mark.parametrize("fails", ["when it starts", "while it works"])
def test_when_the_second_process_fails_this_one_checks_its_half(factory, ledger, monkeypatch, fails):
    council_id, actor, _ = ledger

    class Broken:
        """A pool whose process never runs the work: it cannot start, or its work raises."""

        def __init__(self, *args, **kwargs):
            pass

        def submit(self, *args, **kwargs):
            from concurrent.futures import Future

            if fails == "when it starts":
                raise AssertionError("daemonic processes are not allowed to have children")
            future = Future()
            future.set_exception(OSError("the connection was lost"))
            return future

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(entry_checks, "ProcessPoolExecutor", Broken)
    merged = _checked_by(monkeypatch)
    ticks = []
    with factory() as session:
        split = integrity.verify(session=session, actor=actor, council_id=council_id, progress=ticks.append)
    assert merged[0].pids == {os.getpid()}
    assert sum(ticks) == split.entries == ENTRIES + 2  # the progress bar ends at the number of entries, not past it
    assert _seen(split) == _seen(_one_pass(monkeypatch, factory, council_id, actor))


@pytest.mark.postgres_only
def test_the_progress_of_both_processes_adds_up_to_the_entries(factory, ledger, monkeypatch):
    council_id, actor, _ = ledger
    ticks = []
    with factory() as session:
        report = integrity.verify(session=session, actor=actor, council_id=council_id, progress=ticks.append)
    assert sum(ticks) == report.entries == ENTRIES + 2


@pytest.mark.postgres_only
def test_a_transaction_that_has_written_is_checked_in_one_pass_that_sees_its_own_rows(factory, ledger, monkeypatch):
    council_id, actor, _ = ledger
    merged = _checked_by(monkeypatch)
    with factory() as session:
        wallet = rules.wallet_code(_holder_of(session, council_id))
        services.post_entry(session=session, actor=actor, council_id=council_id, kind="dp_issued",
                            postings=[(rules.funding_code(council_id), -7), (wallet, 7)], idempotency_key="split:not-committed")
        report = integrity.verify(session=session, actor=actor, council_id=council_id)
        session.rollback()
    assert merged == [] and report.ok and report.entries == ENTRIES + 3


def _holder_of(session, council_id):
    from brokerage.holders.models import Holder

    return session.execute(select(Holder.id).where(Holder.council_id == council_id)).scalar_one()


def test_an_exported_snapshot_id_is_checked_before_it_goes_into_sql():
    assert entry_checks._snapshot_id("00000003-0000001B-1") == "00000003-0000001B-1"
    for bad in ("", "1'; DROP TABLE posting; --", "00000003 0000001B"):
        with pytest.raises(ValueError):
            entry_checks._snapshot_id(bad)
