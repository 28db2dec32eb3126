"""The spend pages: names never codes, the period and its refusals, the CSV files, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from brokerage.audit.models import AccessLog
from brokerage.errors import NOT_FOUND
from brokerage.holders.models import Holder

PERIOD = {"from_month": "2", "from_year": "2026", "to_month": "5", "to_year": "2026"}
PAGES = ["/spending/", "/spending/groups", "/spending/members", "/spending/providers", "/spending/services", "/spending/kinds-of-provider"]
CODES = re.compile(r"\b(pool|holder|provider|council|stripe|external):[0-9a-z]+(:[0-9a-z]+)?\b")


@pytest.fixture()
def officer(client, auth, books, session):
    session.commit()
    assert auth.sign_in("officer@th.example").status_code == 302
    return client


def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_people_groups_and_providers_and_shows_no_account_code(officer, path):
    response = officer.get(path, query_string=PERIOD)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert not CODES.search(body), CODES.search(body)
    assert "Tower Hamlets (test)" in body and "February to May 2026" in body
    assert "Hackney" not in body and "Other Person" not in body


@pytest.mark.parametrize("path", PAGES)
def test_every_csv_file_names_things_and_gives_pounds_with_two_decimals(officer, path):
    response = officer.get(path, query_string={**PERIOD, "format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert "tower-hamlets" in disposition and "2026-02-to-2026-05" in disposition and disposition.endswith('.csv"')
    body = response.get_data(as_text=True)
    assert not CODES.search(body) and "Hackney" not in body
    head, *rows = rows_of(response)
    assert any(heading.endswith("(£)") for heading in head)
    for row in rows:
        for heading, cell in zip(head, row):
            if heading.endswith("(£)"):
                assert re.fullmatch(r"-?[0-9]+\.[0-9]{2}", cell), (heading, cell)


def test_the_groups_csv_holds_exactly_the_tables_figures(officer):
    page = officer.get("/spending/groups", query_string=PERIOD).get_data(as_text=True)
    head, *rows = rows_of(officer.get("/spending/groups", query_string={**PERIOD, "format": "csv"}))
    assert head == ["Group", "Pooled in (£)", "Spent (£)", "Returned to members (£)", "Unspent at the end of the period (£)"]
    assert rows == [["Somali elders of Whitechapel", "550.00", "120.00", "0.00", "430.00"], ["Bow walking group", "100.00", "30.00", "70.00", "0.00"]]
    for cell in ("£550.00", "£120.00", "£430.00", "£100.00", "£30.00", "£70.00"):
        assert cell in page


def test_the_members_csv_names_each_share_its_member_and_group(officer):
    head, *rows = rows_of(officer.get("/spending/members", query_string={**PERIOD, "format": "csv"}))
    assert head[:3] == ["Member's share", "Member", "Group"]
    assert ["Amina Hassan's share of Somali elders of Whitechapel", "Amina Hassan", "Somali elders of Whitechapel"] in [row[:3] for row in rows]


def test_the_kinds_of_provider_csv_lists_every_kind_with_its_share(officer):
    head, *rows = rows_of(officer.get("/spending/kinds-of-provider", query_string={**PERIOD, "format": "csv"}))
    assert head == ["Kind of provider", "Spent (£)", "Share of spend"]
    assert rows[:2] == [["Care co-operative", "120.00", "80.0%"], ["Personal assistant", "30.00", "20.0%"]]
    assert len(rows) == 6


def test_with_no_period_the_pages_show_the_last_12_months(officer):
    body = officer.get("/spending/groups").get_data(as_text=True)
    assert "June 2025 to May 2026" in body
    assert 'name="from_month" type="text" inputmode="numeric" spellcheck="false" value="6"' in body


@pytest.mark.parametrize(("args", "message"), [
    ({"from_month": "13", "from_year": "2026", "to_month": "5", "to_year": "2026"}, "Enter the start month as a number from 1 to 12"),
    ({"from_month": "2", "from_year": "26", "to_month": "5", "to_year": "2026"}, "Enter the start year as 4 digits"),
    ({"from_month": "5", "from_year": "2026", "to_month": "4", "to_year": "2026"}, "The end of the period must be the same month as the start or after it"),
    ({"from_month": "2", "from_year": "2026"}, "Enter the month and year the period ends"),
    ({"from_month": "1", "from_year": "2000", "to_month": "5", "to_year": "2026"}, "Choose a period of at most 10 years"),
    ({"from_month": "\u0662", "from_year": "2026", "to_month": "5", "to_year": "2026"}, "Enter the start month as a number from 1 to 12"),
    ({"from_month": "1", "from_year": "2027", "to_month": "3", "to_year": "2027"}, "The first month must be this month or earlier"),
])
def test_a_period_that_cannot_be_read_is_explained_beside_its_box_and_lists_nothing(officer, args, message):
    response = officer.get("/spending/providers", query_string=args)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and "govuk-error-summary" in body and 'class="govuk-error-message"' in body
    assert "<title>Error: " in body
    assert "Sunrise Care Co-op" not in body and "£120.00" not in body
    csv_answer = officer.get("/spending/providers", query_string={**args, "format": "csv"})
    assert csv_answer.status_code == 422 and message in csv_answer.get_data(as_text=True)


def test_a_month_can_be_typed_by_name(officer):
    response = officer.get("/spending/groups", query_string={"from_month": "feb", "from_year": "2026", "to_month": "May", "to_year": "2026"})
    assert response.status_code == 200 and "February to May 2026" in response.get_data(as_text=True)


def test_the_quick_periods_are_offered_and_keep_the_filters(officer, books):
    body = officer.get("/spending/providers", query_string={"group": books.elders.id}).get_data(as_text=True)
    assert "Only the group <strong>Somali elders of Whitechapel</strong>" in body
    for label in ("This quarter", "Last quarter", "Last 12 months"):
        assert label in body
    assert f"from_month=4&amp;from_year=2026&amp;to_month=6&amp;to_year=2026&amp;group={books.elders.id}" in body  # this quarter
    assert "from_month=1&amp;from_year=2026&amp;to_month=3&amp;to_year=2026" in body  # last quarter


@pytest.mark.parametrize("name", ["group", "holder", "provider"])
@pytest.mark.parametrize("path", ["/spending/", "/spending/groups", "/spending/providers"])
def test_another_councils_id_in_a_filter_answers_like_a_missing_one_in_html_and_csv(officer, books, session, name, path):
    foreign = {"group": books.other_group.id, "provider": books.other_provider.id,
               "holder": session.exec(select(Holder.id).where(Holder.council_id == books.other_council.id)).first()}[name]
    for extra in ({}, {"format": "csv"}, {"from_month": "13"}):
        answers = []
        for value in (foreign, 987_654_321, "x1"):
            response = officer.get(path, query_string={name: value, **extra})
            body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.get_data(as_text=True))
            answers.append((response.status_code, response.mimetype, body))
        assert answers[0][0] == 404 and answers[0] == answers[1] == answers[2], extra
    json_answer = officer.get(path, query_string={name: foreign}, headers={"Accept": "application/json"})
    assert (json_answer.status_code, json_answer.get_json()) == (404, {"error": NOT_FOUND})


def test_a_page_past_the_end_is_not_found(officer):
    assert officer.get("/spending/members", query_string={"page": "2"}).status_code == 404
    assert officer.get("/spending/members", query_string={"page": "nought"}).status_code == 404


def test_from_the_dashboard_last_quarters_spend_by_kind_of_provider_is_one_click_away(officer, books):
    dashboard = officer.get("/dashboard").get_data(as_text=True)
    link = re.search(r'<a class="govuk-link" href="([^"]+)">Last quarter(?:\'|&#39;)s spend by kind of provider</a>', dashboard)
    assert link, "the dashboard links to last quarter's spend by kind of provider"
    page = officer.get(link.group(1).replace("&amp;", "&"))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Spend by kind of provider" in body and "January to March 2026" in body
    # The co-op had the whole of that quarter's care: the elders' March visits.
    assert re.search(r"Care co-operative</th>\s*<td[^>]*>£120.00</td>\s*<td[^>]*>100.0%</td>", body)


def test_a_group_leads_to_its_members_shares_and_a_share_to_its_months(officer, books):
    body = officer.get("/spending/groups", query_string=PERIOD).get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Somali elders of Whitechapel</a>', body).group(1).replace("&amp;", "&")
    shares = officer.get(link).get_data(as_text=True)
    assert "Bob Jones&#39;s share of Somali elders of Whitechapel" in shares and "Bow walking group\u2019" not in shares
    share_link = re.search(r'href="([^"]+)">Bob Jones&#39;s share of Somali elders of Whitechapel</a>', shares).group(1).replace("&amp;", "&")
    months = officer.get(share_link)
    assert months.status_code == 200 and "Only the member <strong>Bob Jones</strong>" in months.get_data(as_text=True)


@pytest.mark.parametrize(("email", "status"), [("broker@th.example", 200), ("officer@th.example", 200)])
def test_brokers_and_officers_of_the_council_see_the_pages(client, auth, books, session, email, status):
    session.commit()
    auth.sign_in(email)
    for path in PAGES:
        assert client.get(path).status_code == status


@pytest.mark.parametrize("extra", [{}, {"format": "csv"}])
def test_one_members_money_month_by_month_is_a_read_of_their_record_and_goes_to_the_access_log(officer, books, session, extra):
    response = officer.get("/spending/", query_string={**PERIOD, "holder": books.bob.id, **extra})
    assert response.status_code == 200
    session.expire_all()
    logged = session.exec(select(AccessLog.actor_id, AccessLog.holder_id).where(AccessLog.holder_id == books.bob.id)).all()
    assert logged == [(books.officer.id, books.bob.id)]


def test_each_member_on_a_page_of_members_shares_is_logged_as_a_read_of_their_money(officer, books, session):
    from brokerage.audit.models import AccessLog
    from brokerage.audit.rules import MONEY_LIST, MONEY_STATEMENT

    def log():
        session.expire_all()
        return sorted(session.exec(select(AccessLog.actor_id, AccessLog.holder_id, AccessLog.what)).all())

    assert officer.get("/spending/groups").status_code == 200 and officer.get("/spending/providers").status_code == 200
    assert log() == []  # groups and providers name no one's money
    page = officer.get("/spending/members")
    assert page.status_code == 200 and "Amina Hassan" in page.text and "Bob Jones" in page.text
    who = books.officer.id
    assert log() == [(who, books.amina.id, MONEY_LIST), (who, books.bob.id, MONEY_LIST)]
    # Narrowed to Amina: her statement is read, once, and nobody else's.
    assert officer.get(f"/spending/members?holder={books.amina.id}").status_code == 200
    assert log() == sorted([(who, books.amina.id, MONEY_LIST), (who, books.bob.id, MONEY_LIST), (who, books.amina.id, MONEY_STATEMENT)])


def test_the_closing_figure_of_a_past_period_is_at_its_end_and_of_this_month_is_now(officer):
    from brokerage import clock
    from brokerage.spending.rules import month_name

    today = clock.today()
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)

    def page(first, final):
        return officer.get("/spending/groups", query_string={"from_month": str(first.month), "from_year": str(first.year),
                                                             "to_month": str(final.month), "to_year": str(final.year)}).get_data(as_text=True)

    past = page(last, last)
    assert f"Unspent at the end of {month_name(last)}" in past and "Unspent now" not in past
    now = page(last, today)
    assert "Unspent now" in now and f"Unspent at the end of {month_name(today)}" not in now


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_a_period_starting_after_this_month(officer, path):
    response = officer.get(path, query_string={"from_month": "6", "from_year": "2026", "to_month": "8", "to_year": "2026"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "The first month must be this month or earlier" in body
    assert "Unspent at the start of June 2026" not in body and "£0.00" not in body


def test_this_month_is_marked_so_far_on_the_page_and_in_the_csv_file(officer):
    body = officer.get("/spending/", query_string=PERIOD).get_data(as_text=True)
    assert "May 2026 (so far)" in body and "April 2026 (so far)" not in body
    months = [row[0] for row in rows_of(officer.get("/spending/", query_string={**PERIOD, "format": "csv"}))[1:]]
    assert months == ["February 2026", "March 2026", "April 2026", "May 2026 (so far)"]


def test_this_month_is_the_month_in_england_not_in_utc(client, auth, books, session, freeze_clock):
    session.commit()
    freeze_clock(datetime(2026, 5, 31, 23, 30, tzinfo=timezone.utc))  # already 1 June in London
    assert auth.sign_in("officer@th.example").status_code == 302
    response = client.get("/spending/", query_string={"from_month": "6", "from_year": "2026", "to_month": "6", "to_year": "2026"})
    assert response.status_code == 200 and "June 2026 (so far)" in response.get_data(as_text=True)


def test_spend_is_described_as_charged_to_the_pools_paid_to_the_provider_yet_or_not(officer):
    for path in ("/spending/", "/spending/providers"):
        body = officer.get(path, query_string=PERIOD).get_data(as_text=True)
        assert "whether the provider has been paid for it yet or it is still waiting in a payment run" in body
        assert "paid each provider" not in body and "paid from" not in body
    body = officer.get("/dashboard").get_data(as_text=True)
    assert "Spent on care is care approved on timesheets and charged to the pools" in body


def test_the_providers_page_says_how_much_approved_care_still_waits_to_be_paid(officer, books):
    body = officer.get("/spending/providers", query_string=PERIOD).get_data(as_text=True)
    # Nothing was paid out in these books: all £150.00 of approved care (after the reversal) is still owed.
    assert re.search(r"Still waiting to be paid to providers now, for care approved in any month\s*</dt>\s*<dd[^>]*>\s*£150.00", body)
    one = officer.get("/spending/providers", query_string={**PERIOD, "provider": books.pa.id}).get_data(as_text=True)
    assert re.search(r"Still waiting to be paid to this provider now, for care approved in any month\s*</dt>\s*<dd[^>]*>\s*£30.00", one)
    grouped = officer.get("/spending/providers", query_string={**PERIOD, "group": books.elders.id}).get_data(as_text=True)
    assert "Still waiting to be paid" not in grouped  # what is owed is not split by group
