"""POST /stripe/webhook: only verified events are stored, each once, and each has its effect once."""

from __future__ import annotations

import logging
import time

import pytest
from sqlmodel import func, select

from brokerage.payments.models import StripeEvent
from tests.payments.conftest import stored
from tests.stripe_support import deliver, payload_of, signature_header


def an_event(event_id="evt_test_1", type="thing.happened", **obj):
    return {"id": event_id, "object": "event", "type": type, "created": int(time.time()), "api_version": "2017-08-15",
            "livemode": False, "data": {"object": {"id": "obj_1", "object": "thing", **obj}}}


def count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(StripeEvent)).one()


def test_a_verified_event_with_no_handler_is_stored_with_no_effect(stripe_client, session):
    response = deliver(stripe_client, an_event())
    assert response.status_code == 200 and response.get_json() == {"received": "evt_test_1"}
    row = stored(session, "evt_test_1")
    assert (row.type, row.outcome, row.processed_at is not None, row.subject_id) == ("thing.happened", "no effect", True, "obj_1")
    assert row.payload["data"]["object"]["id"] == "obj_1"


def test_the_same_event_twice_is_stored_once(stripe_client, session):
    assert [deliver(stripe_client, an_event()).status_code for _ in range(3)] == [200, 200, 200]
    assert count(session) == 1


@pytest.mark.parametrize("case", ["wrong secret", "no header", "garbled header", "changed body", "old timestamp"])
def test_a_delivery_that_is_not_signed_by_stripe_now_is_refused_and_stored_nowhere(stripe_client, session, case):
    event = an_event()
    payload = payload_of(event)
    headers = {
        "wrong secret": signature_header(payload, secret="whsec_other"),
        "no header": "",
        "garbled header": "t=abc,v1=zzz",
        "changed body": signature_header(payload_of(an_event(amount=1))),
        "old timestamp": signature_header(payload, timestamp=int(time.time()) - 301),
    }
    response = stripe_client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": headers[case]} if headers[case] else {})
    assert response.status_code == 400
    assert "signature" in response.get_json()["error"].lower()
    assert count(session) == 0


def test_a_timestamp_within_stripes_tolerance_is_accepted(stripe_client, session):
    assert deliver(stripe_client, an_event(), timestamp=int(time.time()) - 290).status_code == 200
    assert count(session) == 1


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": "evt_1"}', b'{"id": "nope", "type": "x", "created": 1, "data": {}}'])
def test_a_signed_body_that_is_not_an_event_is_refused(stripe_client, session, body):
    response = stripe_client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature_header(body)})
    assert response.status_code == 400
    assert count(session) == 0


def test_without_a_webhook_secret_every_event_is_refused_with_a_clear_log_line(db_url, connection, stripe_server, session, caplog):
    from tests.conftest import app_in_transaction
    from tests.stripe_support import stripe_config

    app = app_in_transaction(db_url, connection, **{**stripe_config(stripe_server.url), "STRIPE_WEBHOOK_SECRET": None})
    with caplog.at_level(logging.WARNING):
        response = deliver(app.test_client(), an_event())
    assert response.status_code == 400
    assert "no Stripe webhook secret" in response.get_json()["error"]
    assert "STRIPE_WEBHOOK_SECRET is not set" in caplog.text
    assert count(session) == 0


def test_the_webhook_needs_no_csrf_token_even_where_csrf_is_on(db_url, connection, stripe_server, session):
    from tests.conftest import app_in_transaction
    from tests.stripe_support import stripe_config

    app = app_in_transaction(db_url, connection, **stripe_config(stripe_server.url), WTF_CSRF_ENABLED=True)
    assert deliver(app.test_client(), an_event()).status_code == 200


def test_production_refuses_to_start_without_the_webhook_secret(monkeypatch):
    from brokerage import create_app
    from brokerage.errors import ConfigError

    monkeypatch.setenv("CAREPOOL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-random-secret-value-123456")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    for name, value in {"MAIL_SERVER": "smtp.council.example", "MAIL_DEFAULT_SENDER": "carepool@council.example", "PUBLIC_URL": "https://carepool.example"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        create_app()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_real")
    assert create_app().config["STRIPE_WEBHOOK_SECRET"] == "whsec_real"


def test_an_event_is_stored_even_when_its_processing_fails_and_a_redelivery_tries_again(stripe_client, session, monkeypatch):
    from brokerage.payments import events

    calls = []

    def flaky(*, session, event):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return "done at last"

    monkeypatch.setitem(events.HANDLERS, "thing.happened", flaky)
    assert deliver(stripe_client, an_event()).status_code == 200
    row = stored(session, "evt_test_1")
    assert row.processed_at is None
    assert deliver(stripe_client, an_event()).status_code == 200
    assert stored(session, "evt_test_1").outcome == "done at last"
    assert deliver(stripe_client, an_event()).status_code == 200
    assert calls == ["evt_test_1", "evt_test_1"]


def test_a_domain_refusal_is_the_events_final_outcome(stripe_client, session, monkeypatch):
    from brokerage.errors import BrokerageError
    from brokerage.payments import events

    def refuse(*, session, event):
        raise BrokerageError("that holder left the council")

    monkeypatch.setitem(events.HANDLERS, "thing.happened", refuse)
    deliver(stripe_client, an_event())
    assert stored(session, "evt_test_1").outcome == "refused: that holder left the council"
