"""Applying to offer care confirms the email address first: the form never tells whether an address has an account, and nothing exists until the link is used."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from sqlmodel import func, select

from brokerage import clock
from brokerage.accounts.models import CouncilDistrict, Role, User
from brokerage.errors import ValidationFailed
from brokerage.mail.models import OutboxMessage
from brokerage.providers import pending, services
from brokerage.providers.errors import ApplicationLinkNotUsable
from brokerage.providers.models import PendingApplication, Provider
from brokerage.providers.rules import ProviderStatus
from tests import factories as f
from tests.conftest import app_in_transaction
from tests.providers.applying import APPLICANT_PASSWORD, application_form, link_sent_to, token_sent_to

EMAIL = "grace@example.org"
NOT_USABLE = "This link cannot be used"


def made(session) -> tuple[int, int, int]:
    """Count the providers, accounts and applications waiting."""
    session.expire_all()
    return tuple(session.exec(select(func.count()).select_from(model)).one() for model in (Provider, User, PendingApplication))


def mail_to(session, address: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)))


# Headers that tell the time (the date, and when the rate limit's window ends, in seconds): two answers a second apart differ.
CLOCK_HEADERS = ("Date", "X-RateLimit-Reset", "Retry-After")


def answer(response, typed: str | None = None) -> tuple:
    """Return everything a visitor sees of an answer but the headers that tell the time, with the address they typed as ADDRESS.

    The address typed is the visitor's own, shown back on the "check your email" page (and kept in their cookie until
    then), so it differs between two visitors whatever the accounts: everything else must be the same.
    """
    from brokerage.formatting import breakable

    def same_but_value(key: str, value: str) -> str:
        name, _, rest = value.partition("=")
        return f"{name}=…;{rest.partition(';')[2]}" if key == "Set-Cookie" else value

    # The length too, when the typed address is in the page: two addresses are seldom as long as each other.
    left_out = {*CLOCK_HEADERS, *(("Content-Length",) if typed else ())}
    headers = sorted((k, same_but_value(k, v)) for k, v in response.headers.items() if k not in left_out)
    body = response.get_data(as_text=True)
    return response.status_code, headers, body.replace(str(breakable(typed)), "ADDRESS") if typed else body


@pytest.fixture()
def ctx(app):
    """Run the services inside the app (its settings, and its routes for the links)."""
    with app.app_context():
        yield app


# --- the answer never tells ---------------------------------------------------------------------------------


def test_an_address_with_an_account_gets_exactly_the_same_answer_as_a_free_one(app, session, places):
    # Two visitors from two addresses no other test or run uses, so each is its address's first send: the rate
    # limit's count is in the headers, and with REDIS_URL set it outlives the test.
    free_client, taken_client = app.test_client(), app.test_client()
    free_client.environ_base["REMOTE_ADDR"], taken_client.environ_base["REMOTE_ADDR"] = (
        f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{n}" for n in (1, 2))
    free = free_client.post("/offer-care", data=application_form())
    taken = taken_client.post("/offer-care", data=application_form(email="Broker-A@example.org"))
    assert free.status_code == 302 and free.headers["Location"] == "/offer-care/sent"
    assert answer(taken) == answer(free)
    # ...and so is the page it leads to, which names no address.
    free_page, taken_page = free_client.get(free.headers["Location"]), taken_client.get(taken.headers["Location"])
    assert answer(taken_page, "Broker-A@example.org") == answer(free_page, "Grace@Example.org")
    text = free_page.get_data(as_text=True)
    assert "Check your email" in text and "24 hours" in text and "ADDRESS" in answer(free_page, "Grace@Example.org")[2]


def test_the_owner_of_an_address_with_an_account_is_told_by_email_and_nothing_is_kept(client, session, places):
    before = made(session)
    client.post("/offer-care", data=application_form(email="broker-a@example.org"))
    assert made(session) == before
    [message] = mail_to(session, "broker-a@example.org")
    assert "You already have a carepool account with this address" in message.body
    assert "/sign-in" in message.body and "Forgotten your password?" in message.body and "you can ignore this email" in message.body
    assert client.get("/dashboard").status_code == 302  # nobody was signed in


def test_an_inactive_account_is_sent_nothing_and_the_answer_is_the_same(client, session, places):
    f.UserFactory(session=session, email="gone@example.org", role=Role.broker, council_id=places.councils["a"].id, is_active_account=False)
    session.commit()
    before = made(session)
    response = client.post("/offer-care", data=application_form(email="gone@example.org"))
    assert response.status_code == 302 and response.headers["Location"] == "/offer-care/sent"
    assert made(session) == before and mail_to(session, "gone@example.org") == []


def test_the_password_is_hashed_whether_or_not_the_address_has_an_account(client, session, places, monkeypatch):
    hashed = []
    monkeypatch.setattr(pending, "hash_password", lambda password: hashed.append(password) or "$argon2id$stand-in")
    client.post("/offer-care", data=application_form())
    client.post("/offer-care", data=application_form(email="broker-a@example.org"))
    assert hashed == [APPLICANT_PASSWORD, APPLICANT_PASSWORD]


# --- nothing exists until the link is used ------------------------------------------------------------------


def test_sending_the_form_keeps_the_application_and_emails_a_link_but_makes_no_provider_or_account(client, session, places):
    providers, users, _ = made(session)
    response = client.post("/offer-care", data=application_form())
    assert response.status_code == 302
    assert made(session)[:2] == (providers, users)
    waiting = session.exec(select(PendingApplication).where(PendingApplication.email == EMAIL)).one()
    assert waiting.password_hash.startswith("$argon2id$") and APPLICANT_PASSWORD not in str(waiting.answers)
    assert waiting.council_id == places.councils["a"].id and waiting.used_at is None
    token = token_sent_to(session, EMAIL)
    assert waiting.token_hash != token and len(waiting.token_hash) == 64  # only its hash is kept
    assert waiting.expires_at - waiting.created_at == timedelta(hours=24)
    [message] = mail_to(session, EMAIL)
    assert "Confirm and send my application" in message.body and "for 24 hours" in message.body
    assert client.get("/dashboard").status_code == 302  # not signed in either


def test_opening_the_link_shows_a_button_and_does_nothing(client, session, places):
    client.post("/offer-care", data=application_form())
    before = made(session)
    page = client.get(link_sent_to(session, EMAIL))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Confirm and send my application" in text and "Grace Okafor (personal assistant)" in text
    assert made(session) == before and client.get("/dashboard").status_code == 302


def test_a_link_works_once(client, session, places):
    client.post("/offer-care", data=application_form())
    link = link_sent_to(session, EMAIL)
    assert client.post(link).status_code == 302
    client.post("/sign-out")
    before = made(session)
    for again in (client.post(link), client.get(link)):
        text = again.get_data(as_text=True)
        assert again.status_code == 410 and NOT_USABLE in text and 'href="/offer-care"' in text and "Traceback" not in text
    assert made(session) == before
    assert session.exec(select(PendingApplication).where(PendingApplication.email == EMAIL)).one().used_at is not None


def test_a_link_runs_out_after_a_day(client, session, places, monkeypatch):
    client.post("/offer-care", data=application_form())
    link = link_sent_to(session, EMAIL)
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now + timedelta(hours=24))
    before = made(session)
    assert client.get(link).status_code == 410 and client.post(link).status_code == 410
    assert made(session) == before


def test_application_link_hours_sets_how_long_a_link_works(db_url, connection, places):
    client = app_in_transaction(db_url, connection, APPLICATION_LINK_HOURS=2).test_client()
    client.post("/offer-care", data=application_form())
    session = client.application.extensions["db_sessionmaker"]()
    waiting = session.exec(select(PendingApplication).where(PendingApplication.email == EMAIL)).one()
    assert waiting.expires_at - waiting.created_at == timedelta(hours=2)
    assert "2 hours" in client.get("/offer-care/sent").get_data(as_text=True)
    session.close()


@pytest.mark.parametrize("token", ["x" * 43, "not-a-token", "A" * 200])
def test_an_unknown_link_cannot_be_used(client, places, token):
    for response in (client.get(f"/offer-care/confirm/{token}"), client.post(f"/offer-care/confirm/{token}")):
        assert response.status_code == 410 and NOT_USABLE in response.get_data(as_text=True)


def test_a_second_application_for_the_address_replaces_the_first_and_its_link(client, session, places):
    client.post("/offer-care", data=application_form(name="First name"))
    first = link_sent_to(session, EMAIL)
    client.post("/offer-care", data=application_form(name="Second name"))
    second = link_sent_to(session, EMAIL)
    assert first != second
    assert session.exec(select(func.count()).select_from(PendingApplication).where(PendingApplication.email == EMAIL)).one() == 1
    assert client.post(first).status_code == 410
    assert client.post(second).status_code == 302
    assert session.exec(select(Provider.name).where(Provider.name.in_(["First name", "Second name"]))).all() == ["Second name"]


# --- confirming checks everything again ---------------------------------------------------------------------


def test_an_address_that_got_an_account_since_is_not_given_a_second_one(client, session, places):
    client.post("/offer-care", data=application_form())
    link = link_sent_to(session, EMAIL)
    f.UserFactory(session=session, email=EMAIL, role=Role.broker, council_id=places.councils["a"].id)
    session.commit()
    before = made(session)
    response = client.post(link)
    text = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 409 and "There is already an account with this email address." in text and "Traceback" not in text
    assert made(session) == before and client.get("/dashboard").status_code == 302


def test_a_postcode_no_council_covers_any_more_is_refused_when_confirming(client, session, places):
    client.post("/offer-care", data=application_form())
    link = link_sent_to(session, EMAIL)
    session.delete(session.get(CouncilDistrict, "E1"))
    session.commit()
    before = made(session)
    response = client.post(link)
    assert response.status_code == 409 and "No council uses carepool for E1 yet" in response.get_data(as_text=True)
    assert made(session) == before


def test_the_services_confirm_once(ctx, session, places):
    pending.apply(session=session, password=APPLICANT_PASSWORD, **_answers())
    token = token_sent_to(session, EMAIL)
    applied = pending.confirm(session=session, token=token)
    assert applied.provider.status == ProviderStatus.pending_review and applied.user.provider_id == applied.provider.id
    with pytest.raises(ApplicationLinkNotUsable):
        pending.confirm(session=session, token=token)


def _answers() -> dict:
    return {"name": "Hope Home Help", "kind": "micro_provider", "contact_name": "Hope Adeyemi", "email": EMAIL, "postcode": "E1 6AN",
            "services": ["home_care"], "languages": ["en"], "staff_genders": ["female"], "capacity_hours": 30, "slot_hours": {"mon_am": 15, "tue_am": 15},
            "radius_km": 5.0, "hourly_rate_pence": 2100, "staff_count": 3}


# --- every problem on the first send ------------------------------------------------------------------------


def test_every_problem_is_named_on_the_first_send_in_the_order_the_form_asks(client, session, places):
    before = made(session)
    response = client.post("/offer-care", data=application_form(contact_name="", postcode="M1 1AE", password="short", capacity_hours="0",
                                                                hourly_rate=None))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and made(session) == before
    summary = page[page.index("govuk-error-summary__list"):page.index("</ul>", page.index("govuk-error-summary__list"))]
    assert re.findall(r'href="#([a-z_]+)"', summary) == ["contact_name", "postcode", "password", "capacity_hours", "hourly_rate"]
    for message in ("Enter your full name", "No council uses carepool for M1 yet", "at least 12 characters", "from 1 to 168", "Enter your hourly rate"):
        assert message in summary and page.count(message) == 2  # in the summary, and beside its box


# --- a weekly cap of 0 for a new provider ---------------------------------------------------------------------


def test_a_new_provider_cannot_have_a_weekly_cap_of_0_but_one_with_work_may_stop_taking_more(client, auth, session, places, profile_form):
    broker = places.users["a"][Role.broker]
    auth.sign_in(broker.email)
    refused = client.post("/providers/new", data=profile_form(name="Zero Hours Co", kind="pa", postcode="E1 6AN", capacity_hours="0"))
    assert refused.status_code == 422 and "from 1 to 168" in refused.get_data(as_text=True)
    assert session.exec(select(Provider).where(Provider.name == "Zero Hours Co")).first() is None
    registration = {k: v for k, v in _answers().items() if k not in ("contact_name", "email")} | {"capacity_hours": 0}
    with pytest.raises(ValidationFailed) as refusal:
        services.register_provider(session=session, actor=broker, **registration)
    assert refusal.value.errors["capacity_hours"] == [services.NEW_CAPACITY_MESSAGE]
    # A provider already registered may enter 0, as its own form says, to take no more work for now.
    provider = f.ProviderFactory(session=session, council_id=broker.council_id)
    session.commit()
    assert client.post(f"/providers/{provider.id}/edit", data=profile_form(name=provider.name, kind=provider.kind.value, capacity_hours="0")).status_code == 302
    session.refresh(provider)
    assert provider.capacity_hours == 0
