"""The proposal (vote) page: the proposal with its votes, and for care, what it costs and who pays what.

A read model of the web layer: a care match is matching's, a change of care is contracts', the vote is
clusters'; only a package above all three may read them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from brokerage import clock
from brokerage.accounts.models import Role, User
from brokerage.audit.rules import CARE_VOTE
from brokerage.audit.services import log_accesses
from brokerage.clusters.members import LIVE_MEMBERSHIP, live_members_by_group
from brokerage.clusters.models import Membership, Proposal
from brokerage.clusters.queries import proposal_page
from brokerage.clusters.rules import ProposalKind, ProposalStatus, Sharing, who_shares
from brokerage.contracts import rules as contract_rules
from brokerage.contracts.changes import change_impossible
from brokerage.contracts.models import Contract
from brokerage.contracts.services import current_status
from brokerage.contracts.rules import AllocationRule
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import money_seen_by, represented_holder_ids
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import balance
from brokerage.matching.models import DemandLine, MatchAssignment
from brokerage.providers.models import Provider
from brokerage.slot_hours import total as total_hours

LEFT_THE_GROUP = "Someone who has left the group"


@dataclass
class CareCost:
    """What care put to a vote costs a week, and what each member would pay, with today's figures when it changes care."""

    total: int
    rule: AllocationRule
    # (name, pence a week, pence a week now or None), by name.
    parts: list = field(default_factory=list)
    # (provider name, service, hours a week, rate in pence, pence a week, the times asked for or None) for each piece of care.
    lines: list = field(default_factory=list)
    total_now: int | None = None
    rule_now: AllocationRule | None = None
    pledges_fall_back: bool = False
    # Each member whose part, with what they pay for the group's care already in place, is more than they put in a week
    # (OverPledge); proposal_show keeps those the reader may see the pledge of.
    over_pledge: list = field(default_factory=list)
    # Members on notice to leave, {name: last day}, and (name, pence a week) of those who stay once they have gone:
    # a leaver pays their part only until their last day, then the rest share it.
    leaving: dict = field(default_factory=dict)
    parts_after: list = field(default_factory=list)
    # The name of the reader themselves when they are on notice (the page speaks to them as "you"), else None.
    you_leave: str | None = None
    leaver_names: dict = field(default_factory=dict)
    # How many members the care is for have left the group (or are past their last day): they pay nothing for it.
    gone: int = 0
    # The holder ids of the members named with what they would pay: a staff read of the page is logged for each.
    named: set = field(default_factory=set)


@dataclass
class OverPledge:
    """A member whose weekly part of this care, with what they pay for the group's care already in place, is more than their pledge (pence)."""

    member: str  # holder id as text
    name: str
    pence: int  # their part of this care a week
    pledge: int
    already: int = 0  # what they pay a week now for the group's other care in place
    weeks: int | None = None  # how many whole weeks their pool share covers the difference; None if not the reader's to see
    budget: int | None = None  # their whole weekly budget, when all of it is less than what they would pay and the reader may see it

    @property
    def in_all(self) -> int:
        """Return what they would pay a week in all, in pence."""
        return self.pence + self.already


def _over_pledge(parts: dict[str, int], names: dict[str, str], pledges: dict[str, int], already: dict[str, int]) -> list[OverPledge]:
    """Return each live member whose part, with what they already pay, is more than their weekly pledge, by name."""
    rows = (OverPledge(m, names[m], pence, pledges[m], already.get(m, 0)) for m, pence in parts.items())
    return sorted((row for row in rows if row.name != LEFT_THE_GROUP and row.in_all > row.pledge), key=lambda row: row.name)


def _already_paid(session: Session, cluster_id: int, except_contract: int | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Return what each member pays a week for the group's care in place (all but `except_contract`), now and once members on notice have gone.

    Each contract is shared as its timesheets are (brokerage.timesheets.pricing): among its members still in the group,
    by its own rule. Pence a week by holder id as text.
    """
    today = clock.today()
    live = live_members_by_group(session=session, cluster_ids=[cluster_id])[cluster_id]
    pledges = {str(h): p for h, p in session.exec(select(Membership.holder_id, Membership.weekly_pledge_pence).where(
        Membership.cluster_id == cluster_id, Membership.status.in_(LIVE_MEMBERSHIP))).all()}
    now: dict[str, int] = {}
    after: dict[str, int] = {}
    in_place = (contract_rules.ContractStatus.active, contract_rules.ContractStatus.ending)
    for contract in session.exec(select(Contract).where(Contract.cluster_id == cluster_id, Contract.status.in_(in_place)).order_by(Contract.id)):
        if contract.id == except_contract or current_status(contract, today) == contract_rules.ContractStatus.ended:
            continue
        sharing = who_shares([int(m) for m in contract.member_shares], live, today)
        paying = _paying(contract.member_shares, sharing)
        weekly = contract_rules.weekly_cost(contract.hours_per_week, contract.rate_pence)
        if paying:
            _add(now, contract_rules.weekly_parts(weekly, contract.allocation_rule, paying, pledges))
        staying = {m: share for m, share in paying.items() if int(m) in sharing.staying}
        if staying:
            _add(after, contract_rules.weekly_parts(weekly, contract.allocation_rule, staying, pledges))
    return now, after


def _pledges_seen_by(session: Session, actor: User) -> set[str]:
    """Return the holders (ids as text) whose pledges a member or representative may see.

    A member sees only their own pledge, as on the group page; a representative, those of the people who let them help
    with their groups (pledges are the group's business: holders.services.money_seen_by).
    """
    if actor.role == Role.representative:
        return {str(h) for h in represented_holder_ids(session=session, actor=actor, power=Power.groups)}
    return {str(actor.holder_id)} if actor.holder_id is not None else set()


def _money_seen_by(session: Session, actor: User) -> set[str] | None:
    """Return the holders (ids as text) whose pool share the actor may see (None: any, for staff): holders.services.money_seen_by."""
    seen = money_seen_by(session=session, actor=actor)
    return None if seen is None else {str(h) for h in seen}


def _weeks_left(session: Session, actor: User, proposal: Proposal, member: str, shortfall: int) -> int:
    """Return how many whole weeks the member's pool share would cover a weekly shortfall (its part less its pledge)."""
    share = balance(session=session, actor=actor, council_id=proposal.council_id, code=ledger_rules.pool_code(proposal.cluster_id, int(member)))
    return max(share, 0) // shortfall


def _group_view(session: Session, cluster_id: int, holder_ids: set[str], staff: bool) -> tuple[dict[str, str], dict[str, int]]:
    """Return the names (as the group page shows them: live members' names) and current pledges of these holders."""
    live = dict(session.exec(
        select(Membership.holder_id, Membership.weekly_pledge_pence).where(Membership.cluster_id == cluster_id, Membership.status.in_(LIVE_MEMBERSHIP))
    ).all())
    ids = [int(h) for h in holder_ids]
    names = dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_(ids or [-1]))).all())
    shown = {str(h): names.get(h, LEFT_THE_GROUP) if (staff or h in live) else LEFT_THE_GROUP for h in ids}
    return shown, {str(h): live.get(h, 0) for h in ids}


def _sharing(session: Session, proposal: Proposal, members: set[str]) -> Sharing:
    """Return who of these members share a cost from today, as each week's timesheet is shared (see `clusters.rules.who_shares`)."""
    live = live_members_by_group(session=session, cluster_ids=[proposal.cluster_id])[proposal.cluster_id]
    return who_shares([int(m) for m in members], live, clock.today())


def _paying(shares: dict[str, int], sharing: Sharing) -> dict[str, int]:
    """Return the shares of the members who would pay: none of those who have left the group."""
    gone = {str(m) for m in sharing.gone}
    return {m: share for m, share in shares.items() if m not in gone}


def _with_leavers(cost: CareCost, sharing: Sharing, names: dict[str, str], pledges: dict[str, int], pieces, already_after: dict[str, int]) -> None:
    """Say who is leaving, and each staying member's part once they have gone; `pieces` are (weekly pence, rule, shares of those who pay)."""
    cost.gone = len(sharing.gone)
    leaving: dict[str, date] = {str(m): day for m, day in sharing.leaving}
    if not leaving:
        return
    after: dict[str, int] = {}
    for weekly, rule, shares in pieces:
        staying = {m: share for m, share in shares.items() if m not in leaving}
        if staying:
            _add(after, contract_rules.weekly_parts(weekly, rule, staying, pledges))
    cost.leaving = {names[m]: day for m, day in leaving.items()}
    # A staying member's part grows once the leavers have gone: £75.25 against a £43 pledge was said nowhere.
    worst = {row.member: row for row in cost.over_pledge}
    for row in _over_pledge(after, names, pledges, already_after):
        if row.member not in worst or row.in_all > worst[row.member].in_all:
            worst[row.member] = row
    cost.over_pledge = sorted(worst.values(), key=lambda row: row.name)
    cost.leaver_names = {m: names[m] for m in leaving}
    cost.parts_after = sorted(((names[m], pence) for m, pence in after.items()), key=lambda row: row[0])


def _add(into: dict[str, int], parts: dict[str, int]) -> None:
    for member, pence in parts.items():
        into[member] = into.get(member, 0) + pence


def _match_cost(session: Session, proposal: Proposal, staff: bool) -> CareCost | None:
    """Return the weekly cost of a care match's assignments split under the proposed rule, or None when it names none."""
    ids = [int(i) for i in proposal.payload.get("assignment_ids", [])]
    assignments = [a for a in session.exec(select(MatchAssignment).where(MatchAssignment.id.in_(ids or [-1])).order_by(MatchAssignment.id))
                   if a.proposal_id == proposal.id]
    if not assignments:
        return None
    rule = AllocationRule(proposal.payload.get("allocation_rule", AllocationRule.by_hours.value))
    lines = {line.id: line for line in session.exec(select(DemandLine).where(DemandLine.id.in_([a.demand_line_id for a in assignments])))}
    providers = dict(session.exec(select(Provider.id, Provider.name).where(Provider.id.in_([a.provider_id for a in assignments]))).all())
    members = set().union(*(set(lines[a.demand_line_id].shares) for a in assignments))
    names, pledges = _group_view(session, proposal.cluster_id, members, staff)
    sharing = _sharing(session, proposal, members)
    cost = CareCost(total=0, rule=rule)
    parts: dict[str, int] = {}
    pieces = []
    for a in assignments:
        line = lines[a.demand_line_id]
        weekly = contract_rules.weekly_cost(a.hours, a.rate_pence)
        cost.total += weekly
        cost.lines.append((providers.get(a.provider_id, ""), line.service, a.hours, a.rate_pence, weekly, a.slot_hours or line.slot_hours or line.slots))
        paying = _paying(line.shares, sharing)
        if paying:
            _add(parts, contract_rules.weekly_parts(weekly, rule, paying, pledges))
            cost.pledges_fall_back |= contract_rules.pledges_all_zero(rule, paying, pledges)
            pieces.append((weekly, rule, paying))
    cost.parts = sorted(((names[m], pence, None) for m, pence in parts.items()), key=lambda row: row[0])
    cost.named = {int(m) for m in parts}
    already, already_after = _already_paid(session, proposal.cluster_id)
    cost.over_pledge = _over_pledge(parts, names, pledges, already)
    _with_leavers(cost, sharing, names, pledges, pieces, already_after)
    return cost


def _change_cost(session: Session, proposal: Proposal, staff: bool) -> CareCost | None:
    """Return a contract change's weekly cost and split if the group agrees, beside today's."""
    contract = session.get(Contract, int(proposal.payload.get("contract_id", 0)))
    if contract is None or contract.council_id != proposal.council_id:
        return None
    changes = proposal.payload.get("changes", {})
    hours = int(changes.get("hours_per_week", contract.hours_per_week))
    rate = int(changes.get("rate_pence", contract.rate_pence))
    rule = AllocationRule(changes.get("allocation_rule", contract.allocation_rule))
    # The times after the change (new ones, or today's), when they add up to its hours; otherwise they are to agree.
    times = changes.get("slot_hours") or contract.slot_hours
    times = times if total_hours(times) == hours else None
    names, pledges = _group_view(session, proposal.cluster_id, set(contract.member_shares), staff)
    sharing = _sharing(session, proposal, set(contract.member_shares))
    # Today's split and the one after the change are both among those still in the group, as the contract page says.
    paying = _paying(contract.member_shares, sharing)
    total = contract_rules.weekly_cost(hours, rate)
    now = contract_rules.weekly_cost(contract.hours_per_week, contract.rate_pence)
    after = contract_rules.weekly_parts(total, rule, paying, pledges) if paying else {}
    before = contract_rules.weekly_parts(now, contract.allocation_rule, paying, pledges) if paying else {}
    provider = session.get(Provider, contract.provider_id)
    already, already_after = _already_paid(session, proposal.cluster_id, except_contract=contract.id)
    cost = CareCost(
        total=total, rule=rule, total_now=now, rule_now=AllocationRule(contract.allocation_rule),
        parts=sorted(((names[m], after[m], before[m]) for m in after), key=lambda row: row[0]),
        lines=[(provider.name, contract.service, hours, rate, total, times)],
        pledges_fall_back=bool(paying) and contract_rules.pledges_all_zero(rule, paying, pledges),
        over_pledge=_over_pledge(after, names, pledges, already),
        named={int(m) for m in after},
    )
    _with_leavers(cost, sharing, names, pledges, [(total, rule, paying)] if paying else [], already_after)
    return cost


def proposal_show(*, session: Session, actor: User, proposal_id: int, undone: str | None = None) -> dict:
    """Return the proposal page (see clusters.queries.proposal_page) with `cost`: what care put to the vote costs and who pays what.

    A staff read of what named members would pay is logged for each of them (brokerage.audit).

    Once the vote is decided, `cost` keeps only what the proposal itself fixed: a care match's hours and rates
    (each member's part is worked out from today's pledges, so it is left out), and nothing for a change of
    care, whose figures are partly today's contract (the contract page shows the care as it is now).
    `undone`, given only when a vote was sent, tells a representative who has just lost the power to vote why (403).
    """
    data = proposal_page(session=session, actor=actor, proposal_id=proposal_id, undone=undone)
    proposal = data["proposal"]
    staff = actor.role in (Role.broker, Role.council_officer)
    decided = proposal.status != ProposalStatus.open
    cost = None
    if proposal.kind == ProposalKind.accept_match:
        cost = _match_cost(session, proposal, staff)
        if cost is not None and decided:
            cost.parts, cost.pledges_fall_back, cost.over_pledge, cost.named = [], False, [], set()
    elif proposal.kind == ProposalKind.change_contract and not decided:
        cost = _change_cost(session, proposal, staff)
    if cost is not None:
        cost.you_leave = cost.leaver_names.get(str(actor.holder_id)) if actor.holder_id is not None else None
        # Another member's pledge is theirs to know (the group page shows pledges to staff only).
        seen = None if staff else _pledges_seen_by(session, actor)
        money = _money_seen_by(session, actor)
        cost.over_pledge = [row for row in cost.over_pledge if seen is None or row.member in seen]
        budgets = dict(session.exec(select(Holder.id, Holder.weekly_allocation_pence).where(Holder.id.in_([int(r.member) for r in cost.over_pledge] or [-1]))).all())
        for row in cost.over_pledge:
            if money is None or row.member in money:
                # The pool share and the budget are the member's own finances (holders.services.money_seen_by).
                row.weeks = _weeks_left(session, actor, proposal, row.member, row.in_all - row.pledge)
                row.budget = budgets.get(int(row.member)) if row.in_all > budgets.get(int(row.member), row.in_all) else None
        if staff:
            # What each named member would pay for their care: a staff read of it goes to the access log, as the contract page's does.
            log_accesses(session=session, actor=actor, council_id=proposal.council_id, holder_ids=cost.named, what=CARE_VOTE)
    data["cost"] = cost
    data["decided"] = decided
    # A change that could no longer be made (the care ended, the hours changed under new times, the end date
    # is now too soon) would lapse if agreed: the members are told before they vote.
    data["cannot_be_made"] = (change_impossible(session=session, proposal=proposal)
                              if cost is not None and proposal.kind == ProposalKind.change_contract
                              and proposal.status == ProposalStatus.open else None)
    data["contract_id"] = proposal.payload.get("contract_id") if proposal.kind == ProposalKind.change_contract else None
    return data
