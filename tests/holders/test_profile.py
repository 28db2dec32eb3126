"""The profile page: holders and their representatives edit it; special-category data needs consent."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.audit.models import AccessLog
from brokerage.holders.models import Holder, Representation, SensitiveDetail, Visibility
from brokerage.types import utcnow
from tests import factories as f


def profile_url(holder) -> str:
    return f"/holders/{holder.id}/profile"


def form(**overrides) -> dict:
    data = {"languages": ["en"], "care_needs": ["home_care"], "goals": ""}
    data.update(overrides)
    return data


def details(session, holder) -> dict:
    session.expire_all()
    rows = session.exec(select(SensitiveDetail).where(SensitiveDetail.holder_id == holder.id)).all()
    return {row.item.value: row for row in rows}


def test_a_holder_changes_their_languages_care_needs_and_goals(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    page = client.get(profile_url(holder))
    assert page.status_code == 200
    assert "Languages you speak" in page.text and 'value="so">' in page.text and ">Somali</label>" in page.text
    assert 'value="clusters"' in page.text and ">People in my groups</label>" in page.text
    assert 'value="nobody" checked' in page.text  # the safest choice is the default
    # "Respite" and "Reablement" are said in plain words beside the care needs.
    assert 'id="care_needs-hint" class="govuk-hint">Tick all that apply. Respite is care that gives a family carer a break.' in page.text
    response = client.post(profile_url(holder), data=form(languages=["so", "en"], care_needs=["personal_care", "transport"], goals="Go to the market on Saturdays"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/holders/{holder.id}")
    session.expire_all()
    saved = session.get(Holder, holder.id)
    assert saved.languages == ["en", "so"]  # the language already held stays first (most fluent first)
    assert saved.care_needs == ["personal_care", "transport"]
    assert saved.goals == "Go to the market on Saturdays"
    assert "Your changes were saved." in client.get(f"/holders/{holder.id}").text
    same = form(languages=["so", "en"], care_needs=["personal_care", "transport"], goals="Go to the market on Saturdays")
    assert client.post(profile_url(holder), data=same).status_code == 302
    page = client.get(f"/holders/{holder.id}").text
    assert "Nothing was changed: the profile is as it was." in page and "Your changes were saved." not in page


def test_a_representative_records_a_faith_with_consent_and_is_named_as_recording_it(client, auth, world, session):
    holder = world.records["a"]["holder"]
    rep = world.users["a"][Role.representative]
    auth.sign_in(rep.email)
    response = client.post(profile_url(holder), data=form(faith="Muslim", faith_visibility="clusters", faith_consent="y"))
    assert response.status_code == 302
    row = details(session, holder)["faith"]
    assert (row.value, row.visibility, row.consent_recorded_by_id) == ("Muslim", Visibility.clusters, rep.id)
    assert row.consent_given_at is not None


def test_a_sensitive_value_without_consent_is_refused_beside_the_field_and_nothing_is_saved(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    response = client.post(profile_url(holder), data=form(goals="Changed", culture="Somali", culture_visibility="broker"))
    assert response.status_code == 422
    assert 'id="culture_consent-error-1"' in response.text
    assert "Tick the box to agree, or leave this empty" in response.text
    assert 'href="#culture_consent"' in response.text  # the error summary links to the checkbox
    assert details(session, holder) == {}
    assert session.get(Holder, holder.id).goals == ""


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"goals": "x" * 501}, "goals"),
        ({"heritage": "y" * 121, "heritage_consent": "y"}, "heritage"),
        ({"languages": ["en", "xx"]}, "languages"),
        ({"care_needs": ["surgery"]}, "care_needs"),
        ({"faith": "Sikh", "faith_consent": "y", "faith_visibility": "everyone"}, "faith_visibility"),
    ],
)
def test_bad_input_is_refused_beside_the_field_with_422_and_nothing_saved(client, auth, world, session, overrides, field):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    response = client.post(profile_url(holder), data={**form(care_needs=["respite"]), **overrides})
    assert response.status_code == 422
    assert f'id="{field}-error-1"' in response.text
    session.expire_all()
    assert session.get(Holder, holder.id).care_needs == ["home_care"]
    assert details(session, holder) == {}


def test_goals_of_500_characters_with_line_breaks_are_accepted(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    goals = ("a" * 49 + "\r\n") * 10  # 500 characters once each line break counts as one
    assert client.post(profile_url(holder), data=form(goals=goals)).status_code == 302
    session.expire_all()
    assert len(session.get(Holder, holder.id).goals) == 499  # the last line break is trimmed


def test_clearing_a_sensitive_value_erases_it(client, auth, world, session, share):
    holder = world.records["a"]["holder"]
    user = world.users["a"][Role.holder]
    share(holder, "culture", "Somali", "clusters", by=user)
    share(holder, "faith", "Muslim", "broker", by=user)
    session.commit()
    auth.sign_in(user.email)
    page = client.get(profile_url(holder)).text
    assert 'value="Somali"' in page and 'id="culture_consent" name="culture_consent" type="checkbox" value="y" checked' in page
    response = client.post(profile_url(holder), data=form(culture="", faith="Muslim", faith_visibility="broker", faith_consent="y"))
    assert response.status_code == 302
    assert set(details(session, holder)) == {"faith"}


def test_changing_who_can_see_an_item_records_consent_again(client, auth, world, session, share):
    holder = world.records["a"]["holder"]
    rep = world.users["a"][Role.representative]
    share(holder, "heritage", "Irish", "nobody", by=world.users["a"][Role.holder])
    session.commit()
    auth.sign_in(rep.email)
    assert client.post(profile_url(holder), data=form(heritage="Irish", heritage_visibility="clusters", heritage_consent="y")).status_code == 302
    row = details(session, holder)["heritage"]
    assert (row.visibility, row.consent_recorded_by_id) == (Visibility.clusters, rep.id)


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer, Role.provider])
def test_staff_and_providers_cannot_edit_a_profile(client, auth, world, role):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][role].email)
    assert client.get(profile_url(holder)).status_code == 403
    assert client.post(profile_url(holder), data=form(goals="Set by staff")).status_code == 403


@pytest.mark.parametrize("suffix", ["/profile", "/data.json", "/data.csv"])
def test_other_councils_and_people_not_authorised_get_404(client, auth, world, session, suffix):
    foreign = world.records["b"]["holder"]
    neighbour = world.records["a"]["other_holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    assert client.get(f"/holders/{foreign.id}{suffix}").status_code == 404
    assert client.get(f"/holders/{neighbour.id}{suffix}").status_code == 404
    assert client.get(f"/holders/999999{suffix}").status_code == 404
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.representative].email)
    assert client.get(f"/holders/{neighbour.id}{suffix}").status_code == 404
    assert client.get(f"/holders/{foreign.id}{suffix}").status_code == 404
    assert client.get(f"/holders/{world.records['a']['holder'].id}{suffix}").status_code == 200


def test_a_representative_whose_authority_was_revoked_gets_404(client, auth, world, session):
    holder = world.records["a"]["holder"]
    rep = world.users["a"][Role.representative]
    link = session.exec(select(Representation).where(Representation.holder_id == holder.id, Representation.representative_id == rep.id)).one()
    link.revoked_at = utcnow()
    session.add(link)
    session.commit()
    auth.sign_in(rep.email)
    assert client.get(profile_url(holder)).status_code == 404
    assert client.post(profile_url(holder), data=form(goals="Hijack")).status_code == 404


def test_the_record_page_shows_the_holder_every_item_with_its_audience_and_the_links(client, auth, world, session, share):
    holder = world.records["a"]["holder"]
    user = world.users["a"][Role.holder]
    share(holder, "culture", "Somali", "nobody", by=user)
    share(holder, "faith", "Muslim", "broker", by=user)
    session.commit()
    auth.sign_in(user.email)
    page = client.get(f"/holders/{holder.id}").text
    assert "Somali" in page and "Who can see this: Nobody" in page
    assert "Muslim" in page and "Who can see this: My broker" in page
    assert f'href="/holders/{holder.id}/profile"' in page
    assert "Download everything we hold about you" in page and f'href="/holders/{holder.id}/data.csv"' in page
    assert not session.exec(select(AccessLog)).all()  # the holder's own reads are not staff reads


def test_the_record_page_shows_a_broker_only_what_the_holder_shared_and_logs_the_read(client, auth, world, session, share):
    holder = world.records["a"]["holder"]
    user = world.users["a"][Role.holder]
    share(holder, "culture", "Somali", "nobody", by=user)
    share(holder, "faith", "Muslim", "broker", by=user)
    share(holder, "heritage", "Windrush generation", "clusters", by=user)
    session.commit()
    broker = world.users["a"][Role.broker]
    holder.broker_id = broker.id
    session.add(holder)
    session.commit()
    auth.sign_in(broker.email)
    page = client.get(f"/holders/{holder.id}").text
    assert "Muslim" in page and "Windrush generation" in page
    assert "Somali" not in page
    assert "/profile" not in page and "Download everything" not in page
    logged = session.exec(select(AccessLog.what).where(AccessLog.holder_id == holder.id, AccessLog.actor_id == broker.id)).all()
    assert sorted(logged) == ["record", "special-category data"]


def test_an_officer_reads_what_was_shared_with_the_broker_and_another_broker_reads_nothing(client, auth, world, session, share):
    """The form's hints promise "My broker" to the broker and officers, and "People in my groups" to members and the broker."""
    holder = world.records["a"]["holder"]
    user = world.users["a"][Role.holder]
    share(holder, "faith", "Muslim", "broker", by=user)
    share(holder, "heritage", "Windrush generation", "clusters", by=user)
    holder.broker_id = f.UserFactory(session=session, role=Role.broker, council_id=holder.council_id).id
    session.add(holder)
    session.commit()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = client.get(f"/holders/{holder.id}").text
    assert "Muslim" in page and "Windrush generation" not in page
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(f"/holders/{holder.id}").text
    assert "Muslim" not in page and "Windrush generation" not in page and "has not shared any of these with you" in page


def test_a_broker_reading_a_record_without_shared_details_logs_only_the_record(client, auth, world, session, share):
    holder = world.records["a"]["holder"]
    share(holder, "culture", "Somali", "nobody", by=world.users["a"][Role.holder])
    session.commit()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = client.get(f"/holders/{holder.id}").text
    assert "Somali" not in page and "has not shared any of these" in page
    assert session.exec(select(AccessLog.what).where(AccessLog.holder_id == holder.id)).all() == ["record"]


def test_a_new_holder_without_a_record_of_details_sees_an_empty_form(client, auth, session):
    council = f.CouncilFactory(session=session)
    holder = f.HolderFactory(session=session, council_id=council.id, languages=["kw"], care_needs=[])
    user = f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=holder.id)
    session.commit()
    auth.sign_in(user.email)
    page = client.get(profile_url(holder)).text
    assert 'value="kw" checked' in page  # a code outside the common list is kept, so saving never drops it
    assert client.post(profile_url(holder), data={"languages": ["kw", "en"], "goals": ""}).status_code == 302
    session.expire_all()
    assert session.get(Holder, holder.id).languages == ["kw", "en"]
