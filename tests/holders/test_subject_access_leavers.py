"""The data download says what a holder pays a week for care as timesheets charge it: a member on notice pays until leaving."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from sqlmodel import select

from brokerage.clusters.models import Membership, MembershipStatus
from tests.contracts.conftest import care  # noqa: F401  (the fixture: Amina and Bo share 12 hours a week at £22.00, by hours)


def _give_notice(session, care, holder, status=MembershipStatus.leaving):  # noqa: F811
    membership = session.exec(select(Membership).where(Membership.holder_id == holder.id, Membership.cluster_id == care.cluster.id)).one()
    membership.status, membership.notice_date, membership.leaves_on = status, date(2026, 12, 1), date(2026, 12, 29)
    session.add(membership)
    session.commit()


def _contract(client, auth, care, who):  # noqa: F811
    assert auth.sign_in(care.users[who].email).status_code == 302
    holder = care.amina if who == "amina" else care.bo
    [contract] = json.loads(client.get(f"/holders/{holder.id}/data.json").data)["contracts"]
    return contract


def test_a_member_staying_is_told_their_part_now_and_once_the_member_on_notice_has_left(client, auth, session, care):  # noqa: F811
    _give_notice(session, care, care.bo)
    contract = _contract(client, auth, care, "amina")
    assert contract["your_weekly_part"] == {"pence": 13_200, "pounds": "£132.00"} and contract["you_pay_until"] is None
    assert contract["your_weekly_part_once_others_on_notice_have_left"] == {"pence": 26_400, "pounds": "£264.00"}
    rows = list(csv.DictReader(io.StringIO(client.get(f"/holders/{care.amina.id}/data.csv").data.decode("utf-8-sig"))))
    [row] = [r for r in rows if r["section"] == "contracts"]
    assert "your part £132.00 a week (by hours each member uses), £264.00 a week once the others on notice have left" in row["value"]


def test_a_member_on_notice_is_told_they_pay_only_until_their_last_day(client, auth, session, care):  # noqa: F811
    _give_notice(session, care, care.bo)
    contract = _contract(client, auth, care, "bo")
    assert contract["your_weekly_part"]["pounds"] == "£132.00" and contract["you_pay_until"] == "2026-12-29"
    assert contract["your_weekly_part_once_others_on_notice_have_left"] is None
    rows = list(csv.DictReader(io.StringIO(client.get(f"/holders/{care.bo.id}/data.csv").data.decode("utf-8-sig"))))
    [row] = [r for r in rows if r["section"] == "contracts"]
    assert "your part £132.00 a week (by hours each member uses) until you leave the group on 2026-12-29" in row["value"]


def test_with_a_member_who_has_left_the_others_part_is_the_whole_cost(client, auth, session, care):  # noqa: F811
    # Timesheets share each week between those still in the group; the download halved Amina's part with Bo, who had gone.
    _give_notice(session, care, care.bo, status=MembershipStatus.left)
    contract = _contract(client, auth, care, "amina")
    assert contract["your_weekly_part"] == {"pence": 26_400, "pounds": "£264.00"}
    assert contract["your_weekly_part_once_others_on_notice_have_left"] is None
