"""Paying a released run through the real SDK against the local Stripe server: exactly once, whatever fails."""

from __future__ import annotations

import pytest
import stripe
from sqlmodel import select

from brokerage.ledger.models import JournalEntry
from brokerage.payments import runs, transfer_events, transfers
from brokerage.payments.run_rules import LineStatus, RunStatus
from tests.payments.runs_support import as_event, fast_retries, lines_of, payout_entries, pw, run_of, sign_in, transfers_at_stripe  # noqa: F401


def _released(session, pw):
    run = runs.prepare_run(session=session, actor=pw.broker)
    runs.release_run(session=session, actor=pw.officer, run_id=run.id)
    session.commit()
    return run


def _execute(stripe_app, pw, run):
    with stripe_app.app_context():
        return transfers.execute_run(council_id=pw.council.id, run_id=run.id)


def _confirm_all(session, stripe_server):
    """Hand every transfer.created event the server sent to the handler, as the webhook job does."""
    for payload in stripe_server.events("transfer.created"):
        transfer_events.on_transfer_created(session=session, event=as_event(payload))
    session.flush()


def test_prepare_release_execute_and_confirm_end_to_end(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    session.commit()
    sign_in(stripe_client, pw.broker)
    assert stripe_client.post("/payments/runs").status_code == 302
    run = session.exec(select(runs.PaymentRun).where(runs.PaymentRun.council_id == pw.council.id)).one()
    sign_in(stripe_client, pw.officer)
    released = stripe_client.post(f"/payments/runs/{run.id}/release", follow_redirects=True)
    assert released.status_code == 200 and f"Payment run {run.id} is released" in released.text

    # The job ran after the release was committed: one transfer per provider, keyed by run and provider.
    made = transfers_at_stripe(stripe_sdk)
    assert sorted((t.amount, t.destination, t.metadata["run"], t.metadata["provider"]) for t in made) == sorted(
        (amount, p.stripe_account_id, str(run.id), str(p.id)) for amount, p in zip((1000, 2500, 700), pw.providers)
    )
    assert all(t.currency == "gbp" and t.transfer_group == f"payrun-{run.id}" for t in made)
    assert {line.status for line in lines_of(session, run.id)} == {LineStatus.sent}
    assert [pw.payable(session, i) for i in range(3)] == [0, 0, 0]
    assert pw.clearing(session) == 4200
    keys = sorted(e.idempotency_key for e in payout_entries(session, pw.council.id))
    assert keys == sorted(f"payrun:{run.id}:{p.id}" for p in pw.providers)
    assert run_of(session, run.id).status == RunStatus.paid
    # The run's status says what its lines say: transfers made, Stripe still to confirm them.
    page = stripe_client.get(f"/payments/runs/{run.id}")
    assert "Sent, 3 payments waiting for Stripe to confirm" in page.text and "Sent, waiting for Stripe to confirm" in page.text
    assert "Sent, 3 payments waiting for Stripe to confirm" in stripe_client.get("/payments/runs").text

    _confirm_all(session, stripe_server)
    assert pw.clearing(session) == 0
    assert [pw.paid(session, i) for i in range(3)] == [1000, 2500, 700]
    assert {line.status for line in lines_of(session, run.id)} == {LineStatus.paid}
    session.commit()
    page = stripe_client.get(f"/payments/runs/{run.id}")
    assert "waiting for Stripe" not in page.text and '<dd class="govuk-summary-list__value">Paid</dd>' in page.text
    assert "waiting for Stripe" not in stripe_client.get("/payments/runs").text

    # The provider sees the payment and its remittance.
    sign_in(stripe_client, pw.provider_users[pw.providers[1].id])
    mine = stripe_client.get("/payments/mine")
    assert "£25.00" in mine.text and "Paid" in mine.text
    line = next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[1].id)
    assert stripe_client.get(f"/payments/lines/{line.id}").status_code == 200


def test_a_confirmation_delivered_twice_has_one_effect(stripe_app, session, pw, stripe_server):
    run = _released(session, pw)
    _execute(stripe_app, pw, run)
    _confirm_all(session, stripe_server)
    _confirm_all(session, stripe_server)
    assert [pw.paid(session, i) for i in range(3)] == [1000, 2500, 700]
    assert pw.clearing(session) == 0
    assert session.exec(select(JournalEntry).where(JournalEntry.council_id == pw.council.id, JournalEntry.kind == "payout_paid")).all().__len__() == 3


def test_a_5xx_is_retried_with_the_same_key_and_pays_once(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=500, count=2)
    result = _execute(stripe_app, pw, run)
    assert (len(result.sent), result.waiting, result.failed) == (3, [], [])
    assert len(transfers_at_stripe(stripe_sdk)) == 3
    assert run_of(session, run.id).status == RunStatus.paid


def test_a_lost_answer_is_retried_with_the_same_key_and_stripe_returns_the_same_transfer(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    # The transfer is made, but the answer never arrives (a timeout, to the SDK).
    stripe_server.fail_next_transfer(mode="lost_response", count=1)
    _execute(stripe_app, pw, run)
    made = transfers_at_stripe(stripe_sdk)
    assert len(made) == 3
    assert {line.stripe_transfer_id for line in lines_of(session, run.id)} == {t.id for t in made}


def test_5xx_beyond_the_retries_leaves_the_line_sending_and_a_restart_pays_it_once(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    # The first line's request and all its retries fail (1 + NETWORK_RETRIES answers).
    stripe_server.fail_next_transfer(status=503, count=1 + transfers.gateway.NETWORK_RETRIES)
    result = _execute(stripe_app, pw, run)
    assert (len(result.sent), len(result.waiting)) == (2, 1)
    waiting = next(line for line in lines_of(session, run.id) if line.id in result.waiting)
    assert waiting.status == LineStatus.sending and "Restart the run" in waiting.reason
    assert run_of(session, run.id).status == RunStatus.paying
    assert len(transfers_at_stripe(stripe_sdk)) == 2
    assert pw.clearing(session) == 4200  # its payout entry stays: the money is on its way

    sign_in(stripe_client, pw.officer)
    page = stripe_client.get(f"/payments/runs/{run.id}")
    assert "Start the run again" in page.text
    assert stripe_client.post(f"/payments/runs/{run.id}/restart").status_code == 302

    made = transfers_at_stripe(stripe_sdk)
    assert len(made) == 3 and len({t.metadata["provider"] for t in made}) == 3
    assert len(payout_entries(session, pw.council.id)) == 3
    assert run_of(session, run.id).status == RunStatus.paid


def test_a_4xx_fails_the_line_with_stripes_message_and_puts_the_money_back(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=400, code="account_invalid", message="The destination account cannot receive transfers.")
    result = _execute(stripe_app, pw, run)
    assert len(result.failed) == 1
    failed = next(line for line in lines_of(session, run.id) if line.id in result.failed)
    assert failed.status == LineStatus.failed
    assert failed.reason == "Stripe refused the transfer: The destination account cannot receive transfers."
    index = [p.id for p in pw.providers].index(failed.provider_id)
    assert pw.payable(session, index) == failed.amount_pence
    reversal = session.exec(select(JournalEntry).where(JournalEntry.reverses_id == failed.payout_entry_id)).one()
    assert reversal.idempotency_key == f"payrun:{run.id}:{failed.provider_id}:failed"
    assert pw.clearing(session) == 4200 - failed.amount_pence
    assert run_of(session, run.id).status == RunStatus.paid_with_failures
    assert len(transfers_at_stripe(stripe_sdk)) == 2


def test_a_transfer_reversed_later_puts_the_money_back_in_payable(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    _execute(stripe_app, pw, run)
    _confirm_all(session, stripe_server)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[1].id)
    stripe_sdk.v1.transfers.reversals.create(line.stripe_transfer_id)
    for payload in stripe_server.events("transfer.reversed"):
        transfer_events.on_transfer_reversed(session=session, event=as_event(payload))
        transfer_events.on_transfer_reversed(session=session, event=as_event(payload))  # delivered twice: one effect
    session.flush()
    assert pw.payable(session, 1) == 2500 and pw.paid(session, 1) == 0
    assert pw.clearing(session) == 0
    line = next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[1].id)
    assert line.status == LineStatus.reversed and "Stripe reversed this transfer" in line.reason
    assert run_of(session, run.id).status == RunStatus.paid_with_failures
    # The money can be paid again by the next run.
    assert {p.provider.id: p.amount_pence for p in runs.plan_lines(session=session, council_id=pw.council.id)} == {pw.providers[1].id: 2500}


def test_a_reversal_before_its_creation_event_works_and_the_late_creation_changes_nothing(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    _execute(stripe_app, pw, run)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[0].id)
    stripe_sdk.v1.transfers.reversals.create(line.stripe_transfer_id)
    reversed_event = stripe_server.events("transfer.reversed")[0]
    created_event = next(e for e in stripe_server.events("transfer.created") if e["data"]["object"]["id"] == line.stripe_transfer_id)
    transfer_events.on_transfer_reversed(session=session, event=as_event(reversed_event))
    assert transfer_events.on_transfer_created(session=session, event=as_event(created_event)) == "no effect: the payment is reversed"
    session.flush()
    assert pw.payable(session, 0) == 1000 and pw.paid(session, 0) == 0
    assert pw.clearing(session) == 4200 - 1000  # the other two still wait for their confirmation; never below zero


def test_a_run_killed_halfway_is_restarted_and_pays_nobody_twice(stripe_app, session, pw, stripe_sdk, monkeypatch):
    run = _released(session, pw)
    calls = []

    def killed(line_id):
        calls.append(line_id)
        raise SystemExit("worker killed")

    monkeypatch.setattr(transfers, "after_each_line", killed)
    with pytest.raises(SystemExit):
        _execute(stripe_app, pw, run)
    assert len(transfers_at_stripe(stripe_sdk)) == 1
    assert run_of(session, run.id).status == RunStatus.paying

    monkeypatch.setattr(transfers, "after_each_line", lambda line_id: None)
    result = _execute(stripe_app, pw, run)
    assert len(result.sent) == 2
    made = transfers_at_stripe(stripe_sdk)
    assert sorted(t.metadata["provider"] for t in made) == sorted(str(p.id) for p in pw.providers)
    assert len(payout_entries(session, pw.council.id)) == 3
    assert run_of(session, run.id).status == RunStatus.paid
    # Restarting a finished run does nothing more.
    assert _execute(stripe_app, pw, run).sent == []
    assert len(transfers_at_stripe(stripe_sdk)) == 3


def test_a_run_killed_after_stripe_answered_but_before_recording_adopts_the_same_transfer(stripe_app, session, pw, stripe_sdk, monkeypatch):
    run = _released(session, pw)
    original = transfers.record_sent

    def dies(**kwargs):
        raise SystemExit("worker killed before saving the transfer id")

    monkeypatch.setattr(transfers, "record_sent", dies)
    with pytest.raises(SystemExit):
        _execute(stripe_app, pw, run)
    first = lines_of(session, run.id)[0]
    assert first.status == LineStatus.sending and first.stripe_transfer_id is None
    assert len(transfers_at_stripe(stripe_sdk)) == 1

    monkeypatch.setattr(transfers, "record_sent", original)
    _execute(stripe_app, pw, run)
    made = transfers_at_stripe(stripe_sdk)
    assert len(made) == 3
    assert {line.stripe_transfer_id for line in lines_of(session, run.id)} == {t.id for t in made}


def test_two_executions_at_once_send_each_transfer_once(stripe_app, session, pw, stripe_sdk):
    run = _released(session, pw)
    # The second execution starts while the first is between Stripe's answer and recording it.
    original = transfers.send_transfer
    nested = []

    def send_and_restart(client, sending):
        transfer = original(client, sending)
        if not nested:
            nested.append(transfers.execute_run(council_id=pw.council.id, run_id=run.id, client=client))
        return transfer

    with stripe_app.app_context():
        transfers.send_transfer, saved = send_and_restart, transfers.send_transfer
        try:
            transfers.execute_run(council_id=pw.council.id, run_id=run.id)
        finally:
            transfers.send_transfer = saved
    assert len(transfers_at_stripe(stripe_sdk)) == 3
    assert {line.status for line in lines_of(session, run.id)} == {LineStatus.sent}
    # The first job held the run: the second did nothing at all.
    assert nested[0].busy and (nested[0].sent, nested[0].waiting, nested[0].failed) == ([], [], [])


def test_without_a_stripe_key_a_released_run_waits_and_nothing_moves(app, session):
    from tests.payments.runs_support import make_world

    world = make_world(session)
    run = runs.prepare_run(session=session, actor=world.broker)
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    session.commit()
    with app.app_context(), pytest.raises(transfers.gateway.ConfigError):
        transfers.execute_run(council_id=world.council.id, run_id=run.id)
    assert run_of(session, run.id).status == RunStatus.released
    assert world.payable(session, 0) == 1000


def test_an_unknown_transfer_event_changes_nothing(session, pw):
    event = as_event({"id": "evt_x", "object": "event", "type": "transfer.created",
                      "data": {"object": {"id": "tr_unknown", "object": "transfer", "amount": 5, "metadata": {}}}})
    assert transfer_events.on_transfer_created(session=session, event=event) == "unknown transfer"
    assert transfer_events.on_transfer_reversed(session=session, event=event) == "unknown transfer"


def test_the_handlers_are_registered_for_stripes_events(app):
    from brokerage.payments import events

    assert events.HANDLERS["transfer.created"] is transfer_events.on_transfer_created
    assert events.HANDLERS["transfer.reversed"] is transfer_events.on_transfer_reversed


@pytest.mark.parametrize("status, retried", [(None, True), (500, True), (503, True), (429, True), (409, True), (400, False), (402, False), (404, False)])
def test_which_stripe_failures_are_tried_again(status, retried):
    from brokerage.payments.run_rules import is_worth_retrying

    assert is_worth_retrying(status) is retried
    assert is_worth_retrying(400, connection_failed=True)


@pytest.mark.parametrize("status, connection, idempotency, repeat, expected", [
    (None, True, False, False, "try_again"),   # no answer: the same key again settles it
    (503, False, False, True, "try_again"),
    (409, False, False, False, "try_again"),   # the same key in flight elsewhere: never a refusal
    (409, False, False, True, "try_again"),
    (429, False, False, False, "try_again"),
    (400, False, False, False, "refused"),     # a first request refused: no transfer can exist
    (402, False, False, False, "refused"),
    (400, False, False, True, "unsure"),       # a repeat refused: an earlier request may have worked
    (400, False, True, False, "unsure"),       # the key used with other parameters: stop and check
    (404, False, True, True, "unsure"),
])
def test_what_a_failed_transfer_means_for_its_line(status, connection, idempotency, repeat, expected):
    from brokerage.payments.run_rules import transfer_failure

    assert transfer_failure(status, connection_failed=connection, idempotency_error=idempotency, repeat=repeat).value == expected


def test_stripe_errors_are_classified_by_the_sdks_own_classes():
    assert issubclass(stripe.IdempotencyError, stripe.StripeError) and issubclass(stripe.APIConnectionError, stripe.StripeError)


def test_the_restart_command_finishes_a_stopped_run_and_refuses_a_finished_one(stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=502, count=1 + transfers.gateway.NETWORK_RETRIES)
    _execute(stripe_app, pw, run)
    assert run_of(session, run.id).status == RunStatus.paying
    runner = stripe_app.test_cli_runner()
    answer = runner.invoke(args=["payments", "restart-run", str(run.id)])
    assert answer.exit_code == 0, answer.output
    assert "paid; sent 1" in answer.output
    assert len(transfers_at_stripe(stripe_sdk)) == 3
    again = runner.invoke(args=["payments", "restart-run", str(run.id)])
    assert again.exit_code == 2 and "has nothing left to send" in again.output
    assert runner.invoke(args=["payments", "restart-run", "987654"]).exit_code == 2


def test_a_runs_payout_entries_are_posted_in_one_batch_before_any_transfer_and_a_bad_line_holds_up_nobody(
    stripe_app, session, pw, stripe_sdk, monkeypatch
):
    from brokerage.ledger import services as ledger
    from brokerage.ledger.kinds import EntryKind
    from brokerage.ledger.rules import CLEARING_CODE, payable_code

    run = _released(session, pw)
    no_account, drained = pw.providers[1], pw.providers[2]
    no_account.stripe_account_id = None
    ledger.post_entry(session=session, actor=pw.officer, council_id=pw.council.id, kind=EntryKind.payout_sent,
                      postings=[(payable_code(drained.id), -700), (CLEARING_CODE, 700)], idempotency_key="test:drained")
    session.commit()
    steps = []
    batches, send = ledger.post_in_batches, transfers.send_transfer
    monkeypatch.setattr(ledger, "post_in_batches", lambda **kw: steps.append(("batch", len(kw["entries"]))) or batches(**kw))
    monkeypatch.setattr(transfers, "send_transfer", lambda client, sending: steps.append(("transfer", sending.provider_id)) or send(client, sending))

    result = _execute(stripe_app, pw, run)

    assert steps == [("batch", 2), ("transfer", pw.providers[0].id)]
    assert result.sent == [line.id for line in lines_of(session, run.id) if line.provider_id == pw.providers[0].id]
    lines = {line.provider_id: line for line in lines_of(session, run.id)}
    assert lines[pw.providers[0].id].status == LineStatus.sent and lines[pw.providers[0].id].attempts == 1
    assert (lines[no_account.id].status, lines[no_account.id].reason) == (LineStatus.held, "This provider has no Stripe account, so nothing was sent.")
    assert lines[drained.id].status == LineStatus.held and lines[drained.id].reason.startswith("Not sent: Not enough money")
    assert [e.idempotency_key for e in payout_entries(session, pw.council.id) if e.idempotency_key.startswith("payrun:")] == [
        f"payrun:{run.id}:{pw.providers[0].id}"
    ]
    assert pw.payable(session, 1) == 2500  # a held line's money stays payable
