"""One link, used twice at the same moment, does its work once: one account, one new password, one raised session version."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.accounts.passwords import verify_password
from brokerage.invitations import accepting, resets, services
from brokerage.invitations.errors import LinkNotUsable
from brokerage.invitations.models import Invitation, PasswordReset
from brokerage.invitations.rules import InvitationKind, InvitationStatus, hash_token, new_token
from brokerage.mail.models import OutboxMessage
from brokerage.types import utcnow
from tests import factories as f
from tests.races import council_factory, new_council, race  # noqa: F401 (council_factory is the `factory` fixture)

# SQLite lets one writer in at a time from BEGIN, so the two could never start together: PostgreSQL only.
pytestmark = pytest.mark.postgres_only

TRIALS = 3


def test_an_invitation_accepted_twice_at_once_makes_one_account(factory):
    for trial in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            holder = f.HolderFactory(session=session, council_id=council.id)
            token = new_token()
            session.add(Invitation(council_id=council.id, kind=InvitationKind.holder, name=holder.name, phone="07700 900123", holder_id=holder.id,
                                   token_hash=hash_token(token), expires_at=utcnow() + timedelta(days=7)))
            session.commit()
            holder_id = holder.id

        def accept(email):
            return lambda s: accepting.accept_invitation(session=s, actor=None, token=token, email=email, password="a long and unusual passphrase").id

        results = race(factory, [accept(f"first-{council.id}@example.org"), accept(f"second-{council.id}@example.org")])
        assert sorted(type(r).__name__ for r in results) == ["LinkNotUsable", "int"], results
        with factory() as session:
            accounts = session.exec(select(User).where(User.holder_id == holder_id)).all()
            assert [a.id for a in accounts] == [r for r in results if isinstance(r, int)]
            assert session.exec(select(Invitation).where(Invitation.holder_id == holder_id)).one().status == InvitationStatus.accepted


def test_a_reset_link_used_twice_at_once_sets_one_password_and_ends_the_sessions_once(factory):
    for trial in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            user = f.UserFactory(session=session, role=Role.broker, council_id=council.id, email=f"reset-{council.id}@example.org")
            token = new_token()
            session.add(PasswordReset(user_id=user.id, token_hash=hash_token(token), session_version=user.session_version,
                                      expires_at=utcnow() + timedelta(hours=1)))
            session.commit()
            user_id, version = user.id, user.session_version

        def use(password):
            return lambda s: resets.reset_password(session=s, token=token, password=password).email

        results = race(factory, [use("first long unusual passphrase"), use("second long unusual passphrase")])
        assert sum(isinstance(r, LinkNotUsable) for r in results) == 1, results
        with factory() as session:
            user = session.get(User, user_id)
            assert user.session_version == version + 1
            winner = "first long unusual passphrase" if isinstance(results[1], LinkNotUsable) else "second long unusual passphrase"
            assert verify_password(user.password_hash, winner)
            # Purging the council skips the foreign keys' cascades on PostgreSQL: the link goes first.
            session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id))
            session.commit()


@pytest.fixture()
def invite_app(db_url):
    """An app on the real database, for the services that read its settings (an invitation's days, its link)."""
    from brokerage import create_app
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_url})
    yield app
    app.extensions["db_engine"].dispose()


def test_two_people_invited_at_one_address_at_once_leave_one_invitation_waiting(factory, invite_app, monkeypatch):
    # Each request waits a moment between its checks and its insert, so without a lock both would pass the
    # check ("no other invitation is waiting at this address") before either had written.
    original = services._create

    def create_slowly(session, actor, invitation):
        time.sleep(0.3)
        return original(session, actor, invitation)

    monkeypatch.setattr(services, "_create", create_slowly)
    for trial in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id)
            holders = [f.HolderFactory(session=session, council_id=council.id) for _ in range(2)]
            session.commit()
            broker_id, holder_ids = broker.id, [h.id for h in holders]
        address = f"shared-{council.id}@example.org"

        def invite(holder_id):
            def job(s):
                with invite_app.app_context():
                    return services.invite_holder(session=s, actor=s.get(User, broker_id), holder_id=holder_id, email=address).invitation.id
            return job

        try:
            results = race(factory, [invite(holder_ids[0]), invite(holder_ids[1])])
            assert sorted(type(r).__name__ for r in results) == ["InvitationClash", "int"], results
            with factory() as session:
                waiting = session.exec(select(Invitation).where(Invitation.email == address, Invitation.status == InvitationStatus.pending)).all()
                assert [i.id for i in waiting] == [r for r in results if isinstance(r, int)]
        finally:
            with factory() as session:
                # Purging the council skips the foreign keys' cascades on PostgreSQL: the invitations and mail go first.
                session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == address))
                session.execute(delete(Invitation).where(Invitation.email == address))
                session.commit()


def test_two_brokers_inviting_one_provider_at_once_leave_one_invitation_waiting(factory, invite_app, monkeypatch):
    original = services._create

    def create_slowly(session, actor, invitation):
        time.sleep(0.3)
        return original(session, actor, invitation)

    monkeypatch.setattr(services, "_create", create_slowly)
    for trial in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            brokers = [f.UserFactory(session=session, role=Role.broker, council_id=council.id) for _ in range(2)]
            provider = f.ProviderFactory(session=session, council_id=council.id)
            session.commit()
            broker_ids, provider_id = [b.id for b in brokers], provider.id
        addresses = [f"pa-{council.id}-{n}@example.org" for n in range(2)]

        def invite(broker_id, address):
            def job(s):
                with invite_app.app_context():
                    return services.invite_provider(session=s, actor=s.get(User, broker_id), provider_id=provider_id, email=address).invitation.id
            return job

        try:
            results = race(factory, [invite(broker_ids[0], addresses[0]), invite(broker_ids[1], addresses[1])])
            assert sorted(type(r).__name__ for r in results) == ["InvitationClash", "int"], results
            with factory() as session:
                waiting = session.exec(select(Invitation).where(Invitation.provider_id == provider_id)).all()
                assert [i.id for i in waiting] == [r for r in results if isinstance(r, int)]
        finally:
            with factory() as session:
                session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.in_(addresses)))
                session.execute(delete(Invitation).where(Invitation.provider_id == provider_id))
                session.commit()


def test_two_invitations_to_one_provider_accepted_at_once_make_one_account(factory):
    for trial in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            provider = f.ProviderFactory(session=session, council_id=council.id)
            tokens = [new_token(), new_token()]
            # Two waiting at once cannot be made through the service (a second is refused); made here, they race to accept.
            session.add_all([Invitation(council_id=council.id, kind=InvitationKind.provider, name=provider.name, provider_id=provider.id,
                                        phone="07700 900123", token_hash=hash_token(t), expires_at=utcnow() + timedelta(days=7)) for t in tokens])
            session.commit()
            provider_id = provider.id

        def accept(token, email):
            return lambda s: accepting.accept_invitation(session=s, actor=None, token=token, email=email, name="Bilal Iqbal",
                                                         password="a long and unusual passphrase").id

        try:
            results = race(factory, [accept(tokens[0], f"one-{council.id}@example.org"), accept(tokens[1], f"two-{council.id}@example.org")])
            assert sorted(type(r).__name__ for r in results) == ["LinkNotUsable", "int"], results
            with factory() as session:
                accounts = session.exec(select(User).where(User.provider_id == provider_id)).all()
                assert [a.id for a in accounts] == [r for r in results if isinstance(r, int)]
                assert accounts[0].role == Role.provider
        finally:
            with factory() as session:
                session.execute(delete(Invitation).where(Invitation.provider_id == provider_id))
                session.commit()
