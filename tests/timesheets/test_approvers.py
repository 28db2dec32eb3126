"""A group chooses, by a passed proposal, the member who approves its timesheets; that member or their representative may then decide."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.clusters import governance
from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.timesheets import approval, approvers, queries, sheets
from brokerage.timesheets.models import TimesheetApprover
from brokerage.timesheets.rules import TimesheetStatus
from tests import factories as f
from tests.timesheets.helpers import NOW, WEEK, care_entries, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


@pytest.fixture()
def care(session):
    return make_care(session)


def choose(session, care, holder, voters=(0, 1)):
    proposal = approvers.propose_approver(session=session, actor=care.users[2], cluster_id=care.cluster.id, holder_id=holder.id)
    for i in voters:
        proposal = governance.cast_vote(session=session, actor=care.users[i], proposal_id=proposal.id, holder_id=care.holders[i].id,
                                        choice=Choice.yes)
    return proposal


def waiting_sheet(session, care, member=0):
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[member], 0))
    return sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)


def test_a_passed_proposal_records_the_approver_who_can_then_approve(session, care):
    amina = care.holders[0]
    proposal = choose(session, care, amina)
    assert proposal.kind == ProposalKind.choose_approver and proposal.status == ProposalStatus.passed
    assert proposal.title == "Choose Amina Hassan to approve timesheets"
    row = session.exec(select(TimesheetApprover).where(TimesheetApprover.cluster_id == care.cluster.id)).one()
    assert (row.holder_id, row.proposal_id) == (amina.id, proposal.id)
    sheet = waiting_sheet(session, care)
    assert [(w.sheet.id, w.approver) for w in queries.waiting_for_member(session=session, actor=care.users[0])] == [(sheet.id, "Amina Hassan")]
    assert queries.waiting_for_member(session=session, actor=care.users[1]) == []
    with pytest.raises(NotAllowed):
        approval.approve(session=session, actor=care.users[1], timesheet_id=sheet.id)
    approved = approval.approve(session=session, actor=care.users[0], timesheet_id=sheet.id)
    assert approved.status == TimesheetStatus.approved and approved.decided_by_id == care.users[0].id
    assert len(care_entries(session, care.council.id)) == 1


def test_the_approvers_representative_can_send_a_sheet_back(session, care):
    choose(session, care, care.holders[0])
    rep = f.UserFactory(session=session, role=Role.representative, council_id=care.council.id)
    f.RepresentationFactory(session=session, council_id=care.council.id, representative_id=rep.id, holder_id=care.holders[0].id)
    sheet = waiting_sheet(session, care)
    rejected = approval.reject(session=session, actor=rep, timesheet_id=sheet.id, reason="Wrong day")
    assert rejected.status == TimesheetStatus.rejected and rejected.rejection_reason == "Wrong day"


def test_a_new_choice_replaces_the_old_one(session, care):
    choose(session, care, care.holders[0])
    choose(session, care, care.holders[1], voters=(0, 1))
    rows = session.exec(select(TimesheetApprover).where(TimesheetApprover.cluster_id == care.cluster.id)).all()
    assert [r.holder_id for r in rows] == [care.holders[1].id]


def test_an_approver_who_left_the_group_approves_no_more(session, care):
    choose(session, care, care.holders[0])
    membership = session.exec(select(Membership).where(Membership.holder_id == care.holders[0].id)).one()
    membership.status = MembershipStatus.left  # the test stands in for the end of a notice period
    session.add(membership)
    session.flush()
    sheet = waiting_sheet(session, care, member=1)  # care for someone who has left is not paid from the pool
    with pytest.raises(NotFound):
        approval.approve(session=session, actor=care.users[0], timesheet_id=sheet.id)
    assert approvers.approver_of(session=session, cluster_id=care.cluster.id) is None


def test_choosing_someone_outside_the_group_or_by_an_outsider_is_refused(session, care):
    with pytest.raises(ValidationFailed) as refused:
        approvers.propose_approver(session=session, actor=care.users[0], cluster_id=care.cluster.id, holder_id=care.outsider.holder_id)
    assert refused.value.errors == {"holder_id": ["Choose a member of this group"]}
    with pytest.raises(NotFound):
        approvers.propose_approver(session=session, actor=care.outsider, cluster_id=care.cluster.id, holder_id=care.holders[0].id)
    other = make_care(session)
    with pytest.raises(NotFound):
        approvers.propose_approver(session=session, actor=other.broker, cluster_id=care.cluster.id, holder_id=care.holders[0].id)


def test_a_choice_of_someone_who_left_before_the_vote_ends_lapses(session, care):
    proposal = approvers.propose_approver(session=session, actor=care.broker, cluster_id=care.cluster.id, holder_id=care.holders[2].id)
    membership = session.exec(select(Membership).where(Membership.holder_id == care.holders[2].id)).one()
    membership.status = MembershipStatus.leaving  # on notice, so no longer choosable
    session.add(membership)
    session.flush()
    for i in (0, 1):
        proposal = governance.cast_vote(session=session, actor=care.users[i], proposal_id=proposal.id, holder_id=care.holders[i].id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.lapsed and "Chen Li is no longer a member" in proposal.outcome
    assert session.exec(select(TimesheetApprover)).all() == []
