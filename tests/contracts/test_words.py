"""A contract's changes and history read in plain English."""

from __future__ import annotations

from brokerage.contracts.rules import ContractEventKind
from brokerage.contracts.words import change_sentences, event_sentence


def test_a_change_reads_as_from_and_to():
    assert change_sentences({
        "hours_per_week": [12, 10], "rate_pence": [2150, 2200], "end_date": [None, "2027-01-31"], "allocation_rule": ["by_hours", "equal"],
    }) == [
        "hours a week from 12 to 10", "hourly rate from £21.50 to £22.00", "end the care on 31 January 2027",
        "share the cost equally (now by the hours each person uses)",
    ]


def test_every_kind_of_history_line_is_a_sentence():
    for kind in ContractEventKind:
        text = event_sentence(kind, {"changes": {"hours_per_week": [12, 10]}, "end_date": "2027-01-31", "reason": "the care has already ended."})
        assert text.endswith(".") and "_" not in text and "cluster" not in text.lower(), text
    assert event_sentence("made", {}, decision="Accept care from Sunrise") == "Agreed by the group's decision “Accept care from Sunrise”."
    assert event_sentence("notice_given", {"end_date": "2027-01-31"}) == "The broker gave notice: the care ends on 31 January 2027."


def test_new_days_and_times_read_as_from_and_to_in_quotes_after_the_hours():
    assert change_sentences({
        "rate_pence": [2150, 2200], "slot_hours": [{"mon_am": 3, "tue_am": 3, "wed_am": 3}, {"tue_am": 2, "thu_am": 2}], "hours_per_week": [9, 4],
    }) == [
        "hours a week from 9 to 4",
        "days and times from “Monday to Wednesday mornings, 3 hours each” to “Tuesday and Thursday mornings, 2 hours each”",
        "hourly rate from £21.50 to £22.00",
    ]
    assert change_sentences({"slot_hours": [None, {"fri_pm": 2}]}) == ["days and times: “Friday afternoon, 2 hours”"]


def test_every_kind_of_history_line_about_times_is_a_sentence_without_codes():
    detail = {"changes": {"slot_hours": [{"mon_am": 6, "fri_eve": 6}, {"sat_am": 12}]}, "reason": "the care is now for 10 hours a week."}
    for kind in ("change_proposed", "change_passed", "change_rejected", "change_lapsed"):
        text = event_sentence(kind, detail)
        assert "Monday morning, 6 hours; Friday evening, 6 hours" in text and "Saturday morning, 12 hours" in text, text
        assert text.endswith(".") and "_am" not in text and "_eve" not in text, text


def test_a_decision_title_that_ends_a_sentence_gets_no_second_full_stop():
    assert event_sentence("made", {}, decision="Shall we take care from Sunrise?") == "Agreed by the group's decision “Shall we take care from Sunrise?”"
