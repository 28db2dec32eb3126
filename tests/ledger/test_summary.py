"""The pool summary the council's reports read: exact after every kind of entry, by month in England."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text

from brokerage import clock
from brokerage.ledger import integrity, rules, services, summary
from brokerage.ledger.posting import EntrySpec, post_in_batches
from tests.ledger.conftest import issue


def post(session, lw, kind, postings, key, **extra):
    return services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind=kind, postings=postings, idempotency_key=key, **extra)


def rows(session, lw):
    """Return the stored summary as {(pool code, month, kind, provider, contract): pence}."""
    codes = dict(session.execute(text("SELECT id, code FROM ledger_account")).all())
    return {(codes[a], m, k, p, c): amount for (a, m, k, p, c), (amount, _) in summary.stored(session=session, council_id=lw.council.id).items()}


def fund_pool(session, lw, amount=10_000, index=0):
    issue(session, lw, amount=amount, index=index, key=f"dp-{index}-{amount}")
    post(session, lw, "pledge_collected", [(lw.wallet(index), -amount), (lw.pool(index), amount)], f"pledge-{index}-{amount}")


def test_care_costs_are_summed_by_share_provider_contract_and_month_in_england(session, lw, freeze_clock):
    # 23:30 UTC on 31 August is already September in England (BST).
    freeze_clock(datetime(2026, 8, 31, 23, 30, tzinfo=timezone.utc))
    fund_pool(session, lw, 10_000, 0)
    fund_pool(session, lw, 6_000, 1)
    post(session, lw, "care_cost", [(lw.pool(0), -3_000), (lw.pool(1), -2_000), (lw.payable, 5_000)], "care:41:2026-W36")
    september = date(2026, 9, 1)
    got = rows(session, lw)
    assert got[(lw.pool(0), september, "pledge_collected", 0, 0)] == 10_000
    assert got[(lw.pool(0), september, "care_cost", lw.provider.id, 41)] == -3_000
    assert got[(lw.pool(1), september, "care_cost", lw.provider.id, 41)] == -2_000
    assert not [key for key in got if key[1] == date(2026, 8, 1)]


def test_a_reversed_care_cost_nets_out_under_care_in_the_month_it_was_reversed(session, lw, freeze_clock):
    freeze_clock(datetime(2026, 9, 30, 12, 0, tzinfo=timezone.utc))
    fund_pool(session, lw, 10_000, 0)
    cost = post(session, lw, "care_cost", [(lw.pool(0), -4_000), (lw.payable, 4_000)], "care:7:2026-W40")
    freeze_clock(datetime(2026, 10, 2, 12, 0, tzinfo=timezone.utc))
    services.reverse_entry(session=session, actor=lw.actor, entry_id=cost.id, idempotency_key="undo-care-7-W40")
    got = rows(session, lw)
    assert got[(lw.pool(0), date(2026, 9, 1), "care_cost", lw.provider.id, 7)] == -4_000
    assert got[(lw.pool(0), date(2026, 10, 1), "care_cost", lw.provider.id, 7)] == 4_000
    assert not [key for key in got if key[2] == "reversal"]


def test_a_repeated_key_adds_nothing_to_the_summary(session, lw):
    fund_pool(session, lw, 10_000, 0)
    for _ in range(3):
        post(session, lw, "care_cost", [(lw.pool(0), -1_000), (lw.payable, 1_000)], "care:3:2026-W45")
    assert sum(amount for key, amount in rows(session, lw).items() if key[2] == "care_cost") == -1_000


def test_a_refused_entry_in_a_batch_leaves_the_summary_as_it_was(session, lw):
    fund_pool(session, lw, 5_000, 0)
    before = rows(session, lw)
    outcomes = post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=[
        EntrySpec(kind="care_cost", postings=[(lw.pool(0), -2_000), (lw.payable, 2_000)], idempotency_key="care:1:2026-W01"),
        EntrySpec(kind="care_cost", postings=[(lw.pool(0), -9_000), (lw.payable, 9_000)], idempotency_key="care:1:2026-W02"),
    ])
    assert isinstance(outcomes[1], Exception)
    after = rows(session, lw)
    changed = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
    assert list(changed.values()) == [-2_000]


@pytest.mark.tampered
def test_verify_names_a_summary_row_changed_behind_our_back(session, lw):
    fund_pool(session, lw, 10_000, 0)
    assert integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id).ok
    session.execute(text("UPDATE ledger_pool_month SET amount_pence = amount_pence + 1"))
    report = integrity.verify(session=session, actor=lw.actor, council_id=lw.council.id)
    assert not report.ok
    assert any("pool summary" in str(problem) and "10001p" in str(problem) for problem in report.problems)


def test_month_of_follows_the_clocks_in_england():
    assert summary.month_of(datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc)) == date(2026, 4, 1)  # BST
    assert summary.month_of(datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)) == date(2026, 1, 1)  # GMT
    assert summary.month_of(clock.start_of_day(date(2026, 11, 1))) == date(2026, 11, 1)


def test_pool_effects_count_a_reversal_under_the_kind_it_reverses():
    effects = summary.pool_effects(kind="reversal", key="undo", postings=[("pool:2:3", 500), ("provider:9:payable", -500)], original=("care_cost", "care:12:2026-W01"))
    assert effects == [("pool:2:3", "care_cost", 9, 12, 500)]
    assert summary.contract_of("care_cost", "care:x:2026-W01") == 0
    assert summary.provider_of(["provider:1:payable", "provider:2:payable"]) == 0
    assert rules.type_of_code("pool:2:3").value == "pool"
