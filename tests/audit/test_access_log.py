"""The officers' access log (filters, pages, CSV) and the holder's own list of who looked at their record."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from brokerage.accounts.models import Role
from brokerage.audit import rules
from brokerage.audit.models import AccessLog

MISSING = 987_654_321
# 23:30 UTC on 14 June is 12:30am on 15 June in England (summer time).
LATE = datetime(2026, 6, 14, 23, 30, tzinfo=timezone.utc)


@pytest.fixture()
def reads(world, session):
    """Reads in council A by its broker and officer, of holder a and neighbour a, at known moments; one in council B."""
    a, users = world.records["a"], world.users["a"]
    broker, officer = users[Role.broker], users[Role.council_officer]
    council = world.councils["a"].id
    rows = [
        AccessLog(council_id=council, actor_id=broker.id, holder_id=a["holder"].id, what=rules.RECORD, at=LATE),
        AccessLog(council_id=council, actor_id=broker.id, holder_id=a["other_holder"].id, what=rules.MONEY_STATEMENT, at=LATE + timedelta(days=1)),
        AccessLog(council_id=council, actor_id=officer.id, holder_id=a["holder"].id, what=rules.SPECIAL_CATEGORY, at=LATE - timedelta(days=3)),
        AccessLog(council_id=world.councils["b"].id, actor_id=world.users["b"][Role.broker].id, holder_id=world.records["b"]["holder"].id,
                  what=rules.RECORD, at=LATE),
    ]
    session.add_all(rows)
    session.commit()
    return rows


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _without_token(response) -> str:
    """Return the body without the sign-out form's CSRF token, which carries the second it was made."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.get_data(as_text=True))


def _rows(response) -> list[str]:
    """Return the text of each row of the log's table body."""
    body = response.get_data(as_text=True)
    table = body[body.index("<tbody"):body.index("</tbody>")]
    return [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip() for row in re.findall(r"<tr.*?</tr>", table, re.DOTALL)]


@pytest.fixture()
def officer(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    return world.users["a"][Role.council_officer]


def test_the_log_lists_the_councils_reads_newest_first_in_england_time(client, world, reads, officer):
    rows = _rows(client.get("/audit/access-log"))
    broker = world.users["a"][Role.broker].name
    assert rows == [
        f"16 June 2026 at 12:30am {broker} (Broker) Neighbour a Money statement",
        f"15 June 2026 at 12:30am {broker} (Broker) Holder a Record: details, care needs, groups and who acts for them",
        f"12 June 2026 at 12:30am {officer.name} (Council officer) Holder a Culture, faith or heritage shared with the broker",
    ]


@pytest.mark.parametrize(("query", "holders"), [
    ({"person": "NEIGHBOUR"}, ["Neighbour a"]),
    ({"person": "holder a"}, ["Holder a", "Holder a"]),
    ({"what": rules.MONEY_STATEMENT}, ["Neighbour a"]),
    ({"start": "2026-06-15", "end": "2026-06-15"}, ["Holder a"]),  # 23:30 UTC on the 14th is the 15th in England
    ({"end": "2026-06-14"}, ["Holder a"]),
    ({"start": "2026-06-16"}, ["Neighbour a"]),
    ({"person": "Holder b"}, []),
])
def test_the_filters_keep_only_matching_reads(client, reads, officer, query, holders):
    response = client.get("/audit/access-log", query_string=query)
    assert response.status_code == 200
    rows = [row for row in _rows(response) if "No reads match" not in row]
    assert [name for row in rows for name in ("Holder a", "Neighbour a") if name in row] == holders


def test_the_staff_filter_offers_the_councils_staff_and_keeps_their_reads(client, world, reads, officer):
    broker = world.users["a"][Role.broker]
    page = client.get("/audit/access-log").get_data(as_text=True)
    assert f'<option value="{broker.id}">{broker.name} (Broker)</option>' in page
    assert f'value="{world.users["b"][Role.broker].id}"' not in page
    rows = _rows(client.get("/audit/access-log", query_string={"staff": broker.id}))
    assert len(rows) == 2 and all(broker.name in row for row in rows)


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"start": "yesterday"}, "start", "Enter a real date"),
    ({"start": "2026-06-16", "end": "2026-06-15"}, "end", "The end date must be on or after the start date."),
    ({"what": "everything"}, "what", "Choose what was looked at from the list"),
    ({"staff": "abc"}, "staff", "Choose a member of staff from the list"),
    ({"staff": str(MISSING)}, "staff", "Choose a member of staff from the list"),
    ({"person": "x" * 121}, "person", "Enter at most 120 characters of a name"),
    ({"person": "a\x00b"}, "person", ""),
])
def test_bad_filters_are_named_beside_the_field_and_list_nothing(client, reads, officer, query, field, message):
    response = client.get("/audit/access-log", query_string=query)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="filter-{field}-error"' in body and f'href="#filter-{field}"' in body and message in html.unescape(body)
    assert _rows(response) == ["Nothing is listed until the filters above are put right."]
    assert "access-log.csv" not in body
    assert "0 reads" not in body and "Correct the filter above to see the reads." in body  # not a count that reads like a result


def test_filters_of_only_spaces_are_no_filters(client, reads, officer):
    # A From box of spaces said "Enter a real date", though nothing had been typed.
    plain = client.get("/audit/access-log")
    spaced = client.get("/audit/access-log", query_string={"start": "   ", "end": " ", "person": "  ", "staff": " ", "what": " "})
    assert spaced.status_code == 200 and _rows(spaced) == _rows(plain)


def test_another_councils_staff_member_is_refused_exactly_like_one_that_does_not_exist(client, world, reads, officer):
    other = world.users["b"][Role.broker].id
    for path in ("/audit/access-log", "/audit/access-log.csv"):
        foreign, missing = (client.get(path, query_string={"staff": staff}) for staff in (other, MISSING))
        assert foreign.status_code == missing.status_code == 422
        assert _without_token(foreign) == _without_token(missing)


def test_the_log_has_pages_of_fifty(client, world, session, officer):
    broker, holder = world.users["a"][Role.broker], world.records["a"]["holder"]
    session.add_all([AccessLog(council_id=world.councils["a"].id, actor_id=broker.id, holder_id=holder.id, what=rules.RECORD,
                               at=LATE + timedelta(minutes=i)) for i in range(55)])
    session.commit()
    first, second = client.get("/audit/access-log"), client.get("/audit/access-log", query_string={"page": 2})
    assert len(_rows(first)) == 50 and len(_rows(second)) == 5
    assert "55 reads, page 1 of 2" in _text(first) and 'href="/audit/access-log?page=2"' in first.get_data(as_text=True)
    assert _rows(first)[0].startswith("15 June 2026 at 1:24am") and _rows(second)[-1].startswith("15 June 2026 at 12:30am")
    assert len(_rows(client.get("/audit/access-log", query_string={"page": 9}))) == 5  # past the end: the last page


def test_the_csv_download_holds_the_filtered_log_in_england_time(client, world, session, reads, officer):
    broker = world.users["a"][Role.broker]
    broker.name = "=HYPERLINK(evil)"
    session.add(broker)
    session.commit()
    page = client.get("/audit/access-log", query_string={"person": "holder a"}).get_data(as_text=True)
    assert 'href="/audit/access-log.csv?person=holder+a"' in page
    response = client.get("/audit/access-log.csv", query_string={"person": "holder a"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store" and "attachment" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines == [
        ["when (Europe/London)", "who looked", "their role", "whose record", "what they looked at"],
        ["2026-06-15T00:30:00+01:00", "'=HYPERLINK(evil)", "Broker", "Holder a", "Record: details, care needs, groups and who acts for them"],
        ["2026-06-12T00:30:00+01:00", officer.name, "Council officer", "Holder a", "Culture, faith or heritage shared with the broker"],
    ]
    bad = client.get("/audit/access-log.csv", query_string={"start": "nonsense"})
    assert bad.status_code == 422 and bad.mimetype == "text/html" and 'id="filter-start-error"' in bad.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.broker, Role.holder, Role.representative, Role.provider])
def test_only_officers_read_the_log(client, auth, world, reads, role):
    auth.sign_in(world.users["a"][role].email)
    assert client.get("/audit/access-log").status_code == 403
    assert client.get("/audit/access-log.csv").status_code == 403


# --- the holder's own list ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.holder, Role.representative])
def test_the_holder_and_their_representative_see_who_looked_what_and_when(client, auth, world, reads, role):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][role].email)
    response = client.get(f"/holders/{holder.id}/record-views")
    assert response.status_code == 200
    broker, officer = world.users["a"][Role.broker], world.users["a"][Role.council_officer]
    assert _rows(response) == [
        f"15 June 2026 at 12:30am {broker.name}, broker at Council A Record: details, care needs, groups and who acts for them",
        f"12 June 2026 at 12:30am {officer.name}, council officer at Council A Culture, faith or heritage shared with the broker",
    ]
    assert "Neighbour" not in _text(response)  # another person's reads are theirs alone
    assert f'href="/holders/{holder.id}/record-views"' in client.get(f"/holders/{holder.id}").get_data(as_text=True)


def test_a_staff_visit_shows_on_the_holders_list_but_their_own_visits_do_not(client, auth, world):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    client.get(f"/holders/{holder.id}")
    client.get(f"/holders/{holder.id}/statement")
    assert _rows(client.get(f"/holders/{holder.id}/record-views")) == ["Nobody from the council or the brokerage has looked at your record yet."]
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.representative].email)
    client.get(f"/holders/{holder.id}/statement")
    auth.sign_out()
    broker = world.users["a"][Role.broker]
    auth.sign_in(broker.email)
    client.get(f"/holders/{holder.id}/statement")
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    rows = _rows(client.get(f"/holders/{holder.id}/record-views"))
    assert len(rows) == 1 and f"{broker.name}, broker at Council A Money statement" in rows[0]


@pytest.mark.parametrize("role", [Role.holder, Role.representative])
def test_someone_elses_list_is_a_404_like_a_missing_one(client, auth, world, reads, role):
    auth.sign_in(world.users["a"][role].email)
    answers = [client.get(f"/holders/{holder_id}/record-views") for holder_id in
               (world.records["a"]["other_holder"].id, world.records["b"]["holder"].id, MISSING)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert _without_token(answers[0]) == _without_token(answers[1]) == _without_token(answers[2])


def test_the_holders_list_has_pages_of_fifty(client, auth, world, session):
    holder, broker = world.records["a"]["holder"], world.users["a"][Role.broker]
    session.add_all([AccessLog(council_id=world.councils["a"].id, actor_id=broker.id, holder_id=holder.id, what=rules.RECORD,
                               at=LATE + timedelta(minutes=i)) for i in range(51)])
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    assert len(_rows(client.get(f"/holders/{holder.id}/record-views"))) == 50
    assert len(_rows(client.get(f"/holders/{holder.id}/record-views", query_string={"page": 2}))) == 1


def test_a_reader_is_described_by_name_role_and_council():
    assert rules.describe_reader(name="Priya Shah", role_label="Broker", council_name="Riverside council") == "Priya Shah, broker at Riverside council"
    assert rules.describe_reader(name="Sam Lee", role_label="Administrator", council_name=None) == "Sam Lee, administrator"
