"""Error pages, dashboards and the JSON error shape."""

from __future__ import annotations

from brokerage.accounts.models import Role


def test_unknown_pages_get_a_plain_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_json_clients_get_json_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.is_json and "error" in response.get_json()


def test_a_500_rolls_back_and_shows_a_kind_page(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert b"Nothing you entered was saved" in response.data
    assert b"kaboom" not in response.data


def test_each_role_has_its_own_dashboard(client, auth, world):
    headings = {
        Role.holder: b"Hello, ",
        Role.representative: b"People you act for",
        Role.broker: b"Broker dashboard",
        Role.council_officer: b"Council audit dashboard",
        Role.provider: b"Co-op a",
    }
    for role, heading in headings.items():
        auth.sign_in(world.users["a"][role].email)
        page = client.get("/dashboard")
        assert page.status_code == 200 and heading in page.data, role
        auth.sign_out()
    auth.sign_in("admin@example.org")
    assert b"Administration" in client.get("/dashboard").data


def test_money_is_shown_in_pounds(client, auth, world):
    auth.sign_in(world.users["a"][Role.holder].email)
    page = client.get("/dashboard").data.decode()
    assert "£500.00" in page and "£100.00" in page


def test_pages_use_no_gov_uk_branding(client):
    page = client.get("/").data.decode()
    assert "GOV.UK" not in page and "crown" not in page.lower()
    with client.get("/static/govuk/govuk-frontend.min.css") as response:
        css = response.data.decode()
    assert "GDS Transport" not in css


def test_opening_a_buttons_address_or_sending_what_cannot_be_read_is_said_in_plain_words(client, auth, world):
    """The web server's own words ("The method is not allowed for the requested URL.") are for developers."""
    auth.sign_in(world.users["a"][Role.broker].email)
    provider = world.records["a"]["provider"]
    page = client.get(f"/providers/{provider.id}/refuse")
    assert page.status_code == 405
    assert "This address is for a button on a page, not for opening on its own." in page.text
    assert "method is not allowed" not in page.text.lower() and "URL" not in page.text
    # An API client is still told in the server's words, as JSON.
    assert client.get(f"/providers/{provider.id}/refuse", headers={"Accept": "application/json"}).json == {
        "error": "The method is not allowed for the requested URL."}
