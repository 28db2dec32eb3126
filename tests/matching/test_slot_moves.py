"""Format 2's local search (`slot_moves.py`): a line moved whole onto one pair, or a part of it, every slot rule and the coverage kept."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from brokerage.matching import fixed_charge, solver
from brokerage.matching.check import check_solution
from brokerage.matching.generator import generate
from brokerage.matching.budget import Budget
from brokerage.matching.instance import parse_instance
from brokerage.matching.slot_moves import SlotShifts
from tests.matching.test_format2_solver import _format_2, _line_2, _supplier_2, instances_2

NEAR = {"lat": 51.5, "lon": -0.07}


def _shifted(first, budget: int = 10**6):
    """Run the moves on every component of a first answer; return (matching after, moves made, work spent)."""
    model = fixed_charge.model_of(first)
    flow, unit_flow = first.flow.astype(np.int64).copy(), first.slot_flow.astype(np.int64).copy()
    spent = Budget(budget)
    made = sum(SlotShifts(model, arcs, flow, unit_flow).run(spent) for arcs in fixed_charge.components_of(model))
    return solver.Matching(first.network, flow, 0, unit_flow), made, spent.spent


def _rows(matching):
    """Hours per (line, slot), per (supplier, slot) and per supplier week."""
    model = fixed_charge.model_of(matching)
    x = matching.slot_flow
    return (np.bincount(model.unit_row, weights=x, minlength=len(model.row_cap)),
            np.bincount(model.unit_col, weights=x, minlength=len(model.col_cap)),
            np.bincount(model.supplier[model.unit_pair], weights=x, minlength=len(model.supplier_capacity)), model)


@settings(max_examples=60, deadline=None)
@given(instances_2())
def test_the_moves_keep_every_line_s_hours_at_each_time_every_capacity_and_never_cost_more(doc):
    instance = parse_instance(doc)
    first = solver.optimise(solver.build_network(instance))
    after, _, _ = _shifted(first)
    line_before, _, _, model = _rows(first)
    line_after, supplier_after, week_after, _ = _rows(after)
    assert np.array_equal(line_before, line_after)  # the same hours at the same times: the coverage is the maximum flow still
    assert (after.slot_flow >= 0).all() and (after.slot_flow <= model.unit_cap).all()
    assert (supplier_after <= model.col_cap).all() and (week_after <= model.supplier_capacity).all()
    assert np.array_equal(after.flow, np.bincount(model.unit_pair, weights=after.slot_flow, minlength=len(after.flow)))
    assert solver.objective_pence(after.network, after.flow) <= solver.objective_pence(first.network, first.flow) + 1e-6
    report = check_solution(instance, solver.to_solution(after))  # the independent checker agrees
    assert report.ok and report.covered_hours == report.max_hours, report.problems


def test_a_line_split_between_two_carers_goes_whole_to_the_one_free_at_all_its_times():
    # Each carer is cheapest at one of the line's times; one of them is free at both. One pair charge saved
    # pays for the dearer hour.
    network = _one_line({"mon_am": 3, "wed_am": 3}, [("s-both", {"mon_am": 3, "wed_am": 3}, 2_000), ("s-monday", {"mon_am": 3}, 1_900)])
    # An answer that splits the line (as the one-pass solve may, with the charges spread thin).
    start = _placed(network, {("s-monday", "mon_am"): 3, ("s-both", "wed_am"): 3})
    both = [p for p in range(len(network.pairs)) if network.instance.supply[network.pairs.supply[p]].id == "s-both"][0]
    assert (start.flow > 0).sum() == 2
    after, made, spent = _shifted(start)
    assert made == 1 and spent > 0
    assert after.flow[both] == 6 and (after.flow > 0).sum() == 1
    saved = solver.objective_pence(network, start.flow) - solver.objective_pence(network, after.flow)
    assert saved > 0


def _placed(network, hours: dict[tuple[str, str], int]):
    """A matching with these hours per (supplier id, slot name), for a network of one line."""
    from brokerage.vocabulary import SLOTS

    model = fixed_charge.model_of(solver.optimise(network))
    unit_flow = np.zeros(len(network.slots), np.int64)
    for u in range(len(unit_flow)):
        supplier = network.instance.supply[network.pairs.supply[model.unit_pair[u]]].id
        unit_flow[u] = hours.get((supplier, SLOTS[network.slots.slot[u]]), 0)
    flow = np.bincount(model.unit_pair, weights=unit_flow, minlength=len(network.pairs)).astype(np.int64)
    return solver.Matching(network, flow, 0, unit_flow)


def test_when_no_carer_can_take_the_whole_line_one_carer_s_part_merges_into_another_s():
    # Nobody works Monday, Tuesday and Wednesday mornings; A works Monday and Tuesday, so B's Tuesday goes to A.
    network = _one_line({"mon_am": 2, "tue_am": 2, "wed_am": 2},
                        [("a", {"mon_am": 4, "tue_am": 4}, 2_000), ("b", {"tue_am": 4}, 2_000), ("c", {"wed_am": 4}, 2_000)])
    start = _placed(network, {("a", "mon_am"): 2, ("b", "tue_am"): 2, ("c", "wed_am"): 2})
    after, made, _ = _shifted(start)
    assert made == 1
    assert _placed(network, {("a", "mon_am"): 2, ("a", "tue_am"): 2, ("c", "wed_am"): 2}).slot_flow.tolist() == after.slot_flow.tolist()
    # B no longer serves the group: its pair charge and its cluster charge both go.
    saved = solver.objective_pence(network, start.flow) - solver.objective_pence(network, after.flow)
    assert saved == solver.PAIR_CHARGE + solver.CLUSTER_CHARGE


def _one_line(needs: dict, carers: list[tuple[str, dict, int]]):
    doc = _format_2(
        [_line_2(id="d-1", cluster="k-1", slot_hours=needs, languages=[], language_required=False, carer_gender=None, location=NEAR)],
        [_supplier_2(id=name, slot_hours=times, rate_pence=rate, capacity_hours=None, location=NEAR) for name, times, rate in carers],
    )
    return solver.build_network(parse_instance(doc))


def test_a_part_joins_hours_its_new_carer_already_gives_at_the_same_time():
    network = _one_line({"mon_am": 4, "wed_am": 2}, [("a", {"mon_am": 4}, 2_000), ("b", {"mon_am": 4}, 2_100), ("c", {"wed_am": 2}, 2_000)])
    start = _placed(network, {("a", "mon_am"): 2, ("b", "mon_am"): 2, ("c", "wed_am"): 2})
    after, made, _ = _shifted(start)
    assert made == 1
    assert _placed(network, {("a", "mon_am"): 4, ("c", "wed_am"): 2}).slot_flow.tolist() == after.slot_flow.tolist()


def test_a_part_moves_to_a_cheaper_carer_not_yet_used():
    network = _one_line({"mon_am": 2, "wed_am": 2}, [("a", {"mon_am": 2}, 2_400), ("b", {"wed_am": 2}, 2_000), ("d", {"mon_am": 2}, 1_800)])
    start = _placed(network, {("a", "mon_am"): 2, ("b", "wed_am"): 2})
    after, made, _ = _shifted(start)
    assert made == 1
    assert _placed(network, {("d", "mon_am"): 2, ("b", "wed_am"): 2}).slot_flow.tolist() == after.slot_flow.tolist()
    assert solver.objective_pence(network, after.flow) < solver.objective_pence(network, start.flow)


def test_a_line_stays_split_when_no_one_carer_has_room_at_all_its_times():
    network = _one_line({"mon_am": 3, "wed_am": 3}, [("s-monday", {"mon_am": 3}, 2_000), ("s-wednesday", {"wed_am": 3}, 2_000)])
    first = solver.optimise(network)
    after, made, _ = _shifted(first)
    assert made == 0 and np.array_equal(after.slot_flow, first.slot_flow) and (after.flow > 0).sum() == 2


def test_on_a_generated_instance_the_moves_cut_the_split_lines_and_the_cost_within_their_budget():
    first = solver.optimise(solver.build_network(parse_instance(generate("S", 1, format=2))))
    after, made, spent = _shifted(first)
    splits = [np.bincount(first.network.pairs.demand[m.flow > 0]) for m in (first, after)]
    assert made > 20 and (splits[1] >= 2).sum() < (splits[0] >= 2).sum()
    assert solver.objective_pence(after.network, after.flow) < solver.objective_pence(first.network, first.flow)
    line_before, _, _, model = _rows(first)
    line_after, supplier_after, week_after, _ = _rows(after)
    assert np.array_equal(line_before, line_after)
    assert (after.slot_flow <= model.unit_cap).all()
    assert (supplier_after <= model.col_cap).all() and (week_after <= model.supplier_capacity).all()
    # Capacities bind here: the moves had to respect them.
    assert (supplier_after == model.col_cap).any() and (week_after == model.supplier_capacity).any()
    report = check_solution(after.network.instance, solver.to_solution(after))
    assert report.ok and report.covered_hours == report.max_hours, report.problems
    starved, none_made, none_spent = _shifted(first, budget=0)
    assert none_made == 0 and none_spent == 0 and np.array_equal(starved.flow, first.flow)


def test_a_line_not_split_moves_whole_to_the_carer_already_serving_its_group():
    # Two neighbours in one group: a serves the first, b the second, and b is free for the first as well.
    # Moving the first to b costs 50p an hour more and saves a's cluster charge.
    doc = _format_2(
        [_line_2(id=f"d-{i}", cluster="k-1", slot_hours=needs, languages=[], language_required=False, carer_gender=None, location=NEAR)
         for i, needs in ((1, {"mon_am": 3}), (2, {"tue_am": 3}))],
        [_supplier_2(id="a", slot_hours={"mon_am": 3}, rate_pence=2_000, capacity_hours=None, location=NEAR),
         _supplier_2(id="b", slot_hours={"mon_am": 3, "tue_am": 3}, rate_pence=2_050, capacity_hours=None, location=NEAR)],
    )
    network = solver.build_network(parse_instance(doc))
    model = fixed_charge.model_of(solver.optimise(network))

    def pair(line: str, supplier: str) -> int:
        return next(p for p in range(len(network.pairs)) if (network.instance.demand[network.pairs.demand[p]].id,
                                                              network.instance.supply[network.pairs.supply[p]].id) == (line, supplier))

    def placed(on: dict[tuple[str, str], int]):
        flow = np.zeros(len(network.pairs), np.int64)
        for (line, supplier), hours in on.items():
            flow[pair(line, supplier)] = hours
        unit_flow = flow[model.unit_pair]  # every pair here has one slot arc
        return solver.Matching(network, flow, 0, unit_flow)

    start = placed({("d-1", "a"): 3, ("d-2", "b"): 3})
    assert len(network.slots) == len(network.pairs)
    after, made, _ = _shifted(start)
    assert made == 1
    assert after.flow.tolist() == placed({("d-1", "b"): 3, ("d-2", "b"): 3}).flow.tolist()
    saved = solver.objective_pence(network, start.flow) - solver.objective_pence(network, after.flow)
    assert saved == solver.CLUSTER_CHARGE - 3 * 50


def test_a_split_line_goes_whole_to_a_full_carer_when_the_line_filling_it_can_move_to_a_carer_it_frees():
    # d-1 needs Monday and Tuesday mornings and is split between a (Monday) and b (Tuesday); s works both
    # mornings but d-2 fills its Tuesday. No single move saves (s has no room on Tuesday; d-1's Monday part
    # on s saves a pair charge and a cluster charge but opens both again). Moving d-1 whole to s and d-2 to
    # b, which d-1 has just left, saves a pair charge and a cluster charge.
    network, start = _full_carer()
    after, made, _ = _shifted(start)
    assert made == 1
    assert after.slot_flow.tolist() == _placed_lines(
        network, {("d-1", "s", "mon_am"): 3, ("d-1", "s", "tue_am"): 3, ("d-2", "b", "tue_am"): 3}).slot_flow.tolist()
    saved = solver.objective_pence(network, start.flow) - solver.objective_pence(network, after.flow)
    assert saved == solver.PAIR_CHARGE + solver.CLUSTER_CHARGE
    report = check_solution(network.instance, solver.to_solution(after))
    assert report.ok and report.covered_hours == report.max_hours, report.problems
    # A round without swaps (as `improve` first gives every component) moves nothing; one with them swaps at once.
    model = fixed_charge.model_of(start)
    (arcs,) = [a for a in fixed_charge.components_of(model) if len(a) > 1]
    for options, moves in (({"rounds": 1}, 0), ({"plain_rounds": 0, "rounds": 1}, 1)):
        flow, unit_flow = start.flow.astype(np.int64).copy(), start.slot_flow.astype(np.int64).copy()
        assert SlotShifts(model, arcs, flow, unit_flow).run(Budget(10**6), **options) == moves


def test_no_swap_is_made_when_the_line_filling_the_carer_has_nowhere_else_to_go():
    _, start = _full_carer(only_s_is_a_woman=True)  # d-2 asks for a woman; only s is one
    after, made, _ = _shifted(start)
    assert made == 0 and np.array_equal(after.slot_flow, start.slot_flow)


def _full_carer(only_s_is_a_woman: bool = False):
    """The swap tests' network and start: d-1 split between a and b, d-2 filling s's Tuesday morning."""
    lines = [("d-1", "k-1", {"mon_am": 3, "tue_am": 3}), ("d-2", "k-2", {"tue_am": 3})]
    carers = [("a", {"mon_am": 3}), ("b", {"tue_am": 3}), ("s", {"mon_am": 3, "tue_am": 3})]
    doc = _format_2(
        [_line_2(id=name, cluster=cluster, slot_hours=needs, languages=[], language_required=False,
                 carer_gender="female" if only_s_is_a_woman and name == "d-2" else None, location=NEAR)
         for name, cluster, needs in lines],
        [_supplier_2(id=name, slot_hours=times, rate_pence=2_000, capacity_hours=None, location=NEAR,
                     genders=["female"] if name == "s" or not only_s_is_a_woman else ["male"]) for name, times in carers],
    )
    network = solver.build_network(parse_instance(doc))
    return network, _placed_lines(network, {("d-1", "a", "mon_am"): 3, ("d-1", "b", "tue_am"): 3, ("d-2", "s", "tue_am"): 3})


def _placed_lines(network, hours: dict[tuple[str, str, str], int]):
    """A matching with these hours per (line id, supplier id, slot name)."""
    from brokerage.vocabulary import SLOTS

    model = fixed_charge.model_of(solver.optimise(network))
    unit_flow = np.zeros(len(network.slots), np.int64)
    for u in range(len(unit_flow)):
        p = model.unit_pair[u]
        key = (network.instance.demand[network.pairs.demand[p]].id, network.instance.supply[network.pairs.supply[p]].id,
               SLOTS[network.slots.slot[u]])
        unit_flow[u] = hours.pop(key, 0)
    assert not hours, f"no such slot arcs: {hours}"
    flow = np.bincount(model.unit_pair, weights=unit_flow, minlength=len(network.pairs)).astype(np.int64)
    return solver.Matching(network, flow, 0, unit_flow)


def test_on_a_generated_instance_swaps_lower_the_cost_where_the_other_moves_have_stopped(monkeypatch):
    from brokerage.matching import slot_moves

    first = solver.optimise(solver.build_network(parse_instance(generate("S", 1, format=2))))
    monkeypatch.setattr(slot_moves, "SWAP_TARGETS", 0)  # the moves without swaps, to the end
    stuck, _, _ = _shifted(first)
    monkeypatch.undo()
    after, made, _ = _shifted(stuck)
    assert made > 5
    assert solver.objective_pence(after.network, after.flow) < solver.objective_pence(stuck.network, stuck.flow) - made
    line_before, _, _, model = _rows(first)
    line_after, supplier_after, week_after, _ = _rows(after)
    assert np.array_equal(line_before, line_after)
    assert (after.slot_flow >= 0).all() and (after.slot_flow <= model.unit_cap).all()
    assert (supplier_after <= model.col_cap).all() and (week_after <= model.supplier_capacity).all()
    assert np.array_equal(after.flow, np.bincount(model.unit_pair, weights=after.slot_flow, minlength=len(after.flow)))
    report = check_solution(after.network.instance, solver.to_solution(after))
    assert report.ok and report.covered_hours == report.max_hours, report.problems
