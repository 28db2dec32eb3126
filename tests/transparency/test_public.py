"""The public report: shown without sign-in only when the council publishes it, naming no one, hiding small groups for good."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.formatting import pounds
from brokerage.providers.models import ProviderKind
from brokerage.transparency import published, services
from brokerage.transparency.models import PublishedQuarter
from tests import factories as f
from tests.transparency.conftest import BETHNAL_GREEN, CROYDON, WHITECHAPEL, moment, today_is

# Amounts chosen so that no sum or difference of other figures equals the personal assistants' £120.10 by chance.
PA_PENCE = (3_001, 3_001, 3_001, 3_107)


@pytest.fixture()
def quarter(spending, freeze_clock):
    """January to March 2026: 20 people use the co-op, 8 a private company, 6 a charity, and 4 a personal assistant."""
    s = spending
    coop_users, private_users = s.add_holders(20, "E1", WHITECHAPEL), s.add_holders(8, "E2", BETHNAL_GREEN)
    charity_users, pa_users = s.add_holders(6, "E1", WHITECHAPEL), s.add_holders(4, "E2", BETHNAL_GREEN)
    s.add_provider("coop", kind=ProviderKind.coop, district="E1", where=WHITECHAPEL, staff=10, living_wage=True, charter=True)
    s.add_provider("private", kind=ProviderKind.private, district="CR0", where=CROYDON, staff=40, living_wage=False, charter=False)
    s.add_provider("charity", kind=ProviderKind.charity, district="E2", where=BETHNAL_GREEN, staff=20, living_wage=True, charter=True,
                   service="day_activities")
    s.add_provider("pa", kind=ProviderKind.pa, district="E1", where=WHITECHAPEL, staff=1, living_wage=True, charter=False)
    s.fund(s.holders, 400_00, at=moment(2026, 1, 5))
    s.spend("coop", [(h, 5_003) for h in coop_users], at=moment(2026, 1, 20), week="2026-W03")
    s.spend("private", [(h, 4_019) for h in private_users], at=moment(2026, 2, 10), week="2026-W06")
    s.spend("charity", [(h, 2_531) for h in charity_users], at=moment(2026, 3, 3), week="2026-W09")
    s.spend("pa", list(zip(pa_users, PA_PENCE)), at=moment(2026, 3, 24), week="2026-W12")
    s.council.publish_report = True
    s.session.commit()
    today_is(freeze_clock, date(2026, 4, 15))
    return s


def figures_on(text: str) -> list[int]:
    """Return every amount in pounds shown on a page or in a CSV file, in pence."""
    found = re.findall(r"£?(-?[0-9][0-9,]*\.[0-9]{2})", text)
    return sorted({int(value.replace(",", "").replace(".", "")) for value in found})


def test_the_personal_assistants_four_people_are_hidden_and_cannot_be_worked_out(client, quarter):
    page = client.get("/public/riverbend")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    hidden = sum(PA_PENCE)
    assert pounds(hidden) not in text
    assert "charged to the pool" in text and "paid from the pool" not in text  # paid to the provider yet or not
    assert "It covers January to March 2026: every complete quarter" in text  # several: periods.quarters_span
    shown = figures_on(text)
    for size in (1, 2, 3, 4):
        for chosen in itertools.combinations(shown, size):
            for signs in itertools.product((1, -1), repeat=size):
                assert sum(s * v for s, v in zip(signs, chosen)) != hidden, f"{chosen} {signs} gives the hidden figure away"


def test_the_report_shows_the_quarter_with_each_figure_it_may(quarter, session):
    report = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15))
    (period,) = report.periods
    assert period.start == date(2026, 1, 1)
    total = 20 * 5_003 + 8 * 4_019 + 6 * 2_531 + sum(PA_PENCE)
    assert (period.pooled.pence, period.pooled.people) == (38 * 400_00, 38)
    assert (period.spent.pence, period.spent.people) == (total, 38)
    assert period.kinds["pa"].hidden
    assert sum(1 for kind in period.kinds.values() if kind.hidden) >= 2  # and at least one more, so the total gives nothing away
    assert period.kinds["coop"].pence == 20 * 5_003 and period.kinds["cic"].pence == 0
    assert period.measures["micro"].hidden  # the micro-providers are the four people of the assistant


def test_the_csv_files_hide_the_same_figures(client, quarter):
    hidden = sum(PA_PENCE)
    for table in ("money", "kinds", "services", "wealth"):
        response = client.get(f"/public/riverbend/figures.csv?table={table}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        body = response.get_data(as_text=True)
        assert f"{hidden / 100:.2f}" not in body
        # The quarter as the page names it, and its days: never "2026-Q1", which a council reads as April to June.
        assert body.splitlines()[0].lstrip("\ufeff").startswith("Quarter,First day,Last day,") and "January to March 2026,2026-01-01,2026-03-31," in body
        assert "Q1" not in body
    kinds = client.get("/public/riverbend/figures.csv?table=kinds").get_data(as_text=True)
    assert "[c]" in kinds


def test_no_names_of_people_groups_or_providers_appear(client, quarter):
    texts = [client.get("/public/riverbend").get_data(as_text=True)]
    texts += [client.get(f"/public/riverbend/figures.csv?table={t}").get_data(as_text=True) for t in ("money", "kinds", "services", "wealth")]
    for text in texts:
        for word in ("Secretname", "Secret circle", "Hiddenname", "wealth-officer", "Member 1"):
            assert word not in text


def test_the_page_is_the_same_for_everyone_and_may_be_cached(client, auth, quarter):
    signed_out = client.get("/public/riverbend")
    assert signed_out.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in signed_out.headers
    auth.sign_in(quarter.officer.email)
    signed_in = client.get("/public/riverbend")
    # Only the visitor's own browser may keep an answer that may carry their refreshed session cookie.
    assert signed_in.status_code == 200 and signed_in.headers["Cache-Control"] == "private, max-age=300"
    assert "Cookie" in signed_in.headers["Vary"] and "Cookie" in signed_out.headers["Vary"]
    assert "Signed in as" not in signed_in.get_data(as_text=True) and "csrf_token" not in signed_in.get_data(as_text=True)
    strip = lambda text: re.sub(r"chart-[0-9a-f]{8}", "chart", text)  # noqa: E731 (each chart's ids are its own)
    assert strip(signed_in.get_data(as_text=True)) == strip(signed_out.get_data(as_text=True))


def test_a_council_that_has_not_opted_in_answers_exactly_like_an_unknown_one(client, quarter, session):
    quarter.council.publish_report = False
    session.commit()
    f.CouncilFactory(session=session, slug="elsewhere", publish_report=False)
    session.commit()
    answers = []
    for slug in ("riverbend", "elsewhere", "no-such-council", "x" * 300):
        for suffix in ("", "/figures.csv?table=money"):
            response = client.get(f"/public/{slug}{suffix}")
            answers.append((response.status_code, response.get_data(as_text=True)))
    assert {status for status, _ in answers} == {404}
    assert len({body for _, body in answers}) == 1


def test_a_published_council_shows_only_its_own_money(client, quarter, session):
    other = f.CouncilFactory(session=session, slug="elsewhere", area_districts="LS6", publish_report=True)
    session.commit()
    page = client.get(f"/public/{other.slug}").get_data(as_text=True)
    assert "There is nothing to report yet" in page
    assert not figures_on(page)


def test_an_unknown_table_is_a_404(client, quarter):
    assert client.get("/public/riverbend/figures.csv?table=people").status_code == 404


@pytest.mark.parametrize("role", [Role.holder, Role.broker])
def test_signed_in_people_of_any_role_see_the_public_page(client, auth, quarter, world, role):
    auth.sign_in(world.users["a"][role].email)
    assert client.get("/public/riverbend").status_code == 200


def test_a_past_quarters_figures_do_not_change_when_a_providers_facts_change(quarter, session):
    before = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15)).periods[0]
    assert not before.measures["living_wage"].hidden  # the co-op's, the charity's and the assistant's 30 people
    quarter.providers["pa"].living_wage = False  # the personal assistant (4 people, kept confidential) updates her profile
    session.flush()
    after = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15)).periods[0]
    # The page promises a quarter's figures do not change once it has ended; if they do, before - after is the
    # assistant's four people's £120.10, which the report keeps confidential.
    assert before.measures["living_wage"].pence - (after.measures["living_wage"].pence or 0) != sum(PA_PENCE)
    assert after.measures == before.measures


def test_a_report_of_quarters_all_published_before_is_read_back_exactly_as_first_shown(quarter, session):
    first = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15))
    again = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15))
    assert first.periods and again.periods == first.periods
    assert (again.kinds, again.services) == (first.kinds, first.services)


def test_a_quarter_another_request_published_at_the_same_moment_is_shown_as_it_stored_it(quarter, session, monkeypatch):
    first = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15)).periods[0]
    row = session.exec(select(PublishedQuarter).where(PublishedQuarter.quarter_start == first.start)).one()
    row.figures = {**row.figures, "pooled": [123, 9]}  # what the other request stored first
    session.flush()
    # This request read before the other committed: it saw nothing published and computed its own figures.
    real = published.published
    monkeypatch.setattr(published, "published", lambda s, c, starts: {} if len(starts) > 1 else real(s, c, starts))
    again = services.public_report(session=session, slug="riverbend", today=date(2026, 4, 15)).periods[0]
    assert (again.pooled.pence, again.pooled.people) == (123, 9)


def test_the_public_report_names_the_small_providers_measure_apart_from_the_micro_provider_kind(client, quarter):
    text = client.get("/public/riverbend").get_data(as_text=True)
    assert "Providers with 5 staff or fewer" in text and "Micro-providers" not in text
    wealth = client.get("/public/riverbend/figures.csv?table=wealth").get_data(as_text=True).lstrip("\ufeff")
    assert "Providers with 5 staff or fewer (£)" in wealth.splitlines()[0] and "Micro" not in wealth.splitlines()[0]
