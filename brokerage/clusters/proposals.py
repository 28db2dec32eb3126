"""Proposal records: make one, decide one once, read them with their votes, and count them.

Below `actions` and `governance`: nothing here decides what a proposal does, or when.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Council, User
from brokerage.clusters import rules
from brokerage.clusters.members import eligible_voters, get_cluster
from brokerage.clusters.models import Cluster, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.holders.models import Holder
from brokerage.types import utcnow

PROPOSAL_DAYS = 14


def new_proposal(
    *, session: Session, actor: User, cluster: Cluster, kind: ProposalKind, title: str, description: str = "",
    payload: dict | None = None, days: int = PROPOSAL_DAYS,
) -> Proposal:
    """Add an open proposal to a cluster with a deadline `days` from now (the checks are the caller's)."""
    proposal = Proposal(
        council_id=cluster.council_id, cluster_id=cluster.id, kind=kind, title=title[:200], description=description,
        payload=dict(payload or {}), created_by_id=actor.id, deadline=utcnow() + timedelta(days=days),
    )
    session.add(proposal)
    session.flush()
    return proposal


def close_proposal(*, session: Session, proposal: Proposal, status: ProposalStatus, outcome: str) -> None:
    """Decide a proposal once: move it from open to its final status and record the outcome."""
    proposal.status = ProposalStatus(rules.move_proposal(proposal.status, ProposalStatus(status)))
    proposal.outcome = outcome[:300]
    proposal.decided_at = utcnow()
    session.add(proposal)
    session.flush()


def open_proposals(*, session: Session, cluster_id: int, kind: ProposalKind | None = None) -> list[Proposal]:
    """Return a cluster's open proposals in id order (optionally of one kind)."""
    query = select(Proposal).where(Proposal.cluster_id == cluster_id, Proposal.status == ProposalStatus.open)
    if kind is not None:
        query = query.where(Proposal.kind == kind)
    return list(session.exec(query.order_by(Proposal.id)))


def get_proposal(*, session: Session, actor: User, proposal_id: int) -> tuple[Proposal, Cluster]:
    """Return a proposal the actor may see (with its cluster)."""
    proposal = get_or_404(session, actor, Proposal, proposal_id, what="proposal")
    cluster = get_cluster(session=session, actor=actor, cluster_id=proposal.cluster_id)
    return proposal, cluster


def proposals_of(*, session: Session, actor: User, cluster: Cluster) -> list[Proposal]:
    """Return a cluster's proposals, open ones first."""
    same_council(actor, cluster.council_id, what="cluster")
    rows = session.exec(select(Proposal).where(Proposal.cluster_id == cluster.id).order_by(Proposal.created_at.desc()))
    return sorted(rows, key=lambda p: (p.status != ProposalStatus.open, -p.id))


def votes_of(*, session: Session, actor: User, proposal: Proposal) -> list[tuple[Vote, Holder, User]]:
    """Return every vote with the member it counts for and who cast it."""
    same_council(actor, proposal.council_id, what="proposal")
    return list(
        session.exec(
            select(Vote, Holder, User)
            .join(Holder, Holder.id == Vote.holder_id)
            .join(User, User.id == Vote.cast_by_id)
            .where(Vote.proposal_id == proposal.id)
            .order_by(Vote.cast_at)
        )
    )


def council_rule(session: Session, proposal: Proposal) -> rules.VotingRule:
    """Return the voting rule the council sets for this proposal's kind."""
    council = session.get(Council, proposal.council_id)
    return rules.voting_rule(
        kind=proposal.kind, quorum_percent=council.quorum_percent, majority_percent=council.majority_percent,
        dissolve_numerator=council.dissolve_numerator, dissolve_denominator=council.dissolve_denominator,
    )


def count(*, session: Session, proposal: Proposal, closed: bool = False) -> rules.Tally:
    """Count a proposal's votes under the council's rules."""
    cluster = session.get(Cluster, proposal.cluster_id)
    voters = set(eligible_voters(session, cluster))
    choices = Counter(v.choice for v in session.exec(select(Vote).where(Vote.proposal_id == proposal.id)) if v.holder_id in voters)
    return rules.tally(
        eligible=len(voters), yes=choices[Choice.yes], no=choices[Choice.no], abstain=choices[Choice.abstain],
        rule=council_rule(session, proposal), closed=closed,
    )
