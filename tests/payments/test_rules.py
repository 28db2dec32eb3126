"""The pure payment rules: statuses, what an event is about, and how a refund is split."""

from __future__ import annotations

import itertools

import pytest

from brokerage.payments import rules
from brokerage.payments.rules import BadPaymentMove, PayoutStatus, SetupStatus, TopUpStatus


def test_the_written_tables():
    assert rules.TOP_UP_MOVES == {"waiting": {"succeeded", "failed", "cancelled"}, "failed": {"succeeded", "cancelled"},
                                  "succeeded": {"refunded"}, "refunded": set(), "cancelled": {"succeeded"}}
    assert rules.PAYOUT_MOVES == {"paid": {"failed"}, "failed": set()}


@pytest.mark.parametrize(("move", "table", "status"), [(rules.move_top_up, rules.TOP_UP_MOVES, TopUpStatus),
                                                       (rules.move_payout, rules.PAYOUT_MOVES, PayoutStatus)])
def test_allowed_moves_pass_and_every_other_move_raises(move, table, status):
    assert set(table) == {s.value for s in status}
    for current, target in itertools.product(status, repeat=2):
        if target.value in table[current.value]:
            assert move(current, target) == target
        else:
            with pytest.raises(BadPaymentMove, match=f"that is {current.value} cannot become {target.value}"):
                move(current.value, target.value)


@pytest.mark.parametrize(("account", "previous", "expected"), [
    ({"payouts_enabled": False, "details_submitted": False, "requirements": {"currently_due": ["x"]}}, "none", SetupStatus.details_needed),
    ({"payouts_enabled": False, "details_submitted": True, "requirements": {"currently_due": ["x"]}}, "details_needed", SetupStatus.details_needed),
    ({"payouts_enabled": False, "details_submitted": True, "requirements": {"currently_due": []}}, "details_needed", SetupStatus.pending),
    ({"payouts_enabled": True, "details_submitted": True, "requirements": {"currently_due": []}}, "pending", SetupStatus.enabled),
    ({"payouts_enabled": False, "details_submitted": True, "requirements": {"currently_due": ["y"]}}, "enabled", SetupStatus.paused),
    ({"payouts_enabled": False, "details_submitted": True, "requirements": {}}, "paused", SetupStatus.paused),
    ({"payouts_enabled": True}, "paused", SetupStatus.enabled),
])
def test_the_set_up_status_follows_what_stripe_says(account, previous, expected):
    assert rules.setup_status(account, previous) == expected


def test_a_charge_is_about_its_payment_intent_and_anything_else_about_itself():
    assert rules.event_subject({"data": {"object": {"object": "charge", "id": "ch_1", "payment_intent": "pi_1"}}}) == "pi_1"
    assert rules.event_subject({"data": {"object": {"object": "transfer", "id": "tr_1"}}}) == "tr_1"
    assert rules.event_subject({"data": {}}) is None


@pytest.mark.parametrize(("metadata", "council"), [({"council": "7"}, 7), ({"council": "x"}, None), ({"council": "٣"}, None),
                                                    ({}, None), ({"council": "99999999999"}, None)])
def test_the_council_comes_only_from_our_own_ascii_metadata(metadata, council):
    assert rules.council_in_metadata({"data": {"object": {"metadata": metadata}}}) == council


@pytest.mark.parametrize(("refunded", "available", "split"), [(500, 800, (500, 0)), (500, 200, (200, 300)), (500, 0, (0, 500)), (500, -5, (0, 500))])
def test_a_refund_takes_back_no_more_than_the_share_holds(refunded, available, split):
    assert rules.refund_split(refunded, available) == split
    assert sum(split) == refunded


def test_a_paid_runs_words_count_the_payments_stripe_has_still_to_confirm():
    from brokerage.payments.run_rules import RunStatus, run_label

    assert run_label(RunStatus.paid) == "Paid"
    assert run_label(RunStatus.paid, waiting_for_stripe=1) == "Sent, 1 payment waiting for Stripe to confirm"
    assert run_label("paid_with_failures", waiting_for_stripe=2) == "Sent, but some providers were not paid; 2 payments waiting for Stripe to confirm"
    assert run_label(RunStatus.paying, waiting_for_stripe=2) == "Paying"  # still sending: every line says where it is


@pytest.mark.parametrize(("line", "run", "words"), [
    ("planned", "prepared", "In a payment run waiting for a council officer to release it"),
    ("planned", "released", "In a payment run a council officer has released, waiting to be sent"),
    ("planned", "paying", "In a payment run a council officer has released, waiting to be sent"),
    ("planned", "cancelled", None),  # the week goes to the next run
    ("sending", "paying", "The payment is being sent"),
    ("unsure", "paying", "The payment is being checked with Stripe"),
    ("sent", "paid", "Sent on 17 November 2026: waiting for Stripe to confirm"),
    ("paid", "paid", "Paid on 17 November 2026"),
    ("failed", "paid_with_failures", None),
    ("reversed", "paid_with_failures", None),
    ("held", "paid_with_failures", None),
])
def test_an_approved_week_says_where_its_money_is_in_the_payment_that_pays_it(line, run, words):
    from datetime import datetime, timezone

    from brokerage.payments.run_rules import week_payment_words

    # Sent just before midnight in England (summer time is over): the date is England's.
    assert week_payment_words(line, run, datetime(2026, 11, 17, 23, 30, tzinfo=timezone.utc)) == words
