"""Helpers shared by every domain's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import StopValidation

from brokerage.errors import BrokerageError, NotFound, ValidationFailed


def attach_error(form: FlaskForm, error: BrokerageError) -> None:
    """Show a domain error beside the field it names, or at the top of the form; a missing record is re-raised as the 404."""
    if isinstance(error, NotFound):
        # A record that is missing, or another council's, is a 404 page like any other, never a form message.
        raise error
    fields = error.errors if isinstance(error, ValidationFailed) else {error.field or "": [error.message]}
    for name, messages in fields.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)


class WholeNumberField(IntegerField):
    """An integer field that says once, in plain words, when the text is not a whole number."""

    def __init__(self, label=None, validators=None, invalid_message: str = "Enter a whole number, like 12", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message
        self._not_a_number = False

    def process_formdata(self, valuelist):
        self._not_a_number = False
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            self.data = None
            return
        try:
            self.data = int(text.strip())
        except ValueError:
            self.data = None
            self.raw_data = [text]
            self._not_a_number = True

    def pre_validate(self, form):
        if self._not_a_number:
            # Stop here, so the range check does not add a second, confusing message.
            raise StopValidation(self.invalid_message)
