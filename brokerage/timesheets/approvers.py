"""Who approves a group's timesheets: the council's broker, or the member the group chose by a passed proposal.

The "choose who approves timesheets" proposal is opened here through `clusters.governance.open_proposal`;
what a passed one does (`CHOOSE_APPROVER`) is registered in `brokerage.wiring.connect_domains()`.
"""

from __future__ import annotations

from sqlmodel import Session, select

from brokerage.accounts.models import Role, User
from brokerage.clusters.actions import ProposalAction
from brokerage.clusters.governance import open_proposal
from brokerage.clusters.members import LIVE_MEMBERSHIP, OPEN, get_cluster, require_member_or_broker
from brokerage.clusters.models import Cluster, Membership, MembershipStatus, Proposal
from brokerage.clusters.rules import ProposalKind
from brokerage.errors import BrokerageError, ValidationFailed
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import can_act_for
from brokerage.types import utcnow

from brokerage.timesheets.models import TimesheetApprover

# Who may be chosen: a member in the group now, not one asking to join or on notice.
CHOOSABLE = (MembershipStatus.admitted, MembershipStatus.active)


def choosable_members(*, session: Session, cluster_id: int) -> list[Holder]:
    """Return the group's members who may be chosen to approve timesheets, by name."""
    return list(session.exec(
        select(Holder).join(Membership, Membership.holder_id == Holder.id)
        .where(Membership.cluster_id == cluster_id, Membership.status.in_(CHOOSABLE)).order_by(Holder.name)
    ))


# What did not happen when a representative who has just lost "Vote and join groups" sends the form.
CHOICE_NOT_PUT = "nobody was put to the vote to approve timesheets"


def choose_page(*, session: Session, actor: User, cluster_id: int, undone: str | None = None) -> tuple[Cluster, list[Holder], Holder | None]:
    """Return the group, the members who may be chosen and who approves now, to a broker or someone acting for a member (`undone`: a sent form)."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    require_member_or_broker(session=session, actor=actor, cluster=cluster, undone=undone)
    return cluster, choosable_members(session=session, cluster_id=cluster.id), approver_of(session=session, cluster_id=cluster.id)


def propose_approver(*, session: Session, actor: User, cluster_id: int, holder_id: int) -> Proposal:
    """Put "choose this member to approve timesheets" to the group's vote (members, their representatives or the broker)."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    require_member_or_broker(session=session, actor=actor, cluster=cluster, undone=CHOICE_NOT_PUT)
    if cluster.status not in OPEN:
        raise ValidationFailed({"holder_id": "This group is closing and cannot take new decisions"})
    holder = next((h for h in choosable_members(session=session, cluster_id=cluster.id) if h.id == holder_id), None)
    if holder is None:
        raise ValidationFailed({"holder_id": "Choose a member of this group"})
    return open_proposal(
        session=session, actor=actor, cluster_id=cluster.id, kind=ProposalKind.choose_approver,
        title=f"Choose {holder.name} to approve timesheets",
        description=(f"{holder.name} (or someone they authorised to act for them) would check and approve the providers' weekly "
                     "timesheets for this group, as the broker can. Approving a timesheet pays for the care from the members' pool shares."),
        payload={"holder_id": holder.id},
    )


def approver_of(*, session: Session, cluster_id: int) -> Holder | None:
    """Return the member the group chose to approve its timesheets, while they are still in the group."""
    row = session.exec(select(TimesheetApprover).where(TimesheetApprover.cluster_id == cluster_id)).first()
    if row is None:
        return None
    live = session.exec(select(Membership.id).where(
        Membership.cluster_id == cluster_id, Membership.holder_id == row.holder_id, Membership.status.in_(LIVE_MEMBERSHIP),
    )).first()
    return session.get(Holder, row.holder_id) if live is not None else None


def acts_as_approver(*, session: Session, actor: User, cluster_id: int) -> bool:
    """Tell whether the actor is the group's chosen approver, or a representative they let manage their care."""
    if actor.role not in (Role.holder, Role.representative):
        return False
    approver = approver_of(session=session, cluster_id=cluster_id)
    return approver is not None and can_act_for(session=session, actor=actor, holder=approver, power=Power.care)


def approving_cluster_ids(*, session: Session, actor: User, holder_ids: list[int]) -> list[int]:
    """Return the groups whose chosen approver is one of these holders (the ones the actor acts for)."""
    if not holder_ids:
        return []
    rows = session.exec(select(TimesheetApprover.cluster_id).where(
        TimesheetApprover.council_id == actor.council_id, TimesheetApprover.holder_id.in_(holder_ids),
    ))
    return [cluster_id for cluster_id in rows if approver_of(session=session, cluster_id=cluster_id) is not None]


# --- the proposal's action ----------------------------------------------------------------------


def _chosen(session: Session, proposal: Proposal) -> Holder | None:
    return session.get(Holder, int(proposal.payload.get("holder_id") or 0))


def _choice_impossible(*, session: Session, proposal: Proposal) -> str | None:
    holder = _chosen(session, proposal)
    if holder is None:
        return "the member chosen is not known."
    member = session.exec(select(Membership.id).where(
        Membership.cluster_id == proposal.cluster_id, Membership.holder_id == holder.id, Membership.status.in_(CHOOSABLE),
    )).first()
    if member is None:
        return f"{holder.name} is no longer a member of the group."
    return None


def _choose(*, session: Session, proposal: Proposal, actor: User) -> str:
    holder = _chosen(session, proposal)
    if holder is None:
        raise BrokerageError("The member chosen is not known.")
    # The group's proposals are decided under the group's lock, so two choices never race here.
    row = session.exec(select(TimesheetApprover).where(TimesheetApprover.cluster_id == proposal.cluster_id)).first()
    if row is None:
        row = TimesheetApprover(council_id=proposal.council_id, cluster_id=proposal.cluster_id, holder_id=holder.id, proposal_id=proposal.id)
    else:
        row.holder_id, row.proposal_id, row.chosen_at = holder.id, proposal.id, utcnow()
    session.add(row)
    session.flush()
    return f"{holder.name} now approves the group's timesheets (the broker still can too)."


CHOOSE_APPROVER = ProposalAction(apply=_choose, no_longer_possible=_choice_impossible)
