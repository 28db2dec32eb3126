"""A broker proposes a change, the group votes, and a passed change is made in the deciding transaction; ending needs notice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from brokerage.accounts.system import system_actor
from brokerage.clusters import governance
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.contracts import changes
from brokerage.contracts.models import Contract, ContractEvent
from brokerage.contracts.rules import AllocationRule, ContractEventKind, ContractStatus
from brokerage.contracts.services import contracted_hours, end_due_contracts, give_notice
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from tests.contracts.conftest import NOW


def _history(session, contract) -> list[ContractEventKind]:
    return [e.kind for e in session.exec(select(ContractEvent).where(ContractEvent.contract_id == contract.id).order_by(ContractEvent.id))]


def _vote(session, care, proposal, amina: Choice, bo: Choice):
    governance.cast_vote(session=session, actor=care.users["amina"], proposal_id=proposal.id, holder_id=care.amina.id, choice=amina)
    if proposal.status == ProposalStatus.open:
        governance.cast_vote(session=session, actor=care.users["bo"], proposal_id=proposal.id, holder_id=care.bo.id, choice=bo)
    return proposal


def test_a_change_the_group_agrees_is_made_when_the_deciding_vote_is_cast_and_recorded(session, care):
    proposal = changes.propose_change(
        session=session, actor=care.users["broker"], contract_id=care.contract.id, hours_per_week=10, rate_pence=2_300,
        allocation_rule=AllocationRule.equal,
    )
    assert proposal.kind == ProposalKind.change_contract and proposal.status == ProposalStatus.open
    assert care.contract.hours_per_week == 12  # nothing changes before the vote
    _vote(session, care, proposal, Choice.yes, Choice.yes)
    assert proposal.status == ProposalStatus.passed, proposal.outcome
    contract = session.get(Contract, care.contract.id)
    assert (contract.hours_per_week, contract.rate_pence, contract.allocation_rule) == (10, 2_300, AllocationRule.equal)
    assert _history(session, contract) == [ContractEventKind.made, ContractEventKind.change_proposed, ContractEventKind.change_passed]
    passed = session.exec(select(ContractEvent).where(ContractEvent.kind == ContractEventKind.change_passed)).one()
    assert passed.detail["changes"] == {"hours_per_week": [12, 10], "rate_pence": [2_200, 2_300], "allocation_rule": ["by_hours", "equal"]}
    assert passed.proposal_id == proposal.id and passed.actor_id == care.users["bo"].id


def test_a_change_the_group_turns_down_changes_nothing_and_the_history_says_so(session, care):
    proposal = changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, hours_per_week=20)
    _vote(session, care, proposal, Choice.yes, Choice.no)
    assert proposal.status == ProposalStatus.rejected
    assert session.get(Contract, care.contract.id).hours_per_week == 12
    assert _history(session, care.contract)[-1] == ContractEventKind.change_rejected


def test_a_passed_end_date_starts_the_ending_and_the_daily_run_ends_the_care_after_its_last_day(session, care, freeze_clock):
    last_day = date(2027, 1, 8)
    proposal = changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=last_day)
    _vote(session, care, proposal, Choice.yes, Choice.yes)
    contract = session.get(Contract, care.contract.id)
    assert (contract.status, contract.end_date) == (ContractStatus.ending, last_day)
    system = system_actor(session=session, council_id=care.council.id)
    assert end_due_contracts(session=session, actor=system, council_id=care.council.id, today=last_day) == []
    assert contracted_hours(session=session, council_id=care.council.id)[1] == {care.provider.id: 12}
    freeze_clock(NOW + timedelta(days=39))  # 9 January 2027: the last day has passed
    assert contracted_hours(session=session, council_id=care.council.id)[1] == {}  # ended takes no hours, even before the run
    assert end_due_contracts(session=session, actor=system, council_id=care.council.id) == [contract]
    assert contract.status == ContractStatus.ended
    assert end_due_contracts(session=session, actor=system, council_id=care.council.id) == []
    assert _history(session, contract)[-1] == ContractEventKind.ended


def test_a_passed_end_date_that_is_now_inside_the_notice_period_is_not_made(session, care, freeze_clock):
    proposal = changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2026, 12, 29))
    freeze_clock(NOW + timedelta(days=3))  # the vote ends later: 29 December is now less than four weeks away
    _vote(session, care, proposal, Choice.yes, Choice.yes)
    assert proposal.status == ProposalStatus.lapsed
    assert "4 weeks' notice" in proposal.outcome
    contract = session.get(Contract, care.contract.id)
    assert (contract.status, contract.end_date) == (ContractStatus.active, None)
    lapsed = session.exec(select(ContractEvent).where(ContractEvent.kind == ContractEventKind.change_lapsed)).one()
    assert "4 weeks' notice" in lapsed.detail["reason"]


def test_notice_given_while_the_group_votes_on_another_end_date_makes_that_vote_lapse_not_override_it(session, care):
    # The group voted to end the care on 1 June 2028 after notice had ended it on 8 January 2027: the later vote won,
    # and everyone who had been told of the notice was told the wrong date.
    proposal = changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2028, 6, 1))
    give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2027, 1, 8))
    _vote(session, care, proposal, Choice.yes, Choice.yes)
    assert proposal.status == ProposalStatus.lapsed
    assert "the last day of care changed while the group voted: it is now 8 January 2027" in proposal.outcome
    contract = session.get(Contract, care.contract.id)
    assert (contract.status, contract.end_date) == (ContractStatus.ending, date(2027, 1, 8))
    assert _history(session, contract)[-1] == ContractEventKind.change_lapsed


def test_notice_takes_a_last_day_at_most_five_years_ahead(session, care):
    with pytest.raises(ValidationFailed) as refused:
        give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2031, 12, 2))
    assert refused.value.errors["end_date"] == ["Choose a last day of care up to 1 December 2031, 5 years from today. Check the year"]
    assert give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2031, 12, 1)).end_date == date(2031, 12, 1)


@pytest.mark.parametrize(("changes_asked", "field", "message"), [
    ({"hours_per_week": 0}, "hours_per_week", "at least one hour"),
    ({"rate_pence": 0}, "hourly_rate", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
    ({"rate_pence": 150}, "hourly_rate", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
    ({"rate_pence": 100_001}, "hourly_rate", "£1,000.00 or less"),
    ({"end_date": date(2026, 12, 28)}, "end_date", "Ending needs 4 weeks' notice: choose 29 December 2026 or later"),
    # 2999 was taken, and when the vote passed after notice it moved the care's end out by 972 years.
    ({"end_date": date(2999, 1, 1)}, "end_date", "Choose a last day of care up to 1 December 2031, 5 years from today. Check the year"),
    ({"hours_per_week": 12, "rate_pence": 2_200}, "change", "Change at least one thing"),
    ({}, "change", "Change at least one thing"),
])
def test_a_change_that_cannot_be_made_is_refused_with_a_plain_message_and_nothing_is_put_to_the_vote(session, care, changes_asked, field, message):
    with pytest.raises(ValidationFailed) as refused:
        changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, **changes_asked)
    assert message in refused.value.errors[field][0]
    assert governance.open_proposals(session=session, cluster_id=care.cluster.id) == []


def test_only_a_broker_of_the_contracts_council_can_propose_a_change(session, care):
    for who in ("amina", "officer", "provider"):
        with pytest.raises(NotAllowed):
            changes.propose_change(session=session, actor=care.users[who], contract_id=care.contract.id, hours_per_week=10)
    with pytest.raises(NotFound):
        changes.propose_change(session=session, actor=care.users["foreign_broker"], contract_id=care.contract.id, hours_per_week=10)


def test_the_generic_proposal_form_cannot_make_a_contract_change(session, care):
    with pytest.raises(ValidationFailed) as refused:
        governance.propose(session=session, actor=care.users["broker"], cluster_id=care.cluster.id, kind=ProposalKind.change_contract, title="x")
    assert "kind" in refused.value.errors


def test_notice_must_be_at_least_the_councils_notice_period_from_today(session, care):
    broker = care.users["broker"]
    with pytest.raises(ValidationFailed) as refused:
        give_notice(session=session, actor=broker, contract_id=care.contract.id, end_date=date(2026, 12, 28))
    assert refused.value.errors == {"end_date": ["Ending needs 4 weeks' notice: choose 29 December 2026 or later"]}
    assert care.contract.status == ContractStatus.active and care.contract.end_date is None
    give_notice(session=session, actor=broker, contract_id=care.contract.id, end_date=date(2026, 12, 29))
    assert (care.contract.status, care.contract.end_date) == (ContractStatus.ending, date(2026, 12, 29))
    assert _history(session, care.contract)[-1] == ContractEventKind.notice_given
    with pytest.raises(ValidationFailed, match="Check") as again:
        give_notice(session=session, actor=broker, contract_id=care.contract.id, end_date=date(2027, 3, 1))
    assert "already been given" in again.value.errors["end_date"][0]


def test_the_councils_own_notice_period_counts(session, care):
    care.council.notice_weeks = 1
    session.add(care.council)
    session.flush()
    give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2026, 12, 8))
    assert care.contract.end_date == date(2026, 12, 8)


def test_only_a_broker_gives_notice(session, care):
    for who in ("amina", "officer", "provider"):
        with pytest.raises(NotAllowed):
            give_notice(session=session, actor=care.users[who], contract_id=care.contract.id, end_date=date(2027, 3, 1))
    with pytest.raises(NotFound):
        give_notice(session=session, actor=care.users["foreign_broker"], contract_id=care.contract.id, end_date=date(2027, 3, 1))


def test_an_ended_contract_takes_no_change(session, care, freeze_clock):
    give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2026, 12, 29))
    freeze_clock(NOW + timedelta(days=30))
    with pytest.raises(ValidationFailed) as refused:
        changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, hours_per_week=10)
    assert refused.value.errors == {"change": ["This care has ended, so it cannot change"]}
    with pytest.raises(ValidationFailed, match="Check"):
        give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2027, 3, 1))


def test_the_daily_command_ends_the_care_whose_last_day_has_passed(runner, session, care, freeze_clock):
    give_notice(session=session, actor=care.users["broker"], contract_id=care.contract.id, end_date=date(2026, 12, 29))
    session.commit()
    freeze_clock(NOW + timedelta(days=28))  # 29 December: the last day itself, not yet ended
    assert f"{care.council.name}: 0 contracts ended" in runner.invoke(args=["contracts", "end-due"]).output
    freeze_clock(NOW + timedelta(days=29))
    result = runner.invoke(args=["contracts", "end-due", "--council", care.council.slug])
    assert result.exit_code == 0 and result.output == f"{care.council.name}: 1 contract ended\n"
    session.expire_all()
    assert session.get(Contract, care.contract.id).status == ContractStatus.ended
