"""Format 2: the solver places hours only where both sides have them, and still covers the maximum flow."""

from __future__ import annotations

import json
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from brokerage.matching import solver
from brokerage.matching.files import encode
from brokerage.matching.instance import Instance, parse_instance
from brokerage.matching.rules import can_serve
from tests.matching.conftest import line, supplier
from tests.matching.strategies import instances

BIG = 10**6


def as_format_2(doc: dict, draw) -> dict:
    """Turn a format 1 document into format 2, drawing hours for each of a record's slots."""
    demand = []
    for record in doc["demand"]:
        record = {k: v for k, v in record.items() if k not in ("hours", "slots")}
        slots = draw(st.lists(st.sampled_from(("mon_am", "mon_pm", "tue_am", "sun_eve")), min_size=0, max_size=4, unique=True))
        record["slot_hours"] = {slot: draw(st.integers(0, 6)) for slot in slots}
        demand.append(record)
    supply = []
    for record in doc["supply"]:
        record = {k: v for k, v in record.items() if k != "slots"}
        slots = draw(st.lists(st.sampled_from(("mon_am", "mon_pm", "tue_am", "sun_eve")), min_size=1, max_size=4, unique=True))
        record["slot_hours"] = {slot: draw(st.integers(0, 10)) for slot in slots}
        record["capacity_hours"] = draw(st.none() | st.integers(0, 25))
        supply.append(record)
    return {"format": "carepool-matching/2", "demand": demand, "supply": supply}


@st.composite
def instances_2(draw) -> dict:
    return as_format_2(draw(instances()), draw)


def reference_max_flow_2(instance: Instance) -> int:
    """The format's maximum flow, built here from brute-force pairs: source -> (line, slot) -> (supplier, slot) -> supplier -> sink."""
    nodes: dict[tuple, int] = {"source": 0, "sink": 1}

    def node(key) -> int:
        return nodes.setdefault(key, len(nodes))

    edges: dict[tuple[int, int], int] = {}
    for d in instance.demand:
        for slot, hours in d.slot_hours.items():
            edges[(0, node(("line", d.id, slot)))] = hours
    for s in instance.supply:
        for slot, hours in s.slot_hours.items():
            edges[(node(("supplier", s.id, slot)), node(("supplier", s.id)))] = hours
        edges[(node(("supplier", s.id)), 1)] = s.capacity_hours if s.capped else BIG
    for d in instance.demand:
        for s in instance.supply:
            if can_serve(d, s):
                for slot in set(d.slot_hours) & set(s.slot_hours):
                    edges[(node(("line", d.id, slot)), node(("supplier", s.id, slot)))] = BIG
    if not edges:
        return 0
    (tails, heads), caps = zip(*edges.keys()), list(edges.values())
    graph = csr_matrix((np.array(caps, np.int32), (tails, heads)), shape=(len(nodes), len(nodes)))
    return int(maximum_flow(graph, 0, 1).flow_value)


def as_json(solution) -> str:
    return encode(solution.to_dict(), ("assignments", "unmet"))


@settings(max_examples=120, deadline=None)
@given(instances_2(), st.randoms(use_true_random=False))
def test_format_2_places_hours_only_where_both_sides_have_them_and_covers_the_maximum_flow(doc, rng):
    instance = parse_instance(doc)
    solution = solver.solve(instance)
    assert solution.format == 2 and solution.to_dict()["format"] == "carepool-matching-solution/2"
    lines = {d.id: d for d in instance.demand}
    suppliers = {s.id: s for s in instance.supply}
    line_slot: dict[tuple, int] = {}
    supplier_slot: dict[tuple, int] = {}
    week: dict[str, int] = {}
    pairs = set()
    for a in solution.assignments:
        d, s = lines[a.demand], suppliers[a.supplier]
        assert can_serve(d, s)
        assert (a.demand, a.supplier) not in pairs
        pairs.add((a.demand, a.supplier))
        assert a.slot_hours and all(h >= 1 for h in a.slot_hours.values())
        assert a.hours == sum(a.slot_hours.values())
        for slot, hours in a.slot_hours.items():
            assert slot in d.slot_hours and slot in s.slot_hours, "hours placed in a slot one side does not have"
            line_slot[(d.id, slot)] = line_slot.get((d.id, slot), 0) + hours
            supplier_slot[(s.id, slot)] = supplier_slot.get((s.id, slot), 0) + hours
        week[s.id] = week.get(s.id, 0) + a.hours
    for (d, slot), hours in line_slot.items():
        assert hours <= lines[d].slot_hours[slot]
    for (s, slot), hours in supplier_slot.items():
        assert hours <= suppliers[s].slot_hours[slot]
    for s, hours in week.items():
        assert hours <= suppliers[s].capacity_hours
    assert solution.covered_hours == sum(a.hours for a in solution.assignments) == reference_max_flow_2(instance)
    unmet = {u.demand: u for u in solution.unmet}
    for d in instance.demand:
        left = {slot: hours - line_slot.get((d.id, slot), 0) for slot, hours in d.slot_hours.items()}
        left = {slot: hours for slot, hours in left.items() if hours > 0}
        if left:
            assert unmet[d.id].slot_hours == left and unmet[d.id].hours == sum(left.values())
        else:
            assert d.id not in unmet
    # Repeatable, and the same whatever order the file lists its records in.
    shuffled = dict(doc, demand=rng.sample(doc["demand"], len(doc["demand"])), supply=rng.sample(doc["supply"], len(doc["supply"])))
    assert as_json(solver.solve(parse_instance(shuffled))) == as_json(solution)


def _format_2(demand: list[dict], supply: list[dict]) -> dict:
    return {"format": "carepool-matching/2", "demand": demand, "supply": supply}


def _line_2(**changes) -> dict:
    record = {k: v for k, v in line().items() if k not in ("hours", "slots")}
    return record | changes


def _supplier_2(**changes) -> dict:
    record = {k: v for k, v in supplier().items() if k != "slots"}
    return record | changes


def test_the_issues_case_a_co_op_free_only_on_tuesday_morning_gets_only_tuesday_mornings_hours():
    # A group wants 14 hours of home care, Monday to Thursday mornings and Friday afternoon; the co-op lists
    # only Tuesday morning among those times. Format 1 gave it all 14 hours.
    needs = {"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}
    doc = _format_2([_line_2(slot_hours=needs, languages=[], language_required=False, carer_gender=None)],
                    [_supplier_2(slot_hours={"tue_am": 20, "sat_am": 20}, capacity_hours=None)])
    solution = solver.solve(parse_instance(doc))
    (assignment,) = solution.assignments
    assert assignment.slot_hours == {"tue_am": 3} and assignment.hours == 3
    assert assignment.explanation.startswith("Tuesday mornings (3 hours). ")
    (unmet,) = solution.unmet
    assert unmet.hours == 11 and unmet.slot_hours == {"mon_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}
    assert unmet.reason.startswith("11 of 14 hours not covered: no vetted provider within reach offers home care on "
                                   "Monday, Wednesday and Thursday mornings and Friday afternoons")


def test_unmet_reasons_name_the_times_nobody_suitable_works_and_the_times_they_are_booked():
    somali = dict(languages=["so"], language_required=True, carer_gender=None)
    doc = _format_2(
        [_line_2(id="d-1", slot_hours={"mon_am": 4, "fri_pm": 2}, **somali),
         _line_2(id="d-2", slot_hours={"mon_am": 4}, **somali)],
        [_supplier_2(id="s-1", slot_hours={"mon_am": 4}, capacity_hours=None, languages=["so"])],
    )
    solution = solver.solve(parse_instance(doc))
    reasons = {u.demand: u.reason for u in solution.unmet}
    # Nobody at all works Friday afternoons (it said "no vetted provider who speaks Somali ..." as if one did).
    assert reasons["d-1"] == "2 of 6 hours not covered: no vetted provider within reach offers home care on Friday afternoons."
    assert reasons["d-2"] == "On Monday mornings the only provider who could come is fully booked."


def test_each_unmet_time_gets_its_own_reason_not_the_line_s_as_a_whole():
    # The provider works mornings only and asks more than the group pays: that is why the mornings went
    # unmet, not the evenings, which nobody works. The old reason put all 10 hours down to its price.
    doc = _format_2([_line_2(slot_hours={"mon_am": 3, "tue_am": 2, "mon_eve": 5}, max_rate_pence=2000)],
                    [_supplier_2(id="s-1", slot_hours={"mon_am": 10}, capacity_hours=None, rate_pence=2500),
                     _supplier_2(id="s-2", slot_hours={"tue_am": 10}, capacity_hours=None, rate_pence=1800, languages=["en"])])
    (unmet,) = solver.solve(parse_instance(doc)).unmet
    assert unmet.reason == (
        "10 hours not covered: on Monday mornings 1 provider could give this care but charges more than the £20.00 an hour "
        "the group will pay (it asks £25.00 an hour); no vetted provider within reach offers home care on Monday evenings; "
        "no vetted Somali-speaking provider within reach offers home care on Tuesday mornings.")


def test_times_with_one_outcome_are_said_together_counting_who_could_come_at_any_of_them():
    # Monday's only provider and Tuesday's are both booked by the first request: one phrase, two providers.
    doc = _format_2([_line_2(id="d-1", slot_hours={"mon_am": 4, "tue_am": 4}), _line_2(id="d-2", slot_hours={"mon_am": 2, "tue_am": 3})],
                    [_supplier_2(id="s-1", slot_hours={"mon_am": 4}, capacity_hours=None),
                     _supplier_2(id="s-2", slot_hours={"tue_am": 4}, capacity_hours=None)])
    (unmet,) = solver.solve(parse_instance(doc)).unmet
    assert unmet.reason == "On Monday and Tuesday mornings the 2 providers who could come are fully booked."


def test_one_reason_for_all_of_a_line_s_times_reads_as_one_sentence():
    doc = _format_2([_line_2(slot_hours={"mon_am": 3, "tue_am": 2}, carer_gender="male")],
                    [_supplier_2(slot_hours={"mon_am": 10, "tue_am": 10}, capacity_hours=None, genders=["female"])])
    (unmet,) = solver.solve(parse_instance(doc)).unmet
    assert unmet.reason == ("No vetted provider within reach with male staff offers home care on Monday and Tuesday mornings "
                            "in Somali.")


def test_a_provider_whose_hours_are_all_arranged_already_is_fully_booked_not_missing():
    # The service takes care already arranged off a provider's hours before solving; given the hours it
    # works, the reason says it is booked. Without them, its times look unworked.
    doc = _format_2([_line_2(id="d-1", slot_hours={"mon_eve": 4, "tue_eve": 4})],
                    [_supplier_2(id="s-1", slot_hours={}, capacity_hours=0)])
    instance = parse_instance(doc)
    offered = {"s-1": ({"mon_eve": 6, "tue_eve": 6, "wed_eve": 6}, 12)}
    with_offer = solver.to_solution(solver.optimise(solver.build_network(instance)), offered=offered)
    assert with_offer.unmet[0].reason == "On Monday and Tuesday evenings the only provider who could come is fully booked."
    bare = solver.solve(instance).unmet[0].reason
    assert bare == "No vetted provider within reach offers home care on Monday and Tuesday evenings."
    # A provider that works those times but has set its weekly hours to 0 has nothing to offer.
    with_nothing = solver.to_solution(solver.optimise(solver.build_network(instance)), offered={"s-1": ({"mon_eve": 6}, 0)})
    assert with_nothing.unmet[0].reason == ("8 hours not covered: on Monday evenings the only provider who could come has no hours "
                                            "to offer (a weekly cap of 0 hours); no vetted provider within reach offers home care "
                                            "on Tuesday evenings.")


def test_a_weekly_cap_holds_across_slots_and_a_null_cap_means_only_the_slots_limit():
    needs = {"mon_am": 5, "tue_am": 5, "wed_am": 5}
    doc = _format_2([_line_2(slot_hours=needs, languages=[], language_required=False, carer_gender=None)],
                    [_supplier_2(id="s-capped", slot_hours={"mon_am": 5, "tue_am": 5, "wed_am": 5}, capacity_hours=7)])
    solution = solver.solve(parse_instance(doc))
    assert solution.covered_hours == 7
    doc["supply"][0]["capacity_hours"] = None
    assert solver.solve(parse_instance(doc)).covered_hours == 15


def test_format_2_round_trips_through_its_file(tmp_path):
    doc = _format_2([_line_2(slot_hours={"mon_am": 2})], [_supplier_2(slot_hours={"mon_am": 8}, capacity_hours=None)])
    instance = parse_instance(doc)
    again = parse_instance(json.loads(json.dumps(instance.to_dict())))
    assert again == instance and again.to_dict() == instance.to_dict()
    assert instance.to_dict()["supply"][0]["capacity_hours"] is None
    solution = solver.solve(instance)
    from brokerage.matching.instance import parse_solution

    assert parse_solution(json.loads(as_json(solution))) == solution


def test_a_format_2_line_is_served_in_its_cheapest_suppliers_slots_first():
    # Two suppliers both free on Monday morning; the cheaper one gets the hours.
    doc = _format_2(
        [_line_2(slot_hours={"mon_am": 3}, languages=[], language_required=False, carer_gender=None)],
        [_supplier_2(id="s-dear", slot_hours={"mon_am": 3}, capacity_hours=None, rate_pence=2300),
         _supplier_2(id="s-cheap", slot_hours={"mon_am": 3}, capacity_hours=None, rate_pence=1900)],
    )
    (assignment,) = solver.solve(parse_instance(doc)).assignments
    assert assignment.supplier == "s-cheap"


def test_random_shuffles_of_a_bigger_format_2_instance_agree():
    rng = random.Random(7)
    slots = ["mon_am", "tue_am", "wed_am", "thu_pm", "fri_pm"]
    demand = [_line_2(id=f"d-{i}", cluster=f"k-{i % 3}", languages=[], language_required=False, carer_gender=None,
                      slot_hours={s: rng.randint(1, 3) for s in rng.sample(slots, 3)}) for i in range(30)]
    supply = [_supplier_2(id=f"s-{j}", slot_hours={s: rng.randint(2, 8) for s in rng.sample(slots, 2)},
                          capacity_hours=rng.choice([None, 6, 10])) for j in range(8)]
    doc = _format_2(demand, supply)
    first = as_json(solver.solve(parse_instance(doc)))
    for _ in range(3):
        shuffled = _format_2(rng.sample(demand, len(demand)), rng.sample(supply, len(supply)))
        assert as_json(solver.solve(parse_instance(shuffled))) == first
    assert solver.solve(parse_instance(doc)).covered_hours == reference_max_flow_2(parse_instance(doc))


def test_the_cluster_charge_is_spread_over_the_hours_a_supplier_can_give_the_cluster_at_the_times_both_have():
    # Two lines of one cluster want 12 hours each, Monday to Thursday mornings; the co-op is free on Tuesday
    # mornings only, so it can give the cluster 6 hours, not 24 (which the first answer used to assume,
    # making that cluster charge look a quarter of its real size per hour).
    needs = {"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3}
    person = dict(cluster="k-1", slot_hours=needs, languages=[], language_required=False, carer_gender=None)
    doc = _format_2([_line_2(id="d-1", **person), _line_2(id="d-2", **person)],
                    [_supplier_2(id="s-tue", slot_hours={"tue_am": 20}, capacity_hours=40),
                     _supplier_2(id="s-all", slot_hours={slot: 20 for slot in needs}, capacity_hours=None)])
    network = solver.build_network(parse_instance(doc))
    groups, capacity = solver.cluster_capacity(network, solver.arc_capacity(network))
    by_supplier = {network.instance.supply[s].id: int(capacity[g]) for g, s in zip(groups, network.pairs.supply)}
    assert by_supplier == {"s-tue": 6, "s-all": 24}


def test_in_format_1_the_cluster_capacity_is_the_cluster_s_hours_up_to_the_supplier_s_capacity():
    doc = {"format": "carepool-matching/1",
           "demand": [line(id="d-1", cluster="k-1", hours=10), line(id="d-2", cluster="k-1", hours=8)],
           "supply": [supplier(id="s-big", capacity_hours=40), supplier(id="s-small", capacity_hours=12)]}
    network = solver.build_network(parse_instance(doc))
    groups, capacity = solver.cluster_capacity(network, solver.arc_capacity(network))
    by_supplier = {network.instance.supply[s].id: int(capacity[g]) for g, s in zip(groups, network.pairs.supply)}
    assert by_supplier == {"s-big": 18, "s-small": 12}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda size: st.tuples(st.just(size), st.lists(st.integers(0, size - 1), max_size=200))))
def test_chunk_nodes_numbered_by_marking_are_numpy_s_unique(case):
    from brokerage.matching.slots import _unique

    size, keys = case
    keys = np.array(keys, dtype=np.int64)
    values, inverse = _unique(keys, size)
    expected_values, expected_inverse = np.unique(keys, return_inverse=True)
    assert np.array_equal(values, expected_values) and np.array_equal(inverse, expected_inverse.reshape(-1))
