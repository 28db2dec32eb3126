"""Applying to offer care, for the tests of applications and of what matching leaves out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from brokerage.accounts.models import CouncilDistrict
from brokerage.accounts.passwords import hash_password
from brokerage.errors import ValidationFailed
from brokerage.places.rules import Centroid
from brokerage.places.services import store_centroids
from brokerage.mail.models import OutboxMessage
from brokerage.providers import applications, pending

PLACES = [
    Centroid("E1 6AN", "E1", 51.5203, -0.0714, False),
    Centroid("E1", "E1", 51.5155, -0.0590, True),
    Centroid("M1", "M1", 53.4794, -2.2453, True),
]
APPLICANT_PASSWORD = "kettle harbour violet 27"
LINK = re.compile(r"https?://\S+")


@pytest.fixture()
def places(session, world):
    """Know where E1 6AN, E1 and M1 are; council A covers E1, and no council covers M1."""
    store_centroids(session=session, centroids=PLACES)
    session.add(CouncilDistrict(district="E1", council_id=world.councils["a"].id))
    session.commit()
    return world


def application_form(**overrides) -> dict:
    """Return a filled-in "offer care" form, with some fields changed (None leaves a field out)."""
    data = {
        "contact_name": "Grace Okafor", "name": "Grace Okafor (personal assistant)", "kind": "pa", "postcode": "e16an",
        "email": "Grace@Example.org", "password": APPLICANT_PASSWORD,
        "services": ["home_care", "companionship"], "languages": ["en", "yo"], "staff_genders": ["female"], "staff_count": "1",
        "capacity_hours": "20", "slot_hours-mon_am": "5", "slot_hours-tue_am": "5", "slot_hours-wed_am": "5", "slot_hours-thu_am": "5", "radius_km": "4", "hourly_rate": "19.50",
        "living_wage": "y", "ethical_care_charter": "y", "ownership_model": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def apply_through_the_service(session, **overrides) -> applications.Applied:
    data = {
        "name": "Hope Home Help", "kind": "micro_provider", "contact_name": "Hope Adeyemi", "email": "hope@example.org",
        "password": APPLICANT_PASSWORD, "postcode": "E1 6AN", "services": ["home_care"], "languages": ["en"], "staff_genders": ["female"],
        "capacity_hours": 30, "slots": ["mon_am", "tue_am", "wed_am"], "radius_km": 5.0, "hourly_rate_pence": 2100, "staff_count": 3,
    }
    data.update(overrides)
    # As a confirmed application makes it (`pending.confirm`), without the email in between.
    password = data.pop("password")
    checked = applications.check_application(session=session, password=password, **data)
    if checked.errors:
        raise ValidationFailed(checked.errors)
    return applications.make_provider(session=session, contact_name=checked.contact_name, email=checked.email,
                                      password_hash=hash_password(password), answers=checked.answers)


def link_sent_to(session, email: str) -> str:
    """Return the path of the link in the newest email to this address (from the outbox)."""
    session.expire_all()
    message = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == email).order_by(OutboxMessage.id.desc())).first()
    assert message is not None, f"no email to {email}"
    links = LINK.findall(message.body)
    assert len(links) == 1, message.body
    return urlsplit(links[0]).path


def token_sent_to(session, email: str) -> str:
    """Return the token in the newest link emailed to this address."""
    return link_sent_to(session, email).rsplit("/", 1)[-1]


def confirm_through_the_service(session, **application) -> applications.Applied:
    """Apply through the services and confirm the application with the link emailed: the provider and the account exist after this."""
    pending.apply(session=session, **application)
    return pending.confirm(session=session, token=token_sent_to(session, application["email"].strip().lower()))
