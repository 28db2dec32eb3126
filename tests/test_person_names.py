"""A person's name has at least one letter, wherever a name is typed: "12345" or "--" is a slip, not a name."""

from __future__ import annotations

import pytest

from brokerage.accounts import services as accounts
from brokerage.accounts.models import Role
from brokerage.errors import ValidationFailed
from brokerage.holders.models import Power
from brokerage.invitations import services as invitations
from brokerage.validation import person_name_problem
from tests.providers.applying import apply_through_the_service

NO_LETTER = "Enter a name with at least one letter"


@pytest.mark.parametrize(("name", "problem"), [
    ("Amina Hassan", None), ("Ó Briain", None), ("李小龍", None), ("حسن", None), ("J", None), ("Mary-Jane O'Neil 2nd", None),
    ("", "Enter their name"), ("12345", NO_LETTER), ("--", NO_LETTER), ("07700 900123", NO_LETTER), ("a" * 121, "Use 120 characters or fewer"),
])
def test_a_name_needs_a_letter_of_any_script(name, problem):
    assert person_name_problem(name, empty="Enter their name") == problem


@pytest.mark.parametrize("name", ["12345", "--", "  0 0  "])
def test_every_place_a_name_is_typed_refuses_one_with_no_letter_and_saves_nothing(session, world, places, name):
    # Each was saved: a holder "12345" was then invited, and letters and statements were addressed to it.
    council = world.councils["a"]
    with pytest.raises(ValidationFailed) as refused:
        accounts.create_user(session=session, actor=world.admin, email="new.person@example.org", name=name, role=Role.broker,
                             password="a long enough passphrase 42", council_id=council.id)
    assert refused.value.errors == {"name": [NO_LETTER]}
    with pytest.raises(ValidationFailed) as refused:
        invitations.invite_staff(session=session, actor=world.admin, council_id=council.id, role="broker", name=name,
                                 email="new.broker@example.org")
    assert refused.value.errors["name"] == [NO_LETTER]
    with pytest.raises(ValidationFailed) as refused:
        invitations.invite_representative(session=session, actor=world.users["a"][Role.holder], holder_id=world.records["a"]["holder"].id,
                                          name=name, email="daughter@example.org", relationship="daughter", powers=(Power.groups,))
    assert refused.value.errors["name"] == [NO_LETTER]
    with pytest.raises(ValidationFailed) as refused:
        apply_through_the_service(session, contact_name=name)
    assert refused.value.errors["contact_name"] == [NO_LETTER]


def test_a_budget_holder_named_with_no_letter_is_refused_beside_the_field(client, auth, world, session, places):
    from tests.holders.test_add_holder import VALID

    auth.sign_in(world.users["a"][Role.broker].email)
    response = client.post("/holders/new", data={**VALID, "name": "12345"})
    assert response.status_code == 422
    assert NO_LETTER in response.text and 'href="#name"' in response.text
