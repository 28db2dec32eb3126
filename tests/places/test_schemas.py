"""The postcode box of a form and the postcode field of a JSON schema check the format and normalise it."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from wtforms.validators import Optional

from brokerage.forms import BaseForm
from brokerage.places.schemas import Postcode, PostcodeField


class _Form(BaseForm):
    postcode = PostcodeField()
    other = PostcodeField("Other postcode", validators=[Optional()])


class _Schema(Schema):
    postcode = Postcode(required=True)


def _form(app, **data):
    with app.test_request_context(method="POST"):
        form = _Form(formdata=MultiDict(data), meta={"csrf": False})
        return form, form.validate()


@pytest.mark.parametrize("typed, data", [("e16an", "E1 6AN"), (" sw1a 1aa ", "SW1A 1AA"), ("GIR0AA", "GIR 0AA")])
def test_the_box_gives_the_normalised_postcode(app, typed, data):
    form, valid = _form(app, postcode=typed)
    assert valid and form.postcode.data == data and form.other.data in (None, "")


@pytest.mark.parametrize("typed", ["", "E1", "E1 6CA", "51.5155", "E1 6AN E2"])
def test_the_box_refuses_anything_but_a_full_postcode_with_one_plain_message(app, typed):
    form, valid = _form(app, postcode=typed)
    assert not valid and form.postcode.errors == ["Enter a full UK postcode, like E1 6AN"]


def test_an_optional_box_may_be_left_empty_but_not_filled_wrongly(app):
    assert _form(app, postcode="E1 6AN", other="")[1]
    form, valid = _form(app, postcode="E1 6AN", other="E1")
    assert not valid and form.other.errors == ["Enter a full UK postcode, like E1 6AN"]


def test_a_control_character_is_refused_before_the_format(app):
    form, valid = _form(app, postcode="E1\x006AN")
    assert not valid and "hidden characters" in form.postcode.errors[0]


def test_the_json_field_loads_the_normalised_postcode():
    assert _Schema().load({"postcode": "e1w1la"}) == {"postcode": "E1W 1LA"}


@pytest.mark.parametrize("value, says", [
    ("E1", "Enter a full UK postcode, like E1 6AN"),
    ("", "Enter a full UK postcode, like E1 6AN"),
    (51.5, "Not a valid string."),
    ("E1 6AN\x07", "hidden characters"),
])
def test_the_json_field_refuses_what_is_not_a_postcode(value, says):
    with pytest.raises(ValidationError) as refused:
        _Schema().load({"postcode": value})
    assert says in refused.value.messages["postcode"][0]
