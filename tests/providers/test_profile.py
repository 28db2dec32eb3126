"""Providers keep their own profile up to date; brokers may also change the name and kind."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role
from brokerage.errors import NotAllowed
from brokerage.providers import services
from brokerage.providers.models import Provider, ProviderKind


def edit_url(provider) -> str:
    return f"/providers/{provider.id}/edit"


def reload(session, provider) -> Provider:
    session.expire_all()
    return session.get(Provider, provider.id)


def test_a_provider_updates_their_capacity_and_slots(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    page = client.get(edit_url(provider))
    assert page.status_code == 200
    assert "Update your profile" in page.text and 'value="40"' in page.text and 'value="mon_am" checked' in page.text
    assert 'name="name"' not in page.text  # the name and kind are for the broker to change
    response = client.post(edit_url(provider), data=profile_form(capacity_hours="25", slots=["tue_pm", "mon_am", "sun_eve"], living_wage="y"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/providers/{provider.id}")
    saved = reload(session, provider)
    assert saved.capacity_hours == 25
    assert saved.slots == ["mon_am", "tue_pm", "sun_eve"]  # in the order of the week
    assert saved.living_wage is True and saved.ethical_care_charter is False
    page = client.get(f"/providers/{provider.id}")
    assert "Your profile was updated." in page.text and "Tuesday afternoon" in page.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hourly_rate", "0", "Enter an hourly rate more than £0"),
        ("hourly_rate", "twenty", "Enter an amount in pounds, like 25 or 25.50"),
        ("capacity_hours", "200", "Enter a whole number of hours from 0 to 168"),
        ("capacity_hours", "ten", "Enter the hours as a whole number from 0 to 168"),
        ("capacity_hours", "", "Enter the hours available each week"),
        ("radius_km", "0.1", "Enter a distance from 0.5 to 50 km"),
        # float() and int() alone take these, and NaN passes every range check.
        ("radius_km", "nan", "Enter the distance as a number, like 5 or 7.5"),
        ("radius_km", "1e1", "Enter the distance as a number, like 5 or 7.5"),
        ("capacity_hours", "１２", "Enter the hours as a whole number from 0 to 168"),
        ("capacity_hours", "1_0", "Enter the hours as a whole number from 0 to 168"),
        ("slots", ["someday"], "Choose times from the list"),
    ],
)
def test_a_bad_rate_or_capacity_is_refused_beside_the_field_and_nothing_is_saved(client, auth, world, session, profile_form, field, value, message):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(edit_url(provider), data=profile_form(**{"capacity_hours": "12", field: value}))
    assert response.status_code == 422
    assert f'id="{field}-error-1" class="govuk-error-message"' in response.text and message in response.text
    assert f'href="#{field}"' in response.text  # the error summary links to the field
    if isinstance(value, str) and value:
        assert f'value="{value}"' in response.text  # what was typed is shown back
    saved = reload(session, provider)
    assert (saved.capacity_hours, saved.hourly_rate_pence, saved.slots) == (40, 2200, ["mon_am"])


def test_a_provider_cannot_edit_another_provider(client, auth, world, session, profile_form):
    other = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    assert client.get(edit_url(other)).status_code == 404
    assert client.post(edit_url(other), data=profile_form(capacity_hours="1")).status_code == 404
    assert reload(session, other).capacity_hours == 40


def test_a_provider_cannot_rename_themselves(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    assert client.post(edit_url(provider), data=profile_form(name="Renamed", kind="private")).status_code == 302
    saved = reload(session, provider)
    assert (saved.name, saved.kind) == ("Co-op a", ProviderKind.coop)
    with pytest.raises(NotAllowed):
        services.update_profile(session=session, actor=world.users["a"][Role.provider], provider_id=provider.id, name="Renamed",
                                **{k: getattr(saved, k) for k in ("services", "languages", "staff_genders", "capacity_hours", "slots", "radius_km",
                                                                   "hourly_rate_pence", "living_wage", "ethical_care_charter")})


def test_a_broker_changes_a_providers_name_kind_and_rate(client, auth, world, session, profile_form):
    provider = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(edit_url(provider))
    assert page.status_code == 200 and 'value="Other co-op a"' in page.text and 'value="coop" checked' in page.text
    response = client.post(edit_url(provider), data=profile_form(name="Riverside Care CIC", kind="cic", hourly_rate="£23.50"))
    assert response.status_code == 302
    saved = reload(session, provider)
    assert (saved.name, saved.kind, saved.hourly_rate_pence) == ("Riverside Care CIC", ProviderKind.cic, 2350)


def test_a_council_officer_may_look_but_not_edit(client, auth, world, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.council_officer].email)
    assert "Update profile" not in client.get(f"/providers/{provider.id}").text
    assert client.get(edit_url(provider)).status_code == 403
    assert client.post(edit_url(provider), data=profile_form()).status_code == 403


@pytest.mark.parametrize("role", [Role.broker, Role.provider])
def test_another_councils_staff_and_providers_get_404(client, auth, world, session, profile_form, role):
    foreign = world.records["b"]["provider"]
    auth.sign_in(world.users["a"][role].email)
    assert client.get(edit_url(foreign)).status_code == 404
    assert client.post(edit_url(foreign), data=profile_form(capacity_hours="1")).status_code == 404
    assert reload(session, foreign).capacity_hours == 40


def test_the_profile_link_shows_for_the_provider_and_brokers_only(client, auth, world):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    assert f'href="/providers/{provider.id}/edit"' in client.get(f"/providers/{provider.id}").text
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.broker].email)
    assert f'href="/providers/{provider.id}/edit"' in client.get(f"/providers/{provider.id}").text
    assert 'href="/providers/new"' in client.get("/providers/").text
