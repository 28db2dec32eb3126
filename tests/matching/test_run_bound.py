"""A council's matching runs improve their answer for the council's time, and keep the proven bound and gap (issue 14, part 2)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Council, User
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.matching import services
from brokerage.matching.models import MatchRun
from tests.demo_support import PASSWORD
from tests.matching.on_the_demo import app, demo  # noqa: F401 (fixtures)


def test_a_run_keeps_its_proven_lower_bound_and_gap_and_uses_the_councils_time(session, demo, monkeypatch):
    council, broker = demo
    from brokerage.matching import improve

    limits = []
    real = improve.improve
    monkeypatch.setattr(improve, "improve", lambda matching, *, time_limit: limits.append(time_limit) or real(matching, time_limit=time_limit))
    services.set_match_time_limit(session=session, actor=broker, council_id=council.id, seconds=3)
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    assert limits == [3]
    assert run.lower_bound is not None and 0 < run.lower_bound <= run.cost + 0.01
    assert run.gap_pct == pytest.approx(max(0.0, (run.cost - run.lower_bound) / run.cost * 100), abs=0.01)
    stored = session.get(MatchRun, run.id)
    assert stored.gap_pct == run.gap_pct


def test_only_a_broker_of_the_council_sets_the_time_and_bad_values_change_nothing(session, demo):
    council, broker = demo
    officer = session.exec(select(User).where(User.email == "officer@riverside.example")).one()
    with pytest.raises(NotAllowed):
        services.set_match_time_limit(session=session, actor=officer, council_id=council.id, seconds=5)
    other = session.exec(select(Council).where(Council.id != council.id)).first()
    with pytest.raises(NotFound):  # another council's id: answered as a missing one
        services.set_match_time_limit(session=session, actor=broker, council_id=other.id, seconds=5)
    for bad in (-1, 601):
        with pytest.raises(ValidationFailed):
            services.set_match_time_limit(session=session, actor=broker, council_id=council.id, seconds=bad)
    session.refresh(council)
    assert council.match_time_limit_s == 10


def test_the_matching_page_sets_the_time_and_names_a_bad_value_beside_its_field(client, session, demo):
    council, _ = demo
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    page = client.get("/matching/").data.decode()
    assert "How long matching improves its answer: 10 seconds" in page
    for bad, message in (("-2", "Enter between 0 and 600 seconds"), ("ten", "Enter the seconds as a whole number"), ("", "Enter the seconds, or 0")):
        response = client.post("/matching/settings", data={"time_limit": bad})
        assert response.status_code == 422 and message in response.data.decode()
        assert 'href="#time_limit"' in response.data.decode()  # the error summary links to the field
        assert "Error: Matching" in response.data.decode()
    session.refresh(council)
    assert council.match_time_limit_s == 10
    # None at all is said as what it means, not "for up to 0 seconds".
    nothing = client.post("/matching/settings", data={"time_limit": "0"}, follow_redirects=True).data.decode()
    assert "give their first answer at once, with no time spent improving it" in nothing and "up to 0 seconds" not in nothing
    response = client.post("/matching/settings", data={"time_limit": "4"})
    assert response.status_code == 302
    session.refresh(council)
    assert council.match_time_limit_s == 4
    assert client.post("/matching/runs").status_code == 302
    page = client.get("/matching/").data.decode()
    assert "above the lowest possible" in page or "This is the lowest possible" in page
    assert "It is not what anyone pays, so it is shown as a plain number" in page
    # A score is no amount of money: no pound sign in the runs table ("Score £1,312.77" read as a cost).
    runs = page.split('id="runs-caption"', 1)[1].split("</table>", 1)[0]
    assert "Score (not a cost)" in runs and "£" not in runs


def test_an_officer_cannot_set_the_time(client, session, demo):
    client.post("/sign-in", data={"email": "officer@riverside.example", "password": PASSWORD})
    assert client.post("/matching/settings", data={"time_limit": "4"}).status_code == 403
