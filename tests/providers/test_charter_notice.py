"""Nobody misses a provider's tick of the Ethical Care Charter: travel is paid only from the day a broker confirms it (tester R7-2)."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.mail.models import OutboxMessage
from brokerage.providers import services
from brokerage.providers.models import ProviderKind
from brokerage.providers.rules import ProviderStatus
from tests import factories as f


def outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def words(html: str) -> str:
    return " ".join(html.split())


def charters_waiting(html: str) -> str:
    """Return the dashboard's list of charter ticks waiting for a broker, or '' when there is none."""
    found = re.search(r'id="charters-waiting">(.*?)</ul>', html, re.S)
    return words(found.group(1)) if found else ""


def profile(**changes) -> dict:
    data = dict(services=["home_care"], languages=["en"], staff_genders=["female"], capacity_hours=40, radius_km=5.0, hourly_rate_pence=2200,
                living_wage=False, ethical_care_charter=True, slot_hours={"mon_am": 18}, staff_count=3)
    data.update(changes)
    return data


def test_a_provider_ticking_the_charter_emails_each_broker_of_their_council_once_and_nobody_else(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    council_id = provider.council_id
    second = f.UserFactory(session=session, role=Role.broker, council_id=council_id, name="Bola Broker", email="bola@a.example")
    f.UserFactory(session=session, role=Role.broker, council_id=council_id, email="gone@a.example", is_active_account=False)
    session.commit()
    before = len(outbox(session))
    auth.sign_in(world.users["a"][Role.provider].email)
    assert client.post(f"/providers/{provider.id}/edit", data=profile_form(ethical_care_charter="y")).status_code == 302
    sent = outbox(session)[before:]
    assert sorted(m.recipient for m in sent) == sorted([world.users["a"][Role.broker].email, second.email])
    mail = next(m for m in sent if m.recipient == second.email)
    assert mail.subject == f"Please confirm the Ethical Care Charter of {provider.name}"
    body = " ".join(mail.body.split())
    assert body.startswith("Hello Bola Broker,")
    assert f"http://localhost/providers/{provider.id}" in body
    assert "Until a broker confirms it, its travel time is not paid." in body and "not before" in body
    # Saving the profile again while the tick still waits sends nothing more.
    assert client.post(f"/providers/{provider.id}/edit", data=profile_form(ethical_care_charter="y", radius_km="6")).status_code == 302
    assert len(outbox(session)) == before + 2


def test_a_brokers_own_tick_confirms_the_charter_and_an_applicants_waits_for_the_review_so_neither_emails(app, world, session):
    provider = world.records["a"]["provider"]
    broker = world.users["a"][Role.broker]
    before = len(outbox(session))
    services.update_profile(session=session, actor=broker, provider_id=provider.id, **profile())
    assert provider.charter_confirmed_on is not None and len(outbox(session)) == before
    applicant = f.ProviderFactory(session=session, council_id=provider.council_id, status=ProviderStatus.pending_review, staff_count=3)
    user = f.UserFactory(session=session, role=Role.provider, council_id=provider.council_id, provider_id=applicant.id)
    with app.app_context():
        services.update_profile(session=session, actor=user, provider_id=applicant.id, **profile())
    assert applicant.ethical_care_charter and applicant.charter_confirmed_on is None and len(outbox(session)) == before


def test_a_personal_assistants_charter_email_says_their(app, world, session):
    pa = f.ProviderFactory(session=session, council_id=world.councils["a"].id,
                           name="Nasima Khatun", kind=ProviderKind.pa, staff_count=1)
    user = f.UserFactory(session=session, role=Role.provider, council_id=pa.council_id, provider_id=pa.id)
    before = len(outbox(session))
    with app.app_context():
        services.update_profile(session=session, actor=user, provider_id=pa.id, **profile(staff_count=1, slot_hours={"mon_am": 6}, capacity_hours=6))
    body = " ".join(outbox(session)[before].body.split())
    assert "Nasima Khatun ticked the Ethical Care Charter on their profile" in body and " its " not in body


def test_the_broker_dashboard_lists_each_charter_waiting_since_when_with_a_link_and_only_in_its_own_council(client, auth, world, session):
    waiting = world.records["a"]["provider"]
    waiting.ethical_care_charter, waiting.charter_since = True, date(2026, 11, 30)
    unticked = world.records["a"]["other_provider"]
    confirmed = f.ProviderFactory(session=session, council_id=waiting.council_id, name="Checked Carers", ethical_care_charter=True,
                                  charter_since=date(2026, 11, 2), charter_confirmed_on=date(2026, 11, 3))
    applicant = f.ProviderFactory(session=session, council_id=waiting.council_id, name="Applying Carers", ethical_care_charter=True,
                                  charter_since=date(2026, 11, 2), status=ProviderStatus.pending_review)
    session.add(waiting)
    session.commit()
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get("/dashboard").text
    assert "Charter ticks waiting for you to confirm" in page
    shown = charters_waiting(page)
    assert f'<a class="govuk-link" href="/providers/{waiting.id}">{waiting.name}</a>, waiting since Monday 30 November 2026' in shown
    assert "no travel time is paid until you confirm it" in shown
    assert confirmed.name not in shown and applicant.name not in shown
    assert unticked.name not in shown
    # The providers list marks the provider in its table too.
    listed = words(client.get("/providers/").text)
    table = listed[listed.index("Providers in this council"):]
    row = re.search(rf'href="/providers/{waiting.id}">{waiting.name}</a>(.*?)</td>', table)
    assert row and "Charter to confirm" in row.group(1)
    other = re.search(rf'href="/providers/{unticked.id}">{unticked.name}</a>(.*?)</td>', table)
    assert other and "Charter to confirm" not in other.group(1)
    # Nobody else sees the item: another council's broker, this council's provider, holder and representative.
    for user in (world.users["b"][Role.broker], world.users["a"][Role.provider], world.users["a"][Role.holder], world.users["a"][Role.representative]):
        auth.sign_out()
        auth.sign_in(user.email)
        page = client.get("/dashboard").text
        assert "Charter ticks waiting" not in page and f"/providers/{waiting.id}\">{waiting.name}</a>, waiting" not in page
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.broker].email)
    assert waiting.name not in client.get("/providers/").text


def test_a_brokers_confirm_words_for_a_personal_assistant_say_their_and_for_an_organisation_its(client, auth, world, session):
    council_id = world.records["a"]["provider"].council_id
    pa = f.ProviderFactory(session=session, council_id=council_id, name="Nasima Khatun", kind=ProviderKind.pa, staff_count=1,
                           ethical_care_charter=True, charter_since=date(2026, 11, 30))
    coop = f.ProviderFactory(session=session, council_id=council_id, name="Bridge Care Co-op", ethical_care_charter=True, charter_since=date(2026, 11, 30))
    session.commit()
    auth.sign_in(world.users["a"][Role.broker].email)
    shown = words(client.get(f"/providers/{pa.id}").text)
    assert "Once confirmed, their travel time is paid for visits from today." in shown and "(for example their signed commitment" in shown
    assert "its travel time" not in shown
    shown = words(client.get(f"/providers/{coop.id}").text)
    assert "Once confirmed, its travel time is paid for visits from today." in shown


def test_the_compliance_page_counts_the_charter_ticks_waiting_for_a_broker_in_its_own_council_only(client, auth, world, session):
    waiting = world.records["a"]["provider"]
    waiting.ethical_care_charter, waiting.charter_since = True, date(2026, 11, 30)
    session.add(waiting)
    session.commit()
    for role in (Role.broker, Role.council_officer):
        auth.sign_out()
        auth.sign_in(world.users["a"][role].email)
        shown = words(client.get("/compliance").text)
        assert '<a class="govuk-link" href="/providers/#charters">1 Ethical Care Charter tick waits for a broker to confirm it</a>' in shown
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.broker].email)
    assert "Ethical Care Charter tick" not in client.get("/compliance").text
