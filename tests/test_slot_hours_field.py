"""The hours-per-time-of-day box of a form: required, it needs an hour; optional, every box empty is no answer."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from brokerage.forms import BaseForm, SlotHoursField


class _Form(BaseForm):
    needed = SlotHoursField("Hours needed", most=40)
    maybe = SlotHoursField("Days and times", most=168, optional=True, none_said="No change to the days and times")


def _form(app, **boxes):
    with app.test_request_context(method="POST"):
        form = _Form(formdata=MultiDict(boxes), meta={"csrf": False})
        return form, form.validate()


def test_an_optional_field_left_empty_or_at_nought_is_no_answer_and_says_so(app):
    for boxes in ({"needed-mon_am": "2"}, {"needed-mon_am": "2", "maybe-mon_am": "", "maybe-tue_pm": " "}, {"needed-mon_am": "2", "maybe-fri_eve": "0"}):
        form, valid = _form(app, **boxes)
        assert valid, form.errors
        assert (form.maybe.data, form.maybe.errors, form.maybe.said()) == (None, [], "No change to the days and times")


def test_an_optional_field_with_hours_gives_them_in_week_order(app):
    form, valid = _form(app, **{"needed-mon_am": "2", "maybe-fri_pm": "3", "maybe-mon_am": "100"})
    assert valid and list(form.maybe.data.items()) == [("mon_am", 100), ("fri_pm", 3)]
    assert form.maybe.said() == "103 hours a week: Monday morning, 100 hours; Friday afternoon, 3 hours"


@pytest.mark.parametrize("typed", ["x", "2.5", "-1", "169"])
def test_an_optional_field_refuses_a_wrong_box_beside_it_and_does_not_say_no_change(app, typed):
    form, valid = _form(app, **{"needed-mon_am": "2", "maybe-tue_pm": typed})
    assert not valid and form.maybe.data is None
    assert form.maybe.errors == ["Tuesday afternoon hours must be a whole number from 0 to 168"]
    assert form.maybe.error_ids == ["maybe-tue_pm"]
    assert form.maybe.said() == "Some hours need correcting"


def test_a_required_field_still_needs_an_hour_and_says_none_are_given(app):
    form, valid = _form(app)
    assert not valid and form.needed.errors == ["Enter the hours for at least one time of day"] and form.maybe.errors == []
    assert form.needed.said() == "No hours given yet"
    # A wrong box is not "no hours": the boxes beside it still hold some (a broker saw "No hours given yet" over 7 hours).
    for boxes in ({"needed-mon_am": "x"}, {"needed-tue_am": "2", "needed-tue_pm": "3", "needed-wed_am": "2", "needed-mon_am": "41"}):
        form, valid = _form(app, **boxes)
        assert not valid and form.needed.said() == "Some hours need correcting"
