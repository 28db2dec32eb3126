"""A provider's own dashboard says what to do next: set up payments, whom to ask at the council, and, when refused, why (tester R7)."""

from __future__ import annotations

import re

from brokerage.accounts.models import Role
from brokerage.providers.rules import ProviderStatus
from brokerage.types import utcnow
from tests import factories as f


def words(html: str) -> str:
    return " ".join(html.split())


def section(html: str, heading_id: str) -> str:
    """Return a dashboard section from its heading to the next heading, or '' when there is none."""
    found = re.search(rf'<h2 class="govuk-heading-m" id="{heading_id}">(.*?)(?=<h2|</main>)', html, re.S)
    return words(found.group(1)) if found else ""


def dashboard_of(client, auth, user) -> str:
    auth.sign_out()
    auth.sign_in(user.email)
    return client.get("/dashboard").text


def test_a_provider_is_asked_to_set_up_how_they_get_paid_until_stripe_can_pay_them(client, auth, world, session, app, monkeypatch):
    provider = world.records["a"]["provider"]
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_local")
    todo = section(dashboard_of(client, auth, world.users["a"][Role.provider]), "get-paid")
    assert todo.startswith("Set up how you get paid</h2>") and "until they are, you cannot be paid for your care" in todo
    assert f'action="/providers/{provider.id}/set-up-payments"' in todo and ">Set up payments</button>" in todo
    provider.stripe_status = "details_needed"
    session.add(provider)
    session.commit()
    todo = section(client.get("/dashboard").text, "get-paid")
    assert "Stripe needs more details before it can pay you." in todo and ">Continue with Stripe</button>" in todo
    provider.stripe_status, provider.payouts_enabled = "enabled", True
    session.add(provider)
    session.commit()
    page = client.get("/dashboard").text
    assert section(page, "get-paid") == "" and "Set up how you get paid" not in page


def test_an_applicants_to_do_and_the_offer_care_page_mention_setting_up_payments(client, auth, world, session):
    provider = world.records["a"]["provider"]
    provider.status = ProviderStatus.pending_review
    session.add(provider)
    session.commit()
    page = words(dashboard_of(client, auth, world.users["a"][Role.provider]))
    status = page[page.index('id="application-status"'):]
    assert 'you also need to <a class="govuk-link" href="#get-paid">set up how you get paid</a>' in status[:status.index("</div>")]
    profile = words(client.get(f"/providers/{provider.id}").text)
    assert "To be paid for your care, you also need to set up how you get paid" in profile
    auth.sign_out()
    offer = words(client.get("/offer-care").text)
    steps = offer[offer.index("What happens next"):offer.index("</ol>")]
    assert "To be paid, you set up how you get paid" in steps and "Stripe" in steps


def test_a_provider_is_told_who_their_broker_is_or_else_the_councils_brokers_and_never_another_councils(client, auth, world, session):
    provider = world.records["a"]["provider"]
    broker = world.users["a"][Role.broker]
    bola = f.UserFactory(session=session, role=Role.broker, council_id=provider.council_id, name="Bola Broker", email="bola@a.example")
    session.commit()
    # Registered by a broker, so nobody decided an application: the council's brokers, each with an address.
    box = section(dashboard_of(client, auth, world.users["a"][Role.provider]), "your-broker")
    assert box.startswith("Who to contact at the council</h2>") and "No one broker looks after you" in box
    assert f"mailto:{broker.email}" in box and "mailto:bola@a.example" in box
    assert world.users["b"][Role.broker].email not in box
    # The broker who approved the application is their broker.
    provider.reviewed_by_id, provider.reviewed_at = bola.id, utcnow()
    session.add(provider)
    session.commit()
    box = section(client.get("/dashboard").text, "your-broker")
    assert box.startswith("Your broker</h2>") and "Bola Broker looked at your application, so they are your broker." in box
    assert "mailto:bola@a.example" in box and broker.email not in box
    # A broker who has left is not offered: the council's brokers are.
    bola.is_active_account = False
    session.add(bola)
    session.commit()
    box = section(client.get("/dashboard").text, "your-broker")
    assert box.startswith("Who to contact at the council</h2>") and "Ask your council&#39;s broker about" in box
    assert f"mailto:{broker.email}" in box and "bola@a.example" not in box


def test_a_providers_menu_has_their_timesheets_payments_and_profile_and_nobody_elses_has_their_profile(client, auth, world):
    provider = world.records["a"]["provider"]
    page = dashboard_of(client, auth, world.users["a"][Role.provider])
    menu = words(page[page.index('id="navigation"'):page.index("</nav>")])
    for href, label in (("/dashboard", "Dashboard"), ("/timesheets/", "Timesheets"), ("/payments/mine", "Payments"),
                        (f"/providers/{provider.id}", "Your profile")):
        assert re.search(rf'href="{re.escape(href)}"[^>]*>{label}</a>', menu), (href, label)
    for path in ("/timesheets/", "/payments/mine", f"/providers/{provider.id}"):
        assert client.get(path).status_code == 200, path
    page = dashboard_of(client, auth, world.users["a"][Role.broker])
    assert "Your profile" not in page[page.index('id="navigation"'):page.index("</nav>")]


def test_a_refused_applicant_reads_the_reason_and_what_to_do_before_any_vetting_warning(client, auth, world, session):
    provider = world.records["a"]["provider"]
    provider.status, provider.reviewed_at, provider.reviewed_by_id = ProviderStatus.refused, utcnow(), world.users["a"][Role.broker].id
    provider.review_note = "We could not check your references."
    session.add(provider)
    session.commit()
    page = words(dashboard_of(client, auth, world.users["a"][Role.provider]))
    reason = page.index("We could not check your references.")
    assert page.index("was refused") < reason < page.index("What to do next") < page.index("Vetting")
    assert "You cannot be matched or paid while vetting is not valid." not in page and "govuk-warning-text" not in page
    assert "Needs attention" not in page and "Not valid" in page
    assert "Set up how you get paid" not in page


def test_a_providers_own_profile_speaks_to_them(client, auth, world):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    page = words(client.get(f"/providers/{provider.id}").text)
    assert ">Update your profile</a>" in page and f"of {provider.name}" not in page
    assert "You are not matched with groups or paid until this is put right" in page and f"{provider.name} is not matched" not in page
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.broker].email)
    page = words(client.get(f"/providers/{provider.id}").text)
    assert f"{provider.name} is not matched with groups or paid" in page and f'Update profile<span class="govuk-visually-hidden"> of {provider.name}' in page
