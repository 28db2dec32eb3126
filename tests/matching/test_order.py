"""The same lines and suppliers give the same solution in any file order: ties are broken by id."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerage.matching import solver
from brokerage.matching.generator import generate
from brokerage.matching.instance import parse_instance
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.strategies import instances


def content(solution) -> tuple:
    """Return a solution as sets keyed by ids, so that only its order is ignored."""
    assignments = {(a.demand, a.supplier): (a.hours, a.explanation) for a in solution.assignments}
    unmet = {u.demand: (u.hours, u.reason) for u in solution.unmet}
    return assignments, unmet, solution.covered_hours, solution.cost


def shuffled(doc: dict, rng: random.Random) -> dict:
    demand, supply = list(doc["demand"]), list(doc["supply"])
    rng.shuffle(demand)
    rng.shuffle(supply)
    return {"format": doc["format"], "demand": demand, "supply": supply}


def tied(doc: dict) -> dict:
    """Make many ties: every supplier alike but for its id, every line alike but for id and hours."""
    first_supplier = doc["supply"][0] if doc["supply"] else None
    first_line = doc["demand"][0] if doc["demand"] else None
    supply = [{**first_supplier, "id": s["id"], "capacity_hours": s["capacity_hours"]}
              for s in doc["supply"]]
    demand = [{**first_line, "id": d["id"], "hours": d["hours"], "cluster": d["cluster"]}
              for d in doc["demand"]]
    return {"format": doc["format"], "demand": demand, "supply": supply}


@settings(max_examples=60, deadline=None)
@given(instances(max_demand=10, max_supply=8), st.randoms(use_true_random=False),
       st.booleans())
def test_any_order_of_the_same_records_gives_the_same_solution(doc, rng, with_ties):
    if with_ties and doc["demand"] and doc["supply"]:
        doc = tied(doc)
    original = solver.solve(parse_instance(doc))
    again = solver.solve(parse_instance(shuffled(doc, rng)))
    assert content(again) == content(original)


def test_a_generated_instance_shuffled_gives_the_same_assignments_and_cost():
    doc = generate("S", 11)
    original = solver.solve(parse_instance(doc))
    for seed in (1, 2):
        again = solver.solve(parse_instance(shuffled(doc, random.Random(seed))))
        assert content(again) == content(original)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identical_suppliers_share_hours_by_id_not_by_file_order(seed):
    # Three alike lines of 5 h and three alike suppliers of 4 h: many maximum flows cost the same.
    doc = instance_of([line(id=f"d-{i}", hours=5) for i in range(3)],
                      [supplier(id=f"s-{j}", capacity_hours=4) for j in range(3)])
    solution = solver.solve(parse_instance(doc))
    again = solver.solve(parse_instance(shuffled(doc, random.Random(seed))))
    assert content(again) == content(solution)
