"""The leave page says what unspent money the council may take back from the share it promises to return."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.clusters.models import Membership, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.surplus.models import SurplusFlag
from brokerage.surplus.rules import RuleKind
from brokerage.types import utcnow
from tests.contracts.conftest import care  # noqa: F401  (the fixture: a group of two with care)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_leave_page_says_what_the_council_may_take_back_before_the_share_returns(client, auth, world, session):
    # It promised the whole share back on the day the council could take most of it back, and said nothing of that.
    records = world.records["a"]
    session.add(SurplusFlag(council_id=world.councils["a"].id, cluster_id=records["cluster"].id, holder_id=records["holder"].id,
                            membership_id=records["membership"].id, rule=RuleKind.unspent_weeks, amount_pence=41_313, reason="Unspent",
                            raised_on=date(2026, 11, 30), clawback_from=date(2027, 1, 2), reviewed_on=date(2026, 11, 30)))
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    text = _text(client.get(f"/clusters/memberships/{records['membership'].id}/leave"))
    # Notice ends the flag (the daily review applies the rule to active members only): the page says so, as the officer's does.
    assert ("Some of this share has not been spent, and the council could take back up to £413.13 of it from 2 January 2027. "
            "Once notice is given, it no longer can: the share a member leaves with goes back to their wallet.") in text


def test_without_a_flag_the_leave_page_says_nothing_of_taking_back(client, auth, world):
    records = world.records["a"]
    auth.sign_in(world.users["a"][Role.holder].email)
    text = _text(client.get(f"/clusters/memberships/{records['membership'].id}/leave"))
    assert "take back" not in text and "Give notice to leave?" in text


def _vote(session, care, holder, title):  # noqa: F811
    proposal = Proposal(council_id=care.council.id, cluster_id=care.cluster.id, kind=ProposalKind.free_text, title=title,
                        deadline=utcnow() + timedelta(days=14))
    session.add(proposal)
    session.flush()
    user = next(u for u in care.users.values() if u.holder_id == holder.id)
    session.add(Vote(council_id=care.council.id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes, cast_by_id=user.id))
    session.commit()
    return proposal


def _amina(session, care):  # noqa: F811
    return session.exec(select(Membership).where(Membership.holder_id == care.amina.id, Membership.cluster_id == care.cluster.id)).one()


def test_before_giving_notice_the_page_says_the_vote_stops_at_once_and_which_votes_stop_counting(client, auth, session, care):  # noqa: F811
    # Giving notice took away Amina's vote and stopped counting the votes she had cast, while she paid for four more
    # weeks, and the page said nothing of it.
    _vote(session, care, care.amina, "Tea on Fridays")
    _vote(session, care, care.amina, "Move the meeting to Tuesday")
    _vote(session, care, care.bo, "Bo's own idea")
    membership = _amina(session, care)
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/memberships/{membership.id}/leave"))
    assert "You still pay your weekly pledge of £30.00 until then." in text
    # Care agreed while on notice is charged for the weeks still in the group, vote or not: the page once left that out.
    assert ("You also pay your part of any care the group agrees before you leave, for each week you are still in the group, "
            "though you cannot vote on it.") in text
    assert ("From the moment you give notice, you no longer vote on the group's decisions, though you still pay until 29 December 2026. "
            "Your votes on these 2 open decisions will no longer count: Tea on Fridays Move the meeting to Tuesday") in text
    assert "Bo's own idea" not in text


def test_a_representative_is_told_the_person_they_act_for_stops_voting(client, auth, session, care):  # noqa: F811
    _vote(session, care, care.amina, "Tea on Fridays")
    assert auth.sign_in(care.users["rep"].email).status_code == 302
    text = _text(client.get(f"/clusters/memberships/{_amina(session, care).id}/leave"))
    assert "Amina Yusuf still pays their weekly pledge" in text
    assert "They also pay their part of any care the group agrees before they leave, for each week they are still in the group, though they cannot vote on it." in text
    assert ("From the moment Amina Yusuf gives notice, they no longer vote on the group's decisions, though they still pay until "
            "29 December 2026. Their vote on this open decision will no longer count: Tea on Fridays") in text


def test_with_no_votes_cast_the_page_still_says_the_vote_stops(client, auth, session, care):  # noqa: F811
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/memberships/{_amina(session, care).id}/leave"))
    assert "From the moment you give notice, you no longer vote on the group's decisions" in text
    assert "will no longer count" not in text
