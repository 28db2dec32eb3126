"""Helpers shared by every domain's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm

from brokerage.errors import BrokerageError, ValidationFailed


def attach_error(form: FlaskForm, error: BrokerageError) -> None:
    """Show a domain error beside the field it names, or at the top of the form."""
    fields = error.errors if isinstance(error, ValidationFailed) else {error.field or "": [error.message]}
    for name, messages in fields.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
