"""A change of a contract never gives its provider hours it does not have free beside its other care (issue 14's kind of fault).

A broker could propose, and a group agree, more hours or other times of care than the provider works then, or
hours another group's care already takes: nothing checked the provider's side of a change.
"""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.clusters import governance
from brokerage.clusters.models import Proposal
from brokerage.clusters.rules import Choice, ProposalStatus
from brokerage.contracts import changes
from brokerage.contracts.models import Contract, ContractEvent
from brokerage.contracts.rules import ContractEventKind
from brokerage.errors import ValidationFailed
from tests.contracts.conftest import TODAY



def _other_care(session, care, hours: int, slot_hours: dict | None = None) -> Contract:
    """Another group's care from the same provider."""
    contract = Contract(council_id=care.council.id, provider_id=care.provider.id, cluster_id=care.other_cluster.id, service="home_care",
                        hours_per_week=hours, rate_pence=2_200, start_date=care.contract.start_date, member_shares={"1": 1},
                        slot_hours=slot_hours)
    session.add(contract)
    session.commit()
    return contract


def _propose(session, care, **asked):
    return changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, **asked)


def _vote(session, care, proposal):
    for who, holder in (("amina", care.amina), ("bo", care.bo)):
        if proposal.status == ProposalStatus.open:
            governance.cast_vote(session=session, actor=care.users[who], proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes)


def _proposals(session) -> int:
    return session.exec(select(func.count()).select_from(Proposal)).one()


def test_times_the_provider_does_not_work_are_refused_beside_the_times_and_nothing_is_put_to_the_vote(session, timed):
    before = _proposals(session)
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, slot_hours={"mon_am": 3, "tue_am": 3, "sat_am": 6})
    assert refused.value.errors == {"slot_hours": ["Sunrise Care does not have these hours free beside its other care: it has none on Saturday morning"]}
    assert _proposals(session) == before


def test_times_another_groups_care_already_takes_are_refused(session, timed):
    _other_care(session, timed, 13, {"thu_am": 7, "mon_pm": 6})
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, slot_hours={"thu_am": 2, "tue_am": 4, "mon_pm": 6})
    assert refused.value.errors == {"slot_hours": [
        "Sunrise Care does not have these hours free beside its other care: it has 2 hours on Monday afternoon and 1 hour on Thursday morning"]}
    assert _propose(session, timed, slot_hours={"thu_am": 1, "tue_am": 5, "mon_pm": 2, "wed_pm": 4}).payload["changes"]["slot_hours"]


def test_times_the_contract_has_now_stay_allowed_after_the_provider_takes_them_off_its_offer(session, timed):
    timed.provider.slot_hours = {slot: hours for slot, hours in timed.provider.slot_hours.items() if slot != "mon_am"}
    session.add(timed.provider)
    session.commit()
    proposal = _propose(session, timed, hours_per_week=14, slot_hours={**TODAY, "thu_am": 2})
    assert proposal.payload["changes"] == {"hours_per_week": 14, "slot_hours": {**TODAY, "thu_am": 2}}
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, timed, hours_per_week=15, slot_hours={**TODAY, "mon_am": 4, "thu_am": 2})
    assert "it has 3 hours on Monday morning" in refused.value.errors["slot_hours"][0]


def test_more_hours_a_week_than_the_provider_has_left_are_refused_beside_the_hours(session, care):
    _other_care(session, care, 30)  # Sunrise Care takes 40 hours a week: another group's 30 leave 10 for this care
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, care, hours_per_week=15)
    assert refused.value.errors == {"hours_per_week": ["Sunrise Care has 10 hours a week free beside its other care; this change asks for 15"]}
    assert _propose(session, care, hours_per_week=10).payload["changes"] == {"hours_per_week": 10}  # fewer hours are always fine


def test_a_change_whose_hours_are_taken_while_the_group_votes_lapses_and_the_history_says_why(session, timed):
    proposal = _propose(session, timed, slot_hours={"thu_am": 6, "tue_am": 6})
    _other_care(session, timed, 4, {"thu_am": 4})  # agreed for another group meanwhile
    _vote(session, timed, proposal)
    assert proposal.status == ProposalStatus.lapsed
    reason = "Sunrise Care does not have these hours free beside its other care: it has 4 hours on Thursday morning."
    assert reason in proposal.outcome
    assert session.get(Contract, timed.contract.id).slot_hours == TODAY
    lapsed = session.exec(select(ContractEvent).where(ContractEvent.kind == ContractEventKind.change_lapsed)).one()
    assert lapsed.detail["reason"] == reason


def test_more_hours_from_a_provider_with_no_weekly_cap_are_refused_beyond_the_hours_it_works(session, care):
    # With no weekly cap of its own, nothing checked a change of the hours alone: 40 hours from 14 offered passed.
    care.provider.capacity_hours = None
    care.provider.slot_hours = {"mon_am": 14}
    session.add(care.provider)
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        _propose(session, care, hours_per_week=40)
    assert refused.value.errors == {"hours_per_week": ["Sunrise Care has 14 hours a week free beside its other care; this change asks for 40"]}
    assert _propose(session, care, hours_per_week=14).payload["changes"] == {"hours_per_week": 14}
