"""Every assignment and every unmet line comes with words a broker can act on."""

from __future__ import annotations

import pytest

from brokerage.matching.explain import reshared, retimed, share_note
from brokerage.matching.instance import parse_instance
from brokerage.matching.solver import solve
from tests.matching.conftest import instance_of, line, supplier


def solved(lines, suppliers):
    return solve(parse_instance(instance_of(lines, suppliers)))


def test_an_assignment_names_language_gender_distance_price_and_employer(spec_instance):
    text = solve(parse_instance(spec_instance)).assignments[0].explanation
    assert text.startswith("Speaks Somali (required), female staff, 1.0 km away, "
                           "£21.50 an hour, within the £24.00 the group will pay; care co-operative paying the Living Wage")
    assert "Ethical Care Charter" in text and text.endswith(".")


def test_an_assignment_says_when_the_current_carer_is_kept_or_replaced():
    kept = solved([line(current_supplier="s-0001")], [supplier()])
    assert "current carer kept" in kept.assignments[0].explanation
    moved = solved([line(current_supplier="s-old")],
                   [supplier(), supplier(id="s-old", genders=["male"])])
    assert ("current provider s-old can no longer give this care (has no female staff)"
            in moved.assignments[0].explanation)


def test_an_assignment_says_how_a_split_line_is_shared():
    solution = solved([line(hours=20)], [supplier(capacity_hours=12),
                                         supplier(id="s-2", capacity_hours=8)])
    texts = [a.explanation for a in solution.assignments]
    assert "12 of 20 hours here, the rest with s-2" in texts[0]
    assert "8 of 20 hours here, the rest with s-0001" in texts[1]


def test_a_preferred_language_that_is_missing_is_said_plainly():
    solution = solved([line(language_required=False)], [supplier(languages=["en"])])
    assert "Does not speak Somali (preferred, not required)" in solution.assignments[0].explanation


@pytest.mark.parametrize(("lines", "suppliers", "reason"), [
    ([line(id="d-1"), line(id="d-2")], [supplier(capacity_hours=20)],
     "1 provider could give this care but it is fully booked by other requests."),
    ([line(service="respite", slots=["sun_eve"])], [supplier(services=["respite"])],
     "No vetted provider within reach offers respite on Sunday evenings."),
    ([line()], [supplier(languages=["en"])],
     "No vetted Somali-speaking provider within reach offers home care on Monday to Wednesday mornings."),
    ([line(carer_gender="male")], [supplier(genders=["female"])],
     "No vetted provider within reach with male staff offers home care on Monday to Wednesday mornings in "
     "Somali."),
    # Every time is named, however many there are (it said "on any of the 4 times needed").
    ([line(service="respite", slots=["mon_eve", "tue_eve", "thu_eve", "sat_am"])], [supplier(services=["respite"])],
     "No vetted provider within reach offers respite on Monday, Tuesday and Thursday evenings and Saturday mornings."),
    ([line(max_rate_pence=2000)], [supplier(), supplier(id="s-2", rate_pence=2500)],
     "2 providers could give this care but charge more than the £20.00 an hour the group will pay "
     "(the cheapest asks £21.50 an hour)."),
    ([line()], [supplier(radius_km=0.5)],
     "No vetted provider of home care travels this far; the nearest is 1.0 km "
     "away and travels up to 0.5 km."),
    ([line(service="transport")], [supplier()], "No vetted provider offers transport at all."),
    ([line()], [supplier(vetted=False)], "No vetted provider offers home care at all."),
    ([line(languages=[])], [supplier()],
     "The request says the carer must speak a language but names none, so no provider can match "
     "it; add the language, or say the carer need not speak it."),
])
def test_an_unmet_line_says_which_requirement_ruled_suppliers_out(lines, suppliers, reason):
    solution = solved(lines, suppliers)
    assert solution.unmet[-1].reason == reason


def test_a_partly_met_line_says_how_many_hours_are_missing():
    solution = solved([line(hours=30)], [supplier(capacity_hours=26)])
    assert solution.unmet[0].hours == 4
    assert solution.unmet[0].reason.startswith("4 of 30 hours not covered: 1 provider could give this care")


def test_every_generated_line_is_explained(small_generated):
    solution = solve(parse_instance(small_generated))
    assert all(a.explanation.endswith(".") and "km away" in a.explanation
               for a in solution.assignments)
    assert all(u.reason.strip() for u in solution.unmet)


def _two_lines_of_one_cluster_sharing_a_supplier():
    return [line(id="d-1", hours=5), line(id="d-2", hours=5)], [supplier()]


def test_lines_sharing_a_carer_name_the_cluster_by_its_file_id_when_no_names_are_given():
    texts = [a.explanation for a in solved(*_two_lines_of_one_cluster_sharing_a_supplier()).assignments]
    assert texts and all("also serves 1 other request from cluster k-001" in text for text in texts)


def test_the_caller_gives_the_names_people_know_clusters_by():
    lines, suppliers = _two_lines_of_one_cluster_sharing_a_supplier()
    solution = solve(parse_instance(instance_of(lines, suppliers)), cluster_names={"k-001": "Somali Mothers"})
    texts = [a.explanation for a in solution.assignments]
    assert texts and all("also serves 1 other request from Somali Mothers" in text and "k-001" not in text for text in texts)
    other = solve(parse_instance(instance_of(lines, suppliers)), cluster_names={"k-999": "Elsewhere"})
    assert all("from cluster k-001" in a.explanation for a in other.assignments)


def test_the_caller_gives_the_names_people_know_providers_by():
    kept = solve(parse_instance(instance_of([line(hours=20)], [supplier(capacity_hours=12), supplier(id="s-2", capacity_hours=8)])),
                 supplier_names={"s-0001": "Hooyo Care", "s-2": "Nasima Khatun"})
    texts = [a.explanation for a in kept.assignments]
    assert "the rest with Nasima Khatun" in texts[0] and "the rest with Hooyo Care" in texts[1]
    assert not any("s-2" in text or "s-0001" in text for text in texts)


def test_no_explanation_uses_the_file_formats_words_or_shorthand(small_generated):
    solution = solve(parse_instance(small_generated))
    for text in [a.explanation for a in solution.assignments] + [u.reason for u in solution.unmet]:
        for word in ("supplier", " line", "/h", " h ", "cap", "unmet"):
            assert word not in text, (word, text)


# --- a broker's change of hours: the figures in the stored explanations follow it -------------------

_BASE = "Speaks Somali, 2.2 km away, £24.00 an hour, within the £26.00 the group will pay; care co-operative"


def test_a_share_note_is_replaced_added_or_taken_out_whole():
    shared = f"{_BASE}; 8 of 14 hours here, the rest with St. Anne's Care, Bow Co-op; 2 hours not covered; also serves 1 other request from Bow."
    assert reshared(shared, share_note(5, 14, ["St. Anne's Care, Bow Co-op"], 5)) == (
        f"{_BASE}; 5 of 14 hours here, the rest with St. Anne's Care, Bow Co-op; 5 hours not covered; also serves 1 other request from Bow.")
    # The line now has this provider alone, for all its hours: the note goes.
    assert reshared(shared, "") == f"{_BASE}; also serves 1 other request from Bow."
    at_the_end = f"{_BASE}; 3 of 3 hours here, the rest with Hooyo."
    assert reshared(at_the_end, share_note(2, 3, [], 1)) == f"{_BASE}; 2 of 3 hours here; 1 hour not covered."
    # A part that had the whole line to itself gets the note when hours are taken off.
    assert reshared(f"{_BASE}.", share_note(4, 8, [], 4)) == f"{_BASE}; 4 of 8 hours here; 4 hours not covered."
    assert reshared(f"{_BASE}.", "") == f"{_BASE}."


def test_a_share_note_naming_a_provider_with_a_semicolon_is_replaced_whole():
    # A provider's name may hold "; " itself: the note still runs to the next note the explanation can have, or its end.
    odd = "Hooyo Care; Bow branch"
    shared = f"{_BASE}; 8 of 14 hours here, the rest with {odd}; 2 hours not covered; also serves 2 other requests from Bow; east."
    assert reshared(shared, share_note(5, 14, [odd], 5)) == (
        f"{_BASE}; 5 of 14 hours here, the rest with {odd}; 5 hours not covered; also serves 2 other requests from Bow; east.")
    assert reshared(shared, "") == f"{_BASE}; also serves 2 other requests from Bow; east."
    last = f"{_BASE}; 3 of 8 hours here, the rest with {odd}."
    assert reshared(last, share_note(4, 8, [odd], 0)) == f"{_BASE}; 4 of 8 hours here, the rest with {odd}."
    assert reshared(last, "") == f"{_BASE}."


def test_the_times_sentence_is_renamed_only_where_it_is_the_solvers():
    before, after = {"sat_am": 3, "sat_pm": 3, "sun_am": 2}, {"sat_am": 3, "sat_pm": 1}
    text = f"Saturday and Sunday mornings and Saturday afternoons (8 hours). {_BASE}."
    assert retimed(text, before, after) == f"Saturday mornings and Saturday afternoons (4 hours). {_BASE}."
    assert retimed(f"{_BASE}.", before, after) == f"{_BASE}."  # no times sentence: left as it is
    # A part taken to 0 hours names no times, and names its times again when hours are put back.
    assert retimed(text, before, {}) == f"{_BASE}."
    assert retimed(f"{_BASE}.", {}, after) == f"Saturday mornings and Saturday afternoons (4 hours). {_BASE}."
