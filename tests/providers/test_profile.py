"""Providers keep their own profile up to date; brokers may also change the name and kind."""

from __future__ import annotations

import re

import pytest

from brokerage.accounts.models import Role
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.providers import services
from brokerage.providers.models import Provider, ProviderKind


def edit_url(provider) -> str:
    return f"/providers/{provider.id}/edit"


def reload(session, provider) -> Provider:
    session.expire_all()
    return session.get(Provider, provider.id)


def test_a_provider_updates_their_hours_in_each_time_of_day_and_their_weekly_cap(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    page = client.get(edit_url(provider))
    assert page.status_code == 200
    # Registered with 40 hours on Monday mornings: the form shows them in Monday morning's box, and the cap.
    assert "Update your profile" in page.text and 'id="slot_hours" name="slot_hours-mon_am" type="text" inputmode="numeric" value="40"' in page.text
    assert 'id="capacity_hours" name="capacity_hours" type="text" value="40"' in page.text
    assert 'name="name"' not in page.text  # the name and kind are for the broker to change
    form = profile_form(capacity_hours="25", living_wage="y", **{"slot_hours-mon_am": "4", "slot_hours-sun_eve": "2", "slot_hours-tue_pm": "6"})
    response = client.post(edit_url(provider), data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/providers/{provider.id}")
    saved = reload(session, provider)
    assert saved.capacity_hours == 25
    assert saved.slot_hours == {"mon_am": 4, "tue_pm": 6, "sun_eve": 2} and list(saved.slot_hours) == saved.slots == ["mon_am", "tue_pm", "sun_eve"]
    assert saved.living_wage is True and saved.ethical_care_charter is False
    page = client.get(f"/providers/{provider.id}")
    assert "Your profile was updated." in page.text
    # The same form again changes nothing, and says so (it said "Your profile was updated.").
    assert client.post(edit_url(provider), data=form).status_code == 302
    again = client.get(f"/providers/{provider.id}").text
    assert "Nothing was changed: the profile is as it was." in again and "Your profile was updated." not in again
    assert "Monday morning, 4 hours; Tuesday afternoon, 6 hours; Sunday evening, 2 hours" in page.text and "25 hours" in page.text


def test_a_provider_may_leave_the_weekly_cap_empty_for_no_limit_beyond_their_hours(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(edit_url(provider), data=profile_form(capacity_hours="", **{"slot_hours-mon_am": "12", "slot_hours-mon_pm": "8"}))
    assert response.status_code == 302
    saved = reload(session, provider)
    assert (saved.capacity_hours, saved.slot_hours) == (None, {"mon_am": 12, "mon_pm": 8})
    assert "No limit beyond the hours by time of day" in client.get(f"/providers/{provider.id}").text



def test_a_weekly_cap_of_nothing_says_the_provider_takes_no_new_work(client, auth, world, session, profile_form):
    # A cap of 0 (allowed for a provider already at work, to stop new work) read "Most hours each week 0 hours" beside
    # 140 hours by time of day: which stood was not said (tester R6-7).
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    assert client.post(edit_url(provider), data=profile_form(capacity_hours="0", **{"slot_hours-mon_am": "4"})).status_code == 302
    assert reload(session, provider).capacity_hours == 0
    page = client.get(f"/providers/{provider.id}").text
    row = re.search(r"Most hours each week</dt>\s*<dd[^>]*>([^<]*)<", page)
    assert row is not None and row.group(1).strip().startswith("None: takes no new work for now"), row

CAP = "Enter the most hours a week as a whole number from 0 to 168, or leave it empty for no limit"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # One lowest rate for the box: -5 was told "£0 or more", 0 "more than £0", then 1.50 the Living Wage.
        ("hourly_rate", "0", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
        ("hourly_rate", "-5", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
        # £1.50 was taken, with "pays at least the Living Wage" ticked, and counted in the community-wealth figures.
        ("hourly_rate", "1.50", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
        ("hourly_rate", "12.70", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
        ("hourly_rate", "1000000", "Enter an hourly rate of £1,000.00 or less"),
        ("hourly_rate", "twenty", "Enter an amount in pounds, like 25 or 25.50"),
        ("capacity_hours", "200", CAP),
        ("capacity_hours", "ten", CAP),
        ("radius_km", "0.1", "Enter a distance from 0.5 to 50 km"),
        # float() and int() alone take these, and NaN passes every range check.
        ("radius_km", "nan", "Enter the distance as a number, like 5 or 7.5"),
        ("radius_km", "1e1", "Enter the distance as a number, like 5 or 7.5"),
        ("capacity_hours", "１２", CAP),
        ("capacity_hours", "1_0", CAP),
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


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    # Every bad box states the limit the staff count sets, as a box over it does (letters used to say "from 0 to 168").
    [
        ("tue_am", "ten", "Tuesday morning hours must be a whole number from 0 to 18 (up to 6 hours for each of the 3 staff in a morning)"),
        ("sun_eve", "-1", "Sunday evening hours must be a whole number from 0 to 15 (up to 5 hours for each of the 3 staff in an evening)"),
        ("wed_pm", "169", "Wednesday afternoon hours must be a whole number from 0 to 15 (up to 5 hours for each of the 3 staff in an afternoon)"),
        ("fri_eve", "2.5", "Friday evening hours must be a whole number from 0 to 15 (up to 5 hours for each of the 3 staff in an evening)"),
        ("mon_am", "１２", "Monday morning hours must be a whole number from 0 to 18 (up to 6 hours for each of the 3 staff in a morning)"),
    ],
)
def test_a_bad_hours_box_is_refused_beside_its_day_and_nothing_is_saved(client, auth, world, session, profile_form, cell, value, message):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    box = "slot_hours" if cell == "mon_am" else f"slot_hours-{cell}"  # Monday morning's box takes the field's id
    response = client.post(edit_url(provider), data=profile_form(capacity_hours="12", **{f"slot_hours-{cell}": value}))
    assert response.status_code == 422
    assert f'<p id="{box}-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}</p>' in response.text
    assert f'<a href="#{box}">{message}</a>' in response.text  # the error summary links to the box itself
    assert (f'id="{box}" name="slot_hours-{cell}" type="text" inputmode="numeric" value="{value}" aria-describedby="{box}-error" aria-invalid="true"'
            in response.text)
    saved = reload(session, provider)
    assert (saved.capacity_hours, saved.slots, saved.slot_hours) == (40, ["mon_am"], {})


def test_no_hours_at_all_is_refused_and_nothing_is_saved(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(edit_url(provider), data=profile_form(**{"slot_hours-mon_am": "0"}))
    assert response.status_code == 422
    assert 'id="slot_hours-error-1" class="govuk-error-message"' in response.text and '<a href="#slot_hours">Enter the hours for at least one time of day</a>' in response.text
    assert reload(session, provider).slot_hours == {}


def test_every_hours_box_is_labelled_with_its_day_and_time(client, auth, world):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    page = client.get(edit_url(provider)).text
    labels = re.findall(r'<label class="govuk-label govuk-date-input__label" for="(slot_hours[^"]*)">(.*?)</label>', page)
    said = [re.sub(r"<[^>]+>", "", text) for _, text in labels]
    assert len(labels) == 21 and said[0] == "Monday Morning hours" and said[-1] == "Sunday Evening hours"
    assert page.count('<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">') >= 7  # one fieldset a day


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
                                **{k: getattr(saved, k) for k in ("services", "languages", "staff_genders", "capacity_hours", "slot_hours", "radius_km",
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


def _profile(**changes) -> dict:
    return {"services": ["home_care"], "languages": ["en"], "staff_genders": ["female"], "radius_km": 5.0, "hourly_rate_pence": 2000,
            "living_wage": False, "ethical_care_charter": False, **changes}


def test_the_service_keeps_hours_per_time_of_day_or_spreads_a_capacity_over_the_times_given(session, world):
    provider, actor = world.records["a"]["provider"], world.users["a"][Role.provider]
    services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(capacity_hours=None, slot_hours={"tue_am": 5, "mon_am": 7}))
    assert (provider.slot_hours, provider.slots, provider.capacity_hours) == ({"mon_am": 7, "tue_am": 5}, ["mon_am", "tue_am"], None)
    # Only times and a weekly capacity (as before hours per time of day): spread over them, each keeping an hour; the capacity stays the cap.
    services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(capacity_hours=2, slots=["sun_eve", "mon_am", "wed_pm"]))
    assert (provider.slot_hours, provider.capacity_hours) == ({"mon_am": 1, "wed_pm": 1, "sun_eve": 1}, 2)
    assert services.provider_slot_hours(provider) == {"mon_am": 1, "wed_pm": 1, "sun_eve": 1}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"capacity_hours": 40, "slots": ["mon_am", "someday"]}, "slot_hours", "Enter hours only for the times of day on the form"),
    ({"capacity_hours": None, "slot_hours": {}}, "slot_hours", "Enter the hours for at least one time of day"),
    ({"capacity_hours": None, "slot_hours": {"mon_am": 169}, "staff_count": 100}, "slot_hours", "Monday morning hours must be a whole number from 0 to 168"),
    ({"capacity_hours": None, "slot_hours": {"mon_am": 41}}, "slot_hours",
     "Monday morning hours must be a whole number from 0 to 6 (one person works up to 6 hours in a morning)"),
    ({"capacity_hours": -1, "slot_hours": {"mon_am": 4}}, "capacity_hours", CAP),
])
def test_the_service_refuses_bad_hours_and_changes_nothing(session, world, changes, field, message):
    provider, actor = world.records["a"]["provider"], world.users["a"][Role.provider]
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(**changes))
    assert refused.value.errors[field] == [message]
    assert (provider.slot_hours, provider.slots, provider.capacity_hours) == ({}, ["mon_am"], 40)


def test_hours_in_one_time_of_day_are_at_most_six_for_each_of_the_staff(session, world):
    # 168 hours on a Monday morning were accepted whatever the staff, and matching then sold hours nobody has.
    provider, actor = world.records["a"]["provider"], world.users["a"][Role.provider]
    assert (provider.staff_count, services.provider_slot_hours(provider)) == (1, {"mon_am": 40})  # recorded before the limit
    # Hours recorded before the limit stay while the staff count stays: saving other changes does not depend on them.
    services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(capacity_hours=None, slot_hours={"mon_am": 40, "tue_am": 6}))
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(capacity_hours=None, slot_hours={"mon_am": 40, "tue_am": 7}))
    assert refused.value.errors["slot_hours"] == [
        "Tuesday morning hours must be a whole number from 0 to 6 (one person works up to 6 hours in a morning)"]
    # Three staff: 18 hours in one time of day.
    services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(capacity_hours=None, slot_hours={"mon_am": 18}, staff_count=3))
    assert (provider.slot_hours, provider.staff_count) == ({"mon_am": 18}, 3)
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(session=session, actor=actor, provider_id=provider.id, **_profile(capacity_hours=None, slot_hours={"mon_am": 18}, staff_count=2))
    assert refused.value.errors["slot_hours"] == ["Monday morning hours must be a whole number from 0 to 12 (up to 6 hours for each of the 2 staff in a morning)"]
    assert (provider.slot_hours, provider.staff_count) == ({"mon_am": 18}, 3)


def test_each_box_over_what_the_staff_can_work_is_marked_beside_it_and_linked_from_the_summary(client, auth, world, session, profile_form):
    # The summary linked to Monday morning's box whatever box was wrong, and named only the first.
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    form = profile_form(staff_count="1", **{"slot_hours-mon_am": "6", "slot_hours-thu_eve": "7", "slot_hours-sat_pm": "9"})
    response = client.post(edit_url(provider), data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for slot, label in (("thu_eve", "Thursday evening"), ("sat_pm", "Saturday afternoon")):
        assert f'href="#slot_hours-{slot}"' in page
        assert f"{label} hours must be a whole number from 0 to 5 (one person works up to 5 hours in an" in page
    assert 'href="#slot_hours"' not in page  # Monday morning's box is fine
    assert reload(session, provider).slot_hours == {}


def test_one_person_offers_at_most_the_five_hours_an_afternoon_or_an_evening_lasts(client, auth, world, session, profile_form):
    # A sole carer offering 6 hours on a Sunday evening (5pm to 10pm: 5 hours) was taken: hours that cannot happen.
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    refused = client.post(edit_url(provider), data=profile_form(staff_count="1", **{"slot_hours-sun_eve": "6"}))
    assert refused.status_code == 422
    assert "Sunday evening hours must be a whole number from 0 to 5 (one person works up to 5 hours in an evening)" in refused.get_data(as_text=True)
    assert reload(session, provider).slot_hours == {}
    saved = client.post(edit_url(provider), data=profile_form(staff_count="1", **{"slot_hours-sun_eve": "5", "slot_hours-mon_am": "6"}))
    assert saved.status_code == 302
    assert reload(session, provider).slot_hours == {"mon_am": 6, "sun_eve": 5}


def test_a_provider_is_spoken_to_on_their_own_form_and_a_broker_is_told_about_the_provider(client, auth, world):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    own = client.get(edit_url(provider)).text
    for words in ("Hours you can offer each week, by time of day", "How many people work with you", "How far you will travel",
                  "Your hourly rate", "I pay everyone who works with me at least the real Living Wage", "From your postcode"):
        assert words in own
    assert "the provider" not in own.lower()
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.broker].email)
    brokers = client.get(edit_url(provider)).text
    for words in ("Hours the provider can work each week, by time of day", "How many people work for the provider",
                  "How far the provider travels", "Pays every worker at least the real Living Wage"):
        assert words in brokers
    assert "Hours you can offer" not in brokers
