"""Contracts: make them (from a match a group accepted), read a group's, count the hours they take,
and change their status only through `rules.move_contract`. They flush and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.contracts import rules
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule, ContractStatus
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.providers.models import Provider

if TYPE_CHECKING:
    from brokerage.clusters.models import Cluster


def create_contract(
    *, session: Session, actor: User, council_id: int, provider_id: int, cluster_id: int, demand_line_id: int | None,
    proposal_id: int | None, service: str, hours_per_week: int, rate_pence: int, start_date: date,
    allocation_rule: AllocationRule = AllocationRule.by_hours, min_visit_minutes: int = 60, member_shares: dict | None = None,
) -> Contract:
    """Make an active contract for a provider to give a group's members care (a passed match, in its deciding transaction).

    `member_shares` maps each member's holder id to their share of the hours (the demand line's shares).
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
    if errors:
        raise ValidationFailed(errors)
    contract = Contract(member_shares=shares,
        council_id=council_id, provider_id=provider_id, cluster_id=cluster_id, demand_line_id=demand_line_id, proposal_id=proposal_id,
        service=service, hours_per_week=hours_per_week, rate_pence=rate_pence, start_date=start_date,
        allocation_rule=AllocationRule(allocation_rule), min_visit_minutes=min_visit_minutes,
    )
    session.add(contract)
    session.flush()
    return contract


def contracts_of_cluster(*, session: Session, actor: User, cluster: Cluster) -> list[tuple[Contract, Provider]]:
    """Return a cluster's contracts with their providers."""
    same_council(actor, cluster.council_id, what="cluster")
    return list(session.exec(select(Contract, Provider).join(Provider, Provider.id == Contract.provider_id).where(Contract.cluster_id == cluster.id).order_by(Contract.id)))


def contracted_hours(*, session: Session, council_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """Return the hours a week the council's active contracts take, by demand line and by provider."""
    by_line: dict[int, int] = defaultdict(int)
    by_provider: dict[int, int] = defaultdict(int)
    for contract in session.exec(select(Contract).where(Contract.council_id == council_id, Contract.status == ContractStatus.active)):
        if contract.demand_line_id:
            by_line[contract.demand_line_id] += contract.hours_per_week
        by_provider[contract.provider_id] += contract.hours_per_week
    return dict(by_line), dict(by_provider)


def move_contract(*, session: Session, actor: User, contract_id: int, status: ContractStatus) -> Contract:
    """Move a contract of the broker's council to another status, or raise BadContractMove (the only way a contract's status changes)."""
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can change a contract.")
    contract = get_or_404(session, actor, Contract, contract_id, what="contract")
    contract.status = rules.move_contract(contract.status, status)
    session.add(contract)
    session.flush()
    return contract
