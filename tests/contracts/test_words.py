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
