"""Contracts: make them (from a match a group accepted), read a group's or a provider's, count the hours
they take, give notice and end them, and keep their history. Status changes only through
`rules.move_contract`. They flush and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters.members import LIVE_MEMBERSHIP
from brokerage.clusters.models import Membership
from brokerage.contracts import rules
from brokerage.contracts.models import Contract, ContractEvent
from brokerage.contracts.rules import AllocationRule, ContractEventKind, ContractStatus
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.formatting import long_date
from brokerage.locks import lock_row
from brokerage.providers.models import Provider
from brokerage.slot_hours import in_week_order

if TYPE_CHECKING:
    from brokerage.clusters.models import Cluster


def record_event(
    *, session: Session, contract: Contract, kind: ContractEventKind, actor: User | None, proposal_id: int | None = None, detail: dict | None = None,
) -> ContractEvent:
    """Add one line to a contract's history (never changed afterwards)."""
    event = ContractEvent(
        council_id=contract.council_id, contract_id=contract.id, kind=ContractEventKind(kind), actor_id=getattr(actor, "id", None),
        proposal_id=proposal_id, detail=dict(detail or {}),
    )
    session.add(event)
    session.flush()
    return event


def terms_on(*, session: Session, contract: Contract, day: date) -> rules.WeekTerms:
    """Return the hours, rate and sharing rule the contract had at the end of a day in England (passed changes since then undone)."""
    later = session.exec(
        select(ContractEvent.detail).where(
            ContractEvent.contract_id == contract.id, ContractEvent.kind == ContractEventKind.change_passed, ContractEvent.at >= clock.end_of_day(day),
        ).order_by(ContractEvent.at.desc(), ContractEvent.id.desc())
    )
    current = rules.WeekTerms(hours_per_week=contract.hours_per_week, rate_pence=contract.rate_pence,
                              allocation_rule=AllocationRule(contract.allocation_rule))
    return rules.terms_before(current, [detail.get("changes", {}) for detail in later])


def create_contract(
    *, session: Session, actor: User, council_id: int, provider_id: int, cluster_id: int, demand_line_id: int | None,
    proposal_id: int | None, service: str, hours_per_week: int, rate_pence: int, start_date: date,
    allocation_rule: AllocationRule = AllocationRule.by_hours, min_visit_minutes: int = 60, member_shares: dict | None = None,
    slot_hours: dict | None = None,
) -> Contract:
    """Make an active contract for a provider to give a group's members care (a passed match, in its deciding transaction).

    `member_shares` maps each member's holder id to their share of the hours (the demand line's shares);
    `slot_hours` the hours in each time of day agreed at the match, summing to `hours_per_week` (None: no times agreed).
    """
    same_council(actor, council_id, what="council")
    errors = {}
    if isinstance(hours_per_week, bool) or not isinstance(hours_per_week, int) or hours_per_week <= 0:
        errors["hours_per_week"] = "A contract is for at least one hour a week"
    if isinstance(rate_pence, bool) or not isinstance(rate_pence, int) or rate_pence <= 0:
        errors["rate_pence"] = "A contract's hourly rate is more than £0"
    try:
        rules.check_min_visit(min_visit_minutes)
    except ValueError as error:
        errors["min_visit_minutes"] = str(error).capitalize()
    shares = {str(holder): share for holder, share in (member_shares or {}).items()}
    if not shares or any(not str(h).isdigit() or isinstance(v, bool) or not isinstance(v, int) or v <= 0 for h, v in shares.items()):
        errors["member_shares"] = "A contract serves at least one member, each with a share of one or more"
    if slot_hours is not None:
        problem = rules.times_problem(slot_hours, hours_per_week=None if "hours_per_week" in errors else hours_per_week)
        if problem:
            errors["slot_hours"] = problem
    if errors:
        raise ValidationFailed(errors)
    contract = Contract(member_shares=shares, slot_hours=in_week_order(slot_hours) if slot_hours is not None else None,
        council_id=council_id, provider_id=provider_id, cluster_id=cluster_id, demand_line_id=demand_line_id, proposal_id=proposal_id,
        service=service, hours_per_week=hours_per_week, rate_pence=rate_pence, start_date=start_date,
        allocation_rule=AllocationRule(allocation_rule), min_visit_minutes=min_visit_minutes,
    )
    session.add(contract)
    session.flush()
    record_event(session=session, contract=contract, kind=ContractEventKind.made, actor=actor, proposal_id=proposal_id)
    return contract


def contracts_of_cluster(*, session: Session, actor: User, cluster: Cluster) -> list[tuple[Contract, Provider]]:
    """Return a cluster's contracts with their providers."""
    same_council(actor, cluster.council_id, what="cluster")
    return list(session.exec(select(Contract, Provider).join(Provider, Provider.id == Contract.provider_id).where(Contract.cluster_id == cluster.id).order_by(Contract.id)))


def contracts_of_provider(*, session: Session, actor: User) -> list[Contract]:
    """Return the contracts of the provider the actor's account belongs to (none for anyone else), newest first."""
    if actor.role != Role.provider or not actor.provider_id:
        return []
    return list(session.exec(
        select(Contract).where(Contract.provider_id == actor.provider_id, Contract.council_id == actor.council_id).order_by(Contract.id.desc())
    ))


def current_status(contract: Contract, today: date | None = None) -> ContractStatus:
    """Return the contract's status today in England (an ending contract past its end date has ended)."""
    return rules.status_on(contract.status, contract.end_date, today or clock.today())


def contracted_hours(*, session: Session, council_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """Return the hours a week the council's contracts take (all but ended ones), by demand line and by provider."""
    by_line: dict[int, int] = defaultdict(int)
    by_provider: dict[int, int] = defaultdict(int)
    today = clock.today()
    live = (ContractStatus.active, ContractStatus.ending)
    for contract in session.exec(select(Contract).where(Contract.council_id == council_id, Contract.status.in_(live))):
        if current_status(contract, today) == ContractStatus.ended:
            continue
        if contract.demand_line_id:
            by_line[contract.demand_line_id] += contract.hours_per_week
        by_provider[contract.provider_id] += contract.hours_per_week
    return dict(by_line), dict(by_provider)


def member_pledges(*, session: Session, contract: Contract) -> dict[str, int]:
    """Return the current weekly pledge in pence to the contract's group of each member it serves (0 when not a member now)."""
    rows = session.exec(
        select(Membership.holder_id, Membership.weekly_pledge_pence).where(
            Membership.cluster_id == contract.cluster_id, Membership.status.in_(LIVE_MEMBERSHIP),
        )
    ).all()
    pledged = {str(holder_id): pence for holder_id, pence in rows}
    return {member: pledged.get(member, 0) for member in contract.member_shares}


def move_contract(*, session: Session, actor: User, contract_id: int, status: ContractStatus) -> Contract:
    """Move a contract of the broker's council to another status, or raise BadContractMove (the only way a contract's status changes)."""
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can change a contract.")
    contract = get_or_404(session, actor, Contract, contract_id, what="contract")
    contract.status = rules.move_contract(contract.status, status)
    session.add(contract)
    session.flush()
    return contract


def notice_weeks(session: Session, council_id: int) -> int:
    """Return the council's notice period in weeks."""
    return session.get(Council, council_id).notice_weeks


def check_end_date(session: Session, contract: Contract, end_date: date, *, field: str = "end_date") -> None:
    """Raise ValidationFailed naming the field unless the contract may end on this date (notice counted from today in England)."""
    problem = rules.end_date_problem(end_date, today=clock.today(), notice_weeks=notice_weeks(session, contract.council_id), start_date=contract.start_date)
    if problem:
        raise ValidationFailed({field: problem})


def set_end_date(*, session: Session, contract: Contract, end_date: date) -> None:
    """Set the last day of care of a contract the caller has locked and checked; an active contract starts ending."""
    contract.end_date = end_date
    if contract.status == ContractStatus.active:
        contract.status = rules.move_contract(contract.status, ContractStatus.ending)
    session.add(contract)
    session.flush()


def give_notice(*, session: Session, actor: User, contract_id: int, end_date: date | None) -> Contract:
    """End a contract on a date at least the council's notice period from today (a broker); raise ValidationFailed otherwise."""
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can give notice on a contract.")
    contract = get_or_404(session, actor, Contract, contract_id, what="contract")
    # Under the contract's lock, so notice and a decision changing the same contract take turns.
    contract = lock_row(session, Contract, contract.id)
    status = current_status(contract)
    if status == ContractStatus.ended:
        raise ValidationFailed({"end_date": "This care has already ended"})
    if status == ContractStatus.ending:
        raise ValidationFailed({"end_date": (
            f"Notice has already been given: the care ends on {long_date(contract.end_date)}. "
            "To change the date, propose a change to the group"
        )})
    if end_date is None:
        raise ValidationFailed({"end_date": "Enter the last day of care"})
    check_end_date(session, contract, end_date)
    set_end_date(session=session, contract=contract, end_date=end_date)
    record_event(session=session, contract=contract, kind=ContractEventKind.notice_given, actor=actor, detail={"end_date": end_date.isoformat()})
    return contract


def end_due_contracts(*, session: Session, actor: User, council_id: int, today: date | None = None) -> list[Contract]:
    """Move every ending contract of the council whose end date has passed to ended (the daily run); return them."""
    same_council(actor, council_id, what="council")
    today = today or clock.today()
    due = session.exec(
        select(Contract.id).where(Contract.council_id == council_id, Contract.status == ContractStatus.ending, Contract.end_date < today)
        .order_by(Contract.id)
    ).all()
    ended = []
    for contract_id in due:
        contract = lock_row(session, Contract, contract_id)
        if contract is None or contract.status != ContractStatus.ending:
            continue
        contract.status = rules.move_contract(contract.status, ContractStatus.ended)
        session.add(contract)
        record_event(session=session, contract=contract, kind=ContractEventKind.ended, actor=actor, detail={"end_date": contract.end_date.isoformat()})
        ended.append(contract)
    session.flush()
    return ended


def get_contract(*, session: Session, actor: User, contract_id: int) -> Contract:
    """Return a contract of the actor's council, or raise NotFound."""
    return get_or_404(session, actor, Contract, contract_id, what="contract")
