"""The vote page for care says, before anyone votes, what the care costs a week and what each member would pay."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from sqlmodel import select

from brokerage.clusters.models import Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.contracts import changes
from brokerage.matching.models import DemandLine, MatchAssignment, MatchRun
from brokerage.matching.rules import AssignmentStatus
from brokerage.types import utcnow
from tests import factories as f
from tests.contracts.conftest import care  # noqa: F401  (the fixture: a group of two with care)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _match(session, care, *, shares, payload_extra=None, hours=12, rate=2_200):  # noqa: F811
    council_id = care.council.id
    line = DemandLine(council_id=council_id, cluster_id=care.cluster.id, service="home_care", hours=hours, slots=["mon_am"], lat=51.5, lon=-0.05,
                      max_rate_pence=2_500, shares=shares)
    run = MatchRun(council_id=council_id)
    session.add_all([line, run])
    session.flush()
    assignment = MatchAssignment(council_id=council_id, run_id=run.id, demand_line_id=line.id, cluster_id=care.cluster.id, provider_id=care.provider.id,
                                 hours=hours, solver_hours=hours, rate_pence=rate, distance_km=1.0, explanation="Near", status=AssignmentStatus.sent)
    session.add(assignment)
    session.flush()
    proposal = Proposal(council_id=council_id, cluster_id=care.cluster.id, kind=ProposalKind.accept_match, title="Accept care from Sunrise Care",
                        payload={"run_id": run.id, "assignment_ids": [assignment.id], **(payload_extra or {})}, deadline=utcnow() + timedelta(days=14))
    session.add(proposal)
    session.flush()
    assignment.proposal_id = proposal.id
    session.add(assignment)
    session.commit()
    return proposal


@pytest.mark.parametrize("who", ["amina", "rep", "broker"])
def test_before_anyone_votes_the_page_says_what_the_care_costs_and_what_each_member_would_pay(client, auth, session, care, who):  # noqa: F811
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    assert auth.sign_in(care.users[who].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert ("If the group agrees, this care costs £264.00 a week. Amina Yusuf would pay £132.00 a week, Bo Chen would pay £132.00 a week.") in text
    assert "The cost is shared by hours each member uses." in text
    assert "Sunrise Care Home care Mornings on Monday 12 £22.00 £264.00" in text
    assert "Nobody has voted yet." in text


def test_the_split_follows_the_rule_the_proposal_names(client, auth, session, care):  # noqa: F811
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1}, payload_extra={"allocation_rule": "by_pledge"})
    assert auth.sign_in(care.users["bo"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "Amina Yusuf would pay £198.00 a week, Bo Chen would pay £66.00 a week." in text
    assert "The cost is shared in proportion to pledges." in text


def test_the_split_by_hours_follows_the_shares_and_sums_to_the_cost(client, auth, session, care):  # noqa: F811
    proposal = _match(session, care, shares={str(care.amina.id): 2, str(care.bo.id): 1}, hours=7, rate=1_001)
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    # £70.07 a week: two thirds and one third, the odd penny to the largest remainder.
    assert "this care costs £70.07 a week. Amina Yusuf would pay £46.71 a week, Bo Chen would pay £23.36 a week." in text


def test_a_member_on_notice_pays_only_until_leaving_and_the_page_says_what_the_others_pay_after(client, auth, session, care):  # noqa: F811
    # Bo, leaving, was shown paying half of new care for good, though Bo could not vote on it and would soon be gone.
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    bo = session.exec(select(Membership).where(Membership.holder_id == care.bo.id, Membership.cluster_id == care.cluster.id)).one()
    bo.status, bo.notice_date, bo.leaves_on = MembershipStatus.leaving, date(2026, 12, 1), date(2026, 12, 29)
    session.add(bo)
    session.commit()
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "Amina Yusuf would pay £132.00 a week, Bo Chen would pay £132.00 a week until leaving the group on 29 December 2026." in text
    assert "Bo Chen is leaving the group, so they do not vote on this. Once they have left, the others pay: Amina Yusuf £264.00 a week." in text


def test_a_proposal_that_is_not_about_care_shows_no_cost(client, auth, session, care):  # noqa: F811
    proposal = Proposal(council_id=care.council.id, cluster_id=care.cluster.id, kind=ProposalKind.free_text, title="Tea",
                        deadline=utcnow() + timedelta(days=14))
    session.add(proposal)
    session.commit()
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    assert "What this care costs" not in _text(client.get(f"/clusters/proposals/{proposal.id}"))


@pytest.mark.parametrize(("status", "said"), [
    (ProposalStatus.passed, "The group agreed to this care at £264.00 a week."),
    (ProposalStatus.rejected, "The group did not agree to this care at £264.00 a week."),
    (ProposalStatus.lapsed, "This care, at £264.00 a week, could no longer be arranged."),
])
def test_once_decided_the_page_says_what_was_put_to_the_vote_not_what_members_would_pay(client, auth, session, care, status, said):  # noqa: F811
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1}, payload_extra={"allocation_rule": "by_pledge"})
    proposal.status, proposal.decided_at = status, utcnow()
    session.add(proposal)
    session.commit()
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert said in text
    assert "The cost was to be shared in proportion to pledges." in text
    assert "Sunrise Care Home care Mornings on Monday 12 £22.00 £264.00" in text
    # What each member pays follows today's pledges, so a decided vote does not say it.
    assert "If the group agrees" not in text and "would pay" not in text


def _no_other_care(session, care):  # noqa: F811
    """End the fixture's contract, so a vote's warning weighs this care alone against the pledges."""
    from brokerage.contracts.rules import ContractStatus

    care.contract.status = ContractStatus.ended
    session.add(care.contract)
    session.commit()


def test_a_member_whose_part_is_more_than_their_pledge_is_warned_before_the_vote(client, auth, session, care):  # noqa: F811
    _no_other_care(session, care)
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    pledges = {m.holder_id: m.weekly_pledge_pence for m in session.exec(select(Membership).where(Membership.cluster_id == care.cluster.id))}
    over = [name for name, holder in (("Amina Yusuf", care.amina), ("Bo Chen", care.bo)) if pledges[holder.id] < 13_200]
    assert auth.sign_in(care.users["broker"].email).status_code == 302  # the broker sees every member's
    page = client.get(f"/clusters/proposals/{proposal.id}").data.decode()
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert over, "the fixture's pledges make no part too big: the test would say nothing"
    for name, holder in (("Amina Yusuf", care.amina), ("Bo Chen", care.bo)):
        said = f"{name} would pay £132.00 a week, more than the £{pledges[holder.id] / 100:,.2f} a week they put into the group"
        assert (said in text) == (name in over), name
    assert 'id="over-pledge"' in page and "of the pool would run down unless they put in more each week." in text
    auth.sign_out()
    # Another member's pledge is theirs to know, as on the group page: Amina is told her own, not Bo's; her
    # representative sees hers; the broker sees both.
    for membership in session.exec(select(Membership).where(Membership.cluster_id == care.cluster.id)):
        membership.weekly_pledge_pence = 5_000
        session.add(membership)
    session.commit()
    amina, bo = ("Amina Yusuf would pay £132.00 a week, more than the £50.00 a week they put into the group",
                 "Bo Chen would pay £132.00 a week, more than the £50.00 a week they put into the group")
    for who, sees in (("amina", {amina}), ("rep", {amina}), ("bo", {bo}), ("broker", {amina, bo})):
        assert auth.sign_in(care.users[who].email).status_code == 302
        text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
        assert {said for said in (amina, bo) if said in text} == sees, who
        auth.sign_out()
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    # A part within the pledge says nothing.
    for membership in session.exec(select(Membership).where(Membership.cluster_id == care.cluster.id)):
        membership.weekly_pledge_pence = 20_000
        session.add(membership)
    session.commit()
    assert 'id="over-pledge"' not in client.get(f"/clusters/proposals/{proposal.id}").data.decode()


def _membership(session, care, holder):
    return session.exec(select(Membership).where(Membership.holder_id == holder.id, Membership.cluster_id == care.cluster.id)).one()


def _set(session, membership, status, leaves_on=None):
    membership.status, membership.notice_date, membership.leaves_on = status, (leaves_on - timedelta(weeks=4) if leaves_on else None), leaves_on
    session.add(membership)
    session.commit()


@pytest.mark.parametrize("who", ["amina", "broker"])
def test_a_member_who_has_left_would_pay_nothing_and_the_others_share_the_care(client, auth, session, care, who):  # noqa: F811
    # The page said "Someone who has left the group would pay £132.00 a week" (the broker saw Bo's name), though each
    # week's timesheet is shared only by those in the group that week (timesheets.pricing.members_in_week).
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    _set(session, _membership(session, care, care.bo), MembershipStatus.left, date(2026, 11, 29))
    assert auth.sign_in(care.users[who].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "If the group agrees, this care costs £264.00 a week. Amina Yusuf would pay £264.00 a week." in text
    assert "1 member this care is for has left the group, and pays nothing for it." in text
    assert "Someone who has left the group" not in text and "Bo Chen would pay" not in text


def test_with_one_member_gone_and_one_on_notice_the_split_is_among_those_who_will_pay(client, auth, session, care):  # noqa: F811
    dee = f.HolderFactory(session=session, council_id=care.council.id, name="Dee Okafor")
    f.MembershipFactory(session=session, council_id=care.council.id, cluster_id=care.cluster.id, holder_id=dee.id, weekly_pledge_pence=2_000)
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1, str(dee.id): 1})
    _set(session, _membership(session, care, dee), MembershipStatus.left, date(2026, 11, 29))
    _set(session, _membership(session, care, care.bo), MembershipStatus.leaving, date(2026, 12, 29))
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert ("If the group agrees, this care costs £264.00 a week. Amina Yusuf would pay £132.00 a week, "
            "Bo Chen would pay £132.00 a week until leaving the group on 29 December 2026.") in text
    assert "Bo Chen is leaving the group, so they do not vote on this. Once they have left, the others pay: Amina Yusuf £264.00 a week." in text
    assert "1 member this care is for has left the group, and pays nothing for it." in text
    assert "Someone who has left the group" not in text


def test_a_member_past_their_last_day_pays_nothing_though_their_leaving_is_not_yet_settled(client, auth, session, care):  # noqa: F811
    # Bo's last day was yesterday (30 November): the page still had Bo paying "until leaving the group on 30 November 2026".
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    _set(session, _membership(session, care, care.bo), MembershipStatus.leaving, date(2026, 11, 30))
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "If the group agrees, this care costs £264.00 a week. Amina Yusuf would pay £264.00 a week." in text
    assert "until leaving" not in text and "Bo Chen would pay" not in text
    assert "1 member this care is for has left the group, and pays nothing for it." in text


def test_care_only_for_members_who_have_left_is_said_to_be_shared_by_nobody(client, auth, session, care):  # noqa: F811
    proposal = _match(session, care, shares={str(care.bo.id): 1}, payload_extra={"allocation_rule": "by_pledge"})
    _set(session, _membership(session, care, care.bo), MembershipStatus.left, date(2026, 11, 29))
    assert auth.sign_in(care.users["broker"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "If the group agrees, this care costs £264.00 a week. 1 member this care is for has left the group, and pays nothing for it." in text
    assert "Nobody in the group would share its cost." in text
    assert "would pay" not in text and "everyone would pay the same" not in text


def test_a_change_of_care_is_split_now_and_after_among_the_members_still_in_the_group(client, auth, session, care):  # noqa: F811
    proposal = changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, rate_pence=2_400)
    session.commit()
    _set(session, _membership(session, care, care.bo), MembershipStatus.left, date(2026, 11, 29))
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "If the group agrees, this care will cost £288.00 a week (now £264.00). Amina Yusuf would pay £288.00 a week (now £264.00)." in text
    assert "1 member this care is for has left the group, and pays nothing for it." in text
    assert "Someone who has left the group" not in text


def test_a_member_on_notice_is_told_as_you_that_they_no_longer_vote_and_why_their_vote_is_not_counted(client, auth, session, care):  # noqa: F811
    # Amina, on notice, read "Amina Yusuf is leaving the group, so they do not vote on this", her vote said "not counted: no
    # longer a voting member" and the Vote form was gone without a word.
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    session.add(Vote(council_id=care.council.id, proposal_id=proposal.id, holder_id=care.amina.id, choice=Choice.yes, cast_by_id=care.users["amina"].id))
    session.commit()
    _set(session, _membership(session, care, care.amina), MembershipStatus.leaving, date(2026, 12, 29))
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    # Said once, by the vote: the cost said it too ("You are leaving the group, so you no longer vote on this" twice).
    assert "You are leaving the group. Once you have left, the others pay: Bo Chen £264.00 a week." in text
    assert text.count("no longer vote on this") == 1
    assert "Vote You are leaving the group, so you no longer vote on this. A vote you cast before giving notice no longer counts." in text
    assert "Yes (not counted: you are leaving the group)" in text
    assert "Amina Yusuf is leaving" not in text and "no longer a voting member" not in text
    auth.sign_out()
    assert auth.sign_in(care.users["rep"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    # Their representative too reads it once, by the vote.
    assert "Amina Yusuf is leaving the group. Once they have left" in text and text.count("vote on this") == 1
    assert ("Vote Amina Yusuf is leaving the group, so they no longer vote on this and you cannot vote for them. "
            "A vote cast before they gave notice no longer counts.") in text
    assert "Yes (not counted: they are leaving the group)" in text
    auth.sign_out()
    assert auth.sign_in(care.users["bo"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert "Amina Yusuf is leaving the group, so they do not vote on this." in text and "Yes (not counted: they are leaving the group)" in text
    assert 'id="no-vote"' not in client.get(f"/clusters/proposals/{proposal.id}").data.decode()


def _fund(session, care, holder, pence):  # noqa: F811
    from brokerage.accounts.system import system_actor
    from brokerage.ledger import rules as ledger_rules
    from brokerage.ledger.services import EntrySpec, post_in_batches

    wallet = ledger_rules.wallet_code(holder.id)
    specs = [EntrySpec("dp_issued", [(ledger_rules.funding_code(care.council.id), -pence), (wallet, pence)], f"dp:{holder.id}:t1"),
             EntrySpec("pledge_collected", [(wallet, -pence), (ledger_rules.pool_code(care.cluster.id, holder.id), pence)], f"pledge:{holder.id}:t1")]
    outcomes = post_in_batches(session=session, actor=system_actor(session=session, council_id=care.council.id), council_id=care.council.id, entries=specs)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    session.commit()


def test_a_part_that_outgrows_the_pledge_once_a_leaver_has_gone_is_warned_with_how_long_the_share_lasts(client, auth, session, care):  # noqa: F811
    # Amina would pay £264.00 a week once Bo had left, against a £200.00 pledge, and the page gave no warning.
    _no_other_care(session, care)
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})
    amina = _membership(session, care, care.amina)
    amina.weekly_pledge_pence = 20_000
    session.add(amina)
    session.commit()
    _set(session, _membership(session, care, care.bo), MembershipStatus.leaving, date(2026, 12, 29))
    _fund(session, care, care.amina, 43_537)
    said = "Amina Yusuf would pay £264.00 a week, more than the £200.00 a week they put into the group"
    for who in ("amina", "broker"):
        assert auth.sign_in(care.users[who].email).status_code == 302
        text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
        # £435.37 covers £64.00 a week short for 6 whole weeks.
        assert f"{said}: their share of the pool would cover the difference for about 6 weeks" in text, who
        auth.sign_out()
    # A representative without leave to see money is warned, but not told what the share holds.
    from brokerage.holders.models import Representation

    leave = session.exec(select(Representation).where(Representation.representative_id == care.users["rep"].id)).one()
    leave.may_see_money = False
    session.add(leave)
    session.commit()
    assert auth.sign_in(care.users["rep"].email).status_code == 302
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert f"{said}." in text and "would cover the difference" not in text


def test_the_warning_counts_what_the_member_already_pays_for_the_groups_care_and_says_when_it_passes_their_budget(client, auth, session, care):  # noqa: F811
    # The warning weighed this care's part alone against the pledge: Faduma, already paying £25.80 a week for care in
    # place, was told her share lasted 8 weeks, not 5, and not that she would pay more than her whole budget (tester, R5-7).
    proposal = _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1}, hours=6)
    amina = _membership(session, care, care.amina)
    amina.weekly_pledge_pence = 20_000
    care.amina.weekly_allocation_pence = 22_000
    session.add_all([amina, care.amina])
    session.commit()
    _fund(session, care, care.amina, 43_537)
    # This care: 6 hours at £22.00 shared by hours, £66.00 each; the contract in place: £132.00 each; £198.00 in all.
    said = ("Amina Yusuf would pay £66.00 a week for this care and £132.00 a week for the group's care already in place, £198.00 in all, "
            "more than the £200.00 a week they put into the group")
    assert auth.sign_in(care.users["amina"].email).status_code == 302
    assert "would pay" in _text(client.get(f"/clusters/proposals/{proposal.id}")) and said not in _text(client.get(f"/clusters/proposals/{proposal.id}"))
    amina.weekly_pledge_pence = 10_000
    session.add(amina)
    session.commit()
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    said = said.replace("£200.00", "£100.00")
    # £435.37 covers £98.00 a week short for 4 whole weeks; £198.00 is less than her £220.00 budget.
    assert f"{said}: their share of the pool would cover the difference for about 4 weeks." in text
    assert "whole weekly budget" not in text
    care.amina.weekly_allocation_pence = 15_000
    session.add(care.amina)
    session.commit()
    text = _text(client.get(f"/clusters/proposals/{proposal.id}"))
    assert f"{said}: their share of the pool would cover the difference for about 4 weeks, and that is more than their whole weekly budget of £150.00." in text
