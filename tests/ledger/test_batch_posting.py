"""The batch write path (ledger_post_batch on PostgreSQL, the Python path on SQLite): the same answers on both."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from brokerage.ledger import posting, services
from brokerage.ledger.errors import AlreadyReversed, IdempotencyConflict, Overdraft, Unbalanced, UnknownKind
from brokerage.ledger.integrity import verify
from brokerage.ledger.models import JournalEntry, LedgerAccount, Posting
from brokerage.ledger.rules import wallet_code
from tests import factories as f
from tests.ledger.conftest import issue


def bal(session, lw, code):
    return services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=code)


def dp(lw, key, amount=100, index=0):
    return services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -amount), (lw.wallet(index), amount)], idempotency_key=key)


def pledge(lw, key, amount, index=0):
    return services.EntrySpec(kind="pledge_collected", postings=[(lw.wallet(index), -amount), (lw.pool(index), amount)], idempotency_key=key)


def entries_with_key(session, lw, key):
    return session.execute(
        select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id == lw.council.id, JournalEntry.idempotency_key == key)
    ).scalar()


def test_the_entries_returned_are_the_rows_written(session, lw):
    entries = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id,
                                    entries=[dp(lw, "w-1", 300), pledge(lw, "w-2", 120)])
    fields = ("id", "council_id", "kind", "memo", "actor_id", "idempotency_key", "fingerprint", "created_at", "reverses_id", "content_hash")
    written = [tuple(getattr(e, name) for name in fields) for e in entries]
    session.expire_all()
    stored = [tuple(getattr(session.get(JournalEntry, e[0]), name) for name in fields) for e in written]
    assert written == stored
    assert session.get(JournalEntry, written[0][0]) is not None
    # Postings carry their entry's moment, legs in account-id order, and the hash verifies.
    rows = session.execute(select(Posting.entry_id, Posting.leg, Posting.account_id, Posting.created_at).where(
        Posting.entry_id.in_([w[0] for w in written])).order_by(Posting.entry_id, Posting.leg)).all()
    assert all(row.created_at == written[0][7] for row in rows)
    assert [r.account_id for r in rows if r.entry_id == written[0][0]] == sorted(r.account_id for r in rows if r.entry_id == written[0][0])
    assert verify(session=session, actor=lw.actor, council_id=lw.council.id).ok
    assert bal(session, lw, lw.wallet()) == 180 and bal(session, lw, lw.pool()) == 120


def test_a_retry_with_the_same_key_returns_the_first_entries_and_writes_nothing(session, lw):
    specs = [dp(lw, f"retry-{i}", 100 + i) for i in range(5)]
    first = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs)
    again = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs + [dp(lw, "retry-new", 7)])
    assert [e.id for e in again[:5]] == [e.id for e in first]
    assert again[5].id not in {e.id for e in first}
    assert bal(session, lw, lw.funding) == -(sum(100 + i for i in range(5)) + 7)
    single = services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
                                 postings=[(lw.funding, -100), (lw.wallet(), 100)], idempotency_key="retry-0")
    assert single.id == first[0].id


def test_a_key_used_for_other_content_is_refused_and_the_batch_writes_nothing(session, lw):
    issue(session, lw, 500, key="used")
    before = bal(session, lw, lw.funding)
    with pytest.raises(IdempotencyConflict):
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "fine"), dp(lw, "used", 501)])
    assert bal(session, lw, lw.funding) == before and entries_with_key(session, lw, "fine") == 0
    with pytest.raises(IdempotencyConflict):
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "twice", 1), dp(lw, "twice", 2)])
    assert entries_with_key(session, lw, "twice") == 0


def test_an_overdraft_midway_refuses_the_whole_batch_and_names_the_account(session, lw):
    issue(session, lw, 100)
    with pytest.raises(Overdraft) as refused:
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id,
                              entries=[pledge(lw, "p-1", 60), pledge(lw, "p-2", 60), dp(lw, "p-3", 1000)])
    assert lw.wallet() in refused.value.message and "£0.40" in refused.value.message
    assert bal(session, lw, lw.wallet()) == 100 and bal(session, lw, lw.pool()) == 0
    # The transaction is still usable after a refusal.
    services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[pledge(lw, "p-1", 60)])
    assert bal(session, lw, lw.pool()) == 60


def test_an_entry_posted_before_does_not_lend_its_money_twice(session, lw):
    # A retried batch holds a direct payment already posted (and since spent) and a new pledge that
    # needs that money again. The payment's 100p is in the balance once; counting it again would let
    # the pledge through (a write path that checks overdrafts before it knows which keys are new must
    # not do that).
    first = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "twice-dp", 100)])[0]
    services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[pledge(lw, "twice-spent", 100)])
    with pytest.raises(Overdraft):
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id,
                              entries=[dp(lw, "twice-dp", 100), pledge(lw, "twice-again", 100)])
    outcomes = services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id,
                                        entries=[dp(lw, "twice-dp", 100), pledge(lw, "twice-again", 100), dp(lw, "twice-new", 5)])
    assert outcomes[0].id == first.id
    assert isinstance(outcomes[1], Overdraft)
    assert outcomes[2].idempotency_key == "twice-new"
    assert bal(session, lw, lw.wallet()) == 5 and bal(session, lw, lw.pool()) == 100
    assert entries_with_key(session, lw, "twice-dp") == 1 and entries_with_key(session, lw, "twice-again") == 0


def test_a_key_posted_before_in_a_batch_of_new_keys_is_answered_with_its_entry(session, lw):
    # The old key's entry comes back in its place; the new keys around it are posted once each.
    before = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "old-key", 40)])[0]
    entries = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id,
                                    entries=[dp(lw, "new-1", 10), dp(lw, "old-key", 40), dp(lw, "new-2", 20)])
    assert entries[1].id == before.id and len({e.id for e in entries}) == 3
    assert bal(session, lw, lw.wallet()) == 70 and bal(session, lw, lw.funding) == -70
    assert all(entries_with_key(session, lw, key) == 1 for key in ("new-1", "old-key", "new-2"))


def test_a_reversal_takes_the_slower_path_with_the_same_rules(session, lw):
    entry = issue(session, lw, 400)
    reversal = services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="undo")
    assert reversal.reverses_id == entry.id and bal(session, lw, lw.wallet()) == 0
    with pytest.raises(AlreadyReversed):
        services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="undo-again")
    assert services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="undo").id == reversal.id


def test_a_run_answers_for_each_entry_and_one_bad_entry_sinks_nothing(session, lw):
    issue(session, lw, 100, index=1)
    issue(session, lw, 50, key="taken")
    same = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "same", 30)])[0]
    specs = [
        dp(lw, "run-1", 10),
        pledge(lw, "run-2", 80, index=1),
        pledge(lw, "run-3", 80, index=1),  # only 20p left in that wallet: refused alone
        dp(lw, "taken", 51),  # the key was used for other content
        services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -5), (lw.wallet(), 4)], idempotency_key="run-5"),  # unbalanced
        services.EntrySpec(kind="nonsense", postings=[(lw.funding, -5), (lw.wallet(), 5)], idempotency_key="run-6"),
        dp(lw, "run-1", 10),  # a repeat of the first, in the same batch
        dp(lw, "run-1", 11),  # the first's key for other content
        dp(lw, "same", 30),  # posted before with this content
        dp(lw, "run-10", 20, index=2),
    ]
    outcomes = services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs, batch_size=100)
    kinds = [type(o).__name__ if isinstance(o, Exception) else "entry" for o in outcomes]
    assert kinds == ["entry", "entry", "Overdraft", "IdempotencyConflict", "Unbalanced", "UnknownKind", "entry",
                     "IdempotencyConflict", "entry", "entry"]
    assert outcomes[6].id == outcomes[0].id and outcomes[8].id == same.id
    assert bal(session, lw, lw.wallet(1)) == 20 and bal(session, lw, lw.pool(1)) == 80
    assert bal(session, lw, lw.wallet(2)) == 20 and bal(session, lw, lw.wallet()) == 90
    assert isinstance(outcomes[4], Unbalanced) and isinstance(outcomes[5], UnknownKind)


def test_a_run_that_died_midway_posts_each_entry_once_when_run_again(session, lw):
    specs = [dp(lw, f"week-{i}", 10 + i, index=i % 3) for i in range(9)]
    # A first attempt posted and committed the first batch, then died during the second.
    services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs[:3], batch_size=3)

    class Died(Exception):
        pass

    def die_after_second(done, total):
        if done >= 6:
            raise Died()

    with pytest.raises(Died), session.begin_nested():
        services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs, batch_size=3,
                                 progress=die_after_second)
    assert session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.idempotency_key.like("week-%"))).scalar() == 3
    outcomes = services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs, batch_size=3)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert len({o.id for o in outcomes}) == 9
    assert all(entries_with_key(session, lw, f"week-{i}") == 1 for i in range(9))
    assert bal(session, lw, lw.funding) == -sum(10 + i for i in range(9))


def test_an_account_id_remembered_from_a_rolled_back_transaction_is_read_again(session, lw):
    holder = f.HolderFactory(session=session, council_id=lw.council.id)
    code = wallet_code(holder.id)
    spec = services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -5), (code, 5)], idempotency_key="first-use")
    with pytest.raises(RuntimeError), session.begin_nested():
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[spec])
        raise RuntimeError("undo the account's creation")
    assert session.execute(select(LedgerAccount).where(LedgerAccount.code == code)).first() is None
    entry = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[spec])[0]
    assert entry.id and bal(session, lw, code) == 5


def test_the_pool_summary_stays_exact_through_batches(session, lw):
    issue(session, lw, 1_000)
    specs = [pledge(lw, f"pool-{i}", 10 * (i + 1)) for i in range(5)] + [
        services.EntrySpec(kind="care_cost", postings=[(lw.pool(), -25), (lw.payable, 25)], idempotency_key=f"care:{7}:2026-W01"),
    ]
    services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs, batch_size=4)
    from brokerage.ledger import summary

    assert summary.differences(session=session, council_id=lw.council.id) == []
    assert sum(amount for amount, _ in summary.stored(session=session, council_id=lw.council.id).values()) == 150 - 25


@pytest.mark.postgres_only
def test_runs_of_one_council_take_turns(session, lw):
    posting.lock_run_writer(session, lw.council.id)
    held = session.execute(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid = :ns AND objid = :council"
    ), {"ns": posting.RUN_WRITER_LOCK, "council": lw.council.id}).scalar()
    assert held == 1


def test_a_nul_character_in_a_memo_is_refused_on_every_database(session, lw):
    from brokerage.errors import ValidationFailed

    spec = services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -5), (lw.wallet(), 5)], idempotency_key="nul", memo="a\x00b")
    with pytest.raises(ValidationFailed):
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[spec])
    assert entries_with_key(session, lw, "nul") == 0


HOSTILE_TEXT = ['"', "\\", '\\"', "{a,b}", "NULL", " padded ", "it's", "é 😀", 'x"y\\z{,}', "\t\n"]


def test_any_memo_and_key_text_is_stored_exactly_as_given(session, lw):
    """The write path sends text inside array literals on PostgreSQL: quotes, backslashes, braces and NULL come back as sent."""
    specs = [
        services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -1), (lw.wallet(), 1)], idempotency_key=f"k{i}{text}", memo=f"m{text}")
        for i, text in enumerate(HOSTILE_TEXT)
    ]
    returned = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs)
    session.commit()
    session.expire_all()
    for spec, entry in zip(specs, returned):
        stored = session.get(JournalEntry, entry.id)
        assert (stored.idempotency_key, stored.memo) == (spec.idempotency_key, spec.memo)
    assert verify(session=session, actor=lw.actor, council_id=lw.council.id).ok


def test_array_literals_quote_text_and_keep_ints_and_nulls():
    from datetime import date

    from brokerage.ledger.fastpath import array_literal

    assert array_literal([1, None, -5]) == "{1,NULL,-5}"
    assert array_literal(['a"b', "c\\d", "NULL"]) == '{"a\\"b","c\\\\d","NULL"}'
    assert array_literal([date(2026, 12, 1)]) == '{"2026-12-01"}'
    assert array_literal([]) == "{}"
    with pytest.raises(TypeError):
        array_literal([1.5])


def test_int_arrays_take_only_ints():
    from brokerage.ledger.fastpath import _int_array

    assert _int_array([1, -5, 2**40]) == "{1,-5,1099511627776}"
    assert _int_array([]) == "{}"
    for bad in (["1,2"], [None], [1.5]):  # a string could smuggle in elements; the database would read NULL as no amount
        with pytest.raises(TypeError):
            _int_array(bad)


@pytest.mark.postgres_only
def test_a_process_reads_a_councils_account_ids_once_not_one_holder_at_a_time(session, lw, monkeypatch):
    """After the first miss, posting for another holder whose accounts exist asks the database for no ids."""
    from sqlalchemy import event

    from brokerage.ledger import fastpath

    for index in (0, 1):
        posting.get_or_create_account(session=session, council_id=lw.council.id, code=lw.wallet(index))
    posting.get_or_create_account(session=session, council_id=lw.council.id, code=lw.funding)
    monkeypatch.setattr(fastpath, "_ACCOUNT_IDS", {})
    monkeypatch.setattr(fastpath, "_COUNCILS_READ", set())
    reads = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM ledger_account" in statement:
            reads.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "first", index=0)])
        assert len(reads) == 1  # the whole council, once
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=[dp(lw, "second", index=1)])
        assert len(reads) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert bal(session, lw, lw.wallet(1)) == 100
