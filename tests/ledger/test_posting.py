"""Posting entries: balanced, append-only, no overdraft, idempotent, reversible, point in time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from brokerage.errors import NotFound
from brokerage.ledger import services
from brokerage.ledger.errors import AlreadyReversed, IdempotencyConflict, Overdraft, Unbalanced, UnknownAccount
from brokerage.ledger.models import EntryClose, JournalEntry, LedgerAccount, Posting
from brokerage.ledger.rules import Leg
from brokerage.types import utcnow
from tests import factories as f
from tests.ledger.conftest import issue


def bal(session, lw, code):
    return services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=code)


def test_issuing_a_direct_payment_moves_money_from_funding_to_the_wallet(session, lw):
    entry = issue(session, lw, 12_345)
    assert bal(session, lw, lw.wallet()) == 12_345
    assert bal(session, lw, lw.funding) == -12_345
    assert sorted(services.entry_postings(session=session, entry_id=entry.id)) == sorted([(lw.funding, -12_345), (lw.wallet(), 12_345)])


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(session, lw):
    before = session.execute(text("SELECT COUNT(*) FROM journal_entry")).scalar()
    with pytest.raises(Unbalanced, match="sum to 1p"):
        services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
                            postings=[(lw.funding, -100), (lw.wallet(), 101)], idempotency_key="k1")
    with pytest.raises(Unbalanced, match="at least two"):
        services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued", postings=[(lw.wallet(), 0)], idempotency_key="k2")
    with pytest.raises(Unbalanced, match="integer pence"):
        services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
                            postings=[(lw.funding, -1.5), (lw.wallet(), 1.5)], idempotency_key="k3")
    assert session.execute(text("SELECT COUNT(*) FROM journal_entry")).scalar() == before


def test_the_database_refuses_to_close_an_unbalanced_entry(session, lw):
    issue(session, lw)
    wallet = services.find_account(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet())
    entry = JournalEntry(council_id=lw.council.id, kind="raw", idempotency_key="raw-1", fingerprint="x" * 64, content_hash="y" * 64)
    with pytest.raises((IntegrityError, DBAPIError)):
        with session.begin_nested():
            session.add(entry)
            session.flush()
            session.add(Posting(council_id=lw.council.id, entry_id=entry.id, leg=1, account_id=wallet.id, amount_pence=5, created_at=entry.created_at))
            session.flush()
            session.add(EntryClose(entry_id=entry.id, council_id=lw.council.id, leg_count=1))
            session.flush()


@pytest.mark.postgres_only
def test_postgres_refuses_at_commit_an_entry_that_was_never_closed(engine):
    # The deferred constraint trigger fires at COMMIT, so this test commits on its own connection.
    with engine.connect() as connection:
        council_id = connection.execute(text("INSERT INTO council (slug, name, created_at) VALUES ('deferred-test-' || floor(random()*1e9)::text, 'x', now()) RETURNING id")).scalar()
        connection.execute(text(
            "INSERT INTO journal_entry (council_id, kind, memo, idempotency_key, fingerprint, created_at, content_hash) "
            "VALUES (:c, 'raw', '', 'raw', 'f', now(), 'h')"), {"c": council_id})
        with pytest.raises(DBAPIError, match="does not balance at commit"):
            connection.commit()


@pytest.mark.parametrize("statement", [
    "UPDATE posting SET amount_pence = amount_pence + 1",
    "DELETE FROM posting",
    "UPDATE journal_entry SET memo = 'changed'",
    "DELETE FROM journal_entry",
    "DELETE FROM entry_close",
])
def test_the_database_refuses_update_and_delete_on_the_ledger(session, lw, statement):
    issue(session, lw)
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        with session.begin_nested():
            session.execute(text(statement))


def test_the_database_lets_only_the_cached_balance_of_an_account_change(session, lw):
    issue(session, lw)
    with pytest.raises((IntegrityError, DBAPIError), match="cached balance"):
        with session.begin_nested():
            session.execute(text("UPDATE ledger_account SET code = 'x' WHERE code = :c"), {"c": lw.wallet()})
    with pytest.raises((IntegrityError, DBAPIError), match="cannot be deleted"):
        with session.begin_nested():
            session.execute(text("DELETE FROM ledger_account"))


def test_the_database_refuses_a_negative_balance_on_a_non_negative_account(session, lw):
    issue(session, lw, 100)
    with pytest.raises((IntegrityError, DBAPIError)):
        with session.begin_nested():
            session.execute(text("UPDATE ledger_account SET balance_pence = -1 WHERE code = :c"), {"c": lw.wallet()})


def test_an_overdraft_is_refused_with_a_clear_message_and_nothing_changes(session, lw):
    issue(session, lw, 1_000)
    with pytest.raises(Overdraft, match=r"has £10.00 and this needs £10.01"):
        services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="pledge_collected",
                            postings=[(lw.wallet(), -1_001), (lw.pool(), 1_001)], idempotency_key="pledge-1")
    assert bal(session, lw, lw.wallet()) == 1_000
    assert bal(session, lw, lw.pool()) == 0


def test_funding_may_go_negative_but_wallets_may_not(session, lw):
    issue(session, lw, 500)
    assert bal(session, lw, lw.funding) == -500


def test_the_same_key_and_content_returns_the_first_entry(session, lw):
    first = issue(session, lw, 700, key="dp:2026-W48:h1")
    again = issue(session, lw, 700, key="dp:2026-W48:h1")
    assert again.id == first.id
    assert bal(session, lw, lw.wallet()) == 700


def test_the_same_key_with_other_content_is_refused(session, lw):
    issue(session, lw, 700, key="dp:2026-W48:h1")
    with pytest.raises(IdempotencyConflict, match="already used"):
        issue(session, lw, 701, key="dp:2026-W48:h1")
    assert bal(session, lw, lw.wallet()) == 700


def test_a_reversal_undoes_an_entry_and_points_at_it(session, lw):
    entry = issue(session, lw, 900)
    reversal = services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="rev-1", memo="Issued by mistake")
    assert reversal.reverses_id == entry.id
    assert bal(session, lw, lw.wallet()) == 0 and bal(session, lw, lw.funding) == 0
    with pytest.raises(AlreadyReversed):
        services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="rev-2")
    with pytest.raises(AlreadyReversed):
        services.reverse_entry(session=session, actor=lw.actor, entry_id=reversal.id, idempotency_key="rev-3")


def test_a_reversal_that_would_overdraw_is_refused(session, lw):
    entry = issue(session, lw, 900)
    services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="pledge_collected",
                        postings=[(lw.wallet(), -900), (lw.pool(), 900)], idempotency_key="p")
    with pytest.raises(Overdraft):
        services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="rev")


def test_balances_at_a_past_moment_come_from_the_postings(session, lw):
    issue(session, lw, 1_000, key="a")
    middle = utcnow()
    issue(session, lw, 250, key="b")
    account = services.find_account(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet())
    assert services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet(), as_of=middle) == 1_000
    assert services.balance_as_of(session=session, account_id=account.id, as_of=utcnow()) == 1_250
    assert services.balance_as_of(session=session, account_id=account.id, as_of=middle - timedelta(days=1)) == 0


def test_a_statement_has_running_balances(session, lw):
    issue(session, lw, 1_000, key="a")
    services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="pledge_collected",
                        postings=[(lw.wallet(), -300), (lw.pool(), 300)], idempotency_key="p", memo="Pledge to cluster")
    result = services.statement(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet())
    assert [(line.amount, line.balance) for line in result.lines] == [(1_000, 1_000), (-300, 700)]
    assert result.opening == 0 and result.closing == 700


def test_the_trial_balance_sums_to_zero(session, lw):
    issue(session, lw, 1_000, key="a")
    issue(session, lw, 2_000, index=1, key="b")
    accounts, total = services.trial_balance(session=session, actor=lw.actor, council_id=lw.council.id)
    assert total == 0 and len(accounts) == 3


def test_a_batch_posts_all_or_nothing(session, lw):
    specs = [services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -100), (lw.wallet(i % 3), 100)], idempotency_key=f"batch-{i}") for i in range(30)]
    entries = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs)
    assert len({e.id for e in entries}) == 30
    assert bal(session, lw, lw.funding) == -3_000
    bad = specs + [services.EntrySpec(kind="pledge_collected", postings=[(lw.wallet(), -10_000), (lw.pool(), 10_000)], idempotency_key="too-much")]
    with pytest.raises(Overdraft):
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=bad)
    assert bal(session, lw, lw.funding) == -3_000
    again = services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs)
    assert [e.id for e in again] == [e.id for e in entries]


def test_a_batch_cannot_overdraw_midway(session, lw):
    issue(session, lw, 100)
    specs = [
        services.EntrySpec(kind="pledge_collected", postings=[(lw.wallet(), -150), (lw.pool(), 150)], idempotency_key="first"),
        services.EntrySpec(kind="dp_issued", postings=[(lw.funding, -100), (lw.wallet(), 100)], idempotency_key="second"),
    ]
    with pytest.raises(Overdraft):
        services.post_entries(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs)


def test_accounts_of_another_council_cannot_be_used(session, lw):
    from brokerage.ledger import rules

    with pytest.raises(UnknownAccount):
        services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
                            postings=[(lw.funding, -100), (rules.wallet_code(lw.other_holder.id), 100)], idempotency_key="x")
    with pytest.raises(UnknownAccount):
        services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
                            postings=[(rules.funding_code(lw.other_council.id), -100), (lw.wallet(), 100)], idempotency_key="y")


def test_staff_of_another_council_cannot_read_or_post(session, lw):
    from brokerage.accounts.models import Role

    outsider = f.UserFactory(session=session, role=Role.broker, council_id=lw.other_council.id)
    issue(session, lw, 100)
    with pytest.raises(NotFound):
        services.balance(session=session, actor=outsider, council_id=lw.council.id, code=lw.wallet())
    with pytest.raises(NotFound):
        services.post_entry(session=session, actor=outsider, council_id=lw.council.id, kind="dp_issued",
                            postings=[Leg(lw.funding, -1), Leg(lw.wallet(), 1)], idempotency_key="z")


# --- the database's own checks of postings, however many rows one statement inserts --------------
# (PostgreSQL runs them once per INSERT statement since migration 0038; SQLite once per row.)


def _raw_entry(session, council_id: int, key: str) -> JournalEntry:
    entry = JournalEntry(council_id=council_id, kind="raw", idempotency_key=key, fingerprint="x" * 64, content_hash="y" * 64)
    session.add(entry)
    session.flush()
    return entry


def _insert_postings(session, entry: JournalEntry, legs: list[tuple[int, int]], council_id: int | None = None, first_leg: int = 1) -> None:
    """Insert the legs (account id, pence) of one entry in one INSERT statement, numbered from first_leg."""
    numbers = range(first_leg, first_leg + len(legs))
    values = ", ".join(f"(:c, :e, {number}, :a{number}, :p{number}, :t)" for number in numbers)
    parameters = {"c": council_id or entry.council_id, "e": entry.id, "t": entry.created_at}
    for number, (account_id, pence) in zip(numbers, legs):
        parameters[f"a{number}"], parameters[f"p{number}"] = account_id, pence
    session.execute(text(f"INSERT INTO posting (council_id, entry_id, leg, account_id, amount_pence, created_at) VALUES {values}"), parameters)


def _account_id(session, lw, code, council_id=None):
    return services.get_or_create_account(session=session, council_id=council_id or lw.council.id, code=code).id


def test_one_statement_of_many_postings_moves_each_cached_balance_by_its_net_amount(session, lw):
    issue(session, lw, 1_000)
    wallet, other_wallet, wallet_3 = (_account_id(session, lw, code) for code in (lw.wallet(), lw.wallet(1), lw.wallet(2)))
    entry = _raw_entry(session, lw.council.id, "raw-many")
    _insert_postings(session, entry, [(other_wallet, 200), (wallet, -300), (other_wallet, 60), (wallet_3, 40)])
    session.add(EntryClose(entry_id=entry.id, council_id=lw.council.id, leg_count=4))
    session.flush()
    session.expire_all()
    assert bal(session, lw, lw.wallet()) == 700
    assert bal(session, lw, lw.wallet(1)) == 260
    assert bal(session, lw, lw.wallet(2)) == 40
    # The fixture's sweep then checks every cached balance against the sum of its postings.


def test_the_database_refuses_more_postings_in_a_closed_entry(session, lw):
    entry = issue(session, lw, 1_000)
    wallet, other_wallet = _account_id(session, lw, lw.wallet()), _account_id(session, lw, lw.wallet(1))
    with pytest.raises((IntegrityError, DBAPIError), match="closed; no more postings"):
        with session.begin_nested():
            _insert_postings(session, entry, [(wallet, -100), (other_wallet, 100)], first_leg=3)
    session.expire_all()
    assert bal(session, lw, lw.wallet()) == 1_000
    assert bal(session, lw, lw.wallet(1)) == 0


def test_the_database_refuses_a_posting_across_councils_in_any_row_of_a_statement(session, lw):
    from brokerage.ledger import rules

    issue(session, lw, 1_000)
    wallet, other_wallet = _account_id(session, lw, lw.wallet()), _account_id(session, lw, lw.wallet(1))
    foreign = _account_id(session, lw, rules.funding_code(lw.other_council.id), council_id=lw.other_council.id)
    entry = _raw_entry(session, lw.council.id, "raw-across")
    for legs, council_id in (
        ([(wallet, -100), (other_wallet, 50), (foreign, 50)], None),  # another council's account, in the last row
        ([(wallet, -100), (other_wallet, 100)], lw.other_council.id),  # postings that claim another council
    ):
        with pytest.raises((IntegrityError, DBAPIError), match="must belong to one council"):
            with session.begin_nested():
                _insert_postings(session, entry, legs, council_id=council_id)
    with session.begin_nested():
        _insert_postings(session, entry, [(wallet, -100), (other_wallet, 100)])
        session.add(EntryClose(entry_id=entry.id, council_id=lw.council.id, leg_count=2))
        session.flush()
    session.expire_all()
    assert bal(session, lw, lw.wallet()) == 900
    assert bal(session, lw, lw.wallet(1)) == 100
    assert session.get(LedgerAccount, foreign).balance_pence == 0


def test_the_database_refuses_a_statement_that_leaves_a_non_negative_account_below_zero(session, lw):
    issue(session, lw, 1_000)
    wallet, other_wallet = _account_id(session, lw, lw.wallet()), _account_id(session, lw, lw.wallet(1))
    with pytest.raises((IntegrityError, DBAPIError)):
        with session.begin_nested():
            entry = _raw_entry(session, lw.council.id, "raw-overdrawn")
            _insert_postings(session, entry, [(other_wallet, 700), (wallet, -700), (other_wallet, 500), (wallet, -500)])
    session.expire_all()
    assert bal(session, lw, lw.wallet()) == 1_000
    assert bal(session, lw, lw.wallet(1)) == 0
