"""The invitation pages: a broker invites a holder, a holder someone to act for them, an administrator staff; people accept."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.holders.models import Power, Representation
from brokerage.invitations.errors import LINK_NOT_USABLE
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import InvitationStatus, new_token
from tests import factories as f
from tests.invitations.conftest import NEW_PASSWORD, path_of

EMAIL = "neighbour@example.org"


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_brokers_view_of_a_holder_says_whether_they_can_sign_in_and_offers_an_invitation(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert "Invite them to sign in" in text(client.get(f"/holders/{world.records['a']['other_holder'].id}"))
    page = text(client.get(f"/holders/{world.records['a']['holder'].id}"))
    assert "has an account and can sign in" in page and "Invite them to sign in" not in page
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    assert "Invite them to sign in" not in text(client.get(f"/holders/{world.records['a']['other_holder'].id}"))


def test_a_broker_invites_a_holder_by_email_and_the_holder_makes_their_account_from_the_link(client, auth, world, outbox, session):
    holder = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    form = client.get(f"/holders/{holder.id}/invite")
    assert form.status_code == 200 and "Phone number (if they have no email address)" in text(form)
    sent = client.post(f"/holders/{holder.id}/invite", data={"email": EMAIL, "phone": ""})
    assert sent.status_code == 302 and sent.headers["Location"] == f"/holders/{holder.id}"
    assert f"We have emailed {holder.name} a link" in text(client.get(sent.headers["Location"]))
    assert "An invitation to" in text(client.get(f"/holders/{holder.id}"))
    auth.sign_out()

    link = outbox.last_link(EMAIL)
    page = client.get(link)
    assert page.status_code == 200 and "Make your carepool account" in text(page) and "You will sign in with your email address" in text(page)
    assert 'name="name"' not in text(page) and 'name="email"' not in text(page)  # the council's record names them; the email was invited
    weak = client.post(link, data={"password": "short"})
    assert weak.status_code == 422 and "Use a password of at least 12 characters" in text(weak) and "govuk-error-summary" in text(weak)
    made = client.post(link, data={"password": NEW_PASSWORD})
    assert made.status_code == 302 and made.headers["Location"] == "/dashboard"
    dashboard = text(client.get("/dashboard"))
    assert f"Signed in as <strong>{holder.name}</strong> (Budget holder)" in dashboard and "Welcome to carepool" in dashboard
    user = session.exec(select(User).where(User.email == EMAIL)).one()
    assert user.holder_id == holder.id
    # The link worked once.
    again = client.post(link, data={"password": NEW_PASSWORD})
    assert again.status_code == 410 and LINK_NOT_USABLE in text(again)


def test_with_only_a_phone_number_the_link_is_shown_once_with_a_warning_and_never_put_in_the_cookie(client, auth, world, outbox):
    holder = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    shown = client.post(f"/holders/{holder.id}/invite", data={"email": "", "phone": "07700 900123"})
    assert shown.status_code == 200
    link = re.search(r"data-invitation-link>([^<]+)<", text(shown)).group(1)
    assert "shown only this once" in text(shown) and "07700 900123" in text(shown) and "by text message or in person" in text(shown)
    assert link.split("/")[-1] not in (shown.headers.get("Set-Cookie") or "")
    assert outbox.messages() == []
    assert link.split("/")[-1] not in text(client.get("/invitations/"))
    auth.sign_out()
    page = client.get(path_of(link))
    assert 'name="email"' in text(page)
    made = client.post(path_of(link), data={"email": "their.own@example.org", "password": NEW_PASSWORD})
    assert made.status_code == 302


def test_a_landline_is_not_offered_a_text_message(client, auth, world):
    holder = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    shown = text(client.post(f"/holders/{holder.id}/invite", data={"email": "", "phone": "020 7946 0005"}))
    assert "in person: 020 7946 0005 is not a mobile number, so a text message cannot reach it" in shown
    assert "by text message" not in shown


def test_the_invitation_form_starts_with_the_contact_details_the_broker_gave_when_adding_the_holder(client, auth, world, session):
    holder = world.records["a"]["other_holder"]
    holder.email, holder.phone = "given.when.added@example.org", "07700 900456"
    session.add(holder)
    session.commit()
    auth.sign_in(world.users["a"][Role.broker].email)
    page = text(client.get(f"/holders/{holder.id}/invite"))
    assert 'value="given.when.added@example.org"' in page
    assert 'value="07700 900456"' not in page  # with an email address, the link is emailed, not shown to pass on
    holder.email = None
    session.add(holder)
    session.commit()
    assert 'value="07700 900456"' in text(client.get(f"/holders/{holder.id}/invite"))


def test_an_invitation_form_with_neither_email_nor_phone_is_refused_beside_the_field(client, auth, world, session):
    holder = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    refused = client.post(f"/holders/{holder.id}/invite", data={"email": "", "phone": ""})
    assert refused.status_code == 422 and "Enter their email address, or a phone number" in text(refused)
    bad_phone = client.post(f"/holders/{holder.id}/invite", data={"email": "", "phone": "ring the bell"})
    assert bad_phone.status_code == 422 and "Enter a phone number like" in text(bad_phone)
    assert session.exec(select(Invitation)).all() == []
    already = client.post(f"/holders/{world.records['a']['holder'].id}/invite", data={"email": EMAIL})
    assert already.status_code == 409 and "already has an account" in text(already)


def test_the_brokers_list_sends_again_with_a_new_link_and_cancels(client, auth, world, outbox, session):
    holder = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    client.post(f"/holders/{holder.id}/invite", data={"email": EMAIL})
    first = outbox.last_link(EMAIL)
    listing = text(client.get("/invitations/"))
    assert holder.name in listing and "Send again" in listing and "Waiting" in listing and "Sent once, last on" in listing
    invitation = session.exec(select(Invitation)).one()
    resent = client.post(f"/invitations/{invitation.id}/resend")
    assert resent.status_code == 302 and resent.headers["Location"] == "/invitations/"
    assert "Sent twice, last on" in text(client.get("/invitations/"))
    second = outbox.last_link(EMAIL)
    assert second != first and client.get(first).status_code == 410 and client.get(second).status_code == 200
    cancelled = client.post(f"/invitations/{invitation.id}/cancel")
    assert cancelled.status_code == 302 and "was cancelled" in text(client.get("/invitations/"))
    assert holder.name not in text(client.get("/invitations/")).split("Invitations waiting")[1].split("No invitations")[0]
    assert client.get(second).status_code == 410
    twice = client.post(f"/invitations/{invitation.id}/cancel")
    assert twice.status_code == 302 and "Nothing was cancelled: This invitation was cancelled already." in text(client.get("/invitations/"))
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.broker].email)
    assert client.post(f"/invitations/{invitation.id}/resend").status_code == 404


def _dead_links(client, auth, world, outbox, session, later):
    """Return links that do not work, each for another reason: never made, not a token, used, cancelled, replaced, run out."""
    holder = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    client.post(f"/holders/{holder.id}/invite", data={"email": EMAIL})
    replaced = outbox.last_link(EMAIL)
    invitation = session.exec(select(Invitation)).one()
    client.post(f"/invitations/{invitation.id}/resend")
    used = outbox.last_link(EMAIL)
    auth.sign_out()
    assert client.post(used, data={"password": NEW_PASSWORD}).status_code == 302
    client.post("/sign-out")
    auth.sign_in(world.users["a"][Role.holder].email)
    client.post(f"/holders/{world.records['a']['holder'].id}/representatives/invite",
                data={"name": "Hodan", "email": "hodan@example.org", "powers": ["money"]})
    cancelled = outbox.last_link("hodan@example.org")
    client.post(f"/invitations/{session.exec(select(Invitation).where(Invitation.email == 'hodan@example.org')).one().id}/cancel")
    client.post(f"/holders/{world.records['a']['holder'].id}/representatives/invite",
                data={"name": "Yusuf", "email": "yusuf@example.org", "powers": ["care"]})
    expired = outbox.last_link("yusuf@example.org")
    auth.sign_out()
    client.get("/sign-in")  # shows, and so clears, the message that they signed out
    later.advance(days=7)
    return {"never made": f"/invitations/{new_token()}", "not a token": "/invitations/987654321", "used": used, "replaced": replaced,
            "cancelled": cancelled, "run out": expired}


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_every_link_that_does_not_work_answers_exactly_alike_whatever_the_reason(client, auth, world, outbox, session, later, accept):
    links = _dead_links(client, auth, world, outbox, session, later)
    answers = {}
    for reason, link in links.items():
        for method in ("GET", "POST"):
            response = client.open(link, method=method, data={"password": NEW_PASSWORD, "email": "x@example.org"}, headers={"Accept": accept})
            answers[(reason, method)] = (response.status_code, re.sub(r'name="csrf_token" value="[^"]*"', "", text(response)))
    assert len(set(answers.values())) == 1, {k: v[0] for k, v in answers.items()}
    status, body = next(iter(answers.values()))
    assert status == 410 and LINK_NOT_USABLE.split(".")[0] in body
    assert session.exec(select(User).where(User.email == "x@example.org")).first() is None


def test_someone_signed_in_as_another_person_is_asked_to_sign_out_first(client, auth, world, outbox):
    auth.sign_in(world.users["a"][Role.broker].email)
    client.post(f"/holders/{world.records['a']['other_holder'].id}/invite", data={"email": EMAIL})
    link = outbox.last_link(EMAIL)
    page = client.get(link)
    assert page.status_code == 200 and "Sign out, then open the link again" in text(page) and 'name="password"' not in text(page)
    refused = client.post(link, data={"password": NEW_PASSWORD})
    assert refused.status_code == 409 and "You are signed in as someone else" in text(refused)


def test_a_holder_asks_someone_to_act_for_them_and_chooses_what_they_may_do(client, auth, world, outbox, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    page = client.get(f"/holders/{holder.id}")
    assert "Ask a family member or carer to act for you" in text(page) and 'action="/holders/{}/representatives"'.format(holder.id) not in text(page)
    form = text(client.get(f"/holders/{holder.id}/representatives/invite"))
    assert form.count('type="checkbox"') == 3 and form.count(" checked") == 0  # the holder chooses; nothing is chosen for them
    none_chosen = client.post(f"/holders/{holder.id}/representatives/invite", data={"name": "Hodan", "email": "hodan@example.org"})
    assert none_chosen.status_code == 422 and "Choose at least one thing they may do" in text(none_chosen)
    sent = client.post(f"/holders/{holder.id}/representatives/invite",
                       data={"name": "Hodan", "email": "hodan@example.org", "relationship": "niece", "powers": ["groups", "care"]})
    assert sent.status_code == 302
    mine = text(client.get(f"/holders/{holder.id}"))
    assert "Asked, but not accepted yet" in mine and "Hodan" in mine
    # The invitation says what it asked for, in the holder's own words (it once listed only the name and the link's dates).
    asked = mine.split('class="govuk-list app-invitations"', 1)[1].split("Send again", 1)[0]
    assert "If they accept, they could:" in asked
    assert "<li>Vote and join groups for me</li>" in asked and "<li>Manage care: timesheets, care requests and my care profile</li>" in asked
    assert "See money and statements" not in asked
    auth.sign_out()

    link = outbox.last_link("hodan@example.org")
    page = text(client.get(link))
    # Read by the person asked: "for them" and "their care profile", not the holder's own "for me".
    assert "Vote and join groups for them" in page and "their care profile" in page and "for me" not in page
    assert "See money and statements" not in page
    email = outbox.messages("hodan@example.org")[-1].body
    assert "Vote and join groups for them" in email and "their care profile" in email and "for me" not in email
    assert client.post(link, data={"name": "Hodan Ali", "password": NEW_PASSWORD}).status_code == 302
    rep = session.exec(select(User).where(User.email == "hodan@example.org")).one()
    row = session.exec(select(Representation).where(Representation.representative_id == rep.id)).one()
    assert (rep.role, rep.name, row.holder_id, row.relationship, row.powers) == (
        Role.representative, "Hodan Ali", holder.id, "niece", frozenset({Power.groups, Power.care}))
    person = text(client.get(f"/holders/{holder.id}"))
    assert "Vote and join groups for them" in person and "for me" not in person
    assert client.get(f"/holders/{holder.id}/statement").status_code == 404  # no leave to see the money


def test_someone_who_already_acts_for_others_signs_in_from_the_link_and_accepts(client, auth, world, outbox, session):
    existing = f.UserFactory(session=session, role=Role.representative, council_id=world.councils["a"].id, email="carer@example.org", name="Cara")
    session.commit()
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    client.post(f"/holders/{holder.id}/representatives/invite", data={"name": "Cara", "email": "carer@example.org", "powers": ["care"]})
    auth.sign_out()
    link = outbox.last_link("carer@example.org")
    page = text(client.get(link))
    assert "You already have a carepool account" in page
    sign_in = re.search(r'href="(/sign-in\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    signed_in = client.post(sign_in, data={"email": "carer@example.org", "password": f.PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == link
    assert "Accept: act for" in text(client.get(link))
    accepted = client.post(link, follow_redirects=True)
    # The banner's heading says "Done"; its message does not say it again.
    assert "You can now act for them." in text(accepted) and "Done: " not in text(accepted)
    assert session.exec(select(Representation).where(Representation.representative_id == existing.id)).one().powers == frozenset({Power.care})


def test_an_administrator_invites_a_broker_from_the_invitations_page_linked_from_accounts(client, auth, world, outbox, session):
    auth.sign_in("admin@example.org")
    assert 'href="/admin/invitations"' in text(client.get("/admin/users"))
    page = client.get("/admin/invitations")
    assert page.status_code == 200 and "Council B" in text(page)
    refused = client.post("/admin/invitations", data={"name": "", "email": "nope", "role": "admin", "council_id": str(world.councils["b"].id)})
    assert refused.status_code == 422
    # No council or role is chosen for the administrator (the first council was, and a slip invited staff into it).
    assert '<option value="" selected>Choose a council</option>' in page.data.decode()
    assert '<option value="" selected>Choose a role</option>' in page.data.decode()
    unchosen = client.post("/admin/invitations", data={"name": "Bea Broker", "email": "bea@example.org", "role": "", "council_id": ""})
    assert unchosen.status_code == 422 and "Choose a council</p>" in unchosen.data.decode() and "Choose a role</p>" in unchosen.data.decode()
    assert session.exec(select(Invitation)).all() == []
    sent = client.post("/admin/invitations", data={"name": "Bea Broker", "email": "bea@example.org", "role": "broker",
                                                   "council_id": str(world.councils["b"].id)})
    assert sent.status_code == 302 and sent.headers["Location"] == "/admin/invitations"
    listing = text(client.get("/admin/invitations"))
    # Said in a sentence, not in brackets (a council's name may hold its own: "(broker, Riverside Borough Council (demo))").
    assert "Bea Broker</strong>, broker for Council B, <span" in listing
    auth.sign_out()
    assert client.post(outbox.last_link("bea@example.org"), data={"name": "Bea Broker", "password": NEW_PASSWORD}).status_code == 302
    assert session.exec(select(User).where(User.email == "bea@example.org")).one().council_id == world.councils["b"].id
    assert session.exec(select(Invitation)).one().status == InvitationStatus.accepted

