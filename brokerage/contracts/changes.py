"""Changes to a contract that the group decides: a broker proposes new hours, days and times, rate, end date or
allocation rule; the members vote like on any proposal; a passed change is applied in the deciding vote's transaction.

`CONTRACT_CHANGE` is registered as the change_contract proposal action in `brokerage.wiring.connect_domains()`.
Every step goes into the contract's history.
"""

from __future__ import annotations

from datetime import date
from typing import Callable

from sqlmodel import Session

from brokerage import clock
from brokerage.accounts.models import Role, User
from brokerage.clusters import governance
from brokerage.clusters.actions import ProposalAction
from brokerage.clusters.models import Cluster, Proposal
from brokerage.clusters.proposals import count
from brokerage.clusters.rules import ProposalKind
from brokerage.contracts import rules
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule, ContractEventKind, ContractStatus
from brokerage.contracts.services import check_end_date, current_status, get_contract, notice_weeks, record_event, set_end_date
from brokerage.contracts.words import change_sentences
from brokerage.errors import BrokerageError, NotAllowed, ValidationFailed
from brokerage.formatting import long_date, plural, service_name
from brokerage.locks import fresh_row, lock_provider_hours, lock_row
from brokerage.providers.models import Provider
from brokerage.slot_hours import in_week_order, total

TIMES_REMEDY = "Make them match, or leave every box empty to agree the times later"

# beyond_free(session, contract, hours_per_week, slot_hours) -> {field: message} where the contract's new hours
# or times (None: unchanged) need more of its provider than it has free beside its other care; empty when they fit.
BeyondFree = Callable[[Session, Contract, int, dict | None], dict[str, str]]

_beyond_free: list[BeyondFree] = []


def register_availability_check(check: BeyondFree) -> None:
    """Register how to tell a change that needs more of a provider's hours than it has free (matching owns what is committed); a second call replaces the first."""
    _beyond_free[:] = [check]


def _needs_more_than_free(session: Session, contract: Contract, hours_per_week: int, slot_hours: dict | None) -> dict[str, str]:
    if not _beyond_free:
        raise RuntimeError("No check of providers' free hours is registered: call brokerage.wiring.connect_domains() at start-up.")
    return _beyond_free[0](session, contract, hours_per_week, slot_hours)


def _current(contract: Contract) -> dict:
    """Return the contract's changeable terms as plain data (times in week order or None, dates as ISO text, the rule by name)."""
    return {
        "hours_per_week": contract.hours_per_week, "slot_hours": in_week_order(contract.slot_hours) or None, "rate_pence": contract.rate_pence,
        "end_date": contract.end_date.isoformat() if contract.end_date else None,
        "allocation_rule": AllocationRule(contract.allocation_rule).value,
    }


def propose_change(
    *, session: Session, actor: User, contract_id: int, hours_per_week: int | None = None, rate_pence: int | None = None,
    end_date: date | None = None, allocation_rule: AllocationRule | str | None = None, slot_hours: dict | None = None,
) -> Proposal:
    """Put a change of a contract to its group's vote (a broker); only what differs from today's terms is proposed.

    `slot_hours` are new days and times ({slot: hours}; None keeps today's), adding up to the hours a
    week after the change. Raises ValidationFailed naming the field: hours or rate not more than 0,
    times that are wrong or do not add up, an end date inside the notice period, nothing changed, or a
    contract that has ended.
    """
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can propose a change to a contract.")
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    if current_status(contract) == ContractStatus.ended:
        raise ValidationFailed({"change": "This care has ended, so it cannot change"})
    errors = rules.change_problems(hours_per_week=hours_per_week, rate_pence=rate_pence)
    if allocation_rule and allocation_rule not in {rule.value for rule in AllocationRule}:
        errors["allocation_rule"] = "Choose how the members share the cost"
        allocation_rule = None
    hours_after = contract.hours_per_week if hours_per_week is None else hours_per_week
    if slot_hours is not None and hours_after == contract.hours_per_week and _same_times(slot_hours, contract.slot_hours):
        # Today's times with today's hours are no change, and are not checked: an earlier change of the
        # hours may have left them short, and the form offers them again.
        slot_hours = None
    if slot_hours is not None:
        # No more in a time of day than the members it serves can have (6 hours each), beyond what it has there now.
        problem = rules.times_problem(slot_hours, hours_per_week=None if "hours_per_week" in errors else hours_after, remedy=TIMES_REMEDY,
                                      limit=rules.times_limit(len(contract.member_shares), contract.slot_hours))
        if problem:
            errors["slot_hours"] = problem
    if end_date is not None:
        try:
            check_end_date(session, contract, end_date)
        except ValidationFailed as error:
            errors.update({name: messages[0] for name, messages in error.errors.items()})
    if not errors and (hours_after > contract.hours_per_week or slot_hours is not None):
        # More hours, or other times, must be hours the provider still has free beside its other care.
        errors.update(_needs_more_than_free(session, contract, hours_after, in_week_order(slot_hours) if slot_hours is not None else None))
    if errors:
        raise ValidationFailed(errors)
    proposed = {
        "hours_per_week": hours_per_week, "slot_hours": in_week_order(slot_hours) if slot_hours is not None else None,
        "rate_pence": rate_pence, "end_date": end_date.isoformat() if end_date else None,
        "allocation_rule": AllocationRule(allocation_rule).value if allocation_rule else None,
    }
    now = _current(contract)
    changes = {name: value for name, value in proposed.items() if value is not None and value != now[name]}
    if not changes:
        raise ValidationFailed({"change": "Change at least one thing: the hours, the days and times, the rate, the end date or how the cost is shared"})
    provider = session.get(Provider, contract.provider_id)
    sentences = change_sentences({name: [now[name], new] for name, new in changes.items()})
    proposal = governance.open_proposal(
        session=session, actor=actor, cluster_id=contract.cluster_id, kind=ProposalKind.change_contract,
        title=f"Change the {service_name(contract.service)} from {provider.name}",
        description="The broker proposes: " + "; ".join(sentences) + ".",
        payload={"contract_id": contract.id, "changes": changes, "was": {name: now[name] for name in changes}},
    )
    record_event(session=session, contract=contract, kind=ContractEventKind.change_proposed, actor=actor, proposal_id=proposal.id,
                 detail={"changes": {name: [now[name], new] for name, new in changes.items()}})
    return proposal


def _same_times(slot_hours: object, current: dict | None) -> bool:
    """Tell whether proposed times are today's, in week order (times that are wrong in themselves are not)."""
    return rules.times_problem(slot_hours, hours_per_week=None) is None and in_week_order(slot_hours) == in_week_order(current)


def _contract_of(session: Session, proposal: Proposal) -> Contract:
    return fresh_row(session, Contract, int(proposal.payload["contract_id"]))


def change_impossible(*, session: Session, proposal: Proposal) -> str | None:
    """Return why a passed change can no longer be made, or None.

    The care has ended, its last day changed while the group voted on another (notice was given, or another
    change passed: the later vote never overrides it), the end date is now inside the notice period, or the
    times no longer add up to the hours a week (another change of the hours passed since).
    """
    contract = _contract_of(session, proposal)
    if current_status(contract) == ContractStatus.ended:
        return "the care has already ended."
    end = proposal.payload["changes"].get("end_date")
    now_ends = contract.end_date.isoformat() if contract.end_date else None
    if end and proposal.payload.get("was", {}).get("end_date", now_ends) != now_ends:
        # Notice was given (or another change passed) while the group voted: this vote was on another footing.
        now_said = f": it is now {long_date(contract.end_date)}" if contract.end_date else ""
        return f"the last day of care changed while the group voted{now_said}. Propose a new change if the group wants another date."
    if end:
        problem = rules.end_date_problem(
            date.fromisoformat(end), today=clock.today(), notice_weeks=notice_weeks(session, contract.council_id), start_date=contract.start_date,
        )
        if problem:
            return f"the end date is now too soon. {problem}."
    times = proposal.payload["changes"].get("slot_hours")
    hours = int(proposal.payload["changes"].get("hours_per_week", contract.hours_per_week))
    if times and total(times) != hours:
        return f"the care is now for {plural(hours, 'hour')} a week, but these times add up to {plural(total(times), 'hour')}."
    if hours > contract.hours_per_week or times:
        # Care agreed for the provider since the vote opened may have taken the hours.
        beyond = _needs_more_than_free(session, contract, hours, times or None)
        if beyond:
            return f"{next(iter(beyond.values()))}."
    return None


def apply_change(*, session: Session, proposal: Proposal, actor: User) -> str:
    """Make a passed change to its contract (in the deciding vote's transaction) and record it; return what happened in one sentence."""
    # The contract's lock comes after the group's and the proposal's (locks.py order), which the decision holds.
    contract = lock_row(session, Contract, int(proposal.payload["contract_id"]))
    # The providers' hours: two changes (or a broker's change to a proposed match, or a run being sent) giving
    # the same free hours at once take turns. They come last (locks.py order).
    lock_provider_hours(session, contract.council_id)
    reason = change_impossible(session=session, proposal=proposal)
    if reason:
        raise BrokerageError(reason)
    was = _current(contract)
    changes = proposal.payload["changes"]
    if "hours_per_week" in changes:
        contract.hours_per_week = int(changes["hours_per_week"])
    if "slot_hours" in changes:
        contract.slot_hours = in_week_order(changes["slot_hours"])
    if "rate_pence" in changes:
        contract.rate_pence = int(changes["rate_pence"])
    if "allocation_rule" in changes:
        contract.allocation_rule = AllocationRule(changes["allocation_rule"])
    session.add(contract)
    if changes.get("end_date"):
        set_end_date(session=session, contract=contract, end_date=date.fromisoformat(changes["end_date"]))
    session.flush()
    record_event(session=session, contract=contract, kind=ContractEventKind.change_passed, actor=actor, proposal_id=proposal.id,
                 detail={"changes": {name: [was[name], new] for name, new in changes.items()}})
    return "The change to the care is made."


def change_not_made(*, session: Session, proposal: Proposal) -> None:
    """Record in the contract's history that the group turned a change down, or that it could no longer be made."""
    contract = _contract_of(session, proposal)
    changes = {name: [proposal.payload.get("was", {}).get(name), new] for name, new in proposal.payload["changes"].items()}
    cluster = session.get(Cluster, proposal.cluster_id)
    if count(session=session, proposal=proposal, closed=True).passed and cluster is not None:
        reason = change_impossible(session=session, proposal=proposal) or "it could no longer be made."
        record_event(session=session, contract=contract, kind=ContractEventKind.change_lapsed, actor=None, proposal_id=proposal.id,
                     detail={"changes": changes, "reason": reason})
        return
    record_event(session=session, contract=contract, kind=ContractEventKind.change_rejected, actor=None, proposal_id=proposal.id, detail={"changes": changes})


CONTRACT_CHANGE = ProposalAction(apply=apply_change, no_longer_possible=change_impossible, ended_without_passing=change_not_made)
