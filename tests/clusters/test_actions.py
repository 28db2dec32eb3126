"""What a passed proposal does comes from a registry of actions; a kind nobody registered stops loudly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlmodel import select

import brokerage
from brokerage.clusters import actions, governance, membership
from brokerage.clusters.actions import ProposalAction
from brokerage.clusters.errors import ProposalActionMissing
from brokerage.clusters.models import Proposal
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.errors import NotFound
from tests import factories as f

CLUSTERS = Path(brokerage.__file__).parent / "clusters"


def _group_of_two(session, people):
    cluster = f.ClusterFactory(session=session, council_id=people.council.id, max_size=6)
    for holder in people.holders[:2]:
        f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=cluster.id, holder_id=holder.id)
    session.flush()
    return cluster


def test_every_kind_of_proposal_has_an_action_once_the_app_is_made(app):
    for kind in ProposalKind:
        assert isinstance(actions.action_for(kind), ProposalAction)


def test_a_kind_with_no_action_stops_the_decision_loudly_and_leaves_the_vote_open(session, people, monkeypatch):
    cluster = _group_of_two(session, people)
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Tea")
    monkeypatch.delitem(actions._ACTIONS, ProposalKind.free_text)
    governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=people.holders[0].id, choice=Choice.yes)
    with pytest.raises(ProposalActionMissing, match="free_text"):
        governance.cast_vote(session=session, actor=people.users[1], proposal_id=proposal.id, holder_id=people.holders[1].id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.open


def test_a_kind_with_no_action_cannot_be_put_to_a_vote(session, people, monkeypatch):
    cluster = _group_of_two(session, people)
    monkeypatch.delitem(actions._ACTIONS, ProposalKind.accept_match)
    with pytest.raises(ProposalActionMissing, match="accept_match"):
        governance.open_proposal(session=session, actor=people.broker, cluster_id=cluster.id, kind=ProposalKind.accept_match, title="Care")
    with pytest.raises(ProposalActionMissing):
        governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.accept_match, title="Care")
    assert session.exec(select(Proposal).where(Proposal.cluster_id == cluster.id)).all() == []


def test_a_registered_action_is_what_a_passed_proposal_does(session, people, monkeypatch):
    cluster = _group_of_two(session, people)
    done = []
    action = ProposalAction(apply=lambda *, session, proposal, actor: done.append(proposal.id) or "Done by the test.")
    monkeypatch.delitem(actions._ACTIONS, ProposalKind.free_text)
    actions.register(ProposalKind.free_text, action)
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Tea")
    for user, holder in zip(people.users[:2], people.holders[:2]):
        governance.cast_vote(session=session, actor=user, proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes)
    assert done == [proposal.id] and proposal.outcome.endswith("Done by the test.")


def test_registering_the_same_action_again_changes_nothing_and_another_is_refused():
    current = actions.action_for(ProposalKind.dissolve)
    actions.register(ProposalKind.dissolve, current)
    assert actions.action_for(ProposalKind.dissolve) is current
    with pytest.raises(ValueError, match="already registered"):
        actions.register(ProposalKind.dissolve, ProposalAction(apply=lambda **_: ""))


def test_another_package_opens_a_proposal_only_in_its_own_council(session, people, world):
    cluster = _group_of_two(session, people)
    with pytest.raises(NotFound):
        governance.open_proposal(session=session, actor=world.users["a"][people.broker.role], cluster_id=cluster.id,
                                 kind=ProposalKind.free_text, title="Elsewhere")
    proposal = governance.open_proposal(session=session, actor=people.broker, cluster_id=cluster.id, kind=ProposalKind.free_text,
                                        title="Tea", payload={"note": 1}, days=3)
    assert proposal.status == ProposalStatus.open and proposal.payload == {"note": 1} and proposal.created_by_id == people.broker.id


def test_clusters_never_imports_matching_not_even_inside_a_function():
    found = []
    for path in sorted(CLUSTERS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}:{node.lineno} {name}" for name in names if name.startswith("brokerage.matching")]
    assert found == []


def test_a_proposal_for_a_group_that_does_not_exist_is_not_found(session, people):
    with pytest.raises(NotFound):
        governance.open_proposal(session=session, actor=people.broker, cluster_id=2**31 - 1, kind=ProposalKind.free_text, title="Tea")


@pytest.mark.parametrize("call", ["close_due_proposals", "settle_leavers"])
def test_a_scheduled_run_without_an_acting_user_is_refused_before_it_does_anything(session, people, call):
    # A job acts as its council's system user; no service skips the council check for want of an actor.
    run = getattr(governance, call, None) or getattr(membership, call)
    with pytest.raises(TypeError, match="without the acting user"):
        run(session=session, actor=None, council_id=people.council.id)
