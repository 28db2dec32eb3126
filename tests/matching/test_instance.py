"""Instance and solution files are accepted exactly as the format describes, and no looser."""

from __future__ import annotations

import copy

import pytest

from brokerage.matching.errors import InstanceError, MatchingError
from brokerage.matching.instance import parse_instance, parse_solution
from tests.matching.conftest import instance_of, line, supplier


def test_accepts_the_example_from_the_format(spec_instance):
    instance = parse_instance(spec_instance)
    demand, supply = instance.demand[0], instance.supply[0]
    assert demand.id == "d-0001" and demand.hours == 20 and demand.carer_gender == "female"
    assert (demand.lat, demand.lon) == (51.5155, -0.0722)
    assert supply.kind == "coop" and supply.radius_km == 8.0 and supply.vetted is True
    assert instance.to_dict() == spec_instance


def test_accepts_the_example_solution_from_the_format(spec_solution):
    solution = parse_solution(spec_solution)
    assert solution.covered_hours == 1234 and solution.cost == 98765.4
    assert solution.to_dict() == spec_solution


def test_errors_carry_the_unprocessable_status():
    assert issubclass(InstanceError, MatchingError)
    assert InstanceError("x").status == 422


BAD_DEMAND = [
    ({"hours": -1}, "demand[d-0001].hours: must be an integer >= 0"),
    ({"hours": 20.0}, "demand[d-0001].hours: must be an integer >= 0"),
    ({"hours": True}, "demand[d-0001].hours: must be an integer >= 0"),
    ({"hours": "20"}, "demand[d-0001].hours: must be an integer >= 0"),
    ({"hours": 10**12}, "demand[d-0001].hours: must be at most"),
    ({"max_rate_pence": 2400.5}, "demand[d-0001].max_rate_pence: must be an integer >= 0"),
    ({"cluster": ""}, "demand[d-0001].cluster: must be a non-empty string"),
    ({"service": "Home Care"}, "demand[d-0001].service: must be a lowercase token"),
    ({"service": ""}, "demand[d-0001].service: must be a lowercase token"),
    ({"slots": ["mon_night"]}, "demand[d-0001].slots: must be a list of slots"),
    ({"slots": ["Mon_am"]}, "demand[d-0001].slots: must be a list of slots"),
    ({"slots": "mon_am"}, "demand[d-0001].slots: must be a list of slots"),
    ({"languages": ["eng"]}, "demand[d-0001].languages: must be a list of ISO 639-1 codes"),
    ({"languages": ["SO"]}, "demand[d-0001].languages: must be a list of ISO 639-1 codes"),
    ({"languages": ["xx"]}, "demand[d-0001].languages: must be a list of ISO 639-1 codes"),
    ({"languages": [["so"]]}, "demand[d-0001].languages: must be a list of ISO 639-1 codes"),
    ({"language_required": 1}, "demand[d-0001].language_required: must be true or false"),
    ({"carer_gender": "other"}, 'demand[d-0001].carer_gender: must be "female", "male" or null'),
    ({"carer_gender": "Female"}, "demand[d-0001].carer_gender"),
    ({"location": {"lat": 91, "lon": 0}}, "demand[d-0001].location.lat: must be a number"),
    ({"location": {"lat": float("nan"), "lon": 0}}, "demand[d-0001].location.lat"),
    ({"location": {"lat": 51.5, "lon": "0"}}, "demand[d-0001].location.lon: must be a number"),
    ({"location": {"lat": 51.5, "lon": 181}}, "demand[d-0001].location.lon"),
    ({"location": {"lat": True, "lon": 0}}, "demand[d-0001].location.lat"),
    ({"location": {"lat": 51.5}}, "demand[d-0001].location.lon: missing"),
    ({"location": {"lat": 51.5, "lon": 0, "alt": 3}}, "demand[d-0001].location.alt: unknown"),
    ({"location": [51.5, 0]}, "demand[d-0001].location: must be an object"),
    ({"current_supplier": 7}, "demand[d-0001].current_supplier: must be a supplier id"),
    ({"current_supplier": ""}, "demand[d-0001].current_supplier: must be a supplier id"),
    ({"colour": "blue"}, "demand[d-0001].colour: unknown field"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_DEMAND)
def test_rejects_a_bad_demand_field_naming_field_and_id(changes, message):
    doc = instance_of([line(**changes)], [supplier()])
    with pytest.raises(InstanceError) as caught:
        parse_instance(doc)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


BAD_SUPPLY = [
    ({"kind": "agency"}, "supply[s-0001].kind: must be one of pa, micro_provider"),
    ({"services": ["Home"]}, "supply[s-0001].services: must be a list of lowercase"),
    ({"services": "home_care"}, "supply[s-0001].services: must be a list"),
    ({"capacity_hours": -5}, "supply[s-0001].capacity_hours: must be an integer >= 0"),
    ({"capacity_hours": 60.0}, "supply[s-0001].capacity_hours: must be an integer >= 0"),
    ({"genders": ["nonbinary"]}, "supply[s-0001].genders: must be a list of genders"),
    ({"radius_km": 0}, "supply[s-0001].radius_km: must be a positive number"),
    ({"radius_km": -1.5}, "supply[s-0001].radius_km: must be a positive number"),
    ({"radius_km": "8"}, "supply[s-0001].radius_km: must be a positive number"),
    ({"radius_km": True}, "supply[s-0001].radius_km: must be a positive number"),
    ({"radius_km": float("inf")}, "supply[s-0001].radius_km: must be a positive number"),
    ({"rate_pence": 21.5}, "supply[s-0001].rate_pence: must be an integer >= 0"),
    ({"living_wage": "yes"}, "supply[s-0001].living_wage: must be true or false"),
    ({"ethical_care_charter": 0}, "supply[s-0001].ethical_care_charter: must be true or false"),
    ({"vetted": None}, "supply[s-0001].vetted: must be true or false"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_SUPPLY)
def test_rejects_a_bad_supply_field_naming_field_and_id(changes, message):
    doc = instance_of([line()], [supplier(**changes)])
    with pytest.raises(InstanceError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        parse_instance(doc)


def test_rejects_a_missing_field():
    record = line()
    del record["cluster"]
    with pytest.raises(InstanceError, match=r"^demand\[d-0001\]\.cluster: missing$"):
        parse_instance(instance_of([record], []))


def test_rejects_empty_and_duplicate_ids():
    with pytest.raises(InstanceError, match=r"^demand\[#0\]\.id: must be a non-empty string"):
        parse_instance(instance_of([line(id="")], []))
    with pytest.raises(InstanceError, match=r"^supply\[s-0001\]\.id: duplicate id"):
        parse_instance(instance_of([], [supplier(), supplier()]))


def test_rejects_a_wrong_format_or_shape(spec_instance):
    for doc, message in [
        ({**spec_instance, "format": "carepool-matching/3"}, "format: must be"),
        ({**spec_instance, "format": "carepool-matching/2"}, "demand[d-0001].slot_hours: missing"),
        ({**spec_instance, "demand": {}}, "demand: must be a list"),
        ({**spec_instance, "extra": 1}, "extra: unknown field"),
        ({"format": "carepool-matching/1", "demand": []}, "supply: missing"),
        ([], "instance: must be a JSON object"),
        (instance_of(["d-0001"], []), "demand[#0]: must be an object"),
    ]:
        with pytest.raises(InstanceError) as caught:
            parse_instance(doc)
        assert str(caught.value).startswith(message)


def test_accepts_empty_lists_and_no_preferences():
    doc = instance_of([line(languages=[], language_required=False, carer_gender=None,
                            slots=[], hours=0)], [supplier(services=[], genders=[])])
    instance = parse_instance(doc)
    assert instance.demand[0].languages == () and instance.supply[0].services == ()


def test_accepts_other_lowercase_service_tokens_and_integer_coordinates():
    doc = instance_of([line(service="night_sitting", location={"lat": 51, "lon": 0})],
                      [supplier(radius_km=8)])
    instance = parse_instance(doc)
    assert instance.demand[0].service == "night_sitting"
    assert isinstance(instance.supply[0].radius_km, float)


BAD_SOLUTION = [
    (lambda s: s["assignments"][0].update(hours="12"),
     "assignments[d-0001->s-0001].hours: must be an integer"),
    (lambda s: s["assignments"][0].pop("explanation"),
     "assignments[d-0001->s-0001].explanation: missing"),
    (lambda s: s["assignments"][0].update(demand=""), "assignments[#0].demand: must be"),
    (lambda s: s["unmet"][0].update(reason=None), "unmet[d-0002].reason: must be a string"),
    (lambda s: s.update(covered_hours=12.0), "covered_hours: must be an integer"),
    (lambda s: s.update(cost=float("nan")), "cost: must be a finite number"),
    (lambda s: s.update(cost="1"), "cost: must be a finite number"),
    (lambda s: s.update(format="carepool-matching/1"), "format: must be"),
    (lambda s: s.pop("unmet"), "unmet: missing"),
]


@pytest.mark.parametrize(("spoil", "message"), BAD_SOLUTION)
def test_rejects_a_malformed_solution(spec_solution, spoil, message):
    doc = copy.deepcopy(spec_solution)
    spoil(doc)
    with pytest.raises(InstanceError) as caught:
        parse_solution(doc)
    assert str(caught.value).startswith(message)
