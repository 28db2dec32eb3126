"""A unique violation no service translated is still a plain 409, never a 500; other database errors stay 500."""

from __future__ import annotations

from sqlalchemy import text

from brokerage.accounts.models import Council
from brokerage.db import get_session
from brokerage.errors import ALREADY_DONE_MESSAGE


def test_an_untranslated_unique_violation_answers_409_with_a_plain_message_in_json_and_on_a_page(app, client, session):
    session.add(Council(slug="twin", name="Twin"))
    session.flush()

    def add_the_same_council():
        request_session = get_session()
        request_session.add(Council(slug="twin", name="Twin again"))
        request_session.flush()
        return "saved"

    app.add_url_rule("/test/twin", view_func=add_the_same_council, methods=["POST"])
    as_json = client.post("/test/twin", headers={"Accept": "application/json"})
    assert as_json.status_code == 409 and as_json.get_json() == {"error": ALREADY_DONE_MESSAGE}
    page = client.post("/test/twin")
    assert page.status_code == 409 and ALREADY_DONE_MESSAGE in page.data.decode()


def test_another_database_error_is_still_a_500(app, client):
    def broken():
        get_session().execute(text("SELECT * FROM no_such_table"))
        return "never"

    app.add_url_rule("/test/broken", view_func=broken, methods=["POST"])
    response = client.post("/test/broken", headers={"Accept": "application/json"})
    assert response.status_code == 500
