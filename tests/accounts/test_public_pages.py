"""The pages anyone can read: the start page, the accessibility statement and how carepool uses people's information.

A council's service must publish an accessibility statement (Public Sector Bodies Accessibility Regulations 2018) and
a privacy notice (UK GDPR Articles 13 and 14), linked from every page; the start page did not say how someone without
an account joins, nor link the councils' public reports (tester R7-6).
"""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role
from tests.providers.applying import application_form


@pytest.mark.parametrize("path, heading", [("/accessibility", "Accessibility statement for carepool"),
                                           ("/privacy", "How carepool uses your information")])
def test_the_statement_and_the_notice_are_open_to_anyone(client, auth, world, path, heading):
    page = client.get(path)
    assert page.status_code == 200 and heading in page.get_data(as_text=True)
    auth.sign_in(world.users["a"][Role.holder].email)
    assert heading in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/sign-in", "/offer-care", "/dashboard"])
def test_every_page_links_both_in_its_footer(client, auth, world, path):
    if path == "/dashboard":
        auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(path).get_data(as_text=True)
    footer = page[page.index('<footer'):]
    assert 'href="/accessibility">Accessibility statement</a>' in footer and 'href="/privacy">Privacy and cookies</a>' in footer


def test_the_start_page_says_how_to_join_and_links_only_the_reports_councils_publish(client, world, session):
    council_a, council_b = world.councils["a"], world.councils["b"]
    council_a.publish_report, council_b.publish_report = True, False
    session.flush()
    page = client.get("/").get_data(as_text=True)
    assert "ask your council's adult social care team or your broker to invite you" in page
    assert f'href="/public/{council_a.slug}">{council_a.name}</a>' in page and f"/public/{council_b.slug}" not in page
    council_a.publish_report = False
    session.flush()
    assert "Where pooled care money goes" not in client.get("/").get_data(as_text=True)


def test_the_one_cookie_the_notice_names_is_the_only_one_set(app, client, auth, world, places):
    # The privacy notice says carepool uses one cookie: signing in, a form sent back, applying and signing out set no other.
    names = set()

    def cookies_of(response):
        for header in response.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            if not rest.startswith(";"):  # signing out also tells the browser to drop a "remember me" cookie it never had
                names.add(name)
        return response

    cookies_of(client.get("/"))
    cookies_of(client.post("/offer-care", data=application_form(postcode="E1")))
    cookies_of(client.post("/offer-care", data=application_form()))
    cookies_of(client.get("/offer-care/sent"))
    cookies_of(auth.sign_in(world.users["a"][Role.holder].email))
    cookies_of(client.get("/dashboard"))
    cookies_of(auth.sign_out())
    assert names == {"session"}
    assert "carepool uses one cookie" in client.get("/privacy").get_data(as_text=True)
