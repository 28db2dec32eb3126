"""Preparing and releasing payment runs: who is paid, one open run per council, maker-checker, vetting checked again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.errors import NotAllowed, NotFound
from brokerage.payments import runs
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import LineStatus, RunStatus
from brokerage.providers.models import VettingItem
from tests.payments.runs_support import fund, lines_of, make_world, run_of, sign_in
from tests import factories as f


@pytest.fixture()
def world(session):
    """A council ready for runs; these tests never reach Stripe (the accounts are ids only)."""
    return make_world(session)


def test_a_run_pays_every_vetted_provider_with_payouts_enabled_and_money_waiting(session, world):
    unvetted = f.ProviderFactory(session=session, council_id=world.council.id, name="Unvetted", stripe_account_id="acct_u", payouts_enabled=True)
    fund(session, unvetted, 500, key="care:unvetted")
    not_enabled = f.ProviderFactory(session=session, council_id=world.council.id, name="No payouts", stripe_account_id="acct_n")
    f.VettingFactory(session=session, council_id=world.council.id, provider_id=not_enabled.id, kind="dbs")
    f.VettingFactory(session=session, council_id=world.council.id, provider_id=not_enabled.id, kind="insurance")
    fund(session, not_enabled, 500, key="care:not-enabled")
    nothing_waiting = f.ProviderFactory(session=session, council_id=world.council.id, name="Nothing", stripe_account_id="acct_z", payouts_enabled=True)
    f.VettingFactory(session=session, council_id=world.council.id, provider_id=nothing_waiting.id, kind="dbs")
    f.VettingFactory(session=session, council_id=world.council.id, provider_id=nothing_waiting.id, kind="insurance")

    run = runs.prepare_run(session=session, actor=world.broker)

    assert run.status == RunStatus.prepared and run.prepared_by_id == world.broker.id
    assert {(line.provider_id, line.amount_pence, line.status) for line in lines_of(session, run.id)} == {
        (world.providers[0].id, 1000, LineStatus.planned), (world.providers[1].id, 2500, LineStatus.planned), (world.providers[2].id, 700, LineStatus.planned),
    }
    assert run.total_pence == 4200
    # Preparing moves no money: it is still payable until the run is released and paid.
    assert world.payable(session, 1) == 2500


def test_only_one_run_is_open_per_council(session, world):
    first = runs.prepare_run(session=session, actor=world.broker)
    with pytest.raises(runs.RunStillOpen, match=f"Payment run {first.id} is not finished yet"):
        runs.prepare_run(session=session, actor=world.officer)
    runs.cancel_run(session=session, actor=world.officer, run_id=first.id, reason="Prepared by mistake")
    assert runs.prepare_run(session=session, actor=world.broker).id != first.id


def test_the_database_refuses_a_second_open_run_for_a_council(session, world):
    runs.prepare_run(session=session, actor=world.broker)
    with pytest.raises(runs.RunStillOpen):
        # As if a second broker had checked before the first one's run was saved.
        with session.begin_nested():
            from brokerage.locks import insert_once

            with insert_once(session, runs.RunStillOpen("open")):
                session.add(PaymentRun(council_id=world.council.id, prepared_by_id=world.officer.id, total_pence=1))


def test_a_run_with_nothing_to_pay_is_refused_with_a_plain_message(session):
    council = f.CouncilFactory(session=session)
    broker = f.UserFactory(session=session, council_id=council.id, role="broker")
    with pytest.raises(runs.NothingToPay, match="There is nothing to pay"):
        runs.prepare_run(session=session, actor=broker)
    assert session.exec(select(PaymentRun).where(PaymentRun.council_id == council.id)).first() is None


def test_maker_checker_the_officer_who_prepared_a_run_cannot_release_it(session, world):
    run = runs.prepare_run(session=session, actor=world.officer)
    with pytest.raises(runs.SamePerson, match="You prepared this payment run, so you cannot release it"):
        runs.release_run(session=session, actor=world.officer, run_id=run.id)
    assert run_of(session, run.id).status == RunStatus.prepared
    released = runs.release_run(session=session, actor=world.other_officer, run_id=run.id)
    assert (released.status, released.released_by_id) == (RunStatus.released, world.other_officer.id)


def test_only_a_council_officer_releases_and_only_once(session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    with pytest.raises(NotAllowed):
        runs.release_run(session=session, actor=world.broker, run_id=run.id)
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    with pytest.raises(runs.RunStillOpen, match="not waiting for release"):
        runs.release_run(session=session, actor=world.other_officer, run_id=run.id)


def test_the_database_keeps_maker_and_checker_apart(session, world):
    from sqlalchemy.exc import IntegrityError

    run = runs.prepare_run(session=session, actor=world.officer)
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            run.released_by_id = world.officer.id
            session.flush()


def test_a_provider_whose_vetting_lapsed_before_release_is_held_with_the_reason(session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    lapsed = world.providers[1]
    for item in session.exec(select(VettingItem).where(VettingItem.provider_id == lapsed.id, VettingItem.kind == "dbs")):
        session.delete(item)
    f.VettingFactory(session=session, council_id=world.council.id, provider_id=lapsed.id, kind="dbs", expires_on=clock.today() - timedelta(days=1))
    session.flush()

    runs.release_run(session=session, actor=world.officer, run_id=run.id)

    held = {line.provider_id: line for line in lines_of(session, run.id)}
    assert held[lapsed.id].status == LineStatus.held
    assert held[lapsed.id].reason == "Vetting not valid at release: DBS check expired."
    assert {held[p.id].status for p in (world.providers[0], world.providers[2])} == {LineStatus.planned}
    page = runs.run_page(session=session, actor=world.officer, run_id=run.id)
    assert (page.held_pence, page.to_pay_pence) == (2500, 1700)


def test_a_provider_whose_payouts_were_switched_off_is_held(session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    world.providers[0].payouts_enabled = False
    session.flush()
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    line = lines_of(session, run.id)[0]
    assert line.status == LineStatus.held and "Stripe has not enabled payouts" in line.reason


def test_a_new_run_leaves_out_what_an_unfinished_run_plans_to_pay(session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    fund(session, world.providers[0], 300, key="care:more")
    assert runs.reserved_by_open_runs(session=session, council_id=world.council.id)[world.providers[0].id] == 1000
    planned = {p.provider.id: p.amount_pence for p in runs.plan_lines(session=session, council_id=world.council.id)}
    assert planned == {world.providers[0].id: 300}
    runs.cancel_run(session=session, actor=world.broker, run_id=run.id, reason="A provider asked us to wait")
    planned = {p.provider.id: p.amount_pence for p in runs.plan_lines(session=session, council_id=world.council.id)}
    assert planned[world.providers[0].id] == 1300


def test_another_councils_run_is_not_found(session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    outsider = f.UserFactory(session=session, council_id=world.other_council.id, role="council_officer")
    for call in (runs.release_run, runs.cancel_run, runs.check_restartable, runs.run_page):
        with pytest.raises(NotFound):
            call(session=session, actor=outsider, run_id=run.id)


# --- the pages ------------------------------------------------------------------------------------


def test_the_broker_prepares_on_the_page_and_the_officer_sees_the_release_button(client, session, world):
    session.commit()
    sign_in(client, world.broker)
    listing = client.get("/payments/runs")
    assert listing.status_code == 200 and "Prepare a payment run" in listing.text
    answer = client.post("/payments/runs", follow_redirects=True)
    # A broker is no council officer, so the page does not say "another" officer must release it.
    assert "is prepared. A council officer must check and release it." in answer.text
    run = session.exec(select(PaymentRun).where(PaymentRun.council_id == world.council.id)).one()
    page = client.get(f"/payments/runs/{run.id}")
    assert "Alder Care Co-op" in page.text and "£42.00" in page.text and "Release and pay" not in page.text
    sign_in(client, world.officer)
    page = client.get(f"/payments/runs/{run.id}")
    assert "Release and pay" in page.text
    again = client.post("/payments/runs", follow_redirects=True)
    assert f"Payment run {run.id} is not finished yet" in again.text


def test_the_preparer_sees_no_release_button_and_a_release_post_is_refused_on_the_page(client, session, world):
    session.commit()
    sign_in(client, world.officer)
    prepared = client.post("/payments/runs", follow_redirects=True)
    assert "is prepared. Another council officer must check and release it." in prepared.text
    run = session.exec(select(PaymentRun).where(PaymentRun.council_id == world.council.id)).one()
    page = client.get(f"/payments/runs/{run.id}")
    assert "Release and pay" not in page.text and "another council officer must check and release it" in page.text
    refused = client.post(f"/payments/runs/{run.id}/release", follow_redirects=True)
    assert "You prepared this payment run, so you cannot release it" in refused.text
    assert run_of(session, run.id).status == RunStatus.prepared


def test_a_run_with_nothing_to_pay_is_refused_on_the_page(client, session):
    council = f.CouncilFactory(session=session)
    broker = f.UserFactory(session=session, council_id=council.id, role="broker")
    session.commit()
    sign_in(client, broker)
    answer = client.post("/payments/runs", follow_redirects=True)
    assert "There is nothing to pay" in answer.text


def test_held_reasons_are_shown_on_the_run_page(client, session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    world.providers[2].payouts_enabled = False
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    session.commit()
    sign_in(client, world.other_officer)
    page = client.get(f"/payments/runs/{run.id}")
    assert "Held: not paid" in page.text and "Stripe has not enabled payouts for this provider" in page.text


@pytest.mark.parametrize("path", ["/payments/runs/{run}", "/payments/lines/{line}"])
def test_another_councils_ids_give_404_on_every_page(client, session, world, path):
    run = runs.prepare_run(session=session, actor=world.broker)
    line = lines_of(session, run.id)[0]
    outsider = f.UserFactory(session=session, council_id=world.other_council.id, role="council_officer")
    session.commit()
    sign_in(client, outsider)
    assert client.get(path.format(run=run.id, line=line.id)).status_code == 404
    for action in ("release", "restart", "cancel"):
        assert client.post(f"/payments/runs/{run.id}/{action}").status_code == 404
    assert run_of(session, run.id).status == RunStatus.prepared


def test_a_provider_never_sees_another_providers_payment(client, session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    lines = lines_of(session, run.id)
    session.commit()
    sign_in(client, world.provider_users[world.providers[0].id])
    assert client.get(f"/payments/lines/{lines[0].id}").status_code == 200
    assert client.get(f"/payments/lines/{lines[1].id}").status_code == 404
    assert client.get("/payments/runs").status_code == 403


def test_a_provider_sees_nothing_of_a_run_not_yet_released(client, session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    line = lines_of(session, run.id)[0]
    session.commit()
    sign_in(client, world.provider_users[world.providers[0].id])
    assert client.get(f"/payments/lines/{line.id}").status_code == 404
    assert "No payments yet" in client.get("/payments/mine").text


def test_lines_are_unique_per_provider_and_run(session, world):
    from sqlalchemy.exc import IntegrityError

    run = runs.prepare_run(session=session, actor=world.broker)
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(PaymentLine(council_id=world.council.id, run_id=run.id, provider_id=world.providers[0].id, amount_pence=5))
            session.flush()


def test_the_dashboards_link_to_the_payment_pages(client, session, world):
    session.commit()
    sign_in(client, world.broker)
    assert "/payments/runs" in client.get("/dashboard").text
    sign_in(client, world.officer)
    text = client.get("/dashboard").text
    assert "/payments/runs" in text and "/payments/reconcile" in text
    sign_in(client, world.provider_users[world.providers[0].id])
    assert "/payments/mine" in client.get("/dashboard").text


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Say why you are cancelling this payment run"), ("   ", "Say why you are cancelling this payment run"),
    ("x" * 501, "Use 500 characters or fewer"), ("Wrong\x00week", "Remove the hidden characters"),
])
def test_cancelling_a_run_asks_why_beside_the_box_and_changes_nothing_without_it(client, session, world, reason, message):
    # One press cancelled a run waiting for an officer's check, with no reason kept (tester R6-9).
    run = runs.prepare_run(session=session, actor=world.broker)
    session.commit()
    sign_in(client, world.broker)
    page = client.get(f"/payments/runs/{run.id}")
    assert "Why are you cancelling this run?" in page.text
    refused = client.post(f"/payments/runs/{run.id}/cancel", data={"cancel-reason": reason})
    assert refused.status_code == 422 and message in refused.text and 'id="cancel-reason-error-1"' in refused.text
    assert refused.text.count("Error:") >= 1 and "<title>Error: " in refused.text
    session.expire_all()
    assert run_of(session, run.id).status == RunStatus.prepared and run_of(session, run.id).cancel_reason is None


def test_a_cancelled_run_says_who_cancelled_it_when_and_why_and_not_that_its_payments_were_sent(client, session, world):
    # Its page said "All payments sent to Stripe" at the moment it was cancelled (finished_at), and not who cancelled it.
    run = runs.prepare_run(session=session, actor=world.broker)
    session.commit()
    sign_in(client, world.broker)
    done = client.post(f"/payments/runs/{run.id}/cancel", data={"cancel-reason": "  Prepared before the corrections were in  "}, follow_redirects=True)
    assert f"Payment run {run.id} is cancelled. Nothing was paid." in done.text
    session.expire_all()
    assert (run_of(session, run.id).status, run_of(session, run.id).cancel_reason) == (RunStatus.cancelled, "Prepared before the corrections were in")
    sign_in(client, world.officer)
    page = client.get(f"/payments/runs/{run.id}").text
    assert f"{world.broker.name} on " in page and "Prepared before the corrections were in" in page and "Why it was cancelled" in page
    assert "All payments sent to Stripe" not in page and "Why are you cancelling this run?" not in page
