"""Proposal actions: for each kind of proposal, what a passed one does, why it may no longer be
possible, and what ends when one is not carried out.

Clusters' own kinds are in the table at the end of this module. A higher package registers its
own kinds from `brokerage.wiring.connect_domains()` (matching registers the care match), so
clusters never imports it. A kind with no action is a wiring fault: `action_for` raises
ProposalActionMissing, and the decision stops there instead of being skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlmodel import Session, select

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.accounts.system import system_actor
from brokerage.clusters import rules
from brokerage.clusters.errors import ProposalActionMissing
from brokerage.clusters.members import live_count
from brokerage.clusters.membership import admit, end_request, pledge_refused, set_pledges, start_notice
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus, Proposal
from brokerage.clusters.proposals import close_proposal, open_proposals
from brokerage.clusters.rules import ProposalKind, ProposalStatus
from brokerage.formatting import pounds
from brokerage.holders.models import Holder
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.services import EntrySpec, lock_accounts, post_entries
from brokerage.locks import fresh_row


def _always_possible(*, session: Session, proposal: Proposal) -> str | None:
    return None


def _nothing_waits(*, session: Session, proposal: Proposal) -> None:
    return None


def _no_holders(*, session: Session, proposal: Proposal) -> list[int]:
    return []


@dataclass(frozen=True)
class ProposalAction:
    """What one kind of proposal does. Every callable takes keyword arguments `session=` and `proposal=`."""

    # Carry out a passed proposal, in the deciding vote's transaction (`actor=` too); return a sentence
    # saying what happened, or raise a BrokerageError whose message says why it could not be done.
    apply: Callable[..., str]
    # Return why a passed proposal can no longer be carried out, or None if it still can.
    no_longer_possible: Callable[..., str | None] = _always_possible
    # End what waited on a proposal that was rejected or lapsed (a request to join, a match's offers).
    ended_without_passing: Callable[..., None] = _nothing_waits
    # The holders whose pledges `apply` checks: locked first, in id order (locks.py).
    holders_concerned: Callable[..., list[int]] = _no_holders
    # A passed one changes who may vote, which can make other open proposals certain.
    changes_voters: bool = False


def register(kind: ProposalKind, action: ProposalAction) -> None:
    """Register what a kind of proposal does; registering the same action again changes nothing."""
    kind = ProposalKind(kind)
    current = _ACTIONS.get(kind)
    if current is not None and current is not action:
        raise ValueError(f"another action is already registered for {kind.value} proposals")
    _ACTIONS[kind] = action


def action_for(kind: ProposalKind) -> ProposalAction:
    """Return the action of a kind of proposal, or raise ProposalActionMissing."""
    try:
        return _ACTIONS[ProposalKind(kind)]
    except KeyError:
        raise ProposalActionMissing(
            f"No action is registered for {getattr(kind, 'value', kind)} proposals: "
            "the package that owns them registers one in brokerage.wiring.connect_domains()."
        ) from None


# --- let someone join ---------------------------------------------------------------------------


def _applicant(*, session: Session, proposal: Proposal) -> list[int]:
    return list(session.exec(select(Membership.holder_id).where(Membership.id.in_([proposal.payload["membership_id"]]))))


def _admission_impossible(*, session: Session, proposal: Proposal) -> str | None:
    cluster = session.get(Cluster, proposal.cluster_id)
    membership = fresh_row(session, Membership, proposal.payload["membership_id"])
    holder = session.get(Holder, membership.holder_id)
    if membership.status != MembershipStatus.requested:
        return f"{holder.name} withdrew the request to join."
    if live_count(session, cluster.id) >= cluster.max_size:
        return f"the group is full ({cluster.max_size} members)."
    if pledge_refused(session, holder, membership.weekly_pledge_pence, membership.id):
        return f"{holder.name}'s pledge is now more than their weekly budget allows."
    return None


def _admit(*, session: Session, proposal: Proposal, actor: User) -> str:
    holder = admit(session=session, membership_id=proposal.payload["membership_id"])
    return f"{holder.name} has joined."


def _refuse_request(*, session: Session, proposal: Proposal) -> None:
    end_request(session=session, membership_id=proposal.payload["membership_id"])


# --- ask a member to leave ----------------------------------------------------------------------


def _removal_impossible(*, session: Session, proposal: Proposal) -> str | None:
    membership = fresh_row(session, Membership, proposal.payload["membership_id"])
    name = session.get(Holder, membership.holder_id).name
    if membership.status == MembershipStatus.leaving:
        return f"{name} has already given notice to leave."
    if membership.status not in (MembershipStatus.admitted, MembershipStatus.active):
        return f"{name} has already left the group."
    return None


def _remove(*, session: Session, proposal: Proposal, actor: User) -> str:
    membership = fresh_row(session, Membership, proposal.payload["membership_id"])
    start_notice(session, membership, clock.today())
    return "The member's notice period has started."


# --- change weekly pledges ----------------------------------------------------------------------


def _pledgers(*, session: Session, proposal: Proposal) -> list[int]:
    ids = [int(i) for i in proposal.payload["pledges"]]
    return list(session.exec(select(Membership.holder_id).where(Membership.id.in_(ids))))


def _pledges_impossible(*, session: Session, proposal: Proposal) -> str | None:
    for membership_id, amount in sorted(proposal.payload["pledges"].items(), key=lambda item: int(item[0])):
        membership = fresh_row(session, Membership, int(membership_id))
        holder = session.get(Holder, membership.holder_id)
        if membership.status not in (MembershipStatus.admitted, MembershipStatus.active):
            return f"{holder.name} is leaving or has left the group, so their pledge cannot change."
        if pledge_refused(session, holder, int(amount), membership.id):
            return f"{holder.name}'s new pledge would be more than their weekly budget allows."
    return None


def _change_pledges(*, session: Session, proposal: Proposal, actor: User) -> str:
    set_pledges(session=session, pledges=proposal.payload["pledges"])
    return "The new pledges apply from the next collection."


# --- close the group ----------------------------------------------------------------------------


def dissolve(*, session: Session, actor: User, cluster: Cluster, decided_by: Proposal) -> int:
    """Close a cluster by a passed proposal, returning every member's pool share to their wallet (the asset lock); return the total."""
    if cluster.status in (ClusterStatus.forming, ClusterStatus.active):
        cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "closing"))
    shares = list(
        session.exec(
            select(LedgerAccount.code, LedgerAccount.holder_id)
            .where(LedgerAccount.cluster_id == cluster.id, LedgerAccount.council_id == cluster.council_id).order_by(LedgerAccount.id)
        )
    )
    # Each share's balance is read under its row lock, taken before the refunds are worked out: money moved in or
    # out of a share meanwhile (a timesheet approved from it) is then counted, and a refund of what was there a
    # moment ago can neither leave money in the closed pool nor overdraw the share. The wallets are locked in the
    # same statement, so the accounts are taken in the ledger's one order (posting.lock_accounts).
    balances = lock_accounts(session=session, council_id=cluster.council_id,
                             codes=[code for code, _ in shares] + [ledger_rules.wallet_code(holder_id) for _, holder_id in shares])
    specs = []
    total = 0
    for code, holder_id in shares:
        balance = balances[code][1]
        if balance > 0:
            total += balance
            specs.append(EntrySpec(
                kind=kinds.EntryKind.member_refund, memo=f"{cluster.name} closed: pool share returned",
                # The decision and the share name the refund: a cluster closes once, by one proposal.
                idempotency_key=kinds.dissolve_key(proposal_id=decided_by.id, holder_id=holder_id),
                postings=[(code, -balance), (ledger_rules.wallet_code(holder_id), balance)],
            ))
    post_entries(session=session, actor=actor, council_id=cluster.council_id, entries=specs)
    for membership in session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.status != MembershipStatus.left)):
        membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
        session.add(membership)
    for proposal in open_proposals(session=session, cluster_id=cluster.id):
        if proposal.id != decided_by.id:
            close_proposal(session=session, proposal=proposal, status=ProposalStatus.lapsed, outcome="No longer needed: the group was closed.")
    cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "closed"))
    session.add(cluster)
    session.flush()
    return total


EVERYONE_LEFT = "No longer needed: everyone in the group has left, so it has closed."


def close_if_everyone_left(*, session: Session, cluster: Cluster) -> bool:
    """Close a forming cluster (locked by the caller) whose last members have just left it, holding no money; tell whether it closed.

    A forming group with nobody in it can decide nothing: a request to join was turned down for want of voters,
    and the group stayed in the search. Its leavers go at once (nothing of theirs is in the pool), requests to
    join end, and its open votes lapse. A pool still holding money waits for the leavers' refunds instead.
    """
    if cluster.status != ClusterStatus.forming:
        return False
    rows = list(session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.status != MembershipStatus.left)))
    if any(m.status in (MembershipStatus.admitted, MembershipStatus.active) for m in rows):
        return False
    codes = list(session.exec(select(LedgerAccount.code).where(LedgerAccount.cluster_id == cluster.id, LedgerAccount.council_id == cluster.council_id)))
    if codes and any(balance for _, balance, _ in lock_accounts(session=session, council_id=cluster.council_id, codes=codes).values()):
        return False
    for membership in rows:
        membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
        session.add(membership)
    for proposal in open_proposals(session=session, cluster_id=cluster.id):
        close_proposal(session=session, proposal=proposal, status=ProposalStatus.lapsed, outcome=EVERYONE_LEFT)
    cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "closed"))
    session.add(cluster)
    session.flush()
    return True


def _dissolve(*, session: Session, proposal: Proposal, actor: User) -> str:
    cluster = session.get(Cluster, proposal.cluster_id)
    # The members decided, not whoever's act happened to settle the vote: the refunds are posted as
    # the council's system user, the same on every path, and their keys name the deciding proposal.
    refunded = dissolve(session=session, actor=system_actor(session=session, council_id=proposal.council_id), cluster=cluster, decided_by=proposal)
    if refunded == 0:
        return "The group is closed. Its pool held no money, so nothing needed to go back to members."
    return f"The group is closed and {pounds(refunded)} went back to members' wallets."


def _decide_something_else(*, session: Session, proposal: Proposal, actor: User) -> str:
    return ""


_ACTIONS: dict[ProposalKind, ProposalAction] = {
    ProposalKind.admit_member: ProposalAction(
        apply=_admit, no_longer_possible=_admission_impossible, ended_without_passing=_refuse_request, holders_concerned=_applicant,
        changes_voters=True,
    ),
    ProposalKind.remove_member: ProposalAction(apply=_remove, no_longer_possible=_removal_impossible, changes_voters=True),
    ProposalKind.change_pledges: ProposalAction(apply=_change_pledges, no_longer_possible=_pledges_impossible, holders_concerned=_pledgers),
    ProposalKind.dissolve: ProposalAction(apply=_dissolve),
    ProposalKind.free_text: ProposalAction(apply=_decide_something_else),
    # ProposalKind.accept_match is matching's and ProposalKind.change_contract is contracts': both are
    # registered in brokerage.wiring.connect_domains().
}
