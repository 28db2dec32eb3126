"""A broker adds a budget holder by postcode with a way to invite them, and moves them by postcode; nobody types a latitude."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Role
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.holders.models import Holder
from brokerage.holders.registration import add_holder, move_holder
from brokerage.holders.rules import normalise_phone, phone_problem

VALID = {"name": "Amina Hassan", "allocation": "£250.50", "postcode": "e1 6an", "languages": ["so", "en"], "care_needs": ["home_care"],
         "email": "Amina.Hassan@Example.org", "phone": ""}


def holders(session) -> int:
    return session.exec(select(func.count()).select_from(Holder)).one()


def test_a_broker_adds_a_holder_and_is_told_to_invite_them_next(client, auth, world, session):
    council = world.councils["a"]
    auth.sign_in(world.users["a"][Role.broker].email)
    assert 'href="/holders/new"' in client.get("/holders/").text
    page = client.get("/holders/new")
    assert page.status_code == 200 and 'name="postcode"' in page.text and "atitude" not in page.text
    # The languages a new holder must have: their closed list no longer says only "None chosen", as if optional.
    assert "None chosen yet: choose at least one" in page.text
    response = client.post("/holders/new", data=VALID)
    assert response.status_code == 302
    holder = session.exec(select(Holder).where(Holder.name == "Amina Hassan")).one()
    assert response.headers["Location"].endswith(f"/holders/{holder.id}")
    assert (holder.council_id, holder.weekly_allocation_pence, holder.languages, holder.care_needs) == (council.id, 25050, ["so", "en"], ["home_care"])
    assert (holder.postcode, holder.postcode_district, holder.lat, holder.lon) == ("E1 6AN", "E1", 51.5203, -0.0714)
    assert (holder.email, holder.phone) == ("amina.hassan@example.org", None)
    shown = client.get(response.headers["Location"]).text
    assert "The next step is to invite them" in shown and "E1 6AN" in shown and "amina.hassan@example.org" in shown


def test_a_phone_number_alone_will_do(client, auth, world, session):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post("/holders/new", data={**VALID, "email": "", "phone": " 07700  900123 "}).status_code == 302
    holder = session.exec(select(Holder).where(Holder.name == "Amina Hassan")).one()
    assert (holder.email, holder.phone) == (None, "07700 900123")


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "Enter their name"),
    ({"allocation": ""}, "allocation", "Enter their weekly care budget"),
    ({"allocation": "0"}, "allocation", "Enter a weekly budget of more than £0"),
    ({"allocation": "-5"}, "allocation", "Enter a weekly budget of more than £0"),  # not "Enter an amount of £0 or more"
    ({"allocation": "lots"}, "allocation", "Enter an amount in pounds"),
    ({"postcode": ""}, "postcode", "Enter a full UK postcode, like E1 6AN"),
    ({"postcode": "E1"}, "postcode", "Enter a full UK postcode, like E1 6AN"),
    ({"postcode": "51.52, -0.07"}, "postcode", "Enter a full UK postcode, like E1 6AN"),
    ({"postcode": "E9 9ZZ"}, "postcode", "We do not know where E9 9ZZ is. Check it is right. If it is, ask a carepool administrator to add it"),
    ({"languages": []}, "languages", "Choose at least one language they speak"),
    ({"languages": ["xx"]}, "languages", "Choose languages from the list"),
    ({"care_needs": ["flying"]}, "care_needs", "Choose care needs from the list"),
    ({"email": "", "phone": ""}, "email", "Enter an email address or a phone number, so they can be invited"),
    ({"email": "amina@"}, "email", "Enter an email address like name@example.org"),
    ({"email": "", "phone": "12345"}, "phone", "Enter a phone number, like 07700 900123 or +44 20 7946 0123"),
    ({"email": "", "phone": "07700 9OO123"}, "phone", "Enter a phone number"),
], ids=["no-name", "no-budget", "zero-budget", "minus-budget", "bad-budget", "no-postcode", "district", "coordinates", "unknown-postcode", "no-language",
        "bad-language", "bad-need", "no-contact", "bad-email", "short-phone", "letter-o-phone"])
def test_bad_input_is_shown_beside_its_field_and_no_holder_is_added(client, auth, world, session, changes, field, message):
    auth.sign_in(world.users["a"][Role.broker].email)
    before = holders(session)
    response = client.post("/holders/new", data={**VALID, **changes})
    assert response.status_code == 422
    assert f'id="{field}-error-1"' in response.text and message in response.text and "<title>Error: " in response.text
    assert f'href="#{field}"' in response.text  # the error summary links to the field
    assert holders(session) == before


@pytest.mark.parametrize("role", [Role.holder, Role.representative, Role.council_officer, Role.provider])
def test_only_brokers_add_holders(client, auth, world, session, role):
    auth.sign_in(world.users["a"][role].email)
    before = holders(session)
    assert client.get("/holders/new").status_code == 403
    assert client.post("/holders/new", data=VALID).status_code == 403
    assert holders(session) == before


def test_the_service_adds_to_the_brokers_own_council_only_and_checks_everything(session, world):
    broker = world.users["b"][Role.broker]
    holder = add_holder(session=session, actor=broker, name="  Beryl   Ackroyd ", weekly_allocation_pence=41_000, postcode="LS6 3BR",
                        languages=["en"], care_needs=[], phone="0113 496 0000")
    assert (holder.council_id, holder.name, holder.postcode_district, holder.lat) == (world.councils["b"].id, "Beryl Ackroyd", "LS6", 53.8196)
    with pytest.raises(NotAllowed):
        add_holder(session=session, actor=world.users["b"][Role.council_officer], name="X", weekly_allocation_pence=1, postcode="LS6 3BR",
                   languages=["en"], care_needs=[], phone="0113 496 0000")
    with pytest.raises(ValidationFailed) as refused:
        add_holder(session=session, actor=broker, name="", weekly_allocation_pence=True, postcode="nowhere", languages=[], care_needs=[])
    assert set(refused.value.errors) == {"name", "allocation", "postcode", "languages", "email"}


def test_a_broker_moves_a_holder_by_postcode(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(f"/holders/{holder.id}").text
    assert 'action="/holders/%d/postcode"' % holder.id in page and 'id="home-postcode"' in page
    refused = client.post(f"/holders/{holder.id}/postcode", data={"home-postcode": "E9 9ZZ"})
    assert refused.status_code == 422 and 'id="home-postcode-error-1"' in refused.text and "We do not know where E9 9ZZ is" in refused.text
    session.refresh(holder)
    assert holder.postcode is None and holder.postcode_district == "E1"
    assert client.post(f"/holders/{holder.id}/postcode", data={"home-postcode": "e2 9pa"}).status_code == 302
    session.refresh(holder)
    assert (holder.postcode, holder.postcode_district, holder.lat, holder.lon) == ("E2 9PA", "E2", 51.5291, -0.0554)


def test_only_the_councils_brokers_move_a_holder(client, auth, world, session):
    holder = world.records["a"]["holder"]
    for role in (Role.holder, Role.representative, Role.council_officer):
        auth.sign_in(world.users["a"][role].email)
        assert client.post(f"/holders/{holder.id}/postcode", data={"home-postcode": "E2 9PA"}).status_code == 403
        auth.sign_out()
    with pytest.raises(NotFound):
        move_holder(session=session, actor=world.users["b"][Role.broker], holder_id=holder.id, postcode="E2 9PA")
    session.refresh(holder)
    assert holder.postcode is None


@pytest.mark.parametrize("number", ["07700 900123", "07700900123", "020 7946 0123", "(020) 7946 0123", "+44 20 7946 0123", "+44 (0)20 7946 0123",
                                    "0113 496 0000", "+447700900123", "+33 1 23 45 67 89", "01697 73456",
                                    "0044 20 7946 0123"])
def test_phone_numbers_people_write(number):
    assert phone_problem(number) is None


@pytest.mark.parametrize("number", ["", "12345", "07700", "7700 900123", "07700 900123 4", "0044", "+44", "(020 7946 0123",
                                    "07700-9OO123", "+0 123 456 789", "020 7946 0123 ext 4", "١٢٣٤٥٦٧٨٩٠١"])
def test_what_is_not_a_phone_number(number):
    assert phone_problem(number) == "Enter a phone number, like 07700 900123 or +44 20 7946 0123"


def test_a_phone_number_is_kept_as_typed_with_its_spaces_tidied():
    assert normalise_phone("  07700   900123\t") == "07700 900123"
