"""Who shares the cost of what a group asks for, on every page that shows it: a member on notice pays only until their last day."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlmodel import select

from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.matching.models import DemandLine
from tests import factories as f
from tests.contracts.conftest import care  # noqa: F401  (the fixture: a group of two with care)


def _text(response) -> str:
    assert response.status_code == 200
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _membership(session, care, holder):  # noqa: F811
    return session.exec(select(Membership).where(Membership.holder_id == holder.id, Membership.cluster_id == care.cluster.id)).one()


@pytest.fixture()
def asked(session, care):  # noqa: F811
    """Hooyo Circle asks for home care for Amina, Bo and Dara; Bo gave notice on 1 December 2026 and leaves on 29 December 2026."""
    dara = f.HolderFactory(session=session, council_id=care.council.id, name="Dara Khan")
    f.MembershipFactory(session=session, council_id=care.council.id, cluster_id=care.cluster.id, holder_id=dara.id, weekly_pledge_pence=1_000)
    line = DemandLine(council_id=care.council.id, cluster_id=care.cluster.id, service="home_care", hours=6, slots=["mon_am"], slot_hours={"mon_am": 6},
                      lat=51.5, lon=-0.05, max_rate_pence=2_500, shares={str(care.amina.id): 1, str(care.bo.id): 1, str(dara.id): 1})
    bo = _membership(session, care, care.bo)
    bo.status, bo.notice_date, bo.leaves_on = MembershipStatus.leaving, date(2026, 12, 1), date(2026, 12, 29)
    session.add_all([line, bo])
    session.commit()
    return line


SAID = "Up to £25.00 an hour, shared by 2 members (and 1 leaving the group on 29 December 2026, who pays until then)"


@pytest.mark.parametrize("who", ["amina", "bo", "rep", "broker"])
def test_the_group_page_counts_a_member_on_notice_apart_and_says_when_they_stop_paying(client, auth, care, asked, who):  # noqa: F811
    # It said "shared by 3 members", as if Bo, leaving on 29 December, would share the care's cost for good.
    assert auth.sign_in(care.users[who].email).status_code == 302
    text = _text(client.get(f"/clusters/{care.cluster.id}"))
    assert SAID in text
    assert "shared by 3 members" not in text


def test_the_matching_page_tells_the_broker_who_is_leaving_and_when(client, auth, care, asked):  # noqa: F811
    assert auth.sign_in(care.users["broker"].email).status_code == 302
    text = _text(client.get("/matching/"))
    assert SAID in text
    assert "shared by 3 members" not in text


def test_the_request_s_own_page_says_who_is_leaving_beside_their_name(client, auth, care, asked):  # noqa: F811
    assert auth.sign_in(care.users["broker"].email).status_code == 302
    text = _text(client.get(f"/matching/demand/{asked.id}/edit"))
    assert SAID in text
    assert "Bo Chen (leaving the group on 29 December 2026)" in text
    assert "Amina Yusuf (" not in text


def test_a_member_who_has_left_is_not_counted_as_sharing_the_cost(client, auth, session, care, asked):  # noqa: F811
    bo = _membership(session, care, care.bo)
    bo.status = MembershipStatus.left
    session.add(bo)
    session.commit()
    assert auth.sign_in(care.users["broker"].email).status_code == 302
    assert "Up to £25.00 an hour, shared by 2 members; 1 member it was for has left the group" in _text(client.get(f"/clusters/{care.cluster.id}"))
    assert "Bo Chen (has left the group)" in _text(client.get(f"/matching/demand/{asked.id}/edit"))


def test_with_nobody_leaving_the_words_are_as_before(client, auth, session, care, asked):  # noqa: F811
    bo = _membership(session, care, care.bo)
    bo.status, bo.notice_date, bo.leaves_on = MembershipStatus.active, None, None
    session.add(bo)
    session.commit()
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/{care.cluster.id}"))
    assert "Up to £25.00 an hour, shared by 3 members " in text
    assert "leaving" not in text.split("Up to £25.00 an hour")[1][:80]
