"""Administrators add councils and accounts; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Council, Role, User


def count(session, model):
    return session.exec(select(func.count()).select_from(model)).one()


def test_an_admin_adds_a_council(client, auth, world, session):
    auth.sign_in("admin@example.org")
    response = client.post("/admin/councils", data={"name": "Eastbrook Council", "slug": "eastbrook", "area_districts": "E16 E17"})
    assert response.status_code == 302
    council = session.exec(select(Council).where(Council.slug == "eastbrook")).one()
    assert council.districts == ["E16", "E17"]


def test_a_bad_council_is_explained_beside_each_field_and_not_saved(client, auth, world, session):
    auth.sign_in("admin@example.org")
    before = count(session, Council)
    response = client.post("/admin/councils", data={"name": "", "slug": "Bad Slug!", "area_districts": "nonsense"})
    assert response.status_code == 422
    assert b"Enter the council&#39;s name" in response.data
    assert b"Use lower-case letters, numbers and hyphens only" in response.data
    assert b"Enter postcode districts like E1 E14" in response.data
    assert count(session, Council) == before


def test_a_duplicate_council_slug_is_refused_beside_the_field(client, auth, world, session):
    auth.sign_in("admin@example.org")
    before = count(session, Council)
    response = client.post("/admin/councils", data={"name": "Again", "slug": "council-a", "area_districts": ""})
    assert response.status_code == 422
    assert b'id="slug-error-1"' in response.data
    assert count(session, Council) == before


def test_an_admin_adds_an_account_with_a_hashed_password(client, auth, world, session):
    auth.sign_in("admin@example.org")
    council = world.councils["a"]
    response = client.post(
        "/admin/users",
        data={"name": "New Broker", "email": "New.Broker@Example.org", "role": "broker", "council_id": str(council.id), "password": "a long enough password"},
    )
    assert response.status_code == 302
    user = session.exec(select(User).where(User.email == "new.broker@example.org")).one()
    assert user.role == Role.broker and user.council_id == council.id
    assert user.password_hash.startswith("$argon2id$")


def test_a_non_admin_account_needs_a_council_and_nothing_is_saved(client, auth, world, session):
    auth.sign_in("admin@example.org")
    before = count(session, User)
    response = client.post(
        "/admin/users", data={"name": "X", "email": "x@example.org", "role": "broker", "council_id": "0", "password": "a long enough password"}
    )
    assert response.status_code == 422
    assert b"Choose the council this person belongs to." in response.data
    assert count(session, User) == before


def test_short_passwords_and_duplicate_emails_are_refused(client, auth, world, session):
    auth.sign_in("admin@example.org")
    before = count(session, User)
    short = client.post("/admin/users", data={"name": "X", "email": "y@example.org", "role": "admin", "council_id": "0", "password": "short"})
    assert short.status_code == 422 and b"Use at least 12 characters" in short.data
    dup = client.post(
        "/admin/users", data={"name": "X", "email": "broker-a@example.org", "role": "admin", "council_id": "0", "password": "a long enough password"}
    )
    assert dup.status_code == 422 and b"Another account already uses this email address." in dup.data
    # A 300-character address is told it is too long, and only that (it was also told to look like name@example.org).
    long = client.post("/admin/users", data={"name": "X", "email": "a" * 290 + "@example.org", "role": "admin", "council_id": "0",
                                             "password": "a long enough password"}).get_data(as_text=True)
    assert long.count("Use 254 characters or fewer for an email address") == 2  # the summary and beside the box
    assert "like name@example.org" not in long
    assert count(session, User) == before


def test_the_cli_creates_a_council_and_refuses_a_duplicate(runner, world):
    ok = runner.invoke(args=["accounts", "create-council", "--slug", "westford", "--name", "Westford"])
    assert ok.exit_code == 0, ok.output
    dup = runner.invoke(args=["accounts", "create-council", "--slug", "westford", "--name", "Westford"])
    assert dup.exit_code == 2
    assert dup.stderr.strip().splitlines() == ["error: A council with this short name already exists."]


def test_an_admin_resets_a_locked_account(app, client, auth, world, session):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.sign_in("holder-a@example.org", "wrong password!!")
    assert auth.sign_in("holder-a@example.org").status_code == 429
    auth.sign_in("admin@example.org")
    user = world.users["a"][Role.holder]
    weak = client.post(f"/admin/users/{user.id}/password", data={"password": "aaaaaaaaaaaa"}, follow_redirects=True)
    assert "harder to guess" in weak.data.decode()
    done = client.post(f"/admin/users/{user.id}/password", data={"password": "river boat lantern 42"}, follow_redirects=True)
    assert "can sign in again" in done.data.decode()
    auth.sign_out()
    assert auth.sign_in("holder-a@example.org", "river boat lantern 42").status_code == 302


def test_only_admins_reset_passwords(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post(f"/admin/users/{world.users['a'][Role.holder].id}/password", data={"password": "river boat lantern 42"}).status_code == 403


def test_people_change_their_own_password(client, auth, world):
    from tests.factories import PASSWORD

    auth.sign_in(world.users["a"][Role.holder].email)
    wrong = client.post("/account/password", data={"current": "nope", "new": "river boat lantern 42"})
    assert wrong.status_code == 422 and "The current password is not right" in wrong.data.decode()
    weak = client.post("/account/password", data={"current": PASSWORD, "new": "short"})
    assert weak.status_code == 422 and "at least 12 characters" in weak.data.decode()
    assert client.post("/account/password", data={"current": PASSWORD, "new": "river boat lantern 42"}).status_code == 302
    auth.sign_out()
    assert auth.sign_in(world.users["a"][Role.holder].email, "river boat lantern 42").status_code == 302


def test_a_common_password_or_the_current_one_is_refused_beside_the_new_password_and_changes_nothing(client, auth, world, session):
    from tests.factories import PASSWORD

    holder = world.users["a"][Role.holder]
    before = holder.password_hash
    auth.sign_in(holder.email)
    for new, message in (("password1234", "This password is too easy to guess"),
                         (PASSWORD, "Choose a new password: this one is your current password")):
        page = client.post("/account/password", data={"current": PASSWORD, "new": new})
        assert page.status_code == 422 and 'id="new-error' in page.text and message in page.text, new
    session.refresh(holder)
    assert holder.password_hash == before
    auth.sign_out()
    assert auth.sign_in(holder.email, PASSWORD).status_code == 302


def test_resetting_or_deactivating_an_account_that_does_not_exist_is_a_404_not_a_message(client, auth, world):
    auth.sign_in("admin@example.org")
    for path, data in (("password", {"password": "river boat lantern 42"}), ("active", {"active": "no"})):
        for accept in ("text/html", "application/json"):
            response = client.post(f"/admin/users/987654321/{path}", data=data, headers={"Accept": accept})
            assert response.status_code == 404 and "Location" not in response.headers, (path, accept)


def test_a_refused_reset_says_why_beside_the_field_in_one_sentence(client, auth, world):
    auth.sign_in("admin@example.org")
    page = client.post(f"/admin/users/{world.users['a'][Role.holder].id}/password", data={"password": "aaaaaaaaaaaa"})
    assert page.status_code == 422
    assert 'id="password-error-1"' in page.text and "harder to guess" in page.text and ".." not in page.text


@pytest.mark.parametrize("role", ["holder", "representative", "provider"])
def test_an_administrator_cannot_add_an_account_that_would_be_linked_to_nobody(client, auth, world, session, role):
    # Such an account signs in to "Your account is not linked to a care budget yet", and no page can link it.
    auth.sign_in("admin@example.org")
    before = count(session, User)
    page = client.get("/admin/users").get_data(as_text=True)
    form = page[page.index('id="role" name="role"'):]
    assert f'<option value="{role}"' not in form[:form.index("</select>")] and 'value="broker"' in form[:form.index("</select>")]
    council = world.councils["a"].id
    response = client.post("/admin/users", data={"name": "X", "email": "x@example.org", "role": role, "council_id": str(council),
                                                 "password": "a long enough password"})
    assert response.status_code == 422 and count(session, User) == before
