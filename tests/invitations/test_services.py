"""Inviting and accepting through the services: who may invite whom, single-use links stored as hashes, expiry, resend and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage.accounts import services as accounts
from brokerage.accounts.errors import DuplicateEmail
from brokerage.accounts.models import Role, User
from brokerage.accounts.passwords import verify_password
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.holders.models import Power, Representation
from brokerage.invitations import accepting, services
from brokerage.invitations.errors import BadInvitationMove, InvitationClash, LinkNotUsable
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import InvitationKind, InvitationStatus, hash_token
from tests import factories as f
from tests.invitations.conftest import NEW_PASSWORD

EMAIL = "new.holder@example.org"


@pytest.fixture()
def ctx(app):
    """Run the services inside the app (its settings, and its routes for the links)."""
    with app.app_context():
        yield app


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def _invite_holder(session, world, *, email=EMAIL, phone=None, council="a", holder="other_holder"):
    return services.invite_holder(session=session, actor=world.users[council][Role.broker], holder_id=world.records[council][holder].id,
                                  email=email, phone=phone)


def test_a_broker_invites_a_holder_by_email_and_only_the_hash_of_the_link_is_kept(ctx, session, world, outbox):
    sent = _invite_holder(session, world)
    assert sent.link is None
    invitation = sent.invitation
    [message] = outbox.messages(EMAIL)
    token = token_of(outbox.last_link(EMAIL))
    assert invitation.token_hash == hash_token(token)
    row = session.exec(select(Invitation).where(Invitation.id == invitation.id)).one()
    assert token not in repr(row.model_dump()) and token not in message.subject
    assert (row.kind, row.status, row.council_id, row.holder_id, row.name) == (
        InvitationKind.holder, InvitationStatus.pending, world.councils["a"].id, world.records["a"]["other_holder"].id, "Neighbour a")
    assert row.expires_at == row.created_at + timedelta(days=7)
    assert "Broker" not in message.subject and "make your carepool account" in message.subject
    assert world.users["a"][Role.broker].name in message.body


def test_with_only_a_phone_number_the_broker_gets_the_link_and_nothing_is_sent(ctx, session, world, outbox):
    sent = _invite_holder(session, world, email=None, phone="07700 900123")
    assert sent.link.startswith("http://127.0.0.1:5000/invitations/")  # no request and no PUBLIC_URL: the development address
    assert sent.invitation.token_hash == hash_token(token_of(sent.link))
    assert sent.invitation.email is None and sent.invitation.phone == "07700 900123"
    assert outbox.messages() == []


def test_links_use_public_url_when_it_is_set(db_url, connection, session, world):
    from tests.conftest import app_in_transaction

    app = app_in_transaction(db_url, connection, PUBLIC_URL="https://carepool.council.example")
    with app.test_request_context("/", base_url="http://evil.example"):
        sent = _invite_holder(session, world, email=None, phone="07700 900123")
    assert sent.link.startswith("https://carepool.council.example/invitations/")


@pytest.mark.parametrize(("email", "phone", "field"), [
    (None, None, "email"), ("", "  ", "email"), ("not-an-email", None, "email"), (None, "ring me", "phone"),
])
def test_an_invitation_needs_a_real_email_address_or_phone_number(ctx, session, world, email, phone, field):
    with pytest.raises(ValidationFailed) as refused:
        _invite_holder(session, world, email=email, phone=phone)
    assert field in refused.value.errors
    assert session.exec(select(Invitation)).all() == []


def test_only_the_councils_brokers_invite_holders(ctx, session, world):
    holder = world.records["a"]["other_holder"]
    for role in (Role.council_officer, Role.holder, Role.representative, Role.provider):
        with pytest.raises(NotAllowed):
            services.invite_holder(session=session, actor=world.users["a"][role], holder_id=holder.id, email=EMAIL)
    with pytest.raises(NotFound):
        services.invite_holder(session=session, actor=world.users["b"][Role.broker], holder_id=holder.id, email=EMAIL)


def test_a_holder_with_an_account_or_an_invitation_waiting_is_not_invited_again(ctx, session, world, later):
    with pytest.raises(InvitationClash, match="already has an account"):
        _invite_holder(session, world, holder="holder")
    with pytest.raises(ValidationFailed, match="Check the highlighted") as taken:
        _invite_holder(session, world, email=world.users["a"][Role.broker].email)
    assert taken.value.errors == {"email": ["Another account already uses this email address"]}
    first = _invite_holder(session, world).invitation
    with pytest.raises(InvitationClash, match="already waiting"):
        _invite_holder(session, world, email="other@example.org")
    # Once the first has run out, a new one can be made, and the first is recorded as expired.
    later.advance(days=7)
    second = _invite_holder(session, world, email="other@example.org").invitation
    session.refresh(first)
    assert first.status == InvitationStatus.expired and second.status == InvitationStatus.pending


def test_accepting_makes_the_holders_own_account_linked_to_their_record_and_the_link_then_stops_working(ctx, session, world, outbox):
    holder = world.records["a"]["other_holder"]
    _invite_holder(session, world)
    token = token_of(outbox.last_link(EMAIL))
    user = accepting.accept_invitation(session=session, actor=None, token=token, name="Someone Else", password=NEW_PASSWORD)
    assert (user.role, user.holder_id, user.council_id, user.email, user.name) == (Role.holder, holder.id, holder.council_id, EMAIL, holder.name)
    assert verify_password(user.password_hash, NEW_PASSWORD) and NEW_PASSWORD not in user.password_hash
    invitation = session.exec(select(Invitation)).one()
    assert invitation.status == InvitationStatus.accepted and invitation.user_id == user.id and invitation.finished_at is not None
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=token, password=NEW_PASSWORD)
    with pytest.raises(LinkNotUsable):
        accepting.accept_page(session=session, actor=None, token=token)


def test_a_link_works_until_its_seventh_day_ends_and_never_after(ctx, session, world, outbox, later):
    _invite_holder(session, world)
    token = token_of(outbox.last_link(EMAIL))
    later.advance(days=7, seconds=-1)
    assert accepting.accept_page(session=session, actor=None, token=token).mode == accepting.NEW_ACCOUNT
    later.advance(seconds=1)
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=token, password=NEW_PASSWORD)
    assert session.exec(select(User).where(User.email == EMAIL)).first() is None


def test_invitation_days_sets_how_long_a_link_works(db_url, connection, session, world, outbox, later):
    from tests.conftest import app_in_transaction

    with app_in_transaction(db_url, connection, INVITATION_DAYS=2).app_context():
        _invite_holder(session, world)
        token = token_of(outbox.last_link(EMAIL))
        later.advance(days=2)
        with pytest.raises(LinkNotUsable):
            accepting.accept_page(session=session, actor=None, token=token)


def test_sending_again_makes_a_new_link_and_the_old_one_stops_working(ctx, session, world, outbox, later):
    sent = _invite_holder(session, world)
    old = token_of(outbox.last_link(EMAIL))
    later.advance(days=6)
    again = services.resend_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=sent.invitation.id)
    new = token_of(outbox.last_link(EMAIL))
    assert new != old and len(outbox.messages(EMAIL)) == 2 and again.invitation.times_sent == 2
    with pytest.raises(LinkNotUsable):
        accepting.accept_page(session=session, actor=None, token=old)
    later.advance(days=6)  # twelve days after the first: the new link has a week of its own
    assert accepting.accept_invitation(session=session, actor=None, token=new, password=NEW_PASSWORD).email == EMAIL
    with pytest.raises(BadInvitationMove, match="accepted already"):
        services.resend_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=sent.invitation.id)


def test_an_invitation_that_ran_out_can_be_sent_again(ctx, session, world, outbox, later):
    sent = _invite_holder(session, world, email=None, phone="07700 900123")
    later.advance(days=30)
    again = services.resend_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=sent.invitation.id)
    assert again.link and again.link != sent.link and again.invitation.status == InvitationStatus.pending
    assert accepting.accept_page(session=session, actor=None, token=token_of(again.link)).asks_for_email


def test_a_cancelled_invitations_link_stops_working_and_it_cannot_be_cancelled_or_sent_again(ctx, session, world, outbox):
    sent = _invite_holder(session, world)
    token = token_of(outbox.last_link(EMAIL))
    broker = world.users["a"][Role.broker]
    cancelled = services.cancel_invitation(session=session, actor=broker, invitation_id=sent.invitation.id)
    assert cancelled.status == InvitationStatus.cancelled and cancelled.cancelled_by_id == broker.id
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=token, password=NEW_PASSWORD)
    for again in (services.cancel_invitation, services.resend_invitation):
        with pytest.raises(BadInvitationMove, match="cancelled already"):
            again(session=session, actor=broker, invitation_id=sent.invitation.id)


def test_only_whoever_manages_an_invitation_can_send_it_again_or_cancel_it(ctx, session, world):
    sent = _invite_holder(session, world)
    others = [world.users["b"][Role.broker], world.users["a"][Role.holder], world.admin, world.users["a"][Role.council_officer]]
    for actor in others:
        for action in (services.cancel_invitation, services.resend_invitation):
            with pytest.raises(NotFound):
                action(session=session, actor=actor, invitation_id=sent.invitation.id)
    with pytest.raises(NotFound):
        services.cancel_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=987654321)


def test_a_link_passed_on_by_hand_asks_for_an_email_address_to_sign_in_with(ctx, session, world):
    sent = _invite_holder(session, world, email=None, phone="07700 900123")
    token = token_of(sent.link)
    with pytest.raises(ValidationFailed) as refused:
        accepting.accept_invitation(session=session, actor=None, token=token, email="", password=NEW_PASSWORD)
    assert "email" in refused.value.errors
    with pytest.raises(DuplicateEmail):
        accepting.accept_invitation(session=session, actor=None, token=token, email=world.users["a"][Role.broker].email, password=NEW_PASSWORD)
    user = accepting.accept_invitation(session=session, actor=None, token=token, email=" Neighbour@Example.org ", password=NEW_PASSWORD)
    assert user.email == "neighbour@example.org" and user.holder_id == world.records["a"]["other_holder"].id


def test_a_password_easy_to_guess_is_refused_and_the_invitation_still_waits(ctx, session, world, outbox):
    _invite_holder(session, world)
    token = token_of(outbox.last_link(EMAIL))
    with pytest.raises(ValidationFailed) as refused:
        accepting.accept_invitation(session=session, actor=None, token=token, password="short")
    assert refused.value.errors == {"password": ["Use a password of at least 12 characters"]}
    assert session.exec(select(Invitation)).one().status == InvitationStatus.pending


def test_a_second_invitation_of_a_holder_who_has_made_their_account_no_longer_works(ctx, session, world, outbox, later):
    sent = _invite_holder(session, world, email=None, phone="07700 900123")
    later.advance(days=8)
    second = _invite_holder(session, world)
    accepting.accept_invitation(session=session, actor=None, token=token_of(outbox.last_link(EMAIL)), password=NEW_PASSWORD)
    revived = services.resend_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=sent.invitation.id)
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=token_of(revived.link), email="other@example.org", password=NEW_PASSWORD)
    assert second.invitation.status == InvitationStatus.accepted


def test_one_address_waits_in_only_one_invitation_that_would_make_an_account(ctx, session, world, outbox):
    """Each account has its own address: two people invited at one address would leave the second with a link that cannot work."""
    _invite_holder(session, world)
    second = f.HolderFactory(session=session, council_id=world.councils["a"].id, name="Second person")
    shared = "An invitation to another person at this email address is already waiting"
    with pytest.raises(InvitationClash, match=shared) as refused:
        services.invite_holder(session=session, actor=world.users["a"][Role.broker], holder_id=second.id, email=EMAIL.upper())
    assert refused.value.field == "email" and "give only their phone number" in refused.value.message
    with pytest.raises(InvitationClash, match=shared):  # another council's administrator is told the same, naming nobody
        services.invite_staff(session=session, actor=world.admin, council_id=world.councils["b"].id, role="council_officer", name="Ola", email=EMAIL)
    services.invite_staff(session=session, actor=world.admin, council_id=world.councils["b"].id, role="council_officer", name="Ola",
                          email="ola@example.org")
    with pytest.raises(InvitationClash, match=shared):
        services.invite_holder(session=session, actor=world.users["a"][Role.broker], holder_id=second.id, email="ola@example.org")
    # A representative may share an address: one representative's account acts for several people.
    _invite_rep(session, world, email=EMAIL)
    kinds = session.exec(select(Invitation.kind).where(Invitation.email == EMAIL).order_by(Invitation.id)).all()
    assert kinds == [InvitationKind.holder, InvitationKind.representative]


def test_a_link_whose_address_was_given_to_another_account_since_says_so_and_is_not_sent_again(ctx, client, session, world, outbox):
    sent = _invite_holder(session, world)
    token = token_of(outbox.last_link(EMAIL))
    # Since then, the same address was given to another account (here by an administrator).
    accounts.create_user(session=session, actor=world.admin, email=EMAIL, name="Someone else", role=Role.broker,
                         password=NEW_PASSWORD, council_id=world.councils["a"].id)
    session.commit()
    assert accepting.accept_page(session=session, actor=None, token=token).mode == accepting.ADDRESS_TAKEN
    with pytest.raises(InvitationClash, match="Ask for the invitation to be sent to another address"):
        accepting.accept_invitation(session=session, actor=None, token=token, password=NEW_PASSWORD)
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 200 and "each account needs its own address" in page.text and 'type="password"' not in page.text
    assert "Ask your broker at" in page.text
    with pytest.raises(InvitationClash, match="Cancel it and invite them at another address"):
        services.resend_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=sent.invitation.id)
    assert session.get(Invitation, sent.invitation.id).status == InvitationStatus.pending and len(outbox.messages(EMAIL)) == 1


# --- a holder asks someone to act for them -----------------------------------------------------------


def _invite_rep(session, world, *, email="daughter@example.org", powers=(Power.money, Power.groups), council="a"):
    return services.invite_representative(
        session=session, actor=world.users[council][Role.holder], holder_id=world.records[council]["holder"].id, name="Hodan",
        email=email, relationship="daughter", powers=powers,
    )


def test_a_holder_invites_a_representative_who_makes_an_account_and_may_do_what_the_holder_chose(ctx, session, world, outbox):
    holder = world.records["a"]["holder"]
    sent = _invite_rep(session, world)
    assert sent.invitation.powers == ["money", "groups"]
    [message] = outbox.messages("daughter@example.org")
    assert "- See money and statements" in message.body and "Manage care" not in message.body
    page = accepting.accept_page(session=session, actor=None, token=token_of(outbox.last_link("daughter@example.org")))
    assert page.mode == accepting.NEW_ACCOUNT and page.asks_for_name and not page.asks_for_email
    user = accepting.accept_invitation(session=session, actor=None, token=token_of(outbox.last_link("daughter@example.org")),
                                       name="Hodan Hassan", password=NEW_PASSWORD)
    assert (user.role, user.council_id, user.name, user.holder_id) == (Role.representative, holder.council_id, "Hodan Hassan", None)
    row = session.exec(select(Representation).where(Representation.representative_id == user.id)).one()
    assert (row.holder_id, row.relationship, row.powers) == (holder.id, "daughter", frozenset({Power.money, Power.groups}))


def test_only_the_holder_chooses_who_acts_for_them_and_what_they_may_do(ctx, session, world):
    holder = world.records["a"]["holder"]
    with pytest.raises(NotAllowed):
        services.invite_representative(session=session, actor=world.users["a"][Role.representative], holder_id=holder.id, name="X",
                                       email="x@example.org", powers=[Power.money])
    for actor in (world.users["b"][Role.holder], world.users["a"][Role.broker]):
        with pytest.raises(NotFound):
            services.invite_representative(session=session, actor=actor, holder_id=holder.id, name="X", email="x@example.org", powers=[Power.money])
    with pytest.raises(ValidationFailed) as refused:
        _invite_rep(session, world, email=world.users["a"][Role.holder].email, powers=[])
    assert set(refused.value.errors) == {"email", "powers"}
    with pytest.raises(ValidationFailed) as already:
        _invite_rep(session, world, email=world.users["a"][Role.representative].email)
    assert "can already act for you" in already.value.errors["email"][0]


def test_someone_with_a_representatives_account_accepts_while_signed_in_and_nobody_else_can(ctx, session, world, outbox):
    other_rep = f.UserFactory(session=session, role=Role.representative, council_id=world.councils["a"].id, email="carer@example.org")
    _invite_rep(session, world, email="carer@example.org", powers=[Power.care])
    token = token_of(outbox.last_link("carer@example.org"))
    assert accepting.accept_page(session=session, actor=None, token=token).mode == accepting.SIGN_IN_FIRST
    assert accepting.accept_page(session=session, actor=world.users["a"][Role.broker], token=token).mode == accepting.SIGN_OUT_FIRST
    for actor in (None, world.users["a"][Role.representative]):
        with pytest.raises(InvitationClash):
            accepting.accept_invitation(session=session, actor=actor, token=token, password=NEW_PASSWORD)
    assert accepting.accept_page(session=session, actor=other_rep, token=token).mode == accepting.LINK_ACCOUNT
    assert accepting.accept_invitation(session=session, actor=other_rep, token=token) == other_rep
    row = session.exec(select(Representation).where(Representation.representative_id == other_rep.id)).one()
    assert row.powers == frozenset({Power.care})


@pytest.mark.parametrize("who", ["broker", "other council's representative"])
def test_an_address_whose_account_cannot_act_for_someone_is_told_so_and_nothing_changes(ctx, session, world, outbox, who):
    account = world.users["a"][Role.broker] if who == "broker" else world.users["b"][Role.representative]
    _invite_rep(session, world, email=account.email)
    token = token_of(outbox.last_link(account.email))
    assert accepting.accept_page(session=session, actor=account, token=token).mode == accepting.CANNOT_LINK
    with pytest.raises(InvitationClash, match="cannot act for someone else"):
        accepting.accept_invitation(session=session, actor=account, token=token)
    assert session.exec(select(Representation).where(
        Representation.representative_id == account.id, Representation.holder_id == world.records["a"]["holder"].id)).all() == []


def test_a_representative_stopped_before_is_authorised_again_with_the_new_powers(ctx, session, world, outbox):
    from brokerage.holders.services import revoke_representative

    rep = world.users["a"][Role.representative]
    holder = world.records["a"]["holder"]
    row = session.exec(select(Representation).where(Representation.representative_id == rep.id)).one()
    revoke_representative(session=session, actor=world.users["a"][Role.holder], holder_id=holder.id, representation_id=row.id)
    _invite_rep(session, world, email=rep.email, powers=[Power.groups])
    accepting.accept_invitation(session=session, actor=rep, token=token_of(outbox.last_link(rep.email)))
    session.refresh(row)
    assert row.revoked_at is None and row.powers == frozenset({Power.groups})
    assert len(session.exec(select(Representation).where(Representation.representative_id == rep.id)).all()) == 1


def test_a_holder_cancels_or_resends_their_own_invitation_and_a_broker_cannot(ctx, session, world, outbox):
    sent = _invite_rep(session, world)
    with pytest.raises(NotFound):
        services.cancel_invitation(session=session, actor=world.users["a"][Role.broker], invitation_id=sent.invitation.id)
    again = services.resend_invitation(session=session, actor=world.users["a"][Role.holder], invitation_id=sent.invitation.id)
    assert again.link is None and len(outbox.messages("daughter@example.org")) == 2
    assert services.cancel_invitation(session=session, actor=world.users["a"][Role.holder], invitation_id=sent.invitation.id).status == \
        InvitationStatus.cancelled


# --- administrators invite brokers and officers --------------------------------------------------------


def test_an_administrator_invites_a_broker_of_a_council_who_accepts(ctx, session, world, outbox):
    council = world.councils["b"]
    sent = services.invite_staff(session=session, actor=world.admin, council_id=council.id, role="broker", name="Bea Broker",
                                 email="Bea@Example.org")
    assert sent.invitation.email == "bea@example.org" and sent.invitation.kind == InvitationKind.broker
    user = accepting.accept_invitation(session=session, actor=None, token=token_of(outbox.last_link("bea@example.org")),
                                       name="Bea B. Broker", password=NEW_PASSWORD)
    assert (user.role, user.council_id, user.name) == (Role.broker, council.id, "Bea B. Broker")


def test_only_administrators_invite_staff_and_only_as_brokers_or_officers(ctx, session, world):
    with pytest.raises(NotAllowed):
        services.invite_staff(session=session, actor=world.users["a"][Role.broker], council_id=world.councils["a"].id, role="broker",
                              name="X", email="x@example.org")
    with pytest.raises(ValidationFailed) as refused:
        services.invite_staff(session=session, actor=world.admin, council_id=987654, role="admin", name="", email="x")
    assert set(refused.value.errors) == {"council_id", "role", "name", "email"}
    with pytest.raises(ValidationFailed):
        services.invite_staff(session=session, actor=world.admin, council_id=world.councils["a"].id, role=Role.council_officer, name="X",
                              email=world.users["a"][Role.holder].email)


# --- every kind of invitation: its link runs out, works once, and is cancelled only by whoever manages it --------


def _invite(kind, session, world, email, *, holder_id=None):
    if kind == "holder":
        holder_id = holder_id or world.records["a"]["other_holder"].id
        return services.invite_holder(session=session, actor=world.users["a"][Role.broker], holder_id=holder_id, email=email)
    if kind == "representative":
        return _invite_rep(session, world, email=email)
    return services.invite_staff(session=session, actor=world.admin, council_id=world.councils["a"].id, role=kind, name="Staff", email=email)


MANAGERS = {"holder": ("a", Role.broker), "representative": ("a", Role.holder), "broker": ("admin", None), "council_officer": ("admin", None)}
OTHER_COUNCIL = {"holder": ("b", Role.broker), "representative": ("b", Role.holder)}


def _manager(world, kind, table=MANAGERS):
    council, role = table[kind]
    return world.admin if council == "admin" else world.users[council][role]


@pytest.mark.parametrize("kind", list(MANAGERS))
def test_every_kind_of_link_runs_out_works_once_and_only_its_manager_cancels_it(ctx, session, world, outbox, later, kind):
    email = f"{kind}@invited.example"
    expired = _invite(kind, session, world, email)
    stale = token_of(outbox.last_link(email))
    later.advance(days=7)
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=stale, name="New Person", password=NEW_PASSWORD)
    # Sent again: a new link; the old one stays dead.
    services.resend_invitation(session=session, actor=_manager(world, kind), invitation_id=expired.invitation.id)
    fresh = token_of(outbox.last_link(email))
    with pytest.raises(LinkNotUsable):
        accepting.accept_page(session=session, actor=None, token=stale)
    # Someone of the other council, or a role that does not manage this kind, cannot touch it.
    strangers = [world.users["b"][Role.broker], world.users["b"][Role.holder], world.users["a"][Role.council_officer]]
    strangers += [world.admin] if kind in ("holder", "representative") else [world.users["a"][Role.broker]]
    for stranger in strangers:
        with pytest.raises(NotFound):
            services.cancel_invitation(session=session, actor=stranger, invitation_id=expired.invitation.id)
    user = accepting.accept_invitation(session=session, actor=None, token=fresh, name="New Person", password=NEW_PASSWORD)
    assert user.role.value == kind and user.email == email
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=fresh, name="Again", password=NEW_PASSWORD)
    with pytest.raises(BadInvitationMove):
        services.cancel_invitation(session=session, actor=_manager(world, kind), invitation_id=expired.invitation.id)
    # A second one of the same kind, cancelled by its manager before it is used.
    newcomer = f.HolderFactory(session=session, council_id=world.councils["a"].id)
    second = _invite(kind, session, world, f"second-{email}", holder_id=newcomer.id)
    services.cancel_invitation(session=session, actor=_manager(world, kind), invitation_id=second.invitation.id)
    with pytest.raises(LinkNotUsable):
        accepting.accept_invitation(session=session, actor=None, token=token_of(outbox.last_link(f"second-{email}")), password=NEW_PASSWORD)
