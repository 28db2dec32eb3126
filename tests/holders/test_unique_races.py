"""A second copy of an authorisation, a sensitive detail or an account, inserted by a racing request, is a clear 409."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts import services as accounts
from brokerage.accounts.errors import DuplicateEmail
from brokerage.accounts.models import Role, User
from brokerage.errors import AlreadyDone
from brokerage.holders import services
from brokerage.holders.models import Representation, SensitiveDetail, SensitiveItem, Visibility
from tests import factories as f
from tests.races import row_appears_after_check


def test_accepting_an_invitation_twice_at_once_answers_409_with_a_plain_message(client, world, session):
    from brokerage.invitations import services as invitations
    from brokerage.mail.models import OutboxMessage

    holder = world.records["a"]["holder"]
    rep = f.UserFactory(session=session, role=Role.representative, council_id=world.councils["a"].id, email="daughter@example.org", name="Amina")
    with client.application.test_request_context():
        invitations.invite_representative(session=session, actor=world.users["a"][Role.holder], holder_id=holder.id, name="Amina",
                                          email="daughter@example.org", powers=["money"])
    session.commit()
    link = session.exec(select(OutboxMessage)).one().body.split("http://localhost", 1)[1].split()[0]
    client.post("/sign-in", data={"email": "daughter@example.org", "password": f.PASSWORD})
    racing = Representation(council_id=holder.council_id, representative_id=rep.id, holder_id=holder.id, relationship="daughter")
    with row_appears_after_check(racing, ("holder_id", "representative_id")) as inserted:
        response = client.post(link)
    assert inserted
    assert response.status_code == 409
    assert f"You can already act for {holder.name}." in response.data.decode()


def test_add_representation_refuses_the_copy_a_racing_request_inserted(world, session):
    holder = world.records["a"]["holder"]
    rep = f.UserFactory(session=session, role=Role.representative, council_id=world.councils["a"].id, email="son@example.org", name="Yusuf")
    racing = Representation(council_id=holder.council_id, representative_id=rep.id, holder_id=holder.id, relationship="son")
    with row_appears_after_check(racing, ("holder_id", "representative_id")) as inserted:
        with pytest.raises(AlreadyDone, match=f"You can already act for {holder.name}") as refused:
            services.add_representation(session=session, actor=rep, holder_id=holder.id, relationship="son", powers=["care"])
    assert inserted and refused.value.status == 409
    assert len(session.exec(select(Representation).where(Representation.representative_id == rep.id)).all()) == 1


def test_a_sensitive_detail_saved_twice_at_once_answers_409_and_keeps_one(world, session):
    holder = world.records["a"]["holder"]
    actor = world.users["a"][Role.holder]
    racing = SensitiveDetail(council_id=holder.council_id, holder_id=holder.id, item=SensitiveItem.faith, value="Quaker",
                             visibility=Visibility.nobody, consent_recorded_by_id=actor.id)
    with row_appears_after_check(racing, ("holder_id",)) as inserted:
        with pytest.raises(AlreadyDone, match="changed somewhere else at the same moment") as refused:
            services.update_profile(session=session, actor=actor, holder_id=holder.id, languages=["en"], care_needs=["home_care"], goals="",
                                    sensitive={"faith": ("Muslim", "clusters")})
    assert inserted and refused.value.status == 409
    rows = session.exec(select(SensitiveDetail).where(SensitiveDetail.holder_id == holder.id)).all()
    assert [(r.item, r.value) for r in rows] == [(SensitiveItem.faith, "Quaker")]


def test_an_account_created_twice_at_once_answers_409_and_keeps_one(world, session):
    racing = User(email="twice@example.org", name="First", role=Role.broker, password_hash=f.password_hash(), council_id=world.councils["a"].id)
    with row_appears_after_check(racing, ("email",)) as inserted:
        with pytest.raises(DuplicateEmail, match="Another account already uses this email address") as refused:
            accounts.create_user(session=session, actor=world.admin, email="twice@example.org", name="Second", role=Role.broker,
                                 password="a long and unusual passphrase", council_id=world.councils["a"].id)
    assert inserted and refused.value.status == 409
    assert [u.name for u in session.exec(select(User).where(User.email == "twice@example.org"))] == ["First"]
