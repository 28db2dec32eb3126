"""The contract page's read model: who may read a contract, and what it shows them. It changes nothing but the
access log: staff who open a contract have seen who it serves and what each of them pays.

Readers: the group's live members (admitted, active or on notice: they still pay for and get the care)
and the representatives they authorised, brokers and council officers of the contract's council, and
the provider's own accounts. Anyone else gets the same 404 as a contract that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF
from brokerage.accounts.models import Council, Role, User
from brokerage.audit.rules import CONTRACT
from brokerage.audit.services import log_accesses
from brokerage.clusters.members import LIVE_MEMBERSHIP, live_members_by_group, visible_holder_ids
from brokerage.clusters.models import Cluster, Membership, Proposal
from brokerage.clusters.rules import ProposalKind, ProposalStatus, Sharing, who_shares
from brokerage.contracts import rules
from brokerage.contracts.models import Contract, ContractEvent
from brokerage.contracts.rules import ContractStatus
from brokerage.contracts.services import current_status, get_contract, member_pledges
from brokerage.contracts.words import event_sentence
from brokerage.errors import NotFound
from brokerage.holders.models import Holder, Power
from brokerage.providers.models import Provider

LEFT_THE_GROUP = "Someone who has left the group"


def readable_contract(*, session: Session, actor: User, contract_id: int) -> Contract:
    """Return a contract the actor may read, or raise NotFound (another council's, or not theirs)."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    if actor.role in STAFF:
        return contract
    if actor.role == Role.provider and actor.provider_id and actor.provider_id == contract.provider_id:
        return contract
    if actor.role in (Role.holder, Role.representative):
        # The care arranged: a representative needs the member's leave to manage their care.
        mine = visible_holder_ids(session=session, actor=actor, power=Power.care)
        member = session.exec(
            select(Membership.id).where(
                Membership.cluster_id == contract.cluster_id, Membership.holder_id.in_(mine or [-1]), Membership.status.in_(LIVE_MEMBERSHIP),
            )
        ).first()
        if member is not None:
            return contract
    raise NotFound()


@dataclass
class HistoryLine:
    """One line of a contract's history."""

    at: datetime
    text: str
    proposal_id: int | None = None


@dataclass
class ContractPage:
    """Everything the contract page shows one reader."""

    contract: Contract
    provider: Provider
    cluster: Cluster
    status: ContractStatus
    weekly_cost: int
    # (name, pence a week) for each member served who is still in the group; empty when the reader is not shown the split.
    parts: list = field(default_factory=list)
    # Members on notice, {name: last day}, and (name, pence a week) of those who stay once they have gone: a leaver
    # pays their part only until their last day, then the others share it (as each week's timesheet is priced).
    leaving: dict = field(default_factory=dict)
    parts_after: list = field(default_factory=list)
    # How many members the care was for have left the group: they pay nothing more.
    gone: int = 0
    # The names of the people the care is for (providers see these, not what each pays).
    people: list = field(default_factory=list)
    split_by_pledge_fell_back: bool = False
    history: list = field(default_factory=list)
    open_changes: list = field(default_factory=list)
    notice_weeks: int = 4
    earliest_end: date | None = None
    can_manage: bool = False
    shows_split: bool = True
    links_decisions: bool = True


def names_served(session: Session, contract: Contract, *, staff: bool) -> dict[str, str]:
    """Return the name of each member the contract serves, as the group page would show it to the reader.

    Staff see every name; a member sees the names of the group's live members, as on the group page,
    and a member served who has since left is shown without a name.
    """
    ids = [int(m) for m in contract.member_shares]
    names = dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_(ids or [-1]))).all())
    if staff:
        return {str(i): names.get(i, LEFT_THE_GROUP) for i in ids}
    live = set(session.exec(select(Membership.holder_id).where(Membership.cluster_id == contract.cluster_id, Membership.status.in_(LIVE_MEMBERSHIP))))
    return {str(i): names[i] if i in live and i in names else LEFT_THE_GROUP for i in ids}


def _opens_decisions(session: Session, actor: User, contract: Contract) -> bool:
    """Tell whether the reader may open the group's decisions: not a provider, nor a representative who only manages care (a dead link)."""
    if actor.role == Role.provider:
        return False
    if actor.role != Role.representative:
        return True
    acts_in_groups = visible_holder_ids(session=session, actor=actor, power=Power.groups)
    return session.exec(select(Membership.id).where(
        Membership.cluster_id == contract.cluster_id, Membership.holder_id.in_(acts_in_groups or [-1]), Membership.status.in_(LIVE_MEMBERSHIP),
    )).first() is not None


def contract_page(*, session: Session, actor: User, contract_id: int) -> ContractPage:
    """Return the contract page for a reader (see the module's note for who may read it)."""
    contract = readable_contract(session=session, actor=actor, contract_id=contract_id)
    today = clock.today()
    council = session.get(Council, contract.council_id)
    staff = actor.role in STAFF
    page = ContractPage(
        contract=contract, provider=session.get(Provider, contract.provider_id), cluster=session.get(Cluster, contract.cluster_id),
        status=current_status(contract, today), weekly_cost=rules.weekly_cost(contract.hours_per_week, contract.rate_pence),
        notice_weeks=council.notice_weeks, earliest_end=rules.earliest_end(today, council.notice_weeks),
        can_manage=actor.role == Role.broker, shows_split=actor.role != Role.provider, links_decisions=_opens_decisions(session, actor, contract),
    )
    names = names_served(session, contract, staff=staff or actor.role == Role.provider)
    page.people = sorted(names.values())
    if staff:
        log_accesses(session=session, actor=actor, council_id=contract.council_id, holder_ids=[int(m) for m in names], what=CONTRACT)
    pledges = member_pledges(session=session, contract=contract)
    if page.shows_split:
        _split(page, names, pledges, sharing=who_shares([int(m) for m in contract.member_shares],
                                                         live_members_by_group(session=session, cluster_ids=[contract.cluster_id])[contract.cluster_id], today))
    page.history = contract_history(session=session, contract=contract)
    # Everyone who reads the care sees what the group is voting on (the provider too, who cannot open the vote itself).
    page.open_changes = [
        p for p in session.exec(
            select(Proposal).where(Proposal.cluster_id == contract.cluster_id, Proposal.kind == ProposalKind.change_contract,
                                   Proposal.status == ProposalStatus.open).order_by(Proposal.id)
        ) if int(p.payload.get("contract_id", 0)) == contract.id
    ]
    return page


def _split(page: ContractPage, names: dict[str, str], pledges: dict[str, int], *, sharing: Sharing) -> None:
    """Fill in what each member still in the group pays a week, and, when some are on notice, what the others pay once they have gone."""
    contract = page.contract
    gone = {str(m) for m in sharing.gone}
    paying = {m: share for m, share in contract.member_shares.items() if m not in gone}
    page.gone = len(gone)
    if not paying:
        return
    parts = rules.weekly_parts(page.weekly_cost, contract.allocation_rule, paying, pledges)
    page.parts = sorted(((names[m], pence) for m, pence in parts.items()), key=lambda row: row[0])
    page.split_by_pledge_fell_back = rules.pledges_all_zero(contract.allocation_rule, paying, pledges)
    page.leaving = {names[str(m)]: day for m, day in sharing.leaving}
    staying = {m: share for m, share in paying.items() if int(m) in sharing.staying}
    if sharing.leaving and staying:
        after = rules.weekly_parts(page.weekly_cost, contract.allocation_rule, staying, pledges)
        page.parts_after = sorted(((names[m], pence) for m, pence in after.items()), key=lambda row: row[0])


def contract_history(*, session: Session, contract: Contract) -> list[HistoryLine]:
    """Return a contract's history in order, each line in plain English."""
    events = list(session.exec(select(ContractEvent).where(ContractEvent.contract_id == contract.id).order_by(ContractEvent.at, ContractEvent.id)))
    titles = dict(session.exec(select(Proposal.id, Proposal.title).where(Proposal.id.in_([e.proposal_id for e in events if e.proposal_id] or [-1]))).all())
    return [HistoryLine(at=e.at, text=event_sentence(e.kind, e.detail, decision=titles.get(e.proposal_id)), proposal_id=e.proposal_id) for e in events]


def contracts_for_provider_page(*, session: Session, contracts: list[Contract]) -> list[tuple[Contract, str, ContractStatus, int]]:
    """Return (contract, group name, status today, weekly cost) for a provider's list of contracts."""
    names = dict(session.exec(select(Cluster.id, Cluster.name).where(Cluster.id.in_([c.cluster_id for c in contracts] or [-1]))).all())
    today = clock.today()
    return [(c, names.get(c.cluster_id, ""), current_status(c, today), rules.weekly_cost(c.hours_per_week, c.rate_pence)) for c in contracts]
