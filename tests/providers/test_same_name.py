"""An application from someone a broker already registered is flagged to the brokers, who would otherwise approve a second record (R7-1)."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role
from brokerage.errors import NotAllowed
from brokerage.providers import applications
from brokerage.providers.rules import name_key
from tests import factories as f
from tests.providers.applying import apply_through_the_service


@pytest.mark.parametrize("one, other", [("Bilal Iqbal (PA)", "bilal  iqbal"), ("Hope Home-Help", "Hope Home Help"), ("Ève Durand", "ÈVE DURAND")])
def test_names_that_differ_only_in_case_spacing_punctuation_or_a_bracketed_note_are_the_same(one, other):
    assert name_key(one) == name_key(other)


def test_different_names_are_not_the_same():
    assert name_key("Bilal Iqbal") != name_key("Bilal Iqbal Care") and name_key("(PA)") == ""


def test_the_brokers_are_told_when_an_application_is_named_as_a_registered_provider(client, auth, session, places):
    council = places.councils["a"]
    registered = f.ProviderFactory(session=session, council_id=council.id, name="Bilal Iqbal (PA)")
    elsewhere = f.ProviderFactory(session=session, council_id=places.councils["b"].id, name="Bilal Iqbal")
    # The applicant names their business otherwise; their own name is the registered PA's.
    applied = apply_through_the_service(session, name="Bilal's Care", contact_name="Bilal Iqbal", email="bilal@example.org")
    session.commit()
    broker = places.users["a"][Role.broker]
    assert {k: [p.id for p in v] for k, v in applications.same_names(session=session, actor=broker, providers=[applied.provider]).items()} == {
        applied.provider.id: [registered.id]}
    auth.sign_in(broker.email)
    for page in (f"/providers/{applied.provider.id}", "/providers/applications"):
        body = client.get(page).get_data(as_text=True)
        assert f'A provider called <a class="govuk-link" href="/providers/{registered.id}">Bilal Iqbal (PA)</a> is already registered' in body, page
        assert f"/providers/{elsewhere.id}" not in body
    # The registered provider's own page says nothing of it.
    assert "is already registered" not in client.get(f"/providers/{registered.id}").get_data(as_text=True)
    auth.sign_out()
    # Nor does the applicant's own page.
    auth.sign_in("bilal@example.org", password="kettle harbour violet 27")
    assert "is already registered" not in client.get(f"/providers/{applied.provider.id}").get_data(as_text=True)


def test_an_application_with_a_name_of_its_own_is_not_flagged(session, places):
    applied = apply_through_the_service(session)
    assert applications.same_names(session=session, actor=places.users["a"][Role.broker], providers=[applied.provider]) == {}
    with pytest.raises(NotAllowed):
        applications.same_names(session=session, actor=places.users["a"][Role.provider], providers=[applied.provider])
