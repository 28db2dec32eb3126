"""Transfer events through the real webhook (signed deliveries, stored once, processed in a job): one effect each,
in any order."""

from __future__ import annotations

from brokerage.payments import runs, transfers
from brokerage.payments.run_rules import LineStatus, RunStatus
from tests.payments.runs_support import fast_retries, lines_of, pw, run_of  # noqa: F401
from tests.stripe_support import deliver


def _paid_run(session, stripe_app, pw):
    run = runs.prepare_run(session=session, actor=pw.broker)
    runs.release_run(session=session, actor=pw.officer, run_id=run.id)
    session.commit()
    with stripe_app.app_context():
        transfers.execute_run(council_id=pw.council.id, run_id=run.id)
    return run


def test_signed_transfer_created_events_confirm_the_payments_once_even_replayed(stripe_client, stripe_app, session, pw, stripe_server):
    run = _paid_run(session, stripe_app, pw)
    events = stripe_server.events("transfer.created")
    assert len(events) == 3
    for _ in range(3):
        for event in events:
            assert deliver(stripe_client, event).status_code == 200
    assert [pw.paid(session, i) for i in range(3)] == [1000, 2500, 700]
    assert pw.clearing(session) == 0
    assert {line.status for line in lines_of(session, run.id)} == {LineStatus.paid}


def test_every_event_delivered_twice_in_reverse_order_changes_nothing_more(stripe_client, stripe_app, session, pw, stripe_sdk, stripe_server):
    run = _paid_run(session, stripe_app, pw)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == pw.providers[2].id)
    stripe_sdk.v1.transfers.reversals.create(line.stripe_transfer_id)
    events = stripe_server.events("transfer.created") + stripe_server.events("transfer.reversed")
    for event in reversed(events):  # the reversal arrives before its transfer's creation
        assert deliver(stripe_client, event).status_code == 200
    for event in reversed(events):
        deliver(stripe_client, event)
    assert [pw.paid(session, i) for i in range(3)] == [1000, 2500, 0]
    assert pw.payable(session, 2) == 700
    assert pw.clearing(session) == 0
    statuses = {line.provider_id: line.status for line in lines_of(session, run.id)}
    assert statuses == {pw.providers[0].id: LineStatus.paid, pw.providers[1].id: LineStatus.paid, pw.providers[2].id: LineStatus.reversed}
    assert run_of(session, run.id).status == RunStatus.paid_with_failures
