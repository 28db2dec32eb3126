"""Nothing the application answers is kept in a cache: pages, downloads, JSON and redirects all say no-store."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role
from tests.test_access_matrix import PUBLIC, routes, url_for_target


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer, Role.holder, Role.provider], ids=lambda r: r.value)
def test_every_answer_to_a_signed_in_person_says_no_store(app, client, auth, world, role):
    auth.sign_in(world.users["a"][role].email)
    missing = []
    for endpoint, (rule, takes_id) in sorted(routes(app).items()):
        if endpoint in PUBLIC:
            continue
        url = url_for_target(world, endpoint, "own") if takes_id else rule
        for accept in ("text/html", "application/json"):
            response = client.get(url, headers={"Accept": accept})
            if response.headers.get("Cache-Control") != "no-store":
                missing.append(f"{url} ({accept}): {response.status_code} {response.mimetype} Cache-Control={response.headers.get('Cache-Control')}")
    assert not missing, "\n".join(missing)


def test_data_downloads_say_no_store(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    proof = client.get(f"/ledger/entries/{world.records['a']['entry'].id}/proof.json")
    assert (proof.status_code, proof.mimetype, proof.headers["Cache-Control"]) == (200, "application/json", "no-store")
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    holder = world.records["a"]["holder"].id
    for suffix in ("data.json", "data.csv"):
        response = client.get(f"/holders/{holder}/{suffix}")
        assert (response.status_code, response.headers["Cache-Control"]) == (200, "no-store")


def test_redirects_and_json_errors_say_no_store(client, auth, world):
    assert client.post("/sign-in", data={"email": world.users["a"][Role.broker].email, "password": "wrong"}).headers["Cache-Control"] == "no-store"
    response = auth.sign_in(world.users["a"][Role.broker].email)
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    error = client.get("/ledger/entries/987654321", headers={"Accept": "application/json"})
    assert (error.status_code, error.headers["Cache-Control"]) == (404, "no-store")


def test_static_files_may_be_cached(client):
    response = client.get("/static/app.js")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"
    response.close()
