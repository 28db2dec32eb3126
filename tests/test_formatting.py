"""The words pages use for counts, times, weeks, people and table cells (brokerage.formatting)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from brokerage.formatting import capitalize_first, end_words, label_table_cells, plural, quote_words, quoted, times_words, voice, weeks_for_people, words_list
from brokerage.vocabulary import group_kinds_words


@pytest.mark.parametrize(("count", "words"), [(0, "0 groups"), (1, "1 group"), (2, "2 groups"), (12_345, "12,345 groups")])
def test_a_count_agrees_with_its_noun(count, words):
    assert plural(count, "group") == words


def test_a_noun_with_its_own_plural_and_a_possessive():
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    assert plural(1, "person", "people") == "1 person" and plural(2, "person", "people") == "2 people"
    assert plural(1, "week's", "weeks'") + " notice" == "1 week's notice"
    assert plural(4, "week's", "weeks'") + " notice" == "4 weeks' notice"


def test_a_count_must_be_a_whole_number():
    with pytest.raises(TypeError):
        plural(True, "group")
    with pytest.raises(TypeError):
        plural(1.5, "group")


def test_lists_read_as_a_sentence():
    assert words_list([]) == "" and words_list(["Somali"]) == "Somali"
    assert words_list(["Somali", "Arabic"], "or") == "Somali or Arabic"
    assert words_list(["a", "b", "c"]) == "a, b and c"


@pytest.mark.parametrize(("slots", "words"), [
    (["mon_am", "wed_am", "fri_am"], "Mornings on Monday, Wednesday and Friday"),
    ([f"{d}_{p}" for d in ("mon", "tue", "wed", "thu", "fri") for p in ("am", "pm")] + ["sat_eve"],
     "Mornings and afternoons on weekdays; evenings on Saturday"),
    ([f"{d}_eve" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")], "Evenings every day"),
    (["sun_am", "sat_am"], "Mornings at weekends"),
    (["sun_eve"], "Evenings on Sunday"),
    ([], "No times given"),
])
def test_times_are_said_in_plain_words(slots, words):
    assert times_words(slots) == words


def test_a_stored_week_reads_as_the_week_of_its_monday():
    assert weeks_for_people("Pledge to Elders for 2026-W49") == "Pledge to Elders for the week of 30 November 2026"
    assert weeks_for_people("Care from Hooyo for Elders, 2026-W49") == "Care from Hooyo for Elders, week of 30 November 2026"
    assert weeks_for_people("Direct payment for 2026-W60") == "Direct payment for 2026-W60"  # no such week: left as written


def test_a_page_about_someone_says_you_to_them_and_their_name_to_anyone_else():
    amina = SimpleNamespace(id=7, name="Amina Hassan")
    own = voice(amina, SimpleNamespace(holder_id=7))
    assert (own.Your, own.your, own.You, own.You_have, own.their) == ("Your", "your", "You", "You have", "your")
    broker = voice(amina, SimpleNamespace(holder_id=None))
    assert (broker.Your, broker.you, broker.You_have, broker.their) == ("Amina Hassan's", "Amina Hassan", "Amina Hassan has", "their")
    assert voice({"id": 7, "name": "Amina Hassan"}, SimpleNamespace(holder_id=8)).Your == "Amina Hassan's"
    assert voice(amina, object()).Your == "Amina Hassan's"  # a reader with no holder record at all


def test_a_sentence_starts_with_a_capital_and_keeps_the_rest():
    assert capitalize_first("week of 30 November 2026") == "Week of 30 November 2026"
    assert capitalize_first("14 hours a week of home care") == "14 hours a week of home care"


def test_a_groups_kinds_are_said_as_what_brings_them_together():
    assert group_kinds_words(["culture", "neighbourhood"]) == "Neighbours and a shared culture"
    assert group_kinds_words(["care_need"]) == "The same care need"
    assert group_kinds_words([]) == "–"


TABLE = """<thead class="govuk-table__head"><tr><th scope="col">Date</th><th scope="col">In &amp; out<span class="govuk-visually-hidden"> of the wallet</span></th>
<th scope="col" colspan="2">Balance</th></tr></thead>
<tbody><tr><td class="govuk-table__cell">1 May</td><td>£1.00</td><td>£2.00</td><td>x</td></tr>
<tr><th scope="row">2 May</th><td colspan="3">£3.00</td></tr>
<tr><td colspan="4">No money has moved yet.</td></tr></tbody>
<tfoot><tr><th scope="row">Total</th><td>£4.00</td><td colspan="2">£5.00</td></tr></tfoot>"""


def test_each_body_cell_is_labelled_with_its_columns_heading():
    html = str(label_table_cells(TABLE))
    assert '<td class="govuk-table__cell" data-label="Date">1 May</td>' in html
    assert '<td data-label="In &amp; out of the wallet">£1.00</td>' in html
    assert '<td data-label="Balance">£2.00</td><td data-label="Balance">x</td>' in html
    assert '<th scope="row" data-label="Date">2 May</th><td colspan="3" data-label="In &amp; out of the wallet">' in html
    assert '<td colspan="4">No money has moved yet.</td>' in html  # a message across the row is not a value
    # The foot's row heading names its row: on a phone it reads "Total", not "Date: Total".
    assert '<tfoot><tr><th scope="row">Total</th><td data-label="In &amp; out of the wallet">£4.00</td><td colspan="2" data-label="Balance">' in html
    assert html.count("data-label") == 8 and "<thead" in html and html.index("<thead") == 0


def test_a_column_whose_heading_only_screen_readers_hear_gets_no_label_on_a_phone():
    # The broker's Confirm button on /providers/ showed "Action:" above it at 320px, a heading hidden at desktop width.
    table = ('<thead><tr><th scope="col">Provider</th><th scope="col">Pay <span class="govuk-visually-hidden">in pounds</span></th>'
             '<th scope="col"><span class="govuk-visually-hidden">Action</span></th></tr></thead>'
             '<tbody><tr><td>Hooyo Care</td><td>£1.00</td><td><button>Confirm</button></td></tr></tbody>')
    html = str(label_table_cells(table))
    assert '<td data-label="Provider">Hooyo Care</td><td data-label="Pay in pounds">£1.00</td><td><button>Confirm</button></td>' in html


def test_a_table_without_a_heading_row_is_left_as_it_was():
    rows = "<tbody><tr><td>1</td></tr></tbody>"
    assert str(label_table_cells(rows)) == rows


def test_a_distance_too_short_to_show_in_tenths_is_not_called_nought():
    from brokerage.formatting import km_away

    assert [km_away(k) for k in (0.0, 0.049, 0.05, 2.24)] == ["less than 0.1 km away", "less than 0.1 km away", "0.1 km away", "2.2 km away"]


def test_how_often_says_once_and_twice_as_people_do():
    from brokerage.formatting import how_often

    assert [how_often(n) for n in (1, 2, 3, 1200)] == ["once", "twice", "3 times", "1,200 times"]
    with pytest.raises(TypeError):
        how_often(True)


def test_a_missing_value_never_prints_as_the_word_none():
    from flask import Flask

    from brokerage.formatting import init_app

    served, tested = Flask("served"), Flask("tested")
    tested.config["TEMPLATES_REFUSE_NONE"] = True
    init_app(served)
    init_app(tested)
    page = "Travel: {{ travel }}; visits: {{ visits }}"
    with served.app_context():
        assert served.jinja_env.from_string(page).render(travel=None, visits=0) == "Travel: ; visits: 0"
    with tested.app_context(), pytest.raises(ValueError, match="printed None"):
        tested.jinja_env.from_string(page).render(travel=None, visits=0)


def test_an_empty_corner_cell_in_the_heading_row_keeps_the_labels_on_their_columns():
    # The officer's "Pooled and spent" table has an empty td in its heading row: on a phone its figures were labelled
    # one column to the left ("This quarter: £4,499.00" was this month's).
    table = ('<thead><tr><td class="govuk-table__header"></td><th scope="col">This month</th><th scope="col">This quarter</th></tr></thead>'
             '<tbody><tr><th scope="row">Spent on care</th><td>£4,499.00</td><td>£45,541.00</td></tr></tbody>')
    html = str(label_table_cells(table))
    assert '<th scope="row">Spent on care</th>' in html
    assert '<td data-label="This month">£4,499.00</td><td data-label="This quarter">£45,541.00</td>' in html


@pytest.mark.parametrize(("typed", "words"), [
    ("Please add the travel time.", "“Please add the travel time.”"),
    ("Is Tuesday right?", "“Is Tuesday right?”"),
    ("Wrong day!", "“Wrong day!”"),
    ("Wrong day", "“Wrong day”."),
])
def test_typed_words_quoted_in_a_sentence_end_it_once(typed, words):
    assert quote_words(typed) == words
    assert quoted(typed).striptags() == words


def test_typed_words_quoted_on_a_page_are_escaped():
    assert str(quoted("<b>late</b>")) == '“<span class="app-user-text">&lt;b&gt;late&lt;/b&gt;</span>”.'


def test_an_end_at_midnight_belongs_to_the_day_before():
    from datetime import datetime

    assert end_words(datetime(2026, 12, 7, 0, 0)) == "midnight at the end of Sunday 6 December 2026"
    assert end_words(datetime(2026, 12, 7, 0, 30)) == "12:30am on Monday 7 December 2026"
