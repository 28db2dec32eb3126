"""Reconciliation against the local Stripe server: nothing after a clean run, and each kind of difference named."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from brokerage import clock
from brokerage.payments import reconcile, runs, transfer_events, transfers
from brokerage.payments.reconcile_rules import DifferenceKind, LedgerPayout, StripeTransfer, compare, exit_code
from tests.ledger.test_integrity import without_triggers
from tests.payments.runs_support import as_event, fast_retries, lines_of, payout_entries, pw, sign_in  # noqa: F401


def _paid_run(session, stripe_app, stripe_server, pw, confirm=True):
    run = runs.prepare_run(session=session, actor=pw.broker)
    runs.release_run(session=session, actor=pw.officer, run_id=run.id)
    session.commit()
    with stripe_app.app_context():
        transfers.execute_run(council_id=pw.council.id, run_id=run.id)
    if confirm:
        for payload in stripe_server.events("transfer.created"):
            transfer_events.on_transfer_created(session=session, event=as_event(payload))
        session.commit()
    return run


def _report(session, stripe_sdk, pw, **kwargs):
    return reconcile.reconcile(session=session, client=stripe_sdk, council_ids=[pw.council.id], since=clock.today(), **kwargs)


def _cli(stripe_app, *args):
    return stripe_app.test_cli_runner().invoke(args=["payments", "reconcile", *args])


def test_a_clean_run_reconciles_with_no_differences(stripe_app, session, pw, stripe_sdk, stripe_server):
    _paid_run(session, stripe_app, stripe_server, pw)
    report = _report(session, stripe_sdk, pw)
    assert (report.payouts, report.transfers, report.differences) == (3, 3, [])
    answer = _cli(stripe_app, "--since", clock.today().isoformat(), "--council", pw.council.slug, "--json")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["differences"] == []
    table = _cli(stripe_app, "--since", clock.today().isoformat(), "--council", pw.council.slug)
    assert table.exit_code == 0 and "No differences" in table.output


def test_a_transfer_made_outside_carepool_is_named(stripe_app, session, pw, stripe_sdk, stripe_server):
    _paid_run(session, stripe_app, stripe_server, pw)
    extra = stripe_sdk.v1.transfers.create(params={
        "amount": 333, "currency": "gbp", "destination": pw.providers[0].stripe_account_id,
        "metadata": {"council": str(pw.council.id), "run": "999", "provider": str(pw.providers[0].id)},
    })
    report = _report(session, stripe_sdk, pw)
    assert [(d.kind, d.stripe_id, d.amount_pence) for d in report.differences] == [(DifferenceKind.transfer_without_payout, extra.id, 333)]
    answer = _cli(stripe_app, "--since", clock.today().isoformat(), "--council", pw.council.slug)
    assert answer.exit_code == 1
    assert "A transfer with no payout entry" in answer.output and extra.id in answer.output


@pytest.mark.tampered
def test_a_clearing_posting_removed_behind_the_applications_back_is_named(stripe_app, session, pw, stripe_sdk, stripe_server, is_postgres):
    run = _paid_run(session, stripe_app, stripe_server, pw, confirm=False)
    target = next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[1].id)
    without_triggers(session, is_postgres, "posting",
                     "DELETE FROM posting WHERE entry_id = :e AND amount_pence > 0", {"e": target.payout_entry_id})
    report = _report(session, stripe_sdk, pw)
    assert [(d.kind, d.key, d.stripe_id) for d in report.differences] == [
        (DifferenceKind.transfer_without_payout, f"payrun:{run.id}:{pw.providers[1].id}", target.stripe_transfer_id)
    ]
    assert "removed behind the application's back" in report.differences[0].cause
    session.rollback()


def test_a_line_left_sending_is_a_payout_with_no_transfer_and_the_cause_says_restart(stripe_app, session, pw, stripe_sdk, stripe_server):
    stripe_server.fail_next_transfer(status=503, count=1 + transfers.gateway.NETWORK_RETRIES)
    run = _paid_run(session, stripe_app, stripe_server, pw)
    report = _report(session, stripe_sdk, pw)
    assert [d.kind for d in report.differences] == [DifferenceKind.payout_without_transfer]
    assert "restart the run" in report.differences[0].cause
    assert report.differences[0].key.startswith(f"payrun:{run.id}:")


def test_a_refused_transfer_is_no_difference(stripe_app, session, pw, stripe_sdk, stripe_server):
    stripe_server.fail_next_transfer(status=400, message="No such destination")
    _paid_run(session, stripe_app, stripe_server, pw)
    assert _report(session, stripe_sdk, pw).differences == []


def test_a_reversal_at_stripe_not_yet_posted_is_named_and_disappears_once_handled(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _paid_run(session, stripe_app, stripe_server, pw)
    line = lines_of(session, run.id)[0]
    stripe_sdk.v1.transfers.reversals.create(line.stripe_transfer_id)
    report = _report(session, stripe_sdk, pw)
    assert [(d.kind, d.stripe_id) for d in report.differences] == [(DifferenceKind.reversal_not_posted, line.stripe_transfer_id)]
    for payload in stripe_server.events("transfer.reversed"):
        transfer_events.on_transfer_reversed(session=session, event=as_event(payload))
    assert _report(session, stripe_sdk, pw).differences == []


def test_money_unconfirmed_for_too_long_is_named(stripe_app, session, pw, stripe_sdk, stripe_server, freeze_clock):
    _paid_run(session, stripe_app, stripe_server, pw, confirm=False)
    assert _report(session, stripe_sdk, pw).differences == []
    freeze_clock(clock.now() + timedelta(days=4))
    later = reconcile.reconcile(session=session, client=stripe_sdk, council_ids=[pw.council.id], since=clock.today() - timedelta(days=5))
    assert {d.kind for d in later.differences} == {DifferenceKind.not_confirmed}
    assert len(later.differences) == 3


def test_a_payment_is_compared_when_only_its_transfer_falls_in_the_dates_asked_for(stripe_app, session, pw, stripe_sdk, stripe_server, freeze_clock):
    # The demo's story books its payouts months back, and Stripe makes their transfers on the day it is loaded; in
    # life a run restarted the next day does the same. Neither is money moved behind the application's back.
    real = clock.now()
    freeze_clock(real - timedelta(days=10))
    _paid_run(session, stripe_app, stripe_server, pw)
    freeze_clock(real)
    report = _report(session, stripe_sdk, pw)
    assert (report.payouts, report.transfers, report.differences) == (3, 3, [])
    # A transfer from before the first day asked for, whose entry is not inside either, is not read.
    assert reconcile.reconcile(session=session, client=stripe_sdk, council_ids=[pw.council.id], since=clock.today() + timedelta(days=2)).transfers == 0


def test_bad_input_is_one_line_on_stderr_and_exit_2(stripe_app, stripe_server):
    for args in (["--since", "yesterday"], ["--since", "2026-02-30"], ["--since", "2026-11-01", "--council", "no-such-council"], []):
        answer = _cli(stripe_app, *args)
        assert answer.exit_code == 2, (args, answer.output)
        assert len(answer.output.strip().splitlines()) == 1 and answer.output.startswith("error:")


def test_without_a_stripe_key_the_command_says_so(runner):
    answer = runner.invoke(args=["payments", "reconcile", "--since", "2026-11-01"])
    assert answer.exit_code == 2 and "STRIPE_SECRET_KEY is not set" in answer.output


def test_the_officer_page_shows_the_same(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    _paid_run(session, stripe_app, stripe_server, pw)
    stripe_sdk.v1.transfers.create(params={"amount": 444, "currency": "gbp", "destination": pw.providers[0].stripe_account_id,
                                           "metadata": {"council": str(pw.council.id), "run": "998", "provider": str(pw.providers[0].id)}})
    session.commit()
    sign_in(stripe_client, pw.officer)
    assert "First day to check" in stripe_client.get("/payments/reconcile").text
    page = stripe_client.get(f"/payments/reconcile?since={clock.today().isoformat()}")
    assert page.status_code == 200 and "1 difference" in page.text and "A transfer with no payout entry" in page.text
    today = clock.today()
    for typed in (f"{today.day}/{today.month}/{today.year}", today.strftime("%d %B %Y")):  # as people in England write a day
        same = stripe_client.get("/payments/reconcile", query_string={"since": typed})
        assert same.status_code == 200 and "1 difference" in same.text, typed
        assert f'value="{today.day}/{today.month}/{today.year}"' in same.text
    bad = stripe_client.get("/payments/reconcile?since=soon")
    assert bad.status_code == 422 and "Enter a real date" in bad.text
    # Its example is a day the box takes, as the hint's is: the first of last month, not the usual 27/3/2027 (tester R6-8).
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    example = f"{first.day}/{first.month}/{first.year} or {first.day} {first:%B} {first.year}"
    assert f"Enter a real date, for example {example}" in bad.text and f"For example, {example}" in bad.text and "27/3/2027" not in bad.text
    assert stripe_client.get("/payments/reconcile", query_string={"since": example.split(" or ")[0]}).status_code == 200
    empty = stripe_client.get("/payments/reconcile?since=")
    assert empty.status_code == 422 and f"Enter the first day to check, for example {example}" in empty.text
    # Beside the box and in the summary at the top, which links to it; a day after today is no day to check from.
    assert 'class="govuk-error-summary"' in bad.text and '<a href="#since">Enter a real date' in bad.text and 'id="since-error"' in bad.text
    tomorrow = clock.today() + timedelta(days=1)
    future = stripe_client.get("/payments/reconcile", query_string={"since": tomorrow.isoformat()})
    assert future.status_code == 422 and '<a href="#since">Enter today or a day before it' in future.text and "1 difference" not in future.text
    sign_in(stripe_client, pw.broker)
    assert stripe_client.get("/payments/reconcile").status_code == 403


def test_the_comparison_names_each_kind_of_difference():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    payout = LedgerPayout(key="payrun:1:2", council_id=1, run_id=1, provider_id=2, amount_pence=500, posted_at=now, reversed=False, failed=False,
                          confirmed=True, line_status="paid")
    transfer = StripeTransfer(id="tr_1", key="payrun:1:2", council_id=1, amount_pence=500, amount_reversed_pence=0, destination="acct", created=now,
                              balance_pence=500)
    assert compare([payout], [transfer], now=now) == []
    kinds = lambda payouts, transfers: [d.kind.value for d in compare(payouts, transfers, now=now)]  # noqa: E731
    assert kinds([], [transfer]) == ["transfer_without_payout"]
    assert kinds([payout], []) == ["payout_without_transfer"]
    assert kinds([payout], [StripeTransfer(**{**transfer.__dict__, "amount_pence": 600, "balance_pence": 600})]) == ["amounts_differ"]
    assert kinds([payout], [StripeTransfer(**{**transfer.__dict__, "amount_reversed_pence": 500})]) == ["reversal_not_posted"]
    assert kinds([LedgerPayout(**{**payout.__dict__, "reversed": True})], [transfer]) == ["reversal_not_at_stripe"]
    assert kinds([LedgerPayout(**{**payout.__dict__, "confirmed": False, "posted_at": now - timedelta(days=4)})], [transfer]) == ["not_confirmed"]
    assert kinds([payout], [StripeTransfer(**{**transfer.__dict__, "balance_pence": None})]) == ["balance_transaction_missing"]
    assert kinds([LedgerPayout(**{**payout.__dict__, "reversed": True, "failed": True})], []) == []
    assert exit_code([]) == 0 and exit_code(compare([], [transfer], now=now)) == 1
