"""A broker invites a provider or personal assistant it registered to sign in (tester R7-1): the account made works for it and can be paid."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.errors import ValidationFailed
from brokerage.invitations import services
from brokerage.invitations.errors import LINK_NOT_USABLE, InvitationClash
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import InvitationKind, InvitationStatus
from brokerage.mail.models import OutboxMessage
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus
from tests.invitations.conftest import NEW_PASSWORD
from tests.timesheets.helpers import NOW, WEEK, make_care

EMAIL = "bilal.pa@example.org"


def text(response) -> str:
    return response.get_data(as_text=True)


def _counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(session.exec(select(func.count()).select_from(model)).one() for model in (Invitation, User, OutboxMessage))


def test_the_brokers_provider_page_and_list_say_whether_each_provider_can_sign_in(app, client, auth, world, monkeypatch):
    a = world.records["a"]
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_only_for_the_page")  # so the page offers to set up payments
    auth.sign_in(world.users["a"][Role.broker].email)
    page = text(client.get(f"/providers/{a['other_provider'].id}"))
    assert f"{a['other_provider'].name} cannot sign in yet" in page and f"Invite {a['other_provider'].name} to sign in" in page
    assert "can set up payments from their own page" not in page and "payments can only be set up with them, here" in page
    page = text(client.get(f"/providers/{a['provider'].id}"))
    assert "has an account and can sign in" in page and "Invite" not in page.split('id="signing-in"')[1].split('id="payments"')[0]
    assert "can set up payments from their own page" in page
    listed = text(client.get("/providers/"))
    assert "Signing in" in listed and "Can sign in" in listed and "No account yet" in listed
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = text(client.get(f"/providers/{a['other_provider'].id}"))
    assert "cannot sign in yet" in page and "Invite" not in page.split('id="signing-in"')[1].split('id="payments"')[0]


def test_a_broker_invites_a_provider_by_email_and_the_account_made_from_the_link_works_for_exactly_that_provider(client, auth, world, outbox, session):
    provider = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][Role.broker].email)
    form = client.get(f"/providers/{provider.id}/invite")
    assert form.status_code == 200 and f"Invite {provider.name} to sign in" in text(form) and "Phone number (if they have no email address)" in text(form)
    sent = client.post(f"/providers/{provider.id}/invite", data={"email": EMAIL, "phone": ""})
    assert sent.status_code == 302 and sent.headers["Location"] == f"/providers/{provider.id}"
    page = text(client.get(sent.headers["Location"]))
    assert f"We have emailed {provider.name} a link" in page and "The link works until" in page and "Send again" in page and "Cancel" in page
    assert "Invitation waiting" in text(client.get("/providers/"))
    assert provider.name in text(client.get("/invitations/"))
    auth.sign_out()

    message = outbox.messages(EMAIL)[-1]
    assert "record the visits you make on timesheets" in message.body
    link = outbox.last_link(EMAIL)
    page = client.get(link)
    assert page.status_code == 200 and "Make your carepool account" in text(page) and provider.name in text(page)
    made = client.post(link, data={"name": "Bilal Iqbal", "password": NEW_PASSWORD})
    assert made.status_code == 302 and made.headers["Location"] == "/dashboard"
    user = session.exec(select(User).where(User.email == EMAIL)).one()
    assert (user.role, user.provider_id, user.council_id, user.holder_id) == (Role.provider, provider.id, provider.council_id, None)
    assert client.get(f"/providers/{provider.id}").status_code == 200  # their own page
    assert client.get(f"/providers/{world.records['a']['provider'].id}").status_code == 404  # and no other provider's
    assert client.get("/timesheets/").status_code == 200
    # The link worked once.
    auth.sign_out()
    again = client.post(link, data={"name": "Someone else", "password": NEW_PASSWORD})
    assert again.status_code == 410 and LINK_NOT_USABLE in text(again)
    assert session.exec(select(func.count()).select_from(User).where(User.provider_id == provider.id)).one() == 1
    auth.sign_in(world.users["a"][Role.broker].email)
    assert "has an account and can sign in" in text(client.get(f"/providers/{provider.id}"))


def test_the_link_runs_out_and_sending_it_again_from_the_provider_page_makes_a_new_one(client, auth, world, outbox, session, later):
    provider = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][Role.broker].email)
    client.post(f"/providers/{provider.id}/invite", data={"email": EMAIL})
    first = outbox.last_link(EMAIL)
    later.advance(days=8)
    assert client.get(first).status_code == 410
    auth.sign_in(world.users["a"][Role.broker].email)  # signed out meanwhile, after so long
    assert "Invitation ran out" in text(client.get("/providers/"))
    invitation = session.exec(select(Invitation).where(Invitation.provider_id == provider.id)).one()
    resent = client.post(f"/invitations/{invitation.id}/resend")
    assert resent.status_code == 302 and resent.headers["Location"] == f"/providers/{provider.id}"
    second = outbox.last_link(EMAIL)
    assert second != first and client.get(first).status_code == 410 and client.get(second).status_code == 200
    cancelled = client.post(f"/invitations/{invitation.id}/cancel")
    assert cancelled.status_code == 302 and cancelled.headers["Location"] == f"/providers/{provider.id}"
    assert "was cancelled" in text(client.get(f"/providers/{provider.id}"))
    assert client.get(second).status_code == 410


def test_with_only_a_phone_number_the_broker_is_shown_the_link_once_and_the_provider_gives_their_email(client, auth, world, outbox, session):
    provider = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][Role.broker].email)
    shown = client.post(f"/providers/{provider.id}/invite", data={"email": "", "phone": "07700 900123"})
    assert shown.status_code == 200 and "shown only this once" in text(shown) and outbox.messages() == []
    link = "/invitations/" + text(shown).split("data-invitation-link>")[1].split("<")[0].rsplit("/", 1)[1]
    auth.sign_out()
    made = client.post(link, data={"name": "Bilal Iqbal", "email": EMAIL, "password": NEW_PASSWORD})
    assert made.status_code == 302
    assert session.exec(select(User).where(User.email == EMAIL)).one().provider_id == provider.id


@pytest.mark.parametrize("data, field, message", [
    ({"email": "", "phone": ""}, "email", "Enter their email address, or a phone number if they have no email"),
    ({"email": "not an email", "phone": ""}, "email", "Enter an email address"),
    ({"email": "", "phone": "call me"}, "phone", "Enter a phone number like 07700 900123"),
    ({"email": "broker-a@example.org", "phone": ""}, "email", "Another account already uses this email address"),
])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_written_or_sent(client, auth, world, session, data, field, message):
    provider = world.records["a"]["other_provider"]
    broker = world.users["a"][Role.broker]
    if data["email"] == "broker-a@example.org":
        data = {**data, "email": broker.email}
    auth.sign_in(broker.email)
    before = _counts(session)
    refused = client.post(f"/providers/{provider.id}/invite", data=data)
    body = text(refused)
    assert refused.status_code == 422 and "govuk-error-summary" in body and message in body
    assert f'id="{field}-error-1" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}' in body
    assert _counts(session) == before


def test_a_provider_with_an_account_or_an_invitation_waiting_is_not_invited_again(app, world, session):
    a = world.records["a"]
    broker = world.users["a"][Role.broker]
    with app.test_request_context():
        with pytest.raises(InvitationClash, match="already has an account"):
            services.invite_provider(session=session, actor=broker, provider_id=a["provider"].id, email="second@example.org")
        services.invite_provider(session=session, actor=broker, provider_id=a["other_provider"].id, email=EMAIL)
        with pytest.raises(InvitationClash, match="already waiting"):
            services.invite_provider(session=session, actor=broker, provider_id=a["other_provider"].id, email="another@example.org")
        # Nor may a holder's invitation take the address a provider's is waiting at.
        with pytest.raises(InvitationClash, match="already waiting"):
            services.invite_holder(session=session, actor=broker, holder_id=a["other_holder"].id, email=EMAIL)


def test_of_two_invitations_to_one_provider_only_the_first_accepted_makes_an_account(client, world, outbox, session, app):
    # Two waiting at once cannot be made through the pages (a second is refused); made by hand, the second link still makes nothing.
    provider = world.records["a"]["other_provider"]
    broker = world.users["a"][Role.broker]
    with app.test_request_context():
        services.invite_provider(session=session, actor=broker, provider_id=provider.id, email=EMAIL)
        first = outbox.last_link(EMAIL)
        session.exec(select(Invitation).where(Invitation.provider_id == provider.id)).one().status = InvitationStatus.cancelled
        session.flush()
        services.invite_provider(session=session, actor=broker, provider_id=provider.id, email="second@example.org")
        session.exec(select(Invitation).where(Invitation.email == EMAIL)).one().status = InvitationStatus.pending
        session.commit()
    second = outbox.last_link("second@example.org")
    assert client.post(first, data={"name": "Bilal Iqbal", "password": NEW_PASSWORD}).status_code == 302
    client.post("/sign-out")
    assert client.post(second, data={"name": "Bilal Iqbal", "password": NEW_PASSWORD}).status_code == 410
    assert [u.email for u in session.exec(select(User).where(User.provider_id == provider.id))] == [EMAIL]


@pytest.mark.parametrize("role", [Role.council_officer, Role.provider, Role.holder, Role.representative])
def test_only_the_councils_brokers_may_invite_a_provider(client, auth, world, session, role):
    provider = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][role].email)
    assert client.get(f"/providers/{provider.id}/invite").status_code == 403
    assert client.post(f"/providers/{provider.id}/invite", data={"email": EMAIL}).status_code == 403
    assert session.exec(select(Invitation).where(Invitation.provider_id == provider.id)).first() is None


def test_another_councils_broker_finds_the_provider_missing(client, auth, world, session):
    provider = world.records["a"]["other_provider"]
    auth.sign_in(world.users["b"][Role.broker].email)
    missing = client.get("/providers/987654321/invite")
    got = client.get(f"/providers/{provider.id}/invite")
    assert got.status_code == missing.status_code == 404 and text(got) == text(missing)
    assert client.post(f"/providers/{provider.id}/invite", data={"email": EMAIL}).status_code == 404
    assert session.exec(select(Invitation).where(Invitation.provider_id == provider.id)).first() is None


def test_an_invited_provider_records_a_week_of_care_and_sends_it_for_payment(client, auth, session, outbox, freeze_clock):
    freeze_clock(NOW)
    care = make_care(session)
    # The provider the broker registered had no account: its test account goes.
    care.provider_user.provider_id = None
    care.provider_user.is_active_account = False
    session.commit()
    auth.sign_in(care.broker.email)
    assert client.post(f"/providers/{care.provider.id}/invite", data={"email": EMAIL}).status_code == 302
    auth.sign_out()
    assert client.post(outbox.last_link(EMAIL), data={"name": "Bridge Care", "password": NEW_PASSWORD}).status_code == 302
    assert client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": WEEK}).status_code == 302
    sheet = session.exec(select(Timesheet).where(Timesheet.contract_id == care.contract.id)).one()
    visit = {"visit-holder_id": str(care.holders[0].id), "visit-visit_date": "2026-11-30", "visit-start": "9:30am", "visit-minutes": "90",
             "visit-travel_minutes": ""}
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit).status_code == 302
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302
    session.expire_all()
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.submitted
    assert session.exec(select(func.count()).select_from(Visit).where(Visit.timesheet_id == sheet.id)).one() == 1


def test_the_invitation_kind_makes_a_provider_account():
    assert InvitationKind.provider.role == Role.provider and InvitationKind.provider.label == "Provider"


def test_a_provider_invitation_is_refused_without_an_address_before_anything_is_locked(app, world, session):
    with app.test_request_context(), pytest.raises(ValidationFailed):
        services.invite_provider(session=session, actor=world.users["a"][Role.broker], provider_id=world.records["a"]["other_provider"].id)

