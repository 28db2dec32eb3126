"""A postcode box for forms and a postcode field for JSON: the format is checked here, the place by `services.locate`."""

from __future__ import annotations

from marshmallow import ValidationError as SchemaError
from wtforms import StringField
from wtforms.validators import InputRequired, StopValidation

from brokerage.places.errors import INVALID_MESSAGE
from brokerage.places.rules import is_valid_postcode, normalise_postcode
from brokerage.validation import Text


class PostcodeField(StringField):
    """A box for a full UK postcode: its data is the normalised postcode ("e16an" -> "E1 6AN"), and anything else is refused beside it.

    Required unless `validators` says otherwise (pass `[Optional()]`). Whether carepool knows
    where the postcode is, is for the service: `places.services.locate` raises UnknownPostcode
    naming the field, and `forms.refuse` shows it beside the box.
    """

    def __init__(self, label: str = "Postcode", validators=None, **kwargs):
        kwargs.setdefault("description", "For example E1 6AN")
        if validators is None:
            validators = [InputRequired(INVALID_MESSAGE)]
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = normalise_postcode(self.data) if self.data else self.data

    def pre_validate(self, form):
        if self.data and not is_valid_postcode(self.data):
            raise StopValidation(INVALID_MESSAGE)


class Postcode(Text):
    """A full UK postcode in a JSON body or query, loaded normalised ("E1 6AN"); the lookup is the service's."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_postcode(text):
            raise SchemaError(INVALID_MESSAGE)
        return normalise_postcode(text)
