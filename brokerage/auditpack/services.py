"""Vetting and compliance for council staff: evidence to chase, and live contracts with providers no longer vetted.

Which evidence a provider needs and whether it is expired or expiring is the providers' rule
(`providers.services.vetting_summary`); this module only adds the dates, the days left and the
contracts, and sorts by urgency. The requests for auditor packs are in `brokerage.auditpack.packs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF
from brokerage.accounts.models import User
from brokerage.auditpack import rules
from brokerage.auditpack.rules import VettingProblem
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import ContractStatus, status_on
from brokerage.errors import NotAllowed
from brokerage.providers.charter import unconfirmed_charters
from brokerage.providers.models import Provider
from brokerage.providers.services import vetting_summary
from brokerage.vocabulary import VETTING_IN_A_SENTENCE

LIVE = (ContractStatus.active, ContractStatus.ending)


@dataclass(frozen=True)
class ComplianceSummary:
    """Counts of providers for the officer's dashboard: which vetting is expiring, and what is already out of date."""

    # Providers with evidence that has run out, that was never given, or that no broker has checked yet.
    expired: int
    missing: int
    unverified: int
    # Providers with evidence that runs out within 30 days (some may be unvetted for another reason too).
    expiring: int
    # Providers vetted now whose evidence runs out within 30 days.
    expiring_only: int
    # Providers that are not vetted now (they can be neither matched nor paid), and live contracts with them.
    unvetted: int
    unvetted_contracts: int

    @property
    def to_chase(self) -> int:
        """Return how many providers have anything to chase."""
        return self.unvetted + self.expiring_only


@dataclass
class ProblemRow:
    """One piece of evidence to chase, with its provider."""

    provider: Provider
    problem: VettingProblem


@dataclass
class ContractRow:
    """A live contract whose provider is not vetted now, and why."""

    contract: Contract
    provider: Provider
    group_name: str
    status: ContractStatus
    why: str
    # The provider's most urgent problem, which orders the rows.
    first: VettingProblem


@dataclass
class CompliancePage:
    """The compliance page: evidence to chase, contracts at risk, and the counts."""

    today: date
    problems: list[ProblemRow] = field(default_factory=list)
    contracts: list[ContractRow] = field(default_factory=list)
    summary: ComplianceSummary | None = None
    # Approved providers whose Ethical Care Charter tick no broker has confirmed: their travel is not paid until one does.
    charters_waiting: int = 0


def _check_staff(actor: User) -> None:
    if actor.role not in STAFF or actor.council_id is None:
        raise NotAllowed("Only brokers and council officers can see the council's vetting and compliance.")


def compliance_page(*, session: Session, actor: User, today: date | None = None) -> CompliancePage:
    """Return the council's vetting problems, most urgent first, and the live contracts with providers not vetted now."""
    _check_staff(actor)
    today = today or clock.today()
    council_id = actor.council_id
    states = vetting_summary(session=session, council_id=council_id, today=today, approved_only=True)
    providers = {p.id: p for p in session.exec(select(Provider).where(Provider.council_id == council_id))}
    problems = {pid: rules.problems_of(pid, state, today) for pid, state in states.items()}
    rows = [ProblemRow(providers[pid], problem) for pid, found in problems.items() for problem in found]
    rows.sort(key=lambda row: (rules.urgency(row.problem), row.provider.name, row.provider.id, row.problem.kind))

    unvetted = {pid for pid, state in states.items() if not state.valid}
    contracts = []
    if unvetted:
        found = session.exec(
            select(Contract, Cluster.name)
            .join(Cluster, Cluster.id == Contract.cluster_id)
            .where(Contract.council_id == council_id, Contract.status.in_(LIVE), Contract.provider_id.in_(sorted(unvetted)))
        ).all()
        for contract, group_name in found:
            status = status_on(contract.status, contract.end_date, today)
            if status not in LIVE:
                continue
            stopping = [p for p in problems[contract.provider_id] if p.stops_payment]
            contracts.append(ContractRow(contract=contract, provider=providers[contract.provider_id], group_name=group_name, status=status,
                                         why=rules.why_unvetted(stopping, VETTING_IN_A_SENTENCE), first=stopping[0]))
        contracts.sort(key=lambda row: (rules.urgency(row.first), row.provider.name, row.contract.id))

    def count(predicate) -> int:
        return sum(1 for state in states.values() if predicate(state))

    summary = ComplianceSummary(
        expired=count(lambda s: s.expired), missing=count(lambda s: s.missing), unverified=count(lambda s: s.unverified),
        expiring=count(lambda s: s.expiring_soon), unvetted=len(unvetted), unvetted_contracts=len(contracts),
        expiring_only=count(lambda s: s.valid and s.expiring_soon),
    )
    return CompliancePage(today=today, problems=rows, contracts=contracts, summary=summary,
                          charters_waiting=len(unconfirmed_charters(session=session, actor=actor)))


def compliance_summary(*, session: Session, actor: User, today: date | None = None) -> ComplianceSummary:
    """Return the counts of the council's vetting problems and of live contracts with providers not vetted now, for a dashboard."""
    return compliance_page(session=session, actor=actor, today=today).summary
