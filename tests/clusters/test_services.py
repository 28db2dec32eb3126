"""Forming, joining, voting, pledging, leaving and dissolving, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage.clusters import governance, queries, rules, runs
from brokerage.clusters.members import cluster_members, get_cluster
from brokerage.clusters.membership import create_cluster, set_pledge, settle_leavers
from brokerage.clusters.errors import AlreadyVoted, NotAMember, PledgeTooHigh, ProposalClosed
from brokerage.clusters.areas import areas_of
from brokerage.clusters.models import Cluster, ClusterDistrict, ClusterStatus, Membership, MembershipStatus, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.errors import NotAllowed, NotFound
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import balance
from brokerage.types import utcnow
from tests import factories as f
from tests.ledger.conftest import sweep


def found(session, people, min_size=3):
    """Member 0 founds a cluster; members 1 and 2 join by vote."""
    cluster = create_cluster(session=session, actor=people.users[0], name="Somali elders", description="Home care in Somali",
                                      kinds=["culture", "neighbourhood"], districts=["E1"], min_size=min_size, max_size=6, founder_pledge=5_000)
    return cluster


def join(session, people, cluster, index, pledge=5_000, voters=()):
    proposal = governance.request_to_join(session=session, actor=people.users[index], cluster_id=cluster.id, holder_id=people.holders[index].id, pledge=pledge)
    for voter in voters:
        if proposal.status == ProposalStatus.open:
            governance.cast_vote(session=session, actor=people.users[voter], proposal_id=proposal.id, holder_id=people.holders[voter].id, choice=Choice.yes)
    return proposal


def membership(session, cluster, holder):
    return session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.holder_id == holder.id)).one()


def test_a_cluster_forms_by_vote_and_becomes_active_at_its_minimum_size(session, people):
    cluster = found(session, people)
    assert cluster.status == ClusterStatus.forming
    assert membership(session, cluster, people.holders[0]).status == MembershipStatus.admitted
    first = join(session, people, cluster, 1, voters=[0])
    assert first.status == ProposalStatus.passed and "joined" in first.outcome
    assert cluster.status == ClusterStatus.forming
    second = join(session, people, cluster, 2, voters=[0, 1])
    assert second.status == ProposalStatus.passed
    assert cluster.status == ClusterStatus.active
    assert {m.status for m, _ in cluster_members(session=session, actor=people.users[0], cluster=cluster)} == {MembershipStatus.active}


def test_a_join_request_that_is_voted_down_leaves_no_member(session, people):
    cluster = found(session, people, min_size=2)
    proposal = join(session, people, cluster, 1)
    governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.no)
    assert proposal.status == ProposalStatus.rejected
    assert membership(session, cluster, people.holders[1]).status == MembershipStatus.left


def test_each_member_votes_once_and_only_members_vote(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    proposal = join(session, people, cluster, 2)
    governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.abstain)
    with pytest.raises(AlreadyVoted):
        governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.yes)
    with pytest.raises(NotAMember):
        governance.cast_vote(session=session, actor=people.users[3], proposal_id=proposal.id, holder_id=people.holders[3].id, choice=Choice.yes)
    with pytest.raises(NotFound):
        governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[1].id, choice=Choice.yes)


def test_a_representative_votes_only_for_the_holders_they_act_for_and_is_recorded(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 3, voters=[0, 1])
    proposal = governance.propose(session=session, actor=people.users[3], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Meet on Fridays")
    governance.cast_vote(session=session, actor=people.rep, proposal_id=proposal.id, holder_id=people.holders[1].id, choice=Choice.yes)
    vote = session.exec(select(Vote).where(Vote.proposal_id == proposal.id)).one()
    assert vote.holder_id == people.holders[1].id and vote.cast_by_id == people.rep.id
    member = membership(session, cluster, people.holders[1])
    set_pledge(session=session, actor=people.rep, membership_id=member.id, pledge=4_000)
    assert member.changed_by_id == people.rep.id and member.changed_at is not None
    with pytest.raises(NotFound):
        governance.cast_vote(session=session, actor=people.rep, proposal_id=proposal.id, holder_id=people.holders[3].id, choice=Choice.yes)


def test_a_broker_cannot_vote(session, people):
    cluster = found(session, people, min_size=2)
    proposal = join(session, people, cluster, 1)
    with pytest.raises(NotAllowed):
        governance.cast_vote(session=session, actor=people.broker, proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.yes)


def test_pledges_across_clusters_never_exceed_the_allocation(session, people):
    cluster = found(session, people, min_size=2)
    other = create_cluster(session=session, actor=people.users[0], name="Second", description="", kinds=["goal"], districts=["E1"], founder_pledge=14_000)
    with pytest.raises(PledgeTooHigh, match="You can pledge up to £60.00 a week here"):
        set_pledge(session=session, actor=people.users[0], membership_id=membership(session, cluster, people.holders[0]).id, pledge=6_001)
    set_pledge(session=session, actor=people.users[0], membership_id=membership(session, cluster, people.holders[0]).id, pledge=6_000)
    with pytest.raises(PledgeTooHigh):
        governance.request_to_join(session=session, actor=people.users[1], cluster_id=other.id, holder_id=people.holders[1].id, pledge=20_001)


def test_a_passed_proposal_applies_in_the_same_transaction(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 2, voters=[0, 1])
    target = membership(session, cluster, people.holders[2])
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.change_pledges,
                                title="Everyone pledges £60", payload={"pledges": {str(target.id): 6_000}})
    for voter in (0, 1):
        governance.cast_vote(session=session, actor=people.users[voter], proposal_id=proposal.id, holder_id=people.holders[voter].id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.passed
    assert target.weekly_pledge_pence == 6_000


def test_a_proposal_past_its_deadline_is_decided_by_the_votes_cast(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 2, voters=[0, 1])
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Outing")
    governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.yes)
    decided = governance.close_due_proposals(session=session, actor=people.job, council_id=people.council.id, now=utcnow() + timedelta(days=15))
    assert decided.done == [proposal] and decided.failed == [] and proposal.status == ProposalStatus.rejected and "not enough members voted" in proposal.outcome
    with pytest.raises(ProposalClosed):
        governance.cast_vote(session=session, actor=people.users[1], proposal_id=proposal.id, holder_id=people.holders[1].id, choice=Choice.yes)


def money_in(session, people, cluster, period=None):
    # Members joined today, so this week is the first they pay for.
    period = period or rules.period_of(runs.today())
    runs.issue_dp(session=session, actor=people.job, council_id=people.council.id, period=period)
    return runs.collect_pledges(session=session, actor=people.job, council_id=people.council.id, period=period)


def test_issuing_and_collecting_are_idempotent_per_period(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 2, voters=[0, 1])
    report = money_in(session, people, cluster)
    assert report.posted == 3 and report.total_pence == 15_000
    again = money_in(session, people, cluster)
    assert again.posted == 0 and again.already == 3
    share = ledger_rules.pool_code(cluster.id, people.holders[0].id)
    assert balance(session=session, actor=people.job, council_id=people.council.id, code=share) == 5_000
    assert balance(session=session, actor=people.job, council_id=people.council.id, code=ledger_rules.wallet_code(people.holders[0].id)) == 15_000
    assert sweep(session) == []


def test_a_leaver_gets_their_pool_share_back_after_notice(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 2, voters=[0, 1])
    money_in(session, people, cluster)
    leaving = membership(session, cluster, people.holders[2])
    governance.give_notice(session=session, actor=people.users[2], membership_id=leaving.id)
    assert leaving.status == MembershipStatus.leaving and leaving.leaves_on == leaving.notice_date + timedelta(weeks=4)
    assert settle_leavers(session=session, actor=people.job, council_id=people.council.id, today=leaving.leaves_on).done == []
    settled = settle_leavers(session=session, actor=people.job, council_id=people.council.id, today=leaving.leaves_on + timedelta(days=1))
    assert [(m.id, amount) for m, amount in settled.done] == [(leaving.id, 5_000)] and settled.failed == []
    assert leaving.status == MembershipStatus.left
    assert balance(session=session, actor=people.job, council_id=people.council.id, code=ledger_rules.wallet_code(people.holders[2].id)) == 20_000
    assert sweep(session) == []


def test_dissolving_needs_two_thirds_and_returns_every_share(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 2, voters=[0, 1])
    money_in(session, people, cluster)
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.dissolve, title="Close the group")
    governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.open
    governance.cast_vote(session=session, actor=people.users[1], proposal_id=proposal.id, holder_id=people.holders[1].id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.passed
    assert cluster.status == ClusterStatus.closed
    for holder in people.holders[:3]:
        assert balance(session=session, actor=people.job, council_id=people.council.id, code=ledger_rules.pool_code(cluster.id, holder.id)) == 0
        assert balance(session=session, actor=people.job, council_id=people.council.id, code=ledger_rules.wallet_code(holder.id)) == 20_000
    # The members decided, so the refunds are the council's system user's act, not the last voter's.
    refunds = session.exec(select(JournalEntry).where(JournalEntry.kind == "member_refund", JournalEntry.council_id == people.council.id)).all()
    assert len(refunds) == 3 and {entry.actor_id for entry in refunds} == {people.job.id}
    assert sweep(session) == []


def test_closing_a_group_with_an_empty_pool_says_no_money_moved(session, people):
    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.dissolve, title="Close the group")
    for k in (0, 1):
        governance.cast_vote(session=session, actor=people.users[k], proposal_id=proposal.id, holder_id=people.holders[k].id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.passed and cluster.status == ClusterStatus.closed
    # Not "£0.00 went back to members' wallets".
    assert proposal.outcome.endswith(". The group is closed. Its pool held no money, so nothing needed to go back to members.")
    assert session.exec(select(JournalEntry).where(JournalEntry.kind == "member_refund", JournalEntry.council_id == people.council.id)).all() == []


def test_suggestions_and_search_find_clusters_for_me(session, people):
    cluster = found(session, people, min_size=2)
    create_cluster(session=session, actor=people.users[4], name="Bengali circle", description="", kinds=["culture"], districts=["E1"], founder_pledge=1_000)
    mine = queries.suggestions_for(session=session, actor=people.users[1], holder_id=people.holders[1].id)
    assert mine[0][0].id == cluster.id and "speaks Somali" in mine[0][1].reason
    assert [c.id for c, _, _ in queries.find_clusters(session=session, actor=people.users[1], language="so")] == [cluster.id]
    assert queries.find_clusters(session=session, actor=people.users[1], kind="care_need") == []


def test_another_councils_holder_cannot_see_or_join(session, people):
    cluster = found(session, people, min_size=2)
    with pytest.raises(NotFound):
        get_cluster(session=session, actor=people.outsider, cluster_id=cluster.id)
    with pytest.raises(NotFound):
        governance.request_to_join(session=session, actor=people.outsider, cluster_id=cluster.id, holder_id=people.outsider_holder.id, pledge=100)
    assert queries.find_clusters(session=session, actor=people.outsider) == []


def test_a_removal_names_the_member_and_not_someone_already_leaving(session, people):
    from brokerage.errors import ValidationFailed

    cluster = found(session, people)
    join(session, people, cluster, 1, voters=[0])
    join(session, people, cluster, 2, voters=[0, 1])
    target = membership(session, cluster, people.holders[2])
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.remove_member,
                                title="Missed every meeting", payload={"membership_id": target.id})
    assert proposal.title == "Ask Member 2 to leave: Missed every meeting"
    governance.give_notice(session=session, actor=people.users[2], membership_id=target.id)
    with pytest.raises(ValidationFailed):
        governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.remove_member,
                         title="Again", payload={"membership_id": target.id})


def test_joining_founding_or_changing_to_a_zero_pledge_is_refused(session, people):
    from brokerage.errors import ValidationFailed

    cluster = found(session, people, min_size=2)
    with pytest.raises(ValidationFailed) as caught:
        governance.request_to_join(session=session, actor=people.users[1], cluster_id=cluster.id, holder_id=people.holders[1].id, pledge=0)
    assert list(caught.value.errors) == ["pledge"] and "more than £0" in caught.value.errors["pledge"][0]
    with pytest.raises(ValidationFailed):
        create_cluster(session=session, actor=people.users[4], name="Nothing in", description="", kinds=["goal"], districts=["E1"], founder_pledge=0)
    founder = membership(session, cluster, people.holders[0])
    with pytest.raises(ValidationFailed):
        set_pledge(session=session, actor=people.users[0], membership_id=founder.id, pledge=0)
    with pytest.raises(ValidationFailed) as caught:
        governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.change_pledges,
                         title="Pay nothing", payload={"pledges": {founder.id: 0}})
    assert "pledges" in caught.value.errors


def test_a_groups_area_must_be_one_of_the_councils_postcode_districts(session, people):
    from brokerage.errors import ValidationFailed

    for districts in (["ZZ9"], ["E1", "E3"], ["LS6"]):
        with pytest.raises(ValidationFailed) as caught:
            create_cluster(session=session, actor=people.users[4], name="Far away", description="", kinds=["goal"], districts=districts, founder_pledge=1_000)
        assert caught.value.errors["districts"] == ["Choose from your council's districts: E1, E2"]
    assert session.exec(select(Cluster).where(Cluster.name == "Far away")).first() is None
    cluster = create_cluster(session=session, actor=people.users[4], name="Near", description="", kinds=["goal"], districts=[" e2 ", "E1", "e2"], founder_pledge=1_000)
    assert areas_of(session=session, cluster_ids=[cluster.id]) == {cluster.id: ["E1", "E2"]}
    # The founder lives in E1, inside the area: near their home places the group, never the home itself (anyone
    # can type postcodes into "Find a group" and read distances). No district centre is known here: about a km.
    founder = people.holders[4]
    assert (cluster.lat, cluster.lon) == (round(founder.lat, 2), round(founder.lon, 2)) != (founder.lat, founder.lon)


def test_a_group_is_placed_at_its_founders_district_centre_never_their_home(session, people, places):
    founder = people.holders[4]
    founder.postcode, founder.lat, founder.lon = "E1 6AN", 51.5203, -0.0714  # their own postcode's centre, about 15 homes
    session.flush()
    assert founder.postcode_district == "E1"
    for districts in ([], ["E1", "E2"]):
        cluster = create_cluster(session=session, actor=people.users[4], name=f"Near {len(districts)}", description="", kinds=["goal"],
                                 districts=districts, founder_pledge=1_000)
        assert (cluster.lat, cluster.lon) == (51.5155, -0.0590)  # the centre of E1


def test_a_group_with_no_founder_is_placed_at_the_middle_of_its_area(session, people, places):
    from brokerage.errors import ValidationFailed

    cluster = create_cluster(session=session, actor=people.broker, name="Whitechapel and Bethnal Green", description="", kinds=["neighbourhood"],
                             districts=["E2", "E1"])
    assert (cluster.lat, cluster.lon) == (round((51.5155 + 51.5290) / 2, 6), round((-0.0590 - 0.0600) / 2, 6))
    assert areas_of(session=session, cluster_ids=[cluster.id]) == {cluster.id: ["E1", "E2"]}
    with pytest.raises(ValidationFailed) as caught:
        create_cluster(session=session, actor=people.broker, name="Nowhere", description="", kinds=["goal"])
    assert "Choose the districts the group covers" in caught.value.errors["districts"][0]


def test_a_founder_who_lives_outside_the_area_does_not_pull_the_group_out_of_it(session, people, places):
    founder = people.holders[4]
    assert founder.postcode_district == "E1"
    cluster = create_cluster(session=session, actor=people.users[4], name="Bethnal Green walkers", description="", kinds=["goal"],
                             districts=["E2"], founder_pledge=1_000)
    assert (cluster.lat, cluster.lon) == (51.5290, -0.0600) != (founder.lat, founder.lon)  # the centre of E2


def test_a_group_with_no_place_is_placed_when_care_is_asked_for_and_never_at_latitude_zero(session, people, places):
    from brokerage.matching.services import add_demand_line, build_instance

    cluster = found(session, people, min_size=2)
    governance.request_to_join(session=session, actor=people.users[1], cluster_id=cluster.id, holder_id=people.holders[1].id, pledge=2_000)
    for membership in session.exec(select(Membership).where(Membership.cluster_id == cluster.id)):
        membership.status = MembershipStatus.active
    cluster.status = ClusterStatus.active
    # As a group a broker started before areas were kept: no place, and no area.
    people.holders[1].lat, people.holders[1].lon = 51.5291, -0.0554  # lives in E2 9PA
    cluster.lat = cluster.lon = None
    session.exec(ClusterDistrict.__table__.delete().where(ClusterDistrict.cluster_id == cluster.id))
    session.flush()
    line = add_demand_line(session=session, actor=people.broker, cluster_id=cluster.id, service="home_care", hours=4, slots=["mon_am"],
                           languages=[], language_required=False, carer_gender=None, max_rate_pence=2_500)
    # Near its members, never one of their homes: the middle of their districts' centres, to about a kilometre.
    centres = {"E1": (51.5155, -0.0590), "E2": (51.5290, -0.0600)}
    points = [centres[h.postcode_district] for h in (people.holders[0], people.holders[1])]
    middle = (round(sum(lat for lat, _ in points) / 2, 2), round(sum(lon for _, lon in points) / 2, 2))
    assert (line.lat, line.lon) == middle == (cluster.lat, cluster.lon)
    sent = next(d for d in build_instance(session=session, actor=people.broker, council_id=cluster.council_id)["demand"] if d["id"] == f"d-{line.id}")
    assert sent["location"] == {"lat": middle[0], "lon": middle[1]}


def test_a_group_with_no_founder_in_districts_nobody_has_placed_is_refused(session, people):
    from brokerage.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        create_cluster(session=session, actor=people.broker, name="Unplaced", description="", kinds=["goal"], districts=["E1"])
    assert caught.value.errors["districts"] == ["We do not know where these districts are yet. Ask your council to load the postcode table"]
    assert session.exec(select(Cluster).where(Cluster.name == "Unplaced")).first() is None


def test_the_database_refuses_a_district_that_is_not_the_groups_councils(session, people):
    from sqlalchemy.exc import IntegrityError

    cluster = create_cluster(session=session, actor=people.users[4], name="Mine", description="", kinds=["goal"], founder_pledge=1_000)
    other = f.CouncilFactory(session=session)
    f.claim_districts(session, other, "LS7")
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(ClusterDistrict(cluster_id=cluster.id, district="LS7", council_id=cluster.council_id))
        session.flush()


def test_search_by_area_uses_the_set_of_districts(session, people):
    both = create_cluster(session=session, actor=people.users[4], name="Both", description="", kinds=["goal"], districts=["E1", "E2"], founder_pledge=1_000)
    only_e1 = create_cluster(session=session, actor=people.users[3], name="Only E1", description="", kinds=["goal"], districts=["E1"], founder_pledge=1_000)
    anywhere = create_cluster(session=session, actor=people.users[2], name="Anywhere", description="", kinds=["goal"], founder_pledge=1_000)
    found_in = lambda d: [c.id for c, _, _ in queries.find_clusters(session=session, actor=people.users[1], district=d)]  # noqa: E731
    assert found_in("E2") == [both.id]
    assert found_in("E1") == [both.id, only_e1.id]
    assert found_in(None) == [anywhere.id, both.id, only_e1.id]
