"""Each provider records how many people work for it: five or fewer makes it a micro-provider."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.errors import ValidationFailed
from brokerage.providers import services
from brokerage.providers.models import Provider, ProviderKind
from tests.providers.test_registration import registration


def test_a_broker_registers_a_provider_with_its_staff_count(client, auth, world, session, profile_form):
    auth.sign_in(world.users["a"][Role.broker].email)
    form = client.get("/providers/new").get_data(as_text=True)
    assert "How many people work for the provider" in form and "5 or fewer is a micro-provider" in form
    assert client.post("/providers/new", data=registration(profile_form, staff_count="1", kind="micro_provider", **{"slot_hours-mon_am": "6"})).status_code == 302
    provider = session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).one()
    assert provider.staff_count == 1
    assert "1 (a micro-provider: 5 or fewer)" in client.get(f"/providers/{provider.id}").get_data(as_text=True)
    # A personal assistant works alone: the count is shown without calling them a micro-provider.
    assert client.post("/providers/new", data=registration(profile_form, staff_count="1", name="Hodan Warsame", **{"slot_hours-mon_am": "6"})).status_code == 302
    assistant = session.exec(select(Provider).where(Provider.name == "Hodan Warsame")).one()
    page = client.get(f"/providers/{assistant.id}").get_data(as_text=True)
    assert "Number of staff" in page and "micro-provider" not in page


@pytest.mark.parametrize("typed, message", [
    ("", "Enter how many people work for the provider"),
    ("0", "Enter the number of staff as a whole number from 1 to 100,000"),
    ("-2", "Enter the number of staff as a whole number from 1 to 100,000"),
    ("2.5", "Enter the number of staff as a whole number from 1 to 100,000"),
    ("many", "Enter the number of staff as a whole number from 1 to 100,000"),
    ("１２", "Enter the number of staff as a whole number from 1 to 100,000"),
])
def test_a_missing_or_impossible_staff_count_is_refused_beside_the_field(client, auth, world, session, profile_form, typed, message):
    auth.sign_in(world.users["a"][Role.broker].email)
    response = client.post("/providers/new", data=registration(profile_form, staff_count=typed))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="staff_count-error-1"' in page and message in page
    assert 'href="#staff_count"' in page
    assert session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).first() is None


@pytest.mark.parametrize("typed", ["", "0", "many", "100001"])
def test_with_a_wrong_staff_count_the_hours_boxes_are_not_judged_against_a_limit_that_rests_on_it(client, auth, world, session, profile_form, typed):
    # The boxes were checked against 168 instead: 30 hours on a Monday morning passed, and 169 was told "from 0 to 168".
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(f"/providers/{provider.id}/edit", data=profile_form(staff_count=typed, **{"slot_hours-mon_am": "30", "slot_hours-wed_pm": "169"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="staff_count-error-1"' in page and 'href="#staff_count"' in page
    assert "must be a whole number from 0 to" not in page and "slot_hours-error" not in page and 'href="#slot_hours' not in page
    assert 'value="169"' in page  # what was typed stays, to be checked once the staff count is right
    # Hours that are not whole numbers are still wrong, whatever the staff.
    response = client.post(f"/providers/{provider.id}/edit", data=profile_form(staff_count=typed, **{"slot_hours-tue_am": "ten"}))
    assert response.status_code == 422 and '<a href="#slot_hours-tue_am">Tuesday morning hours must be a whole number, 0 or more</a>' in response.text
    session.expire_all()
    saved = session.get(Provider, provider.id)
    assert (saved.staff_count, saved.slot_hours) == (1, {})


def test_the_service_with_a_wrong_staff_count_says_only_that_and_saves_nothing(session, world):
    provider = world.records["a"]["provider"]
    broker = world.users["a"][Role.broker]
    profile = dict(services=["home_care"], languages=["en"], staff_genders=["female"], capacity_hours=None, slot_hours={"mon_am": 30, "wed_pm": 169},
                   radius_km=5.0, hourly_rate_pence=2000, living_wage=False, ethical_care_charter=False)
    for staff in (0, "many", 100_001):
        with pytest.raises(ValidationFailed) as refused:
            services.update_profile(session=session, actor=broker, provider_id=provider.id, staff_count=staff, **profile)
        assert set(refused.value.errors) == {"staff_count"}
    assert (provider.staff_count, provider.slot_hours) == (1, {})


def test_a_provider_updates_its_own_staff_count(client, auth, world, session, profile_form):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    assert 'value="1"' in client.get(f"/providers/{provider.id}/edit").get_data(as_text=True)
    assert client.post(f"/providers/{provider.id}/edit", data=profile_form(staff_count="12")).status_code == 302
    session.expire_all()
    assert session.get(Provider, provider.id).staff_count == 12
    page = client.get(f"/providers/{provider.id}").get_data(as_text=True)
    assert "Number of staff" in page and "micro-provider" not in page


def test_the_service_refuses_a_count_below_one_and_keeps_the_count_when_none_is_given(session, world):
    provider = world.records["a"]["provider"]
    broker = world.users["a"][Role.broker]
    profile = dict(services=["home_care"], languages=["en"], staff_genders=["female"], capacity_hours=10, slots=["mon_am"], radius_km=5.0,
                   hourly_rate_pence=2000, living_wage=False, ethical_care_charter=False)
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(session=session, actor=broker, provider_id=provider.id, staff_count=0, **profile)
    assert "staff_count" in refused.value.errors
    services.update_profile(session=session, actor=broker, provider_id=provider.id, **profile)
    assert provider.staff_count == 1


def test_the_database_refuses_a_provider_with_no_staff(session, world):
    from sqlalchemy.exc import IntegrityError

    provider = world.records["a"]["provider"]
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE provider SET staff_count = 0 WHERE id = :id"), {"id": provider.id})


def test_providers_registered_before_get_a_count_by_their_kind(tmp_path):
    from sqlalchemy import create_engine

    from brokerage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'staff.sqlite'}"
    upgrade("0020", url=url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO council (slug, name, area_districts, cluster_min_size, cluster_max_size, notice_weeks, surplus_weeks, "
            "quorum_percent, majority_percent, dissolve_numerator, dissolve_denominator, created_at) "
            "VALUES ('c', 'C', 'E1', 3, 8, 4, 8, 50, 50, 2, 3, '2026-11-01 00:00:00')"
        ))
        for kind in ("pa", "micro_provider", "coop", "private"):
            connection.execute(text(
                "INSERT INTO provider (council_id, name, kind, ownership_model, services, languages, staff_genders, slots, capacity_hours, "
                "postcode_district, lat, lon, radius_km, hourly_rate_pence, living_wage, ethical_care_charter, is_local, stripe_status, "
                "payouts_enabled, created_at) VALUES (1, :kind, :kind, '', '[]', '[]', '[]', '[]', 10, 'E1', 51.5, -0.05, 5, 2000, 0, 0, 1, "
                "'none', 0, '2026-11-01 00:00:00')"
            ), {"kind": kind})
    upgrade("head", url=url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text("SELECT kind, staff_count FROM provider")).all())
        publish = connection.execute(text("SELECT publish_report, local_distance_km FROM council")).one()
    engine.dispose()
    # A personal assistant is one person; a micro-provider stays micro; any other kind is not counted micro on a guess.
    assert counts == {"pa": 1, "micro_provider": 5, "coop": 6, "private": 6}
    assert tuple(publish) == (0, None)


@pytest.mark.parametrize("kind, staff, message", [
    ("pa", "40", "A personal assistant works alone, so the number of staff is 1, not 40: choose another kind, or change the number of staff"),
    ("pa", "2", "A personal assistant works alone, so the number of staff is 1, not 2"),
    ("micro_provider", "40", "A micro-provider has 5 staff or fewer, not 40: choose another kind, or change the number of staff"),
])
def test_a_kind_the_staff_count_contradicts_is_refused_beside_the_kind(client, auth, world, session, profile_form, kind, staff, message):
    # Both were saved: a "micro-provider" or a "personal assistant" with 40 staff, against the form's own hint.
    auth.sign_in(world.users["a"][Role.broker].email)
    response = client.post("/providers/new", data=registration(profile_form, kind=kind, staff_count=staff, **{"slot_hours-mon_am": "12"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="kind-error-1"' in page and 'href="#kind"' in page and message in page
    assert session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).first() is None
    # The broker's change of an existing provider is held to the same.
    provider = world.records["a"]["provider"]
    response = client.post(f"/providers/{provider.id}/edit", data=registration(profile_form, kind=kind, staff_count=staff, name=provider.name))
    assert response.status_code == 422 and 'id="kind-error-1"' in response.text and message in response.text
    session.expire_all()
    assert session.get(Provider, provider.id).kind.value == "coop"


def test_the_edge_of_each_kind_is_allowed(client, auth, world, session, profile_form):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post("/providers/new", data=registration(profile_form, kind="micro_provider", staff_count="5")).status_code == 302
    assert client.post("/providers/new", data=registration(profile_form, kind="coop", staff_count="1", name="Small Co-op")).status_code == 302


def test_a_personal_assistant_cannot_give_themselves_staff_on_their_own_profile(client, auth, world, session, profile_form):
    # The provider's own form has no kind: the count is what they can put right, so the message is beside it.
    provider = world.records["a"]["provider"]
    provider.kind = ProviderKind.pa
    session.commit()
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(f"/providers/{provider.id}/edit", data=profile_form(staff_count="3"))
    assert response.status_code == 422
    assert 'id="staff_count-error-1"' in response.text and 'href="#staff_count"' in response.text
    assert "You are registered as a personal assistant, who works alone: enter 1." in response.text
    session.expire_all()
    assert session.get(Provider, provider.id).staff_count == 1
    provider.kind = ProviderKind.micro_provider
    session.commit()
    response = client.post(f"/providers/{provider.id}/edit", data=profile_form(staff_count="6"))
    assert response.status_code == 422 and "You are registered as a micro-provider, which has 5 staff or fewer: enter 5 or fewer." in response.text
    assert client.post(f"/providers/{provider.id}/edit", data=profile_form(staff_count="5")).status_code == 302


def test_the_services_refuse_a_kind_the_staff_count_contradicts(session, world):
    broker = world.users["a"][Role.broker]
    profile = dict(services=["home_care"], languages=["en"], staff_genders=["female"], capacity_hours=None, slot_hours={"mon_am": 6},
                   radius_km=5.0, hourly_rate_pence=2000, living_wage=False, ethical_care_charter=False)
    with pytest.raises(ValidationFailed) as refused:
        services.register_provider(session=session, actor=broker, name="Big PA", kind="pa", postcode="E1 6AN", staff_count=40, **profile)
    assert "kind" in refused.value.errors
    provider = world.records["a"]["provider"]
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(session=session, actor=broker, provider_id=provider.id, kind="micro_provider", staff_count=40, **profile)
    assert set(refused.value.errors) == {"kind"}
    # Changing only the kind is judged against the staff the provider already has.
    provider.staff_count = 12
    with pytest.raises(ValidationFailed) as refused:
        services.update_profile(session=session, actor=broker, provider_id=provider.id, kind="micro_provider", name=provider.name, **profile)
    assert "not 12" in refused.value.errors["kind"][0]
