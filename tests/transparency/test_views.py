"""The community-wealth page, its CSV files and its settings, as officers and brokers use them."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role


def test_the_page_shows_each_share_with_the_pounds_behind_it_and_no_spend_for_an_empty_month(client, auth, spent):
    auth.sign_in(spent.officer.email)
    page = client.get("/community-wealth?start=January 2026&end=3 2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "75.0% (£300.00)" in text  # January: local providers, and co-operatives
    assert "37.5% (£150.00)" in text  # March: local providers (the charity)
    assert "February 2026" in text and "no spend" in text
    assert "so far" not in text  # the months shown are over
    assert text.count('role="img"') == 3
    assert "what carepool records about it <strong>today</strong>" in text
    assert "charged to members' pool shares" in text and "paid from" not in text
    assert "whether the provider has been paid for it yet or it is still waiting in a payment run" in text
    assert "do not add up to 100%" in text


def test_the_default_period_is_the_last_12_months(client, auth, spent):
    auth.sign_in(spent.broker.email)
    text = client.get("/community-wealth").get_data(as_text=True)
    assert "May 2025 to April 2026" in text
    assert "April 2026 (so far)" in text


@pytest.mark.parametrize("query, field, message", [
    ("start=Smarch 2026", "start", "Enter a month and year, for example April 2025"),
    ("start=2026-03&end=2026-01", "end", "The last month must be the same as the first month or after it"),
    ("start=2022-01&end=2026-04", "end", "Choose a period of 36 months or fewer"),
    ("end=2027-01", "end", "The last month must be this month or earlier"),
])
def test_a_period_that_cannot_be_read_is_refused_beside_its_field_and_shows_no_figures(client, auth, spent, query, field, message):
    auth.sign_in(spent.officer.email)
    page = client.get(f"/community-wealth?{query}")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert f'id="period-{field}-error-1"' in text and message in text
    assert f'href="#period-{field}"' in text
    assert 'role="img"' not in text


def test_each_chart_downloads_its_own_figures(client, auth, spent):
    auth.sign_in(spent.officer.email)
    response = client.get("/community-wealth/figures.csv?start=2026-01&end=2026-03&chart=fair-work")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Month,Care spend (£),Living Wage (£),Living Wage (% of care spend),Ethical Care Charter (£),Ethical Care Charter (% of care spend)"
    assert lines[1:] == ["2026-01,400.00,300.00,75.0,300.00,75.0", "2026-02,0.00,0.00,,0.00,", "2026-03,400.00,350.00,87.5,200.00,50.0"]


def test_a_csv_with_a_bad_period_or_chart_is_refused(client, auth, spent):
    auth.sign_in(spent.officer.email)
    assert client.get("/community-wealth/figures.csv?start=nonsense").status_code == 422
    answer = client.get("/community-wealth/figures.csv?chart=everything", headers={"Accept": "application/json"})
    assert answer.status_code == 422 and answer.get_json()["fields"] == {"chart": ["Choose a chart from the page"]}


def test_the_officer_sets_a_distance_and_the_assistant_nearby_becomes_local(client, auth, spent, session):
    auth.sign_in(spent.officer.email)
    page = client.get("/community-wealth/settings").get_data(as_text=True)
    assert "Provider pa Hiddenname" in page and "E15" in page
    response = client.post("/community-wealth/settings", data={"local_distance_km": "5"})
    assert response.status_code == 302
    assert "The community-wealth settings are saved." in client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.post("/community-wealth/settings", data={"local_distance_km": "5"})
    assert "Nothing was changed: the community-wealth settings are as they were." in client.get(again.headers["Location"]).get_data(as_text=True)
    session.refresh(spent.council)
    assert (spent.council.local_distance_km, spent.council.publish_report) == (5.0, False)
    text = client.get("/community-wealth?start=2026-03&end=2026-03").get_data(as_text=True)
    assert "87.5% (£350.00)" in text  # local: the charity in E2 and now the assistant in E15
    assert "Yes, within 5 km" in client.get("/community-wealth/settings").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["0", "0.4", "51", "five", "nan", "1e3", "-3"])
def test_a_distance_out_of_range_is_refused_beside_the_field(client, auth, spent, session, typed):
    auth.sign_in(spent.officer.email)
    response = client.post("/community-wealth/settings", data={"local_distance_km": typed, "publish_report": "y"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="local_distance_km-error-1"' in text and "Enter a distance from 0.5 to 50 km" in text
    assert f'value="{typed}"' in text
    session.refresh(spent.council)
    assert (spent.council.local_distance_km, spent.council.publish_report) == (None, False)


def test_publishing_the_report_opens_the_public_page_and_a_blank_distance_clears_it(client, auth, spent, session):
    assert client.get("/public/riverbend").status_code == 404
    spent.council.local_distance_km = 3.0
    session.commit()
    auth.sign_in(spent.officer.email)
    assert client.post("/community-wealth/settings", data={"local_distance_km": " ", "publish_report": "y"}).status_code == 302
    session.refresh(spent.council)
    assert (spent.council.local_distance_km, spent.council.publish_report) == (None, True)
    assert "Your public report is published" in client.get("/community-wealth/settings").get_data(as_text=True)
    auth.sign_out()
    assert client.get("/public/riverbend").status_code == 200


@pytest.mark.parametrize("role", [Role.broker, Role.holder, Role.provider])
def test_only_an_officer_changes_the_settings(client, auth, world, session, role):
    auth.sign_in(world.users["a"][role].email)
    assert client.post("/community-wealth/settings", data={"local_distance_km": "5", "publish_report": "y"}).status_code == 403
    session.refresh(world.councils["a"])
    assert (world.councils["a"].local_distance_km, world.councils["a"].publish_report) == (None, False)


def test_an_officer_changes_only_their_own_councils_settings(client, auth, world, session):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    assert client.post("/community-wealth/settings", data={"publish_report": "y"}).status_code == 302
    session.refresh(world.councils["a"])
    session.refresh(world.councils["b"])
    assert (world.councils["a"].publish_report, world.councils["b"].publish_report) == (True, False)


def test_the_measure_of_small_providers_is_never_called_micro_providers_beside_the_kind_of_that_name(client, auth, spent):
    auth.sign_in(spent.officer.email)
    text = client.get("/community-wealth?start=January 2026&end=3 2026").get_data(as_text=True)
    assert "Providers with 5 staff or fewer" in text and "personal assistants included" in text
    assert "Micro-providers" not in text and "and micro-providers" not in text
    head = client.get("/community-wealth/figures.csv?start=2026-01&end=2026-03&chart=ownership").get_data(as_text=True).lstrip("\ufeff")
    assert "Providers with 5 staff or fewer (£)" in head.splitlines()[0] and "Micro" not in head
