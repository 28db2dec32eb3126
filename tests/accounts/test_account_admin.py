"""The accounts list is searched and paged; each account has its own page; a role changes only when confirmed and free."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from brokerage.accounts import admin
from brokerage.accounts.errors import RoleInUse
from brokerage.accounts.models import Role, User
from brokerage.accounts.system import system_actor
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from tests import factories as f
from tests.factories import PASSWORD


def names_on(page: str) -> list[str]:
    """Return the names linked from the accounts table, in order."""
    return re.findall(r'href="/admin/users/\d+">([^<]+)</a>', page)


def add_people(session, council_id: int, count: int, *, prefix: str = "Zed", role: Role = Role.broker) -> list[User]:
    people = [f.UserFactory(session=session, role=role, council_id=council_id, name=f"{prefix} {n:03d}", email=f"{prefix.lower()}{n:03d}@example.org")
              for n in range(count)]
    session.commit()
    return people


# --- the list -------------------------------------------------------------------------------------------


def test_the_list_has_no_password_or_deactivate_form_on_any_row(client, auth, world):
    auth.sign_in("admin@example.org")
    page = client.get("/admin/users").get_data(as_text=True)
    assert not re.search(r'action="/admin/users/\d+/(password|active|role)"', page) and 'name="active"' not in page
    # The one password box is the new account's.
    assert page.count('type="password"') == 1
    assert world.users["a"][Role.broker].name in names_on(page)


def test_the_list_shows_fifty_accounts_a_page_in_name_order(client, auth, world, session):
    add_people(session, world.councils["a"].id, 120)
    auth.sign_in("admin@example.org")
    first = client.get("/admin/users?q=zed").get_data(as_text=True)
    assert names_on(first) == [f"Zed {n:03d}" for n in range(50)]
    assert "120 accounts, showing 1 to 50" in first and 'rel="next"' in first and 'rel="prev"' not in first
    third = client.get("/admin/users?q=zed&page=3").get_data(as_text=True)
    assert names_on(third) == [f"Zed {n:03d}" for n in range(100, 120)]
    assert 'href="/admin/users?q=zed&amp;page=2"' in third and 'rel="next"' not in third
    # A page past the end (an old link) shows the last page.
    assert names_on(client.get("/admin/users?q=zed&page=99").get_data(as_text=True)) == names_on(third)


def test_a_page_number_that_is_not_a_number_is_explained_and_lists_nothing(client, auth, world):
    auth.sign_in("admin@example.org")
    response = client.get("/admin/users?page=two")
    assert response.status_code == 422
    assert "Enter a page number of 1 or more" in response.get_data(as_text=True) and names_on(response.get_data(as_text=True)) == []


def test_the_search_matches_part_of_a_name_or_an_email_in_any_case_and_script(client, auth, world, session):
    council = world.councils["a"].id
    f.UserFactory(session=session, role=Role.holder, council_id=council, name="Ayşe Yılmaz", email="ayse@example.org")
    f.UserFactory(session=session, role=Role.holder, council_id=council, name="Percent Person", email="100%sure@example.org")
    session.commit()
    auth.sign_in("admin@example.org")
    assert names_on(client.get("/admin/users?q=AYŞE").get_data(as_text=True)) == ["Ayşe Yılmaz"]
    assert names_on(client.get("/admin/users?q=broker-b%40").get_data(as_text=True)) == [world.users["b"][Role.broker].name]
    # A % means itself, not "anything".
    assert names_on(client.get("/admin/users?q=%25").get_data(as_text=True)) == ["Percent Person"]
    nothing = client.get("/admin/users?q=nobody-has-this").get_data(as_text=True)
    assert "No accounts match this search." in nothing and names_on(nothing) == []


def test_the_list_filters_by_role_and_by_council(client, auth, world):
    auth.sign_in("admin@example.org")
    brokers = names_on(client.get("/admin/users?role=broker").get_data(as_text=True))
    assert sorted(brokers) == sorted([world.users["a"][Role.broker].name, world.users["b"][Role.broker].name])
    council_b = world.councils["b"].id
    in_b = names_on(client.get(f"/admin/users?council={council_b}").get_data(as_text=True))
    assert sorted(in_b) == sorted(u.name for u in world.users["b"].values())
    both = names_on(client.get(f"/admin/users?council={council_b}&role=provider").get_data(as_text=True))
    assert both == [world.users["b"][Role.provider].name]
    admins = names_on(client.get("/admin/users?role=admin").get_data(as_text=True))
    assert admins == [world.admin.name]


@pytest.mark.parametrize("query, field", [("role=system", "role"), ("role=wizard", "role"), ("council=987654321", "council"), ("council=x", "council")])
def test_a_filter_not_in_the_lists_is_refused_beside_it(client, auth, world, query, field):
    auth.sign_in("admin@example.org")
    response = client.get(f"/admin/users?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="filter-{field}-error"' in page and names_on(page) == []


def test_the_system_actor_is_never_found(session, world):
    job = system_actor(session=session, council_id=world.councils["a"].id)
    found = admin.find_accounts(session=session, actor=world.admin, text="scheduled")
    assert found.total == 0 and job not in admin.find_accounts(session=session, actor=world.admin).users


def test_only_administrators_find_accounts(session, world):
    with pytest.raises(NotAllowed):
        admin.find_accounts(session=session, actor=world.users["a"][Role.broker])


# --- one account's page ------------------------------------------------------------------------------------


def test_an_account_page_has_the_reset_deactivate_and_role_forms(client, auth, world):
    broker = world.users["a"][Role.broker]
    auth.sign_in("admin@example.org")
    page = client.get(f"/admin/users/{broker.id}").get_data(as_text=True)
    assert f'action="/admin/users/{broker.id}/password"' in page
    assert f'action="/admin/users/{broker.id}/active"' in page and "Deactivate the account" in page
    assert f'action="/admin/users/{broker.id}/role"' in page
    assert f"<title>{broker.name}'s account" in page.replace("&#39;", "'") and "broker-<wbr>a@<wbr>example.<wbr>org" in page and "Council A" in page


def test_an_account_page_names_what_the_account_is_linked_to(client, auth, world):
    auth.sign_in("admin@example.org")
    holder_page = client.get(f"/admin/users/{world.users['a'][Role.holder].id}").get_data(as_text=True)
    assert "The care budget of Holder a" in holder_page
    rep_page = client.get(f"/admin/users/{world.users['a'][Role.representative].id}").get_data(as_text=True)
    assert "Acts for Holder a" in rep_page


def test_a_missing_account_or_the_system_actor_is_a_404(client, auth, world, session):
    job = system_actor(session=session, council_id=world.councils["a"].id)
    session.commit()
    auth.sign_in("admin@example.org")
    for user_id in (987654321, job.id):
        assert client.get(f"/admin/users/{user_id}").status_code == 404
        assert client.post(f"/admin/users/{user_id}/role", data={"role": "broker"}).status_code == 404
        assert client.post(f"/admin/users/{user_id}/role", data={"role": "broker", "confirm": "yes"}).status_code == 404


def test_a_refused_password_reset_is_explained_beside_the_field_and_changes_nothing(client, auth, world, session):
    holder = world.users["a"][Role.holder]
    before = holder.password_hash
    auth.sign_in("admin@example.org")
    response = client.post(f"/admin/users/{holder.id}/password", data={"password": "aaaaaaaaaaaa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="password-error-1"' in page and "harder to guess" in page
    assert "There is a problem" in page
    session.refresh(holder)
    assert holder.password_hash == before
    empty = client.post(f"/admin/users/{holder.id}/password", data={"password": ""})
    assert empty.status_code == 422 and "Enter a temporary password" in empty.get_data(as_text=True)


def test_deactivating_from_the_account_page_signs_the_person_out_on_every_device(app, client, auth, world):
    broker = world.users["a"][Role.broker]
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        assert device.post("/sign-in", data={"email": broker.email, "password": PASSWORD}).status_code == 302
        assert device.get("/dashboard").status_code == 200
    auth.sign_in("admin@example.org")
    done = client.post(f"/admin/users/{broker.id}/active", data={"active": "no"}, follow_redirects=True)
    assert "can no longer sign in" in done.get_data(as_text=True) and "Reactivate the account" in done.get_data(as_text=True)
    assert phone.get("/dashboard").status_code == 302 and laptop.get("/dashboard").status_code == 302


# --- changing a role ----------------------------------------------------------------------------------------


def test_a_role_change_is_confirmed_first_and_then_ends_the_persons_sessions(app, client, auth, world, session):
    officer = world.users["a"][Role.council_officer]
    theirs = app.test_client()
    assert theirs.post("/sign-in", data={"email": officer.email, "password": PASSWORD}).status_code == 302
    auth.sign_in("admin@example.org")
    ask = client.post(f"/admin/users/{officer.id}/role", data={"role": "broker"})
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and f"Make {officer.name} a broker?" in page and 'name="confirm" value="yes"' in page
    session.refresh(officer)
    assert officer.role == Role.council_officer
    assert theirs.get("/dashboard").status_code == 200
    done = client.post(f"/admin/users/{officer.id}/role", data={"role": "broker", "confirm": "yes"}, follow_redirects=True)
    assert f"{officer.name} is now a broker" in done.get_data(as_text=True)
    session.refresh(officer)
    assert officer.role == Role.broker
    assert theirs.get("/dashboard").status_code == 302
    assert theirs.post("/sign-in", data={"email": officer.email, "password": PASSWORD}).status_code == 302
    assert theirs.get("/providers/new").status_code == 200  # a broker's page


def refused(client, session, user, role: str, *, confirm: bool) -> str:
    data = {"role": role, **({"confirm": "yes"} if confirm else {})}
    response = client.post(f"/admin/users/{user.id}/role", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code in (409, 422), response.status_code
    assert 'id="role-error-1"' in page and "There is a problem" in page
    old = user.role
    session.refresh(user)
    assert user.role == old
    return page


@pytest.mark.parametrize("confirm", [False, True], ids=["asking", "confirmed"])
def test_a_holder_linked_to_a_care_budget_keeps_the_role(client, auth, world, session, confirm):
    auth.sign_in("admin@example.org")
    page = refused(client, session, world.users["a"][Role.holder], "broker", confirm=confirm)
    assert "cannot stop being a budget holder yet. Their account is linked to the care budget of Holder a." in page


@pytest.mark.parametrize("confirm", [False, True], ids=["asking", "confirmed"])
def test_a_provider_linked_to_a_provider_keeps_the_role(client, auth, world, session, confirm):
    auth.sign_in("admin@example.org")
    page = refused(client, session, world.users["a"][Role.provider], "broker", confirm=confirm)
    assert "Their account is linked to the provider Co-op a." in page


def test_a_representative_still_acting_for_someone_keeps_the_role_until_that_ends(client, auth, world, session):
    rep = world.users["a"][Role.representative]
    auth.sign_in("admin@example.org")
    page = refused(client, session, rep, "holder", confirm=True)
    assert "They still act for Holder a, who can each end this on their own page." in page
    from brokerage.holders.models import Representation
    from brokerage.types import utcnow

    for representation in session.exec(select(Representation).where(Representation.representative_id == rep.id)):
        representation.revoked_at = utcnow()
        session.add(representation)
    session.commit()
    assert client.post(f"/admin/users/{rep.id}/role", data={"role": "broker", "confirm": "yes"}).status_code == 302
    session.refresh(rep)
    assert rep.role == Role.broker


@pytest.mark.parametrize("role", ["holder", "representative", "provider"])
def test_a_staff_account_is_never_made_an_unlinked_holder_representative_or_provider(client, auth, world, session, role):
    # A broker made a budget holder saw only "Your account is not linked to a care budget yet", and nobody could link it.
    broker = world.users["a"][Role.broker]
    auth.sign_in("admin@example.org")
    form = client.get(f"/admin/users/{broker.id}").get_data(as_text=True)
    offered = re.findall(r'<option value="([a-z_]+)"', form.split('name="role"', 1)[1].split("</select>", 1)[0])
    assert set(offered) <= {"", "broker", "council_officer"}
    assert role not in offered
    for confirm in (False, True):
        assert "Choose new role from the list" in refused(client, session, broker, role, confirm=confirm)
    # The service refuses it too, saying how such an account is made.
    with pytest.raises(ValidationFailed) as refusal:
        admin.check_role_change(session=session, actor=world.admin, user_id=broker.id, role=Role(role))
    assert refusal.value.errors["role"][0].startswith("Choose a broker or a council officer. ")


def test_a_broker_whose_payment_run_waits_for_release_keeps_the_role(client, auth, world, session):
    from brokerage.payments.run_models import PaymentRun

    # A council of its own: a council has one open run at a time, and the world's is released.
    council = f.CouncilFactory(session=session)
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id)
    run = PaymentRun(council_id=council.id, status="prepared", prepared_by_id=broker.id, total_pence=500)
    session.add(run)
    session.commit()
    auth.sign_in("admin@example.org")
    page = refused(client, session, broker, "council_officer", confirm=False)
    assert f"They prepared payment run {run.id}, which is waiting to be released or cancelled." in page


def test_an_officer_whose_clawback_waits_for_a_second_officer_keeps_the_role(client, auth, world, session):
    from brokerage.surplus.models import Clawback, SurplusFlag
    from brokerage.surplus.rules import RuleKind

    officer = world.users["a"][Role.council_officer]
    records = world.records["a"]
    flag = SurplusFlag(council_id=world.councils["a"].id, cluster_id=records["cluster"].id, holder_id=records["holder"].id,
                       membership_id=records["membership"].id, rule=RuleKind.unspent_weeks, amount_pence=12_000, reason="Unspent",
                       raised_on=date(2026, 1, 5), clawback_from=date(2026, 2, 2), reviewed_on=date(2026, 1, 5))
    session.add(flag)
    session.flush()
    session.add(Clawback(council_id=flag.council_id, flag_id=flag.id, cluster_id=flag.cluster_id, holder_id=flag.holder_id,
                         amount_pence=12_000, reason="Unspent for months", proposed_by_id=officer.id))
    session.commit()
    auth.sign_in("admin@example.org")
    page = refused(client, session, officer, "broker", confirm=True)
    assert "They proposed taking back £120.00 from Holder a, which is waiting for a second officer." in page


@pytest.mark.parametrize("role, message", [
    ("admin", "Choose new role from the list"),  # not offered; the service's own refusal is tested below
    ("system", "Choose new role from the list"),
    ("wizard", "Choose new role from the list"),
    ("broker", "is already a broker"),
    ("", "Choose a role"),
])
def test_a_role_that_cannot_be_given_is_refused_beside_the_field(client, auth, world, session, role, message):
    auth.sign_in("admin@example.org")
    page = refused(client, session, world.users["a"][Role.broker], role, confirm=True)
    assert message in page


def test_an_administrator_cannot_change_their_own_or_another_administrators_role(session, world):
    other_admin = f.UserFactory(session=session, role=Role.admin, council_id=None)
    with pytest.raises(NotAllowed):
        admin.change_role(session=session, actor=world.admin, user_id=world.admin.id, role=Role.broker)
    with pytest.raises(ValidationFailed, match="Check the highlighted") as from_admin:
        admin.change_role(session=session, actor=world.admin, user_id=other_admin.id, role=Role.broker)
    with pytest.raises(ValidationFailed) as to_admin:
        admin.change_role(session=session, actor=world.admin, user_id=world.users["a"][Role.broker].id, role=Role.admin)
    for refusal in (from_admin, to_admin):
        assert "cannot change to or from another role" in refusal.value.errors["role"][0]


def test_only_administrators_change_roles(client, auth, world, session):
    with pytest.raises(NotAllowed):
        admin.change_role(session=session, actor=world.users["a"][Role.broker], user_id=world.users["a"][Role.council_officer].id, role=Role.broker)
    auth.sign_in(world.users["a"][Role.broker].email)
    officer = world.users["a"][Role.council_officer]
    assert client.post(f"/admin/users/{officer.id}/role", data={"role": "broker", "confirm": "yes"}).status_code == 403
    session.refresh(officer)
    assert officer.role == Role.council_officer


def test_the_service_refuses_a_linked_account_and_ends_no_session(session, world):
    holder = world.users["a"][Role.holder]
    version = holder.session_version
    with pytest.raises(RoleInUse) as refusal:
        admin.change_role(session=session, actor=world.admin, user_id=holder.id, role=Role.representative)
    assert refusal.value.field == "role" and refusal.value.status == 409
    session.refresh(holder)
    assert holder.role == Role.holder and holder.session_version == version


def test_a_missing_account_is_not_found_by_the_service(session, world):
    with pytest.raises(NotFound):
        admin.check_role_change(session=session, actor=world.admin, user_id=987654321, role=Role.broker)


def test_without_the_registered_checks_a_brokers_role_cannot_change(session, world, monkeypatch):
    monkeypatch.setattr(admin, "_holds", {role: checks for role, checks in admin._holds.items() if role != Role.broker})
    with pytest.raises(RuntimeError, match="no check of a broker's records"):
        admin.check_role_change(session=session, actor=world.admin, user_id=world.users["a"][Role.broker].id, role=Role.council_officer)
