"""When nobody knows whether Stripe made a transfer: never paid twice, never put back while a transfer may exist,
and never stuck without an officer seeing why and settling it ("Check with Stripe"). Against the local Stripe server."""

from __future__ import annotations

from datetime import timedelta

from localstripe import resources as ls
from sqlmodel import select

from brokerage.db import session_scope
from brokerage.ledger.models import JournalEntry
from brokerage.payments import runs, transfer_events, transfers
from brokerage.payments.local_stripe_faults import IN_FLIGHT_KEY
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import LineStatus, RunStatus
from brokerage.types import utcnow
from tests.payments.runs_support import (  # noqa: F401
    as_event,
    connected_account,
    fast_retries,
    lines_of,
    payout_entries,
    pw,
    run_of,
    sign_in,
    transfers_at_stripe,
)

EVERY_TRY = 1 + transfers.gateway.NETWORK_RETRIES  # the first request and each of the SDK's retries


def _released(session, pw):
    run = runs.prepare_run(session=session, actor=pw.broker)
    runs.release_run(session=session, actor=pw.officer, run_id=run.id)
    session.commit()
    return run


def _execute(stripe_app, pw, run):
    with stripe_app.app_context():
        return transfers.execute_run(council_id=pw.council.id, run_id=run.id)


def _line(session, run, index, pw):
    return next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[index].id)


def _paid_at_stripe(sdk, provider) -> int:
    return sum(t.amount for t in transfers_at_stripe(sdk) if t.metadata["provider"] == str(provider.id))


def _reversals(session, line) -> list[JournalEntry]:
    return list(session.exec(select(JournalEntry).where(JournalEntry.reverses_id == line.payout_entry_id)))


def _check(client, line):
    return client.post(f"/payments/lines/{line.id}/check", follow_redirects=True)


def _backdate_last_try(session, line, minutes: int):
    session.get(PaymentLine, line.id).updated_at = utcnow() - timedelta(minutes=minutes)
    session.commit()


def test_a_409_for_a_key_in_flight_keeps_the_line_sending_and_pays_once(stripe_app, session, pw, stripe_sdk):
    run = _released(session, pw)
    line = _line(session, run, 0, pw)
    key = f"payrun:{run.id}:{pw.providers[0].id}"
    # Another worker's request with this key is still running at Stripe: every try gets 409.
    ls.store.setdefault(IN_FLIGHT_KEY, set()).add(f":{key}")
    result = _execute(stripe_app, pw, run)
    ls.store[IN_FLIGHT_KEY].discard(f":{key}")
    assert result.waiting == [line.id] and result.failed == [] and result.unsure == []
    line = _line(session, run, 0, pw)
    assert line.status == LineStatus.sending and "still handling another request" in line.reason
    assert pw.payable(session, 0) == 0 and pw.clearing(session) == 4200  # the money was not put back
    assert _reversals(session, line) == []
    assert run_of(session, run.id).status == RunStatus.paying

    # The other request completes at Stripe: the transfer exists. A restart adopts it; nothing is sent twice.
    sending = transfers.Sending(line_id=line.id, council_id=pw.council.id, run_id=run.id, provider_id=pw.providers[0].id,
                                amount_pence=1000, destination=pw.providers[0].stripe_account_id, again=False)
    made = transfers.send_transfer(stripe_sdk, sending)
    _execute(stripe_app, pw, run)
    line = _line(session, run, 0, pw)
    assert (line.status, line.stripe_transfer_id) == (LineStatus.sent, made.id)
    assert _paid_at_stripe(stripe_sdk, pw.providers[0]) == 1000
    assert pw.payable(session, 0) == 0 and run_of(session, run.id).status == RunStatus.paid


def test_a_refusal_of_a_repeat_request_marks_the_line_unsure_and_the_officer_settles_it(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=503, count=EVERY_TRY)
    _execute(stripe_app, pw, run)
    assert _line(session, run, 0, pw).status == LineStatus.sending
    # The restart's request is refused: the earlier ones might have made the transfer, so nothing is put back.
    stripe_server.fail_next_transfer(status=400, code="account_invalid", message="The destination account cannot receive transfers.")
    result = _execute(stripe_app, pw, run)
    line = _line(session, run, 0, pw)
    assert result.unsure == [line.id] and result.failed == []
    assert line.status == LineStatus.unsure and "not known whether the provider was paid" in line.reason
    assert pw.payable(session, 0) == 0 and _reversals(session, line) == []
    assert run_of(session, run.id).status == RunStatus.paying  # not finished: the council sees it
    assert _execute(stripe_app, pw, run).sent == []  # a restart never sends an unsure line again

    sign_in(stripe_client, pw.officer)
    page = stripe_client.get(f"/payments/runs/{run.id}").text
    assert "It is not known whether Stripe made 1 of these payments" in page and "Check with Stripe" in page
    answer = _check(stripe_client, line)
    assert "Stripe made no transfer for this payment, so £10.00 is back in payable" in answer.text
    line = _line(session, run, 0, pw)
    assert line.status == LineStatus.failed and "Olive Officer checked with Stripe" in line.reason
    assert pw.payable(session, 0) == 1000 and pw.clearing(session) == 4200 - 1000
    [reversal] = _reversals(session, line)
    assert reversal.idempotency_key == f"payrun:{run.id}:{pw.providers[0].id}:failed"
    assert run_of(session, run.id).status == RunStatus.paid_with_failures
    assert _paid_at_stripe(stripe_sdk, pw.providers[0]) == 0
    # The next run (prepared and released by two people, as every run) pays it.
    assert {p.provider.id: p.amount_pence for p in runs.plan_lines(session=session, council_id=pw.council.id)} == {pw.providers[0].id: 1000}
    assert "nothing to check" in _check(stripe_client, line).text  # checked once


def test_a_key_used_with_other_parameters_stops_the_line_and_the_check_finds_the_transfer(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    line = _line(session, run, 1, pw)
    old_account = pw.providers[1].stripe_account_id
    # A transfer was made with this key to the provider's old account; then its account changed.
    first = transfers.Sending(line_id=line.id, council_id=pw.council.id, run_id=run.id, provider_id=pw.providers[1].id,
                              amount_pence=2500, destination=old_account, again=False)
    made = transfers.send_transfer(stripe_sdk, first)
    pw.providers[1].stripe_account_id = connected_account(stripe_sdk, stripe_server, "new-account")
    session.commit()

    result = _execute(stripe_app, pw, run)
    line = _line(session, run, 1, pw)
    assert result.unsure == [line.id] and line.status == LineStatus.unsure  # Stripe's 400 idempotency_error: not refused, not retried
    assert pw.payable(session, 1) == 0 and _reversals(session, line) == []

    sign_in(stripe_client, pw.officer)
    answer = _check(stripe_client, line)
    assert f"Stripe made this payment (transfer {made.id})" in answer.text
    line = _line(session, run, 1, pw)
    assert (line.status, line.stripe_transfer_id) == (LineStatus.sent, made.id)
    assert _paid_at_stripe(stripe_sdk, pw.providers[1]) == 2500 and len(transfers_at_stripe(stripe_sdk)) == 3
    assert run_of(session, run.id).status == RunStatus.paid
    # Stripe's confirmation then moves the money from clearing to paid, as for any line.
    created = next(e for e in stripe_server.events("transfer.created") if e["data"]["object"]["id"] == made.id)
    assert transfer_events.on_transfer_created(session=session, event=as_event(created)) == "paid"
    assert pw.paid(session, 1) == 2500


def test_answers_lost_beyond_the_retries_leave_the_line_sending_and_the_check_finds_the_transfer(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    # Stripe makes the transfer, and no answer ever reaches us, nor to any retry.
    stripe_server.fail_next_transfer(mode="lost_response", count=EVERY_TRY)
    result = _execute(stripe_app, pw, run)
    line = next(line for line in lines_of(session, run.id) if line.id in result.waiting)
    assert line.status == LineStatus.sending and line.stripe_transfer_id is None
    sign_in(stripe_client, pw.officer)
    assert "Check with Stripe" in stripe_client.get(f"/payments/runs/{run.id}").text
    assert "Stripe made this payment" in _check(stripe_client, line).text
    line = next(fresh for fresh in lines_of(session, run.id) if fresh.id == line.id)
    assert line.status == LineStatus.sent and line.stripe_transfer_id
    assert len(transfers_at_stripe(stripe_sdk)) == 3 and len(payout_entries(session, pw.council.id)) == 3
    assert _reversals(session, line) == []


def test_a_sending_line_with_no_transfer_goes_back_only_once_its_last_request_had_time_to_finish(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=503, count=EVERY_TRY)
    result = _execute(stripe_app, pw, run)
    line = session.get(PaymentLine, result.waiting[0])
    sign_in(stripe_client, pw.officer)
    too_soon = _check(stripe_client, line)
    assert "less than 10 minutes ago" in too_soon.text
    assert _line(session, run, 0, pw).status == LineStatus.sending and pw.payable(session, 0) == 0

    _backdate_last_try(session, line, minutes=11)
    assert "back in payable" in _check(stripe_client, line).text
    line = next(fresh for fresh in lines_of(session, run.id) if fresh.id == line.id)
    assert line.status == LineStatus.failed and len(_reversals(session, line)) == 1
    assert pw.payable(session, 0) == 1000 and run_of(session, run.id).status == RunStatus.paid_with_failures
    assert len(transfers_at_stripe(stripe_sdk)) == 2


def test_while_a_job_holds_the_run_nothing_else_pays_restarts_or_checks_it(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=503, count=EVERY_TRY)
    line = session.get(PaymentLine, _execute(stripe_app, pw, run).waiting[0])
    _backdate_last_try(session, line, minutes=30)
    held = session.get(PaymentRun, run.id)
    held.claim_token, held.claimed_until = "another-job", utcnow() + timedelta(minutes=5)
    session.commit()

    result = _execute(stripe_app, pw, run)
    assert result.busy and result.sent == [] and len(transfers_at_stripe(stripe_sdk)) == 2
    sign_in(stripe_client, pw.officer)
    page = stripe_client.get(f"/payments/runs/{run.id}").text
    assert "Payments are being sent right now" in page and "Start the run again" not in page and "Check with Stripe" not in page
    assert "is being paid right now" in stripe_client.post(f"/payments/runs/{run.id}/restart", follow_redirects=True).text
    assert "is being paid right now" in _check(stripe_client, line).text
    assert _line(session, run, 0, pw).status == LineStatus.sending and pw.payable(session, 0) == 0

    # The job died without letting go: once its claim lapses, a restart pays the line, once.
    held = session.get(PaymentRun, run.id)
    session.refresh(held)
    held.claimed_until = utcnow() - timedelta(minutes=1)
    session.commit()
    assert stripe_client.post(f"/payments/runs/{run.id}/restart").status_code == 302
    assert len(transfers_at_stripe(stripe_sdk)) == 3
    finished = run_of(session, run.id)
    assert finished.status == RunStatus.paid and finished.claim_token is None and finished.claimed_until is None


def test_a_reversal_recorded_before_the_job_records_its_transfer_keeps_its_reason(stripe_app, session, pw, stripe_sdk, stripe_server, monkeypatch):
    run = _released(session, pw)
    original = transfers.send_transfer

    def sent_then_reversed(client, sending):
        transfer = original(client, sending)
        if sending.provider_id == pw.providers[2].id:
            # Stripe reverses it, and its event is processed, before the job records the transfer.
            client.v1.transfers.reversals.create(transfer.id)
            with session_scope(stripe_app) as other:
                transfer_events.on_transfer_reversed(session=other, event=as_event(stripe_server.events("transfer.reversed")[-1]))
        return transfer

    monkeypatch.setattr(transfers, "send_transfer", sent_then_reversed)
    _execute(stripe_app, pw, run)
    line = _line(session, run, 2, pw)
    assert line.status == LineStatus.reversed and "Stripe reversed this transfer" in line.reason
    assert pw.payable(session, 2) == 700


def test_only_a_council_officer_checks_a_payment_with_stripe(stripe_client, stripe_app, session, pw, stripe_server):
    run = _released(session, pw)
    stripe_server.fail_next_transfer(status=503, count=EVERY_TRY)
    line = session.get(PaymentLine, _execute(stripe_app, pw, run).waiting[0])
    sign_in(stripe_client, pw.broker)
    assert stripe_client.post(f"/payments/lines/{line.id}/check").status_code == 403
    assert "Check with Stripe" not in stripe_client.get(f"/payments/runs/{run.id}").text
    sign_in(stripe_client, pw.provider_users[pw.providers[0].id])
    assert stripe_client.post(f"/payments/lines/{line.id}/check").status_code == 403
    assert _line(session, run, 0, pw).status == LineStatus.sending
