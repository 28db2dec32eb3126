"""Pure ledger rules: balancing, the chart of accounts, largest-remainder allocation, content hashes."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage.ledger import rules
from brokerage.ledger.rules import AccountType, Leg


def test_only_sources_and_sinks_may_go_negative():
    assert rules.may_go_negative(AccountType.funding)
    assert rules.may_go_negative(AccountType.paid)
    assert rules.may_go_negative(AccountType.external)
    for kind in (AccountType.wallet, AccountType.pool, AccountType.payable, AccountType.clearing):
        assert not rules.may_go_negative(kind)


@pytest.mark.parametrize("code,kind", [
    ("council:3:funding", AccountType.funding), ("holder:9:wallet", AccountType.wallet), ("pool:4:9", AccountType.pool),
    ("provider:2:payable", AccountType.payable), ("provider:2:paid", AccountType.paid), ("stripe:clearing", AccountType.clearing),
    ("external:topups", AccountType.external),
])
def test_account_codes_name_their_type(code, kind):
    assert rules.type_of_code(code) == kind


@pytest.mark.parametrize("code", [
    "", "holder:x:wallet", "pool:1", "provider:1:other", "council:1:wallet", "bank:1",
    # Other scripts' digits would name a second account for the same holder.
    "holder:１:wallet", "pool:٤:9", "council:²:funding", "provider:߂:paid",
    # Both ids of a pool share are numbers, and a code has exactly its three parts.
    "pool:x:9", "pool:9:x", "pool:9", "pool:1:2:3", "holder:1:wallet:2", "council:1:funding:x", "provider:1:payables",
    "stripe:clearing:1", "external:topups:1", "Stripe:clearing",
])
def test_unknown_account_codes_are_refused(code):
    with pytest.raises(ValueError):
        rules.type_of_code(code)


def test_entries_must_balance_with_integer_pence():
    rules.check_balanced([Leg("a", -5), Leg("b", 2), Leg("c", 3)])
    rules.check_balanced([Leg("a", -1), Leg("b", 1)])
    for legs in ([], [Leg("a", 1)], [Leg("a", -1), Leg("b", 2)], [Leg("a", 0), Leg("b", 0)], [Leg("a", -1.0), Leg("b", 1.0)], [Leg("a", True), Leg("b", -1)]):
        with pytest.raises(ValueError):
            rules.check_balanced(legs)


def test_a_shared_cost_is_split_by_largest_remainder():
    assert rules.allocate_shared_cost(100, [1, 1, 1]) == [34, 33, 33]
    assert rules.allocate_shared_cost(-100, [1, 1, 1]) == [-34, -33, -33]
    assert rules.allocate_shared_cost(1000, [3, 0, 7]) == [300, 0, 700]
    assert rules.allocate_shared_cost(5, {"b": 1, "a": 1}) == {"a": 3, "b": 2}


def test_spare_pence_go_to_the_largest_remainders_not_the_largest_shares():
    # 10p by 2:5 is 2.857… and 7.142…: the first share has the larger remainder (6/7 against 1/7).
    assert rules.allocate_shared_cost(10, [2, 5]) == [3, 7]
    assert rules.allocate_shared_cost(-10, [2, 5]) == [-3, -7]
    # 100p by 1:2:4 is 14.28…, 28.57… and 57.14…: only the middle share rounds up.
    assert rules.allocate_shared_cost(100, [1, 2, 4]) == [14, 29, 57]
    assert rules.allocate_shared_cost(100, {"carol": 4, "amir": 1, "bea": 2}) == {"amir": 14, "bea": 29, "carol": 57}
    # Equal remainders: the earlier shares get the spare pence.
    assert rules.allocate_shared_cost(2, [1, 1, 1]) == [1, 1, 0]
    assert rules.allocate_shared_cost(0, [1, 2]) == [0, 0]


@given(
    total=st.integers(min_value=-10**9, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_only_shares_with_the_largest_remainders_are_rounded_up(total, weights):
    parts = rules.allocate_shared_cost(total, weights)
    exact = [Fraction(abs(total) * w, sum(weights)) for w in weights]
    up = [abs(part) - (share.numerator // share.denominator) for part, share in zip(parts, exact)]
    assert set(up) <= {0, 1}
    remainder = [share - share.numerator // share.denominator for share in exact]
    for i in range(len(weights)):
        for j in range(len(weights)):
            if up[i] and not up[j]:
                assert remainder[i] > remainder[j] or (remainder[i] == remainder[j] and i < j)


@given(
    total=st.integers(min_value=-10**12, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(lambda w: sum(w) > 0),
)
def test_allocation_parts_sum_to_the_whole_each_within_a_penny_and_repeatable(total, weights):
    parts = rules.allocate_shared_cost(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights):
        exact = Fraction(total * weight, weight_sum)
        assert abs(part - exact) < 1
        if weight == 0:
            assert part == 0
    assert rules.allocate_shared_cost(total, list(weights)) == parts


@given(st.integers(min_value=1, max_value=10**9), st.lists(st.integers(min_value=1, max_value=1000), min_size=2, max_size=12))
def test_allocation_does_not_depend_on_how_the_weights_are_labelled(total, weights):
    as_dict = rules.allocate_shared_cost(total, {f"m{i:02d}": w for i, w in enumerate(weights)})
    assert list(as_dict.values()) == rules.allocate_shared_cost(total, weights)


def test_allocation_refuses_bad_weights():
    for weights in ([], [0, 0], [-1, 2], [1.5, 1]):
        with pytest.raises(ValueError):
            rules.allocate_shared_cost(10, weights)
    with pytest.raises(ValueError):
        rules.allocate_shared_cost(10.0, [1])


def test_content_hashes_change_with_any_field():
    from datetime import datetime, timezone

    base = dict(council_id=1, entry_id=0, kind="k", memo="m", actor_id=None, idempotency_key="key",
                created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), reverses_id=None, postings=[("a", -1), ("b", 1)])
    digest = rules.content_hash(rules.entry_content(**base))
    assert digest == rules.content_hash(rules.entry_content(**base))
    for change in ({"memo": "n"}, {"postings": [("a", -2), ("b", 2)]}, {"kind": "j"}, {"idempotency_key": "k2"}):
        assert rules.content_hash(rules.entry_content(**dict(base, **change))) != digest


def test_net_by_account_adds_up_each_accounts_legs():
    legs = [Leg("holder:1:wallet", -500), Leg("pool:2:1", 300), Leg("holder:1:wallet", 200), Leg("pool:2:1", -300)]
    assert rules.net_by_account(legs) == {"holder:1:wallet": -300, "pool:2:1": 0}
    assert rules.net_by_account([Leg("a", 7)]) == {"a": 7}
    assert rules.net_by_account([]) == {}


def test_a_retried_request_has_the_same_fingerprint_whatever_the_order_of_its_legs():
    legs = [Leg("council:1:funding", -100), Leg("holder:1:wallet", 60), Leg("holder:2:wallet", 40)]
    fingerprint = rules.request_fingerprint(kind="dp_issued", memo="Week 48", legs=legs)
    assert fingerprint == rules.request_fingerprint(kind="dp_issued", memo="Week 48", legs=list(reversed(legs)), reverses_id=None)
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0


def test_a_request_that_asks_for_anything_else_has_another_fingerprint():
    legs = [Leg("council:1:funding", -100), Leg("holder:1:wallet", 100)]
    base = dict(kind="dp_issued", memo="Week 48", legs=legs, reverses_id=None)
    fingerprint = rules.request_fingerprint(**base)
    changes = [
        {"kind": "clawback"}, {"memo": "Week 49"}, {"reverses_id": 7},
        {"legs": [Leg("council:1:funding", -101), Leg("holder:1:wallet", 101)]},
        {"legs": [Leg("council:1:funding", -100), Leg("holder:2:wallet", 100)]},
        {"legs": [Leg("council:1:funding", -100), Leg("holder:1:wallet", 60), Leg("holder:1:wallet", 40)]},
    ]
    others = {rules.request_fingerprint(**dict(base, **change)) for change in changes}
    assert fingerprint not in others and len(others) == len(changes)


def test_a_fingerprint_covers_the_kind_memo_reversal_and_sorted_legs_in_canonical_json():
    legs = [Leg("holder:1:wallet", 100), Leg("council:1:funding", -100)]
    body = b'{"kind":"dp_issued","legs":[["council:1:funding",-100],["holder:1:wallet",100]],"memo":"Caf\xc3\xa9","reverses":3}'
    assert rules.request_fingerprint(kind="dp_issued", memo="Café", legs=legs, reverses_id=3) == hashlib.sha256(body).hexdigest()
