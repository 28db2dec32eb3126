"""Contracts are made, read and counted through the contracts service, and change status only by its move."""

from __future__ import annotations

from datetime import date

import pytest

from brokerage.accounts.models import Role
from brokerage.contracts.rules import AllocationRule, BadContractMove, ContractStatus
from brokerage.contracts.services import contracted_hours, contracts_of_cluster, create_contract, move_contract
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.matching.models import DemandLine
from tests import factories as f

START = date(2026, 12, 7)


@pytest.fixture()
def place(session):
    council = f.CouncilFactory(session=session)
    cluster = f.ClusterFactory(session=session, council_id=council.id)
    provider = f.ProviderFactory(session=session, council_id=council.id)
    other = f.ProviderFactory(session=session, council_id=council.id)
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id)
    line = DemandLine(council_id=council.id, cluster_id=cluster.id, service="home_care", hours=20, slots=["mon_am"], lat=51.5, lon=-0.06,
                      max_rate_pence=2400)
    session.add(line)
    session.flush()
    return council, cluster, provider, other, broker, line


def _contract(session, place, **changes):
    council, cluster, provider, _, broker, line = place
    values = dict(session=session, actor=broker, council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, demand_line_id=line.id,
                  proposal_id=None, service="home_care", hours_per_week=12, rate_pence=2150, start_date=START,
                  member_shares={"1": 1})
    return create_contract(**{**values, **changes})


def test_a_contract_is_made_active_by_hours_with_hour_long_visits(session, place):
    contract = _contract(session, place)
    assert contract.id and contract.status == ContractStatus.active
    assert contract.allocation_rule == AllocationRule.by_hours and contract.min_visit_minutes == 60


@pytest.mark.parametrize(("changes", "field"), [
    ({"hours_per_week": 0}, "hours_per_week"),
    ({"rate_pence": 0}, "rate_pence"),
    ({"min_visit_minutes": 15}, "min_visit_minutes"),
])
def test_a_contract_the_database_would_refuse_is_refused_with_a_plain_message(session, place, changes, field):
    with pytest.raises(ValidationFailed) as error:
        _contract(session, place, **changes)
    assert field in error.value.errors


def test_another_councils_staff_can_neither_make_nor_read_a_groups_contracts(session, place, world):
    _, cluster, provider, _, broker, _ = place
    _contract(session, place)
    outsider = world.users["a"][Role.broker]
    with pytest.raises(NotFound):
        _contract(session, place, actor=outsider)
    with pytest.raises(NotFound):
        contracts_of_cluster(session=session, actor=outsider, cluster=cluster)
    assert [(c.hours_per_week, p.id) for c, p in contracts_of_cluster(session=session, actor=broker, cluster=cluster)] == [(12, provider.id)]


def test_contracted_hours_add_up_by_demand_line_and_by_provider(session, place):
    council, _, provider, other, _, line = place
    _contract(session, place, hours_per_week=5)
    _contract(session, place, hours_per_week=3, provider_id=other.id)
    _contract(session, place, hours_per_week=2, demand_line_id=None)
    assert contracted_hours(session=session, council_id=council.id) == ({line.id: 8}, {provider.id: 7, other.id: 3})


def test_a_contract_changes_status_only_by_the_transition_table(session, place):
    contract = _contract(session, place)
    _, _, _, _, broker, _ = place
    with pytest.raises(BadContractMove, match="that is active cannot become active"):
        move_contract(session=session, actor=broker, contract_id=contract.id, status=ContractStatus.active)
    holder_user = f.UserFactory(session=session, role=Role.holder, council_id=broker.council_id)
    with pytest.raises(NotAllowed):
        move_contract(session=session, actor=holder_user, contract_id=contract.id, status=ContractStatus.active)
    assert contract.status == ContractStatus.active


def test_a_contract_names_the_members_it_serves(session, place):
    assert _contract(session, place, member_shares={12: 1, "15": 2}).member_shares == {"12": 1, "15": 2}
    for shares in ({}, None, {"12": 0}, {"x": 1}, {"12": True}):
        with pytest.raises(ValidationFailed) as refused:
            _contract(session, place, member_shares=shares)
        assert "member_shares" in refused.value.errors


def test_a_contract_keeps_the_times_agreed_in_week_order(session, place):
    contract = _contract(session, place, slot_hours={"fri_pm": 2, "mon_am": 4, "tue_am": 0, "wed_am": 6})
    assert list(contract.slot_hours.items()) == [("mon_am", 4), ("wed_am", 6), ("fri_pm", 2)]


def test_a_request_with_many_hours_in_one_time_of_day_is_contracted_with_them(session, place):
    # A request of weekly hours and times is spread over its times with no cap per time: 60 hours on
    # Monday mornings for a group of carers' visits is a request the demand form takes.
    contract = _contract(session, place, hours_per_week=60, slot_hours={"mon_am": 60})
    assert contract.slot_hours == {"mon_am": 60}


def test_a_contract_made_without_times_stores_none_not_json_null(session, place):
    from sqlalchemy import text

    contract = _contract(session, place)
    session.flush()
    assert session.execute(text("SELECT count(*) FROM contract WHERE id = :c AND slot_hours IS NULL"), {"c": contract.id}).scalar_one() == 1


@pytest.mark.parametrize("times, words", [
    ({"mon_am": 4, "fri_pm": 2}, "The times add up to 6 hours a week, not the 12 hours a week of the care"),
    ({"mon_am": 13, "elevenses": -1}, "times of day on the form"),
    ({"mon_am": 169}, "whole number from 0 to 168"),
    ({"mon_am": "12"}, "whole number"),
    ({}, "at least one time of day"),
])
def test_times_that_are_not_the_contracts_hours_are_refused_and_nothing_is_made(session, place, times, words):
    from sqlmodel import func, select

    from brokerage.contracts.models import Contract

    before = session.exec(select(func.count()).select_from(Contract)).one()
    with pytest.raises(ValidationFailed) as refused:
        _contract(session, place, slot_hours=times)
    assert words in " ".join(refused.value.errors["slot_hours"])
    assert session.exec(select(func.count()).select_from(Contract)).one() == before
