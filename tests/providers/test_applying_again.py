"""What an applicant sees when the "offer care" form comes back, and after it went: the password box and the address.

The page never sends a password back, so its box came back empty without a word and people were sent back twice
(tester R7-13); the "check your email" page did not show the address, so a typing mistake could not be seen (R7-25).
"""

from __future__ import annotations

import re

from brokerage.forms import PASSWORD_AGAIN
from tests.providers.applying import application_form


def _error_of(page: str, field: str) -> list[str]:
    return re.findall(rf'<p id="{field}-error-\d+" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> ([^<]+)</p>', page)


def test_a_form_sent_back_for_another_box_asks_for_the_password_again_beside_it_and_in_the_summary(client, places):
    response = client.post("/offer-care", data=application_form(postcode="E1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _error_of(page, "password") == [PASSWORD_AGAIN] and f'href="#password">{PASSWORD_AGAIN}' in page
    assert 'name="password" type="password" value=' not in page  # still never sent back


def test_a_password_box_left_empty_or_wrong_gets_its_own_message_only(client, places):
    empty = client.post("/offer-care", data=application_form(postcode="E1", password="")).get_data(as_text=True)
    assert _error_of(empty, "password") == ["Choose a password"]
    weak = client.post("/offer-care", data=application_form(password="password")).get_data(as_text=True)
    assert PASSWORD_AGAIN not in weak


def test_the_sign_in_form_keeps_its_one_message(client, world):
    page = client.post("/sign-in", data={"email": "nobody@example.org", "password": "a wrong guess"}).get_data(as_text=True)
    assert "The email address or password is not right." in page and PASSWORD_AGAIN not in page


def test_an_administrator_adding_an_account_with_a_wrong_email_is_asked_for_the_password_again(client, auth, world):
    auth.sign_in(world.admin.email)
    page = client.post("/admin/users", data={"name": "New Broker", "email": "not an address", "role": "broker",
                                             "council_id": str(world.councils["a"].id), "password": "granite seagull lantern kettle"})
    assert page.status_code == 422 and _error_of(page.get_data(as_text=True), "password") == [PASSWORD_AGAIN]


def test_the_check_your_email_page_shows_the_address_typed_once(client, places):
    assert client.post("/offer-care", data=application_form(email="Ada.Lovell@exmaple.com")).status_code == 302
    page = client.get("/offer-care/sent").get_data(as_text=True)
    assert 'We have sent an email to <strong class="app-break">Ada.<wbr>Lovell@<wbr>exmaple.<wbr>com</strong>.' in page
    assert "Is that address wrong?" in page
    # Shown once: the page opened again (or by anyone else) says "the address you gave".
    again = client.get("/offer-care/sent").get_data(as_text=True)
    assert "exmaple.com" not in again and "the address you gave" in again
