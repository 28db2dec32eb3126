"""The cluster page: the group with what its members shared, the care it asks for and its contracts.

A read model of the web layer: it shows clusters, holders, contracts and matching at once, which
no single domain package may import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from brokerage.access import STAFF
from brokerage.accounts.models import Role, User
from brokerage.audit.rules import GROUP_PLEDGES
from brokerage.audit.services import log_accesses
from brokerage.clusters.members import LIVE_MEMBERSHIP, holders_actor_acts_for, visible_holder_ids
from brokerage.clusters.membership import group_mate_ids
from brokerage.clusters.queries import ClusterPage, cluster_page, memberships_of, notice_preview
from brokerage.contracts.services import contracts_of_cluster
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import details_visible_to
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.queries import balance
from brokerage.matching.demand import demand_of_cluster
from brokerage.surplus.queries import open_flags_of_holder
from brokerage.timesheets.approvers import approver_of
from brokerage.timesheets.queries import sheets_of_group
from brokerage.timesheets.sheets import may_read_groups


@dataclass
class ClusterShow:
    """Everything the cluster page shows to one actor."""

    page: ClusterPage
    # What each member chose to show this actor, by holder id.
    details: dict = field(default_factory=dict)
    contracts: list = field(default_factory=list)
    demand: list = field(default_factory=list)
    # The member the group chose to approve timesheets (besides the broker), if any.
    approver: Holder | None = None
    # The group's latest timesheets sent by its providers, for whoever may read them (timesheets.queries.sheets_of_group).
    timesheets: list = field(default_factory=list)
    # Whether the reader sees the group's care (its requests and contracts): staff, a member, or a representative with
    # leave to manage the care of a member (Power.care), as the care pages themselves decide.
    sees_care: bool = False
    # For a representative who may see a member's money but not act in their groups: each such member, with their own
    # share of the group's pool (their finances, which the money power covers; the group's total is not theirs to see).
    own_shares: list[tuple[Holder, int]] = field(default_factory=list)


def cluster_show(*, session: Session, actor: User, cluster_id: int) -> ClusterShow:
    """Return the cluster page for the actor; a staff read of members' pledges and shared details goes to the access log."""
    page = cluster_page(session=session, actor=actor, cluster_id=cluster_id)
    show = ClusterShow(page=page)
    if not page.members:
        # Someone browsing a group they are not in sees no members, and so none of this; but a representative who manages
        # the care of a member (and not their groups) sees the group's care, as the care pages let them (tester R5-6).
        if actor.role == Role.representative and may_read_groups(session, actor, page.cluster.id):
            show.sees_care = True
            _fill_care(session, actor, show)
        if actor.role == Role.representative:
            show.own_shares = _own_shares(session, actor, page.cluster)
        return show
    staff = actor.role in STAFF
    if staff:
        # Staff see each member's weekly pledge beside their name: a read of their money, logged for each of them.
        log_accesses(session=session, actor=actor, council_id=page.cluster.council_id, holder_ids=[h.id for _, h in page.members], what=GROUP_PLEDGES)
    mates = set() if staff else group_mate_ids(session=session, holder_ids=visible_holder_ids(session=session, actor=actor))
    show.details = details_visible_to(
        session=session, actor=actor, holder_ids=[h.id for _, h in page.members], context="broker" if staff else "cluster",
        group_mate_ids=mates,
    )
    members = {h.id for _, h in page.members}
    show.sees_care = staff or bool(members & set(visible_holder_ids(session=session, actor=actor, power=Power.care)))
    if show.sees_care:
        _fill_care(session, actor, show)
    else:
        show.approver = approver_of(session=session, cluster_id=page.cluster.id)
        show.timesheets = sheets_of_group(session=session, actor=actor, cluster_id=page.cluster.id)
    return show


def _fill_care(session: Session, actor: User, show: ClusterShow) -> None:
    """Fill in the group's care for a reader who sees it: its requests, contracts, approver and latest timesheets."""
    cluster = show.page.cluster
    show.contracts = contracts_of_cluster(session=session, actor=actor, cluster=cluster)
    show.demand = demand_of_cluster(session=session, actor=actor, cluster=cluster)
    show.approver = approver_of(session=session, cluster_id=cluster.id)
    show.timesheets = sheets_of_group(session=session, actor=actor, cluster_id=cluster.id)


def _own_shares(session: Session, actor: User, cluster) -> list[tuple[Holder, int]]:
    """Return the members of the group whose money the representative may see, each with their share of its pool."""
    people = holders_actor_acts_for(session=session, actor=actor, power=Power.money)
    members = {m.holder_id for m, _ in memberships_of(session=session, actor=actor, holder_ids=[h.id for h in people])
               if m.cluster_id == cluster.id and m.status in LIVE_MEMBERSHIP}
    return [(h, balance(session=session, actor=actor, council_id=cluster.council_id, code=ledger_rules.pool_code(cluster.id, h.id)))
            for h in people if h.id in members]


def leave_preview(*, session: Session, actor: User, membership_id: int) -> dict:
    """Return `clusters.queries.notice_preview` with `clawback`: the open unspent-money flag on this share, if any.

    The leave page promised the whole share back on the day the council could take most of it back; the flag is
    money, so it is read only when the actor may see the share.
    """
    preview = notice_preview(session=session, actor=actor, membership_id=membership_id)
    flags = open_flags_of_holder(session=session, actor=actor, holder_id=preview["holder"].id) if preview["share"] is not None else []
    preview["clawback"] = next((flag for flag in flags if flag.cluster_id == preview["cluster"].id), None)
    return preview
