"""The system actor jobs use: one per council, recorded on what it does, never a person who can sign in or be listed."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.accounts import services
from brokerage.accounts.models import Role, User
from brokerage.accounts.passwords import verify_password
from brokerage.accounts.schemas import UserForm
from brokerage.accounts.system import NAME, is_system, system_actor, system_email
from brokerage.clusters import runs
from brokerage.clusters.rules import period_of
from brokerage.errors import ValidationFailed
from brokerage.ledger.models import JournalEntry
from brokerage.types import PERSON_ROLES
from tests import factories as f


def test_each_council_has_one_system_user_made_on_first_use(session, world):
    a, b = world.councils["a"].id, world.councils["b"].id
    first = system_actor(session=session, council_id=a)
    assert system_actor(session=session, council_id=a).id == first.id
    other = system_actor(session=session, council_id=b)
    assert other.id != first.id and (other.council_id, first.council_id) == (b, a)
    assert first.role == Role.system and first.name == NAME == Role.system.label and is_system(first)
    assert first.email == system_email(a) and first.email.endswith(".invalid")
    assert session.exec(select(func.count()).select_from(User).where(User.role == Role.system, User.council_id == a)).one() == 1


def test_the_system_user_can_never_sign_in(client, session, world):
    user = system_actor(session=session, council_id=world.councils["a"].id)
    session.commit()
    for password in ("", "carepool-dummy-password", user.password_hash, "a long enough password"):
        assert not verify_password(user.password_hash, password)
        response = client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code != 302, password
    assert not user.is_active
    assert services.load_user(session=session, user_id=str(user.id)) is None


def test_even_with_a_password_and_the_active_flag_it_stays_out(client, auth, session, world):
    user = system_actor(session=session, council_id=world.councils["a"].id)
    session.commit()
    auth.sign_in("admin@example.org")
    client.post(f"/admin/users/{user.id}/password", data={"password": "river boat lantern 42"})
    auth.sign_out()
    session.refresh(user)
    assert user.is_active_account and not user.is_active
    assert auth.sign_in(user.email, "river boat lantern 42").status_code != 302
    assert services.load_user(session=session, user_id=str(user.id)) is None


def test_it_is_nobody_in_the_lists_of_people(client, auth, session, world):
    user = system_actor(session=session, council_id=world.councils["a"].id)
    session.commit()
    admin = session.exec(select(User).where(User.email == "admin@example.org")).one()
    listed = services.list_users(session=session, actor=admin)
    assert user not in listed and world.users["a"][Role.broker] in listed
    auth.sign_in("admin@example.org")
    page = client.get("/admin/users").data.decode()
    assert user.email not in page and NAME not in page
    people = session.exec(select(func.count()).select_from(User).where(User.role != Role.system)).one()
    assert f"and {people} accounts." in client.get("/dashboard").data.decode()


def test_no_form_or_command_makes_a_person_a_system_user(app, runner, session, world):
    assert Role.system not in PERSON_ROLES and set(PERSON_ROLES) == set(Role) - {Role.system}
    with app.test_request_context():
        assert Role.system.value not in [choice.value for choice in UserForm().role.choices]
    with pytest.raises(ValidationFailed) as error:
        services.create_user(session=session, actor=None, email="job@example.org", name="Job", role=Role.system,
                             password="a long enough password", council_id=world.councils["a"].id)
    assert "role" in error.value.errors
    result = runner.invoke(args=["accounts", "create-user", "--email", "job@example.org", "--name", "Job", "--role", "system",
                                 "--council", "council-a", "--password", "a long enough password"])
    assert result.exit_code == 2 and "system" in result.output


def test_a_job_posts_as_its_councils_system_user(app, session, world):
    council_id = world.councils["a"].id
    with app.app_context():
        report = runs.issue_dp_job(council_id=council_id, period=period_of(runs.today()))
    assert report["posted"] == 2
    actor = system_actor(session=session, council_id=council_id)
    period = period_of(runs.today())
    entries = session.exec(select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.like(f"dp:%:{period}"))).all()
    assert len(entries) == 2 and {e.actor_id for e in entries} == {actor.id}


def test_verifying_the_ledger_writes_nothing_not_even_the_system_user(runner, session, world):
    quiet = f.CouncilFactory(session=session)
    systems = select(func.count()).select_from(User).where(User.role == Role.system)
    before = session.exec(systems).one()
    result = runner.invoke(args=["ledger", "verify", "--council", quiet.slug])
    assert result.exit_code == 0, result.output
    assert session.exec(systems).one() == before
    looked_up = system_actor(session=session, council_id=quiet.id, create=False)
    assert looked_up.id is None and looked_up.role == Role.system and looked_up.council_id == quiet.id
    assert session.exec(systems).one() == before
