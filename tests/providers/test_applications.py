"""Providers apply on the public form; a broker reviews them; they are matched only once approved and vetted by someone else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import func, select

from brokerage import clock
from brokerage.accounts.models import Role, User
from brokerage.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.providers import applications, services
from brokerage.providers.errors import SameChecker
from brokerage.providers.models import Provider, VettingItem
from brokerage.providers.rules import ProviderStatus
from tests import factories as f
from tests.providers.applying import APPLICANT_PASSWORD, application_form, apply_through_the_service, link_sent_to

IN_TWO_YEARS = (clock.today() + timedelta(days=730)).isoformat()  # evidence runs out within 5 years



def counts(session) -> tuple[int, int]:
    return (session.exec(select(func.count()).select_from(Provider)).one(), session.exec(select(func.count()).select_from(User)).one())


def apply_and_confirm(client, session, **changes):
    """Send the form, then confirm it with the link emailed; return the confirmation's response."""
    assert client.post("/offer-care", data=application_form(**changes)).status_code == 302
    return client.post(link_sent_to(session, "grace@example.org"))


# --- the public form -----------------------------------------------------------------------------------------


def test_the_form_is_open_to_anyone_signed_out(client, places):
    response = client.get("/offer-care")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Offer care to people in your area" in page
    assert 'name="postcode"' in page and 'name="password"' in page and 'name="living_wage"' in page


def test_applying_and_confirming_makes_a_provider_waiting_for_review_and_an_account_that_is_signed_in(client, session, places):
    response = apply_and_confirm(client, session)
    assert response.status_code == 302
    provider = session.exec(select(Provider).where(Provider.name == "Grace Okafor (personal assistant)")).one()
    assert response.headers["Location"].endswith(f"/providers/{provider.id}")
    assert provider.status == ProviderStatus.pending_review and provider.council_id == places.councils["a"].id
    assert (provider.postcode_district, provider.lat, provider.lon) == ("E1", 51.5203, -0.0714)
    assert provider.hourly_rate_pence == 1950 and provider.living_wage and provider.ethical_care_charter and provider.staff_count == 1
    assert (provider.capacity_hours, provider.slot_hours, provider.services) == (20, {"mon_am": 5, "tue_am": 5, "wed_am": 5, "thu_am": 5}, ["home_care", "companionship"])
    user = session.exec(select(User).where(User.email == "grace@example.org")).one()
    assert (user.role, user.provider_id, user.council_id, user.name) == (Role.provider, provider.id, provider.council_id, "Grace Okafor")
    assert user.password_hash.startswith("$argon2id$")
    # Signed in at once, and told what happens next.
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your application has been sent to the council's brokers." in page.replace("&#39;", "'")
    assert "Your application" in page and "A broker has to review your application." in page and "Add your DBS check." in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Your application is waiting for a broker's review." in dashboard.replace("&#39;", "'")
    # ...and can sign in again later with the password they chose.
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": "grace@example.org", "password": APPLICANT_PASSWORD}).status_code == 302


@pytest.mark.parametrize("changes, field, message", [
    ({"postcode": "not a postcode"}, "postcode", "Enter a full UK postcode, like E1 6AN"),
    ({"postcode": "N1 9GU"}, "postcode", "We do not know where N1 9GU is. Check it is right. If it is, carepool is not used there yet"),
    ({"postcode": "M1 1AE"}, "postcode", "No council uses carepool for M1 yet"),
    ({"password": "aaaaaaaaaaaaaaa"}, "password", "harder to guess"),
    ({"password": "short"}, "password", "at least 12 characters"),
    ({"capacity_hours": "0"}, "capacity_hours", "from 1 to 168"),
    ({"capacity_hours": "169"}, "capacity_hours", "from 1 to 168"),
    ({"email": "not an email"}, "email", "Enter an email address like name@example.org"),
    ({"contact_name": ""}, "contact_name", "Enter your full name"),
    ({"kind": "wizard"}, "kind", "Choose how you work"),
    ({"services": None}, "services", "Choose at least one service"),
    ({"hourly_rate": "0"}, "hourly_rate", "Enter at least £12.71 an hour"),
    ({"hourly_rate": "-5"}, "hourly_rate", "Enter at least £12.71 an hour"),
    ({"hourly_rate": "1000.01"}, "hourly_rate", "£1,000.00 or less"),
    ({"staff_count": "0"}, "staff_count", "from 1 to"),
    # A way of working the staff count contradicts (both were accepted, with 40 staff).
    ({"kind": "pa", "staff_count": "40"}, "kind", "A personal assistant works alone, so the number of staff is 1, not 40"),
    ({"kind": "micro_provider", "staff_count": "40", "slot_hours-mon_am": "30"}, "kind", "A micro-provider has 5 staff or fewer, not 40"),
    # A personal assistant offering 10 hours on a Monday morning (it was accepted, up to 168).
    ({"slot_hours-mon_am": "10"}, "slot_hours", "Monday morning hours must be a whole number from 0 to 6 (one person works up to 6 hours"),
])
def test_a_wrong_answer_is_explained_beside_its_field_and_nothing_is_made(client, session, places, changes, field, message):
    before = counts(session)
    response = client.post("/offer-care", data=application_form(**changes))
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert message in page and "There is a problem" in page
    assert f'href="#{field}"' in page
    assert counts(session) == before
    assert client.get("/dashboard").status_code == 302  # nobody was signed in


def test_a_form_filled_in_by_a_robot_is_refused_and_makes_nothing(client, session, places):
    before = counts(session)
    response = client.post("/offer-care", data=application_form(website="http://spam.example"))
    assert response.status_code == 422 and "The form could not be sent." in response.get_data(as_text=True)
    assert counts(session) == before and client.get("/dashboard").status_code == 302


def test_several_wrong_answers_are_all_named_at_once(session, places):
    with pytest.raises(ValidationFailed) as refusal:
        apply_through_the_service(session, name="", password="short", postcode="M1 1AE", services=[])
    assert {"name", "password", "postcode", "services"} <= set(refusal.value.errors)


def test_the_form_is_limited_per_address_counting_only_applications_that_went(app, places):
    # Forms sent back to be put right counted too: twenty mistakes on a library's connection held everyone there back
    # for an hour, the form they typed lost (tester R6-5). Only sends that went count now.
    import secrets

    app.config["APPLY_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    here = {"REMOTE_ADDR": f"192.0.2.{secrets.randbelow(200) + 20}"}
    for _ in range(4):
        assert client.post("/offer-care", data=application_form(postcode="nonsense"), environ_base=here).status_code == 422
    for _ in range(2):
        sent = client.post("/offer-care", data=application_form(email=f"limit-{secrets.token_hex(4)}@example.org"), environ_base=here)
        assert sent.status_code == 302
    assert client.post("/offer-care", data=application_form(email=f"limit-{secrets.token_hex(4)}@example.org"), environ_base=here).status_code == 429
    assert client.get("/offer-care", environ_base=here).status_code == 200


def test_sends_are_limited_per_email_address_typed_from_any_client_and_a_form_sent_back_does_not_count(app, places, session):
    """Each send mails the address (a link, or "you already have an account"): nobody can fill someone's inbox from many machines."""
    import secrets

    from brokerage.mail.models import OutboxMessage

    app.config["APPLY_EMAIL_RATE_LIMIT"] = "2 per hour"
    client = app.test_client()
    free = f"limit-{secrets.token_hex(4)}@example.org"  # the limit's counts may outlive the test in Redis: an address no other run uses
    taken = f.UserFactory(session=session, role=Role.broker, council_id=places.councils["a"].id, email=f"taken-{secrets.token_hex(4)}@example.org").email
    session.commit()

    def send(address, client_address, **overrides):
        return client.post("/offer-care", data=application_form(email=address, **overrides), environ_base={"REMOTE_ADDR": client_address})

    for address in (free, taken):
        assert send(address, "192.0.2.51", postcode="nonsense").status_code == 422  # put right, then sent: not counted
        assert send(address, "192.0.2.52").status_code == 302
        assert send(address, "192.0.2.53").status_code == 302
        assert send(address, "192.0.2.54").status_code == 429  # the same answer whether or not the address has an account
    session.expire_all()
    for address in (free, taken):
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.recipient == address)).all()) == 2, address
    assert send(f"other-{secrets.token_hex(4)}@example.org", "192.0.2.54").status_code == 302  # another address is not held back


def test_the_form_needs_its_csrf_token(app, client, session, places):
    app.config["WTF_CSRF_ENABLED"] = True
    before = counts(session)
    assert client.post("/offer-care", data=application_form()).status_code == 400
    assert counts(session) == before
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/offer-care").get_data(as_text=True)).group(1)
    assert client.post("/offer-care", data={**application_form(), "csrf_token": token}).status_code == 302


# --- the brokers' review -----------------------------------------------------------------------------------


def test_brokers_and_officers_see_their_own_councils_applications_only(client, auth, session, places):
    applied = apply_through_the_service(session)
    session.commit()
    for email in ("broker-a@example.org", "officer-a@example.org"):
        auth.sign_in(email)
        assert "Hope Home Help" in client.get("/providers/applications").get_data(as_text=True)
        auth.sign_out()
    auth.sign_in("broker-b@example.org")
    assert "Hope Home Help" not in client.get("/providers/applications").get_data(as_text=True)
    assert client.get(f"/providers/{applied.provider.id}").status_code == 404
    assert client.post(f"/providers/{applied.provider.id}/approve").status_code == 404
    session.refresh(applied.provider)
    assert applied.provider.status == ProviderStatus.pending_review


def test_the_broker_dashboard_lists_applications_waiting(client, auth, session, places):
    apply_through_the_service(session)
    session.commit()
    auth.sign_in("broker-a@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "1 application waiting for review" in page and "Hope Home Help" in page
    # Listed once, with the applications: not again among the approved providers' vetting to chase.
    assert page.count("Hope Home Help") == 1


def test_an_application_is_not_in_the_providers_list_or_its_counts_until_approved(client, auth, session, places):
    applied = apply_through_the_service(session)
    broker = places.users["a"][Role.broker]
    session.commit()
    assert applied.provider not in services.list_providers(session=session, actor=broker)
    assert services.kind_counts(session=session, council_id=applied.provider.council_id).get("micro_provider", 0) == 0
    auth.sign_in(broker.email)
    listing = client.get("/providers/").get_data(as_text=True)
    assert "Hope Home Help" not in listing and "1 waiting for review" in listing
    assert client.post(f"/providers/{applied.provider.id}/approve").status_code == 302
    assert "Hope Home Help" in client.get("/providers/").get_data(as_text=True)
    assert services.kind_counts(session=session, council_id=applied.provider.council_id)["micro_provider"] == 1


def test_an_applicants_vetting_row_says_the_application_is_waiting_beside_valid_or_not(client, auth, session, places):
    applied = apply_through_the_service(session)
    session.commit()
    auth.sign_in("broker-a@example.org")
    page = client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)
    row = re.search(r'<dt class="govuk-summary-list__key">Vetting</dt>\s*<dd class="govuk-summary-list__value">(.*?)</dd>', page, re.S).group(1)
    assert "Not valid" in row and "Application waiting for review" in row
    assert client.post(f"/providers/{applied.provider.id}/approve").status_code == 302
    page = client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)
    row = re.search(r'<dt class="govuk-summary-list__key">Vetting</dt>\s*<dd class="govuk-summary-list__value">(.*?)</dd>', page, re.S).group(1)
    assert "Not valid" in row and "Application" not in row


def test_a_broker_approves_an_application_once(client, auth, session, places):
    applied = apply_through_the_service(session)
    session.commit()
    auth.sign_in("broker-a@example.org")
    page = client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)
    assert "Approve the application" in page and "Refuse the application" in page
    done = client.post(f"/providers/{applied.provider.id}/approve", follow_redirects=True)
    # With no evidence verified yet, the broker is told what still stands between them and being matched.
    told = done.get_data(as_text=True).replace("&#39;", "'")
    assert "Hope Home Help is approved. Before they can be matched: " in told and "matched with groups now" not in told
    session.refresh(applied.provider)
    assert applied.provider.status == ProviderStatus.approved and applied.provider.reviewed_by_id == places.users["a"][Role.broker].id
    assert applied.provider.reviewed_at is not None
    again = client.post(f"/providers/{applied.provider.id}/approve", follow_redirects=True)
    assert "This application has already been decided: approved." in again.get_data(as_text=True)


def test_only_brokers_decide_applications(client, auth, session, places):
    applied = apply_through_the_service(session)
    session.commit()
    for role in (Role.council_officer, Role.provider, Role.holder):
        auth.sign_in(places.users["a"][role].email)
        assert client.post(f"/providers/{applied.provider.id}/approve").status_code == 403
        assert client.post(f"/providers/{applied.provider.id}/refuse", data={"reason": "No"}).status_code == 403
        auth.sign_out()
    # The applicant cannot approve themselves either.
    assert client.post("/sign-in", data={"email": "hope@example.org", "password": APPLICANT_PASSWORD}).status_code == 302
    assert client.post(f"/providers/{applied.provider.id}/approve").status_code == 403
    with pytest.raises(NotAllowed):
        applications.approve(session=session, actor=places.users["a"][Role.council_officer], provider_id=applied.provider.id)
    session.refresh(applied.provider)
    assert applied.provider.status == ProviderStatus.pending_review


def test_a_refusal_needs_a_reason_and_the_applicant_reads_it(client, auth, session, places):
    applied = apply_through_the_service(session)
    session.commit()
    auth.sign_in("broker-a@example.org")
    empty = client.post(f"/providers/{applied.provider.id}/refuse", data={"reason": "  "})
    assert empty.status_code == 422 and 'id="reason-error-1"' in empty.get_data(as_text=True)
    session.refresh(applied.provider)
    assert applied.provider.status == ProviderStatus.pending_review
    reason = "We could not confirm your insurance. You are welcome to apply again with a current policy."
    assert client.post(f"/providers/{applied.provider.id}/refuse", data={"reason": reason}).status_code == 302
    session.refresh(applied.provider)
    assert applied.provider.status == ProviderStatus.refused and applied.provider.review_note == reason
    auth.sign_out()
    client.post("/sign-in", data={"email": "hope@example.org", "password": APPLICANT_PASSWORD})
    assert reason in client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)
    assert "refused" in client.get("/dashboard").get_data(as_text=True)
    with pytest.raises(Conflict):
        applications.approve(session=session, actor=places.users["a"][Role.broker], provider_id=applied.provider.id)


def test_a_refused_applicant_puts_it_right_and_asks_for_another_look_and_the_broker_sees_the_refusal(client, auth, session, places):
    """A refused applicant's address has an account, so applying again on the public form is not open to them: this is their way back."""
    applied = apply_through_the_service(session)
    session.commit()
    reason = "We could not confirm your insurance. Add a current policy and ask again."
    applications.refuse(session=session, actor=places.users["a"][Role.broker], provider_id=applied.provider.id, reason=reason)
    session.commit()
    client.post("/sign-in", data={"email": "hope@example.org", "password": APPLICANT_PASSWORD})
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "was refused" in dashboard and "Your timesheets" not in dashboard  # no contracts, so no visits to record
    page = client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)
    assert "Ask for my application to be looked at again" in page
    done = client.post(f"/providers/{applied.provider.id}/ask-again", follow_redirects=True)
    assert done.status_code == 200 and "Your application is with the council&#39;s brokers again." in done.get_data(as_text=True)
    session.refresh(applied.provider)
    assert applied.provider.status == ProviderStatus.pending_review and applied.provider.review_note == reason
    again = client.post(f"/providers/{applied.provider.id}/ask-again", follow_redirects=True).get_data(as_text=True)
    assert "there is nothing to ask again" in again  # a second click changes nothing
    auth.sign_out()
    auth.sign_in("broker-a@example.org")
    assert "Hope Home Help" in client.get("/providers/applications").get_data(as_text=True)
    page = client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)
    assert "Refused before" in page and reason in page and "Approve the application" in page
    # Only the applicant asks: not a broker, not another provider, not another council's.
    assert client.post(f"/providers/{applied.provider.id}/ask-again").status_code == 403
    for who in (places.users["a"][Role.provider], places.users["b"][Role.provider]):
        with pytest.raises(NotFound):
            applications.ask_again(session=session, actor=who, provider_id=applied.provider.id)


def test_another_councils_or_a_missing_application_is_not_found(session, places):
    applied = apply_through_the_service(session)
    for provider_id in (applied.provider.id, 987654321):
        with pytest.raises(NotFound):
            applications.approve(session=session, actor=places.users["b"][Role.broker], provider_id=provider_id)
        with pytest.raises(NotFound):
            applications.refuse(session=session, actor=places.users["b"][Role.broker], provider_id=provider_id, reason="No")


# --- vetting: the applicant adds it, a different person verifies it ------------------------------------------


def test_the_applicant_adds_evidence_and_a_broker_verifies_it(client, session, places):
    apply_and_confirm(client, session)
    provider = session.exec(select(Provider).where(Provider.name == "Grace Okafor (personal assistant)")).one()
    for kind, reference in (("dbs", "001234567890"), ("insurance", "PL-99812")):
        added = client.post(f"/providers/{provider.id}/vetting", data={"kind": kind, "reference": reference, "expires_on": IN_TWO_YEARS})
        assert added.status_code == 302
    applicant = session.exec(select(User).where(User.provider_id == provider.id)).one()
    items = session.exec(select(VettingItem).where(VettingItem.provider_id == provider.id)).all()
    assert {i.added_by_id for i in items} == {applicant.id} and all(i.verified_at is None for i in items)
    broker = places.users["a"][Role.broker]
    for item in items:
        services.verify_vetting(session=session, actor=broker, item_id=item.id)
    progress = applications.progress_of(session=session, actor=broker, provider=provider)
    assert progress.state.valid and not progress.matchable
    assert progress.steps == ["A broker has to review their application."]


def test_a_broker_who_added_an_applicants_evidence_cannot_verify_it_but_another_can(session, places):
    applied = apply_through_the_service(session)
    broker = places.users["a"][Role.broker]
    item = services.add_vetting(session=session, actor=broker, provider_id=applied.provider.id, kind="dbs", reference="D-1",
                                expires_on=clock.today() + timedelta(days=365))
    with pytest.raises(SameChecker):
        services.verify_vetting(session=session, actor=broker, item_id=item.id)
    assert item.verified_at is None
    colleague = f.UserFactory(session=session, role=Role.broker, council_id=broker.council_id)
    services.verify_vetting(session=session, actor=colleague, item_id=item.id)
    assert item.verified_at is not None and item.checked_by_id == colleague.id


def test_an_applicant_cannot_verify_their_own_evidence(client, session, places):
    apply_and_confirm(client, session)
    provider = session.exec(select(Provider).where(Provider.name == "Grace Okafor (personal assistant)")).one()
    client.post(f"/providers/{provider.id}/vetting", data={"kind": "dbs", "reference": "D-2", "expires_on": IN_TWO_YEARS})
    item = session.exec(select(VettingItem).where(VettingItem.provider_id == provider.id)).one()
    assert client.post(f"/providers/vetting/{item.id}/verify").status_code == 403
    session.refresh(item)
    assert item.verified_at is None


def test_the_error_summary_lists_the_problems_in_the_order_the_form_asks_the_questions(client, places):
    response = client.post("/offer-care", data={})
    page = response.get_data(as_text=True)
    summary = page[page.index("govuk-error-summary__list"):page.index("</ul>", page.index("govuk-error-summary__list"))]
    targets = re.findall(r'href="#([a-z_]+)"', summary)
    # The hours by time of day are 21 boxes, each named after the field (slot_hours-mon_am and so on).
    asked = [name.split("-")[0] for name in re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_-]+)"', page) if name.split("-")[0] in targets]
    assert targets[:3] == ["contact_name", "name", "kind"] and targets.index("hourly_rate") > targets.index("slot_hours")
    assert targets == list(dict.fromkeys(asked))


def test_the_form_speaks_to_the_applicant_about_their_times(client, places):
    page = client.get("/offer-care").get_data(as_text=True)
    assert "Hours you can offer each week, by time of day" in page and "With everyone who works with you." in page and "the provider" not in page


def test_the_applicants_page_asks_for_exactly_the_evidence_still_missing_and_speaks_to_them(client, session, places):
    response = apply_and_confirm(client, session, services=["personal_care", "companionship"], kind="micro_provider",
                                 name="Grace's Home Care", staff_count="3")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # Personal care needs a CQC registration too: the sentence asks for all three, not just the DBS check and insurance.
    assert "Add your DBS check, insurance and CQC registration below." in page
    assert "You need a Stripe account to be paid." in page and "The provider needs" not in page


def test_a_personal_assistant_giving_personal_care_is_not_asked_for_a_cqc_registration(client, session, places):
    # A personal assistant works alone, directly for the people they care for: CQC does not register them.
    response = apply_and_confirm(client, session, services=["personal_care", "companionship"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Add your DBS check and insurance below." in page and "CQC" not in page.split("Vetting evidence")[0]
    # ...and, working alone, is not called a micro-provider (an organisation of five staff or fewer).
    assert "Number of staff" in page and "micro-provider" not in page


def test_the_applications_page_says_personal_care_needs_a_cqc_registration_too(client, auth, places):
    auth.sign_in(places.users["a"][Role.broker].email)
    page = client.get("/providers/applications").get_data(as_text=True)
    assert "DBS check and insurance (and CQC registration, for personal care given by anyone but a personal assistant) have been verified" in page


def test_approving_an_application_whose_evidence_is_verified_says_it_can_be_matched_now(client, auth, session, places):
    applied = apply_through_the_service(session)
    colleague = f.UserFactory(session=session, role=Role.broker, council_id=applied.provider.council_id)
    for kind, reference in (("dbs", "001234567890"), ("insurance", "PL-99812")):
        item = services.add_vetting(session=session, actor=colleague, provider_id=applied.provider.id, kind=kind, reference=reference,
                                    expires_on=clock.today() + timedelta(days=365))
        services.verify_vetting(session=session, actor=places.users["a"][Role.broker], item_id=item.id)
    session.commit()
    auth.sign_in("broker-a@example.org")
    done = client.post(f"/providers/{applied.provider.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "Hope Home Help is approved. They can be matched with groups now." in done and "Before they can be matched" not in done
