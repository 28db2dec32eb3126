"""A change can agree new days and times: checked like a new contract's, made when the group agrees, and lapsing when the hours moved meanwhile."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.clusters import governance
from brokerage.clusters.models import Proposal
from brokerage.clusters.rules import Choice, ProposalStatus
from brokerage.contracts import changes
from brokerage.contracts.models import Contract, ContractEvent
from brokerage.contracts.queries import contract_history
from brokerage.contracts.rules import ContractEventKind
from brokerage.errors import NotFound, ValidationFailed
from tests.contracts.conftest import TODAY

NEW = {"thu_am": 2, "tue_am": 4, "mon_pm": 6}  # 12 hours, given out of week order


def _vote(session, care, proposal, choice=Choice.yes):
    for who, holder in (("amina", care.amina), ("bo", care.bo)):
        if proposal.status == ProposalStatus.open:
            governance.cast_vote(session=session, actor=care.users[who], proposal_id=proposal.id, holder_id=holder.id, choice=choice)
    return proposal


def _propose(session, care, **asked):
    return changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, **asked)


def _counts(session) -> tuple[int, int]:
    return (session.exec(select(func.count()).select_from(Proposal)).one(), session.exec(select(func.count()).select_from(ContractEvent)).one())


def test_new_times_are_put_to_the_group_in_week_order_and_made_when_it_agrees(session, timed):
    proposal = _propose(session, timed, slot_hours=NEW)
    assert proposal.payload["changes"] == {"slot_hours": {"mon_pm": 6, "tue_am": 4, "thu_am": 2}}
    assert list(proposal.payload["changes"]["slot_hours"]) == ["mon_pm", "tue_am", "thu_am"]
    assert proposal.payload["was"] == {"slot_hours": TODAY}
    assert proposal.description == (
        "The broker proposes: days and times from “Monday to Wednesday mornings, 3 hours each; Friday afternoon, 3 hours” "
        "to “Monday afternoon, 6 hours; Tuesday morning, 4 hours; Thursday morning, 2 hours”.")
    assert session.get(Contract, timed.contract.id).slot_hours == TODAY  # nothing changes before the vote
    _vote(session, timed, proposal)
    assert proposal.status == ProposalStatus.passed, proposal.outcome
    contract = session.get(Contract, timed.contract.id)
    assert list(contract.slot_hours.items()) == [("mon_pm", 6), ("tue_am", 4), ("thu_am", 2)]
    assert contract.hours_per_week == 12
    passed = session.exec(select(ContractEvent).where(ContractEvent.kind == ContractEventKind.change_passed)).one()
    assert passed.detail["changes"] == {"slot_hours": [TODAY, {"mon_pm": 6, "tue_am": 4, "thu_am": 2}]}
    assert contract_history(session=session, contract=contract)[-1].text == (
        "The group agreed a change: days and times from “Monday to Wednesday mornings, 3 hours each; Friday afternoon, 3 hours” "
        "to “Monday afternoon, 6 hours; Tuesday morning, 4 hours; Thursday morning, 2 hours”.")


def test_new_hours_and_times_that_add_up_to_them_change_together(session, timed):
    proposal = _propose(session, timed, hours_per_week=10, slot_hours={"mon_am": 5, "thu_am": 5})
    assert proposal.payload["changes"] == {"hours_per_week": 10, "slot_hours": {"mon_am": 5, "thu_am": 5}}
    assert proposal.description.startswith("The broker proposes: hours a week from 12 to 10; days and times from")
    _vote(session, timed, proposal)
    contract = session.get(Contract, timed.contract.id)
    assert (contract.hours_per_week, contract.slot_hours) == (10, {"mon_am": 5, "thu_am": 5})


def test_a_contract_with_no_times_agreed_can_agree_some(session, care):
    proposal = _propose(session, care, slot_hours={"tue_am": 6, "thu_am": 6})
    assert proposal.payload["was"] == {"slot_hours": None}
    assert proposal.description == "The broker proposes: days and times: “Tuesday and Thursday mornings, 6 hours each”."
    _vote(session, care, proposal)
    assert session.get(Contract, care.contract.id).slot_hours == {"tue_am": 6, "thu_am": 6}


@pytest.mark.parametrize(("asked", "message"), [
    ({"slot_hours": {"mon_am": 5, "thu_am": 5}},
     "The times add up to 10 hours a week, not the 12 hours a week of the care. Make them match, or leave every box empty to agree the times later"),
    # New hours, and today's times left as they were: they must change too, or be left empty.
    ({"hours_per_week": 10, "slot_hours": TODAY},
     "The times add up to 12 hours a week, not the 10 hours a week of the care. Make them match, or leave every box empty to agree the times later"),
    ({"hours_per_week": 14, "slot_hours": {"mon_am": 12}}, "The times add up to 12 hours a week, not the 14 hours a week of the care"),
    ({"slot_hours": {"mon_am": 6, "elevenses": 6}}, "Enter hours only for the times of day on the form"),
    # The care is for two members: at most 6 hours each in a time of day, as a group's request (it was 168).
    ({"slot_hours": {"mon_am": 169}}, "Monday morning hours must be a whole number from 0 to 12 (up to 6 hours for each of the 2 people it is for)"),
    ({"slot_hours": {"mon_am": 13, "tue_am": 1}}, "Monday morning hours must be a whole number from 0 to 12 (up to 6 hours for each of the 2 people it is for)"),
    ({"slot_hours": {"mon_am": 6.0, "tue_am": 6}}, "Monday morning hours must be a whole number from 0 to 12"),
    ({"slot_hours": {"mon_am": "6", "tue_am": 6}}, "Monday morning hours must be a whole number from 0 to 12"),
    ({"slot_hours": {"mon_am": -6, "tue_am": 18}}, "Monday morning hours must be a whole number from 0 to 12"),
    ({"slot_hours": {}}, "Enter the hours for at least one time of day"),
    ({"slot_hours": {"mon_am": 0}}, "Enter the hours for at least one time of day"),
])
def test_times_that_are_wrong_or_do_not_add_up_are_refused_beside_the_field_and_nothing_is_written(session, timed, asked, message):
    before = _counts(session)
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, **asked)
    assert refused.value.errors["slot_hours"][0].startswith(message)
    assert _counts(session) == before
    session.expire_all()
    contract = session.get(Contract, timed.contract.id)
    assert (contract.hours_per_week, contract.slot_hours) == (12, TODAY)


def test_a_time_of_day_may_keep_more_than_its_members_limit_when_the_contract_has_it_already(session, timed):
    timed.contract.slot_hours = {"mon_pm": 14}
    timed.contract.hours_per_week = 14  # made before the limit: 14 hours on Monday afternoons for two people
    session.add(timed.contract)
    session.flush()
    proposal = _propose(session, timed, hours_per_week=15, slot_hours={"mon_pm": 14, "tue_pm": 1})
    assert proposal.payload["changes"]["slot_hours"] == {"mon_pm": 14, "tue_pm": 1}
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, hours_per_week=15, slot_hours={"mon_pm": 2, "tue_pm": 13})
    assert refused.value.errors["slot_hours"] == [
        "Tuesday afternoon hours must be a whole number from 0 to 12 (up to 6 hours for each of the 2 people it is for)"]


def test_wrong_times_are_refused_even_when_the_hours_are_wrong_too(session, timed):
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, hours_per_week=0, slot_hours={"mon_am": 200})
    assert set(refused.value.errors) == {"hours_per_week", "slot_hours"}


@pytest.mark.parametrize("same", [dict(TODAY), {"fri_pm": 3, "wed_am": 3, "tue_am": 3, "mon_am": 3}, {**TODAY, "sat_eve": 0}])
def test_todays_times_are_not_a_change(session, timed, same):
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, slot_hours=same)
    assert refused.value.errors == {"change": ["Change at least one thing: the hours, the days and times, the rate, the end date or how the cost is shared"]}
    proposal = _propose(session, timed, slot_hours=same, rate_pence=2_300)
    assert proposal.payload["changes"] == {"rate_pence": 2_300}


def test_times_left_short_by_an_earlier_change_of_hours_do_not_stop_another_change(session, timed):
    timed.contract.hours_per_week = 14  # a passed change of hours: the times were agreed for 12
    session.add(timed.contract)
    session.flush()
    proposal = _propose(session, timed, slot_hours=dict(TODAY), rate_pence=2_300)
    assert proposal.payload["changes"] == {"rate_pence": 2_300}
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, slot_hours={**TODAY, "thu_am": 1})
    assert "The times add up to 13 hours a week, not the 14 hours a week" in refused.value.errors["slot_hours"][0]
    assert _propose(session, timed, slot_hours={**TODAY, "thu_am": 2}).payload["changes"] == {"slot_hours": {**TODAY, "thu_am": 2}}


def test_times_that_no_longer_add_up_when_the_vote_ends_lapse_and_the_history_says_why(session, timed):
    times = _propose(session, timed, slot_hours=NEW)
    hours = _propose(session, timed, hours_per_week=10)
    _vote(session, timed, hours)
    assert hours.status == ProposalStatus.passed
    _vote(session, timed, times)
    assert times.status == ProposalStatus.lapsed
    reason = "the care is now for 10 hours a week, but these times add up to 12 hours."
    assert reason in times.outcome
    contract = session.get(Contract, timed.contract.id)
    assert (contract.hours_per_week, contract.slot_hours) == (10, TODAY)
    lapsed = session.exec(select(ContractEvent).where(ContractEvent.kind == ContractEventKind.change_lapsed)).one()
    assert lapsed.proposal_id == times.id and lapsed.detail["reason"] == reason
    assert lapsed.detail["changes"] == {"slot_hours": [TODAY, {"mon_pm": 6, "tue_am": 4, "thu_am": 2}]}
    assert contract_history(session=session, contract=contract)[-1].text == (
        "A change the group agreed could not be made (days and times from “Monday to Wednesday mornings, 3 hours each; Friday afternoon, 3 hours” "
        "to “Monday afternoon, 6 hours; Tuesday morning, 4 hours; Thursday morning, 2 hours”): "
        "the care is now for 10 hours a week, but these times add up to 12 hours. Nothing changed.")


def test_times_put_with_new_hours_are_made_even_after_another_change_of_the_hours(session, timed):
    both = _propose(session, timed, hours_per_week=10, slot_hours={"mon_am": 5, "thu_am": 5})
    other = _propose(session, timed, hours_per_week=14)
    _vote(session, timed, other)
    _vote(session, timed, both)
    assert both.status == ProposalStatus.passed, both.outcome
    contract = session.get(Contract, timed.contract.id)
    assert (contract.hours_per_week, contract.slot_hours) == (10, {"mon_am": 5, "thu_am": 5})


def test_times_the_group_turns_down_change_nothing(session, timed):
    proposal = _propose(session, timed, slot_hours=NEW)
    _vote(session, timed, proposal, Choice.no)
    assert proposal.status == ProposalStatus.rejected
    assert session.get(Contract, timed.contract.id).slot_hours == TODAY
    rejected = session.exec(select(ContractEvent).where(ContractEvent.kind == ContractEventKind.change_rejected)).one()
    assert rejected.detail["changes"] == {"slot_hours": [TODAY, {"mon_pm": 6, "tue_am": 4, "thu_am": 2}]}


def test_another_councils_broker_cannot_change_the_times(session, timed):
    with pytest.raises(NotFound):
        changes.propose_change(session=session, actor=timed.users["foreign_broker"], contract_id=timed.contract.id, slot_hours=NEW)
