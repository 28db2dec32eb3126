"""Balance snapshots at each seal always equal the postings, and balances at past moments agree with the plain sum."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select, text

from brokerage.ledger import integrity, services
from brokerage.ledger.models import BalanceSnapshot, EntrySequence, LedgerAccount, LedgerSeal, Posting, UnsealedEntry
from brokerage.ledger.queries import balance_as_of
from brokerage.types import utcnow
from tests.ledger.conftest import issue


def plain_sum(session, account_id, as_of):
    return int(session.execute(
        select(func.coalesce(func.sum(Posting.amount_pence), 0)).where(Posting.account_id == account_id, Posting.created_at <= as_of)
    ).scalar_one())


def snapshots_equal_postings(session, council_id):
    for seal_id, account_id, last_seq, balance in session.execute(
        select(BalanceSnapshot.seal_id, BalanceSnapshot.account_id, BalanceSnapshot.last_seq, BalanceSnapshot.balance_pence)
        .where(BalanceSnapshot.council_id == council_id)
    ):
        expected = session.execute(
            select(func.coalesce(func.sum(Posting.amount_pence), 0))
            .join(EntrySequence, EntrySequence.entry_id == Posting.entry_id)
            .where(Posting.account_id == account_id, EntrySequence.seq <= last_seq)
        ).scalar_one()
        assert balance == expected, (seal_id, account_id)


def test_snapshots_and_past_balances_agree_with_the_postings_over_random_posts_and_seals(session, lw, monkeypatch):
    rng = random.Random(13)
    clock = [utcnow() - timedelta(days=30)]
    # Entries made out of time order, as concurrent writers make them: created_at jumps back and forth.
    monkeypatch.setattr("brokerage.ledger.posting.utcnow", lambda: clock[0])
    moments = []
    for step in range(60):
        clock[0] += timedelta(minutes=rng.choice([-7, 1, 2, 5, 30]))
        moments.append(clock[0])
        action = rng.random()
        if action < 0.6:
            issue(session, lw, rng.randint(1, 500), index=rng.randrange(3), key=f"dp-{step}")
        elif action < 0.85:
            index = rng.randrange(3)
            balance = services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet(index))
            if balance:
                services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="pledge_collected",
                                    postings=[(lw.wallet(index), -balance), (lw.pool(index), balance)], idempotency_key=f"pledge-{step}")
        else:
            integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id, limit=rng.choice([None, 2, 5]))
    integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id, limit=3)
    snapshots_equal_postings(session, lw.council.id)
    assert session.execute(select(func.count()).select_from(BalanceSnapshot)).scalar_one() > 0
    report = integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id)
    assert report.ok, [str(p) for p in report.problems]
    accounts = list(session.execute(select(LedgerAccount.id).where(LedgerAccount.council_id == lw.council.id)).scalars())
    seal_times = list(session.execute(select(LedgerSeal.through_created_at, LedgerSeal.min_created_at)).all())
    # Every moment an entry was made, a moment either side, and each seal's boundaries.
    probes = {m + d for m in moments for d in (timedelta(0), timedelta(microseconds=-1), timedelta(seconds=1))}
    probes |= {t + d for pair in seal_times for t in pair if t for d in (timedelta(0), timedelta(microseconds=-1), timedelta(microseconds=1))}
    for account_id in accounts:
        for moment in sorted(probes):
            assert balance_as_of(session=session, account_id=account_id, as_of=moment) == plain_sum(session, account_id, moment), (account_id, moment)


def test_a_snapshot_counts_entries_by_sequence_not_by_time(session, lw, monkeypatch):
    now = utcnow()
    clock = [now]
    monkeypatch.setattr("brokerage.ledger.posting.utcnow", lambda: clock[0])
    issue(session, lw, 100, key="late-made-first")  # made at `now`, sealed first
    clock[0] = now - timedelta(hours=1)
    early = issue(session, lw, 40, key="early-made-second")  # made an hour before, not yet sealed
    record = integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id, limit=1)
    funding = session.execute(select(LedgerAccount.id).where(LedgerAccount.code == lw.funding, LedgerAccount.council_id == lw.council.id)).scalar_one()
    assert session.execute(select(BalanceSnapshot.balance_pence).where(BalanceSnapshot.seal_id == record.id, BalanceSnapshot.account_id == funding)).scalar_one() == -100
    assert session.get(UnsealedEntry, early.id) is not None
    # The snapshot fits from `now` on, and the unsealed earlier entry is added to it.
    assert balance_as_of(session=session, account_id=funding, as_of=now) == -140
    assert balance_as_of(session=session, account_id=funding, as_of=now - timedelta(microseconds=1)) == -40
    assert balance_as_of(session=session, account_id=funding, as_of=now - timedelta(hours=1, microseconds=1)) == 0
    integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id)
    assert balance_as_of(session=session, account_id=funding, as_of=now) == -140
    assert balance_as_of(session=session, account_id=funding, as_of=now - timedelta(minutes=1)) == -40
    assert integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id).ok


def test_snapshots_are_append_only(session, lw):
    import pytest
    from sqlalchemy.exc import DBAPIError

    issue(session, lw, 100)
    integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id)
    for statement in ("UPDATE ledger_balance_snapshot SET balance_pence = 0", "DELETE FROM ledger_balance_snapshot"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement))


def test_a_nothing_new_seal_writes_nothing(session, lw):
    issue(session, lw, 100)
    assert integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id) is not None
    assert integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id) is None
    assert session.execute(select(func.count()).select_from(UnsealedEntry)).scalar_one() == 0


import pytest  # noqa: E402


@pytest.mark.tampered
def test_verify_catches_a_snapshot_changed_behind_our_back(session, lw, is_postgres):
    from tests.ledger.test_integrity import without_triggers

    issue(session, lw, 100)
    integrity.seal(session=session, actor=lw.actor, council_id=lw.council.id)
    without_triggers(session, is_postgres, "ledger_balance_snapshot", "UPDATE ledger_balance_snapshot SET balance_pence = balance_pence + 1")
    whats = " ".join(p.what for p in integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id).problems)
    assert "balance snapshot" in whats


@pytest.mark.tampered
def test_verify_catches_an_entry_taken_off_the_queue_of_unsealed_entries(session, lw, is_postgres):
    from tests.ledger.test_integrity import without_triggers

    entry = issue(session, lw, 100)
    without_triggers(session, is_postgres, "ledger_unsealed_entry", "DELETE FROM ledger_unsealed_entry")
    problems = integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id).problems
    assert any(p.entry_id == entry.id and "queued" in p.what for p in problems)


def test_every_closed_entry_is_queued_once_with_its_time_whichever_path_wrote_it(session, lw):
    """A batch, a single post and a reversal (the Python path) all reach the queue of unsealed entries."""
    batch = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[
        services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -10 - i), (lw.wallet(), 10 + i)], idempotency_key=f"queue:{i}")
        for i in range(5)
    ])
    single = issue(session, lw, 7, key="queue:single")
    reversal = services.reverse_entry(session=session, actor=lw.actor, entry_id=batch[0].id, idempotency_key="queue:reversal")
    session.commit()
    written = batch + [single, reversal]
    queued = {row.entry_id: row for row in session.execute(select(UnsealedEntry)).scalars()}
    assert set(queued) == {entry.id for entry in written}
    for entry in written:
        assert queued[entry.id].created_at == entry.created_at and queued[entry.id].council_id == lw.council.id
