"""The same signed event delivered 10 times at once has one effect (PostgreSQL, real concurrent requests)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from brokerage.accounts.models import Role
from brokerage.ledger.models import JournalEntry
from brokerage.payments.models import StripeEvent, TopUp
from tests import factories as f
from tests.races import purge_council
from tests.stripe_support import deliver, stripe_config

DELIVERIES = 10


@pytest.fixture()
def live(engine, db_url, stripe_server):
    """A committed council with a member of a group, and an app on the real database talking to the local Stripe server."""
    from brokerage import create_app
    from tests.conftest import TEST_CONFIG

    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    with factory() as session:
        council = f.CouncilFactory(session=session, slug=f"race-{uuid.uuid4().hex[:10]}")
        holder = f.HolderFactory(session=session, council_id=council.id)
        cluster = f.ClusterFactory(session=session, council_id=council.id)
        f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id)
        user = f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=holder.id,
                             email=f"race-{uuid.uuid4().hex[:10]}@example.org")
        session.commit()
        ids = {"council": council.id, "holder": holder.id, "cluster": cluster.id, "email": user.email}
    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_url, **stripe_config(stripe_server.url)})
    yield app, factory, ids
    app.extensions["db_engine"].dispose()
    with factory() as session:
        event_ids = session.exec(select(StripeEvent.id).where(StripeEvent.council_id == ids["council"])).all()
        for row in session.exec(select(StripeEvent).where(StripeEvent.id.in_(event_ids))).all():
            session.delete(row)
        session.commit()
    purge_council(factory, ids["council"])


def _signed_in(app, ids):
    client = app.test_client()
    assert client.post("/sign-in", data={"email": ids["email"], "password": f.PASSWORD}).status_code == 302
    return client


def _started(app, factory, ids) -> str:
    """Start a £30 top-up as the holder; return its PaymentIntent's id."""
    client = _signed_in(app, ids)
    page = client.get(f"/holders/{ids['holder']}/top-up").get_data(as_text=True)
    key = page.split('name="form_key" type="hidden" value="')[1].split('"')[0]
    response = client.post(f"/holders/{ids['holder']}/top-up", data={"cluster": str(ids["cluster"]), "amount": "30", "method": "card", "form_key": key})
    assert response.status_code == 302
    with factory() as session:
        return session.exec(select(TopUp.payment_intent_id).where(TopUp.council_id == ids["council"])).one()


def _at_once(calls) -> list:
    """Run the calls in threads that start together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def one(i: int) -> None:
        barrier.wait(timeout=60)
        results[i] = calls[i]()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.postgres_only
def test_cancels_racing_the_payments_own_event_never_lose_a_payment_stripe_took(live, stripe_server):
    app, factory, ids = live
    intent_id = _started(app, factory, ids)
    [succeeded] = stripe_server.pay(intent_id)  # paid on Stripe's page; the event is on its way as the person presses Cancel
    cancellers = [_signed_in(app, ids) for _ in range(3)]
    with factory() as session:
        top_up_id = session.exec(select(TopUp.id).where(TopUp.council_id == ids["council"])).one()
    calls = [lambda c=c: c.post(f"/top-ups/{top_up_id}/cancel").status_code for c in cancellers]
    calls += [lambda: deliver(app.test_client(), succeeded).status_code for _ in range(3)]
    assert _at_once(calls) == [302] * 3 + [200] * 3
    with factory() as session:
        top_up = session.get(TopUp, top_up_id)
        assert (top_up.status.value, top_up.cancelled_at) == ("succeeded", None)
        topups = session.exec(select(JournalEntry).where(JournalEntry.council_id == ids["council"], JournalEntry.kind == "topup")).all()
        assert [e.idempotency_key for e in topups] == [f"stripe:{succeeded['id']}"]


@pytest.mark.postgres_only
def test_the_same_payment_started_at_once_from_four_forms_is_one_payment(live, stripe_server, stripe_sdk):
    app, factory, ids = live
    clients = [_signed_in(app, ids) for _ in range(4)]
    keys = [c.get(f"/holders/{ids['holder']}/top-up").get_data(as_text=True).split('name="form_key" type="hidden" value="')[1].split('"')[0]
            for c in clients]
    assert len(set(keys)) == 4  # four forms, as Back and two tabs give

    def start(client, key):
        return client.post(f"/holders/{ids['holder']}/top-up",
                           data={"cluster": str(ids["cluster"]), "amount": "30", "method": "card", "form_key": key}).headers.get("Location")

    places = _at_once([lambda c=c, k=k: start(c, k) for c, k in zip(clients, keys)])
    with factory() as session:
        made = session.exec(select(TopUp).where(TopUp.council_id == ids["council"])).all()
    assert len(made) == 1 and set(places) == {f"/top-ups/{made[0].id}"}


@pytest.mark.postgres_only
def test_concurrent_cancels_of_an_unpaid_payment_cancel_it_once(live, stripe_server, stripe_sdk):
    app, factory, ids = live
    intent_id = _started(app, factory, ids)
    cancellers = [_signed_in(app, ids) for _ in range(4)]
    with factory() as session:
        top_up_id = session.exec(select(TopUp.id).where(TopUp.council_id == ids["council"])).one()
    answers = _at_once([lambda c=c: c.post(f"/top-ups/{top_up_id}/cancel", follow_redirects=True).get_data(as_text=True) for c in cancellers])
    assert all("The payment of £30.00 is cancelled." in page for page in answers)
    assert stripe_sdk.v1.payment_intents.retrieve(intent_id).status == "canceled"
    with factory() as session:
        top_up = session.get(TopUp, top_up_id)
        assert top_up.status.value == "cancelled" and top_up.cancelled_at is not None
        assert session.exec(select(JournalEntry).where(JournalEntry.council_id == ids["council"], JournalEntry.kind == "topup")).all() == []


@pytest.mark.postgres_only
def test_ten_concurrent_deliveries_of_one_event_post_one_entry(live, stripe_server, stripe_sdk):
    app, factory, ids = live
    intent_id = _started(app, factory, ids)
    [succeeded] = stripe_server.pay(intent_id)

    barrier = threading.Barrier(DELIVERIES)
    statuses: list[int | None] = [None] * DELIVERIES

    def one(i: int) -> None:
        own = app.test_client()
        barrier.wait(timeout=60)
        statuses[i] = deliver(own, succeeded).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * DELIVERIES
    with factory() as session:
        assert session.exec(select(func.count()).select_from(StripeEvent).where(StripeEvent.event_id == succeeded["id"])).one() == 1
        topups = session.exec(select(JournalEntry).where(JournalEntry.council_id == ids["council"], JournalEntry.kind == "topup")).all()
        assert [e.idempotency_key for e in topups] == [f"stripe:{succeeded['id']}"]
        top_up = session.exec(select(TopUp).where(TopUp.council_id == ids["council"])).one()
        assert (top_up.status.value, top_up.event_ids) == ("succeeded", [succeeded["id"]])
