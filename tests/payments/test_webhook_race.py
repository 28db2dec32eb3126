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


@pytest.mark.postgres_only
def test_ten_concurrent_deliveries_of_one_event_post_one_entry(live, stripe_server, stripe_sdk):
    app, factory, ids = live
    client = app.test_client()
    assert client.post("/sign-in", data={"email": ids["email"], "password": f.PASSWORD}).status_code == 302
    page = client.get(f"/holders/{ids['holder']}/top-up").get_data(as_text=True)
    key = page.split('name="form_key" type="hidden" value="')[1].split('"')[0]
    response = client.post(f"/holders/{ids['holder']}/top-up", data={"cluster": str(ids["cluster"]), "amount": "30", "method": "card", "form_key": key})
    assert response.status_code == 302
    with factory() as session:
        intent_id = session.exec(select(TopUp.payment_intent_id).where(TopUp.council_id == ids["council"])).one()
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
