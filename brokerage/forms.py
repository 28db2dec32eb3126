"""Helpers shared by every domain's forms."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import flash, request
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import Choice
from wtforms.utils import unset_value
from wtforms.validators import NumberRange, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget
from werkzeug.datastructures import MultiDict

from brokerage.db import keep_changes_when_refused, rollback_request_session
from brokerage.errors import BrokerageError, NotFound, PowerRemoved, ValidationFailed
from brokerage.formatting import AmountNegative, AmountTooLarge, parse_pounds, plural, slot_hours_words
from brokerage.slot_hours import box_problem, in_slot, in_week_order, total
from brokerage.validation import control_character_problem, parse_whole_number
from brokerage.vocabulary import DAY_NAMES, DAYS, PART_NAMES, PARTS, SLOTS, part_hours_sentence


_TOO_LONG_NUMBER = re.compile(r"-?[0-9]{10,}(?:\.[0-9]*)?", re.ASCII)  # more digits before the point than parsing reads
WTFORMS_CHOICE_MESSAGES = frozenset({"Not a valid choice.", "Invalid Choice: could not coerce.", "Not a valid choice"})


# The words of every length limit on a form (a test walks the forms to check each has them).
TOO_LONG = re.compile(r"Use [0-9,]+ characters or fewer( for [a-z ]+)?")


def blank_as_empty(formdata):
    """Return form data with each value that is only blank space made empty ("   " is no answer, as "" is); files untouched.

    Without it a required hours box holding spaces said "Enter the hours as 0 or more", a postcode of spaces was
    not asked for again, and a timesheet could be sent back with a reason of spaces.
    """
    if formdata is None or not hasattr(formdata, "lists"):
        return formdata
    if not any(isinstance(v, str) and v and not v.strip() for _, values in formdata.lists() for v in values):
        return formdata
    return MultiDict([(key, "" if isinstance(v, str) and not v.strip() else v) for key, values in formdata.lists() for v in values])


class BaseForm(FlaskForm):
    """The base of every form: text with control characters is refused beside its field before anything else runs."""

    # The order the page shows the fields in, when it differs from the order they were declared in (a subclass's own
    # fields come after those it inherits). The error summary lists its messages in this order, as the page reads.
    field_order: tuple[str, ...] = ()

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Read a box holding only spaces (or other blank space) as an empty box, in every field of every form."""
            return blank_as_empty(super().wrap_formdata(form, formdata))

    def __iter__(self):
        """Yield the fields in `field_order` first, then the rest in the order they were declared."""
        fields = list(super().__iter__())
        if not self.field_order:
            return iter(fields)
        rank = {name: index for index, name in enumerate(self.field_order)}
        return iter(sorted(fields, key=lambda field: rank.get(field.name, len(rank))))

    def control_character_errors(self) -> dict[str, str]:
        """Return {field name: message} for each field whose submitted text holds control characters."""
        problems = {}
        for field in self:
            multiline = isinstance(field, TextAreaField)
            for value in list(field.raw_data or []) + list(getattr(field, "extra_raw_data", ())):
                problem = control_character_problem(value, multiline=multiline)
                if problem:
                    problems[field.name] = problem
                    break
        return problems

    def validate(self, extra_validators=None) -> bool:
        """Refuse control characters first, so no other check (or database query) ever sees them."""
        problems = self.control_character_errors()
        if problems:
            for field in self:
                field.errors = [problems[field.name]] if field.name in problems else []
            return False
        valid = super().validate(extra_validators)
        for field in self:
            # WTForms' own words for a value that is not among the choices: say it plainly, per field.
            if any(message in WTFORMS_CHOICE_MESSAGES for message in field.errors):
                own = getattr(field, "invalid_choice_message", None)
                plain = own if isinstance(own, str) else f"Choose {field.label.text.lower()} from the list"
                field.errors = [plain if message in WTFORMS_CHOICE_MESSAGES else message for message in field.errors]
            # Two checks of one box may say the same thing (a length limit and a parser both asked for "a start time
            # like 9:30am"): each message is said once. A list kept beside it (a box's own ids) is left as it is.
            if isinstance(field.errors, list) and len(set(map(str, field.errors))) < len(field.errors) and not getattr(field, "error_ids", None):
                field.errors = list(dict.fromkeys(field.errors))
            # A value too long for its box is told so, and only so: a 300-character email address also failed the
            # format check, and the page gave both. Every length limit here says "Use N characters or fewer".
            too_long = [m for m in field.errors if isinstance(m, str) and TOO_LONG.fullmatch(m)]
            if too_long and len(field.errors) > 1 and isinstance(field.errors, list) and not getattr(field, "error_ids", None):
                field.errors = too_long[:1]
        if not valid:
            ask_for_passwords_again(self)
        return valid


PASSWORD_AGAIN = "Type this password again: it is not kept when the form comes back to be put right"


def ask_for_passwords_again(form: FlaskForm) -> None:
    """Mark each password box that was filled in, when something else on the form needs putting right.

    A page never sends a password back, so the box comes back empty: without a word, people put the other box right,
    sent the form again and were sent back a second time for the password (tester R7-13). The sign-in form, whose only
    message is deliberately the same for every mistake, opts out (`asks_passwords_again = False`).
    """
    if not getattr(form, "asks_passwords_again", True) or not (form.form_errors or any(field.errors for field in form)):
        return
    for field in form:
        if isinstance(field, PasswordField) and field.data and not field.errors:
            field.errors = [PASSWORD_AGAIN]


def undone_if_sent(undone: str) -> str | None:
    """Return what a refused form did not do when this request sends it, else None (a page outside one's powers stays 404)."""
    return undone if request.method == "POST" else None


def refuse(form: FlaskForm, error: BrokerageError, *, keep_changes: bool = False) -> int:
    """Undo what the request changed and show a domain error on the form; return the status for the page.

    The one way a view turns a refused operation into form errors. `keep_changes=True` keeps what the
    service recorded about the refusal itself (a failed sign-in counts towards the lockout).
    """
    if isinstance(error, (NotFound, PowerRemoved)):
        raise error
    if keep_changes:
        keep_changes_when_refused()
    else:
        rollback_request_session()
    return _attach_error(form, error)


def refuse_in_flash(error: BrokerageError, message: str | None = None) -> None:
    """Undo what the request changed and say why in a flashed message, for a button that then goes back to its page.

    The redirect that follows is a success to the commit point, so the rollback happens here. A
    missing record, or another council's, is re-raised: a 404 page, never a message; so is a power the
    person has just taken away from their representative: a 403 page saying so.
    """
    if isinstance(error, (NotFound, PowerRemoved)):
        raise error
    rollback_request_session()
    flash(message or error.message, "error")


def _attach_error(form: FlaskForm, error: BrokerageError) -> int:
    """Show a domain error beside the field it names, or at the top of the form; return the status for the page.

    A missing record, or another council's, is re-raised: it is a 404 page like any other, never a form message.
    A power the person has just taken away from their representative is re-raised too: a 403 page saying so.

    A clash with what someone else has just done (409, such as a vote already counted) keeps its
    status; any other refusal of the form's input is 422.
    """
    if isinstance(error, (NotFound, PowerRemoved)):
        raise error
    fields = error.errors if isinstance(error, ValidationFailed) else {error.field or "": [error.message]}
    for name, messages in fields.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
    ask_for_passwords_again(form)
    return 409 if error.status == 409 else 422


def range_message_of_long_number(field: Field, text: str) -> str | None:
    """Return the field's range message for a number of too many digits to read, or None (not digits, or no bound on that side).

    Such a number is beyond any range a form asks for, so it is told the limit (its NumberRange's, on the side it is
    beyond), as a big number that can be read is, not that it is not a number.
    """
    if not _TOO_LONG_NUMBER.fullmatch(text):
        return None
    for validator in field.validators:
        if isinstance(validator, NumberRange):
            bound = validator.min if text.startswith("-") else validator.max
            if bound is not None and validator.message:
                return validator.message
    return None


class WholeNumberField(IntegerField):
    """An integer field that says once, in plain words, when the text is not a whole number.

    A whole number too long to read (more than 9 digits) is beyond any range a form asks for, so it gets the field's
    range message (its NumberRange's, on the side it is beyond), not "not a whole number".
    """

    def __init__(self, label=None, validators=None, invalid_message: str = "Enter a whole number, like 12", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message
        self._problem: str | None = None

    def process_formdata(self, valuelist):
        self._problem = None
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            self.data = None
            return
        try:
            self.data = parse_whole_number(text)
        except ValueError:
            self.data = None
            self.raw_data = [text]
            self._problem = range_message_of_long_number(self, text.strip()) or self.invalid_message

    def pre_validate(self, form):
        if self._problem:
            # Stop here, so the range check does not add a second, confusing message.
            raise StopValidation(self._problem)


class ChooseOneField(SelectField):
    """A drop-down that chooses nothing for the person: with more than one choice (a representative voting for one of
    the people they act for, the member a visit was with) its first option is `prompt` ("Choose a member"), and
    sending that is refused with the same words. With one choice, that choice is shown chosen."""

    def __init__(self, label=None, validators=None, prompt: str = "Choose one", **kwargs):
        super().__init__(label, validators, validate_choice=True, **kwargs)
        self.prompt = prompt

    def iter_choices(self):
        choices = super().iter_choices()
        if len(choices) > 1:
            return [Choice(value="", label=self.prompt, selected=self.data is None, render_kw={}), *choices]
        return choices

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] == "":
            self.data = None
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form):
        if self.data is None and not self.process_errors:
            raise ValidationError(self.prompt)
        super().pre_validate(form)


class PoundsField(StringField):
    """A field for an amount in pounds, giving integer pence as `.pence`.

    `too_much` (required): the field's own limit, said when the amount is too big even to read (more than seven
    figures of pounds), so one box never states two different limits (its service says the same for a smaller excess).
    `too_little` (required): its own lowest amount, said for one with a minus sign, in the same words as for £0:
    a pledge box said "Enter an amount of £0 or more" to -5, then "Enter a weekly pledge of more than £0" to 0.
    """

    pence: int | None = None

    def __init__(self, label=None, validators=None, *, too_much: str, too_little: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.too_much, self.too_little = too_much, too_little

    def pre_validate(self, form):
        self.pence = None
        if self.data in (None, ""):
            return
        try:
            self.pence = parse_pounds(self.data)
        except AmountTooLarge:
            raise ValidationError(self.too_much) from None
        except AmountNegative:
            raise ValidationError(self.too_little) from None
        except ValueError as error:
            raise ValidationError(str(error)) from None


class Checkboxes(SelectMultipleField):
    """Several choices shown as checkboxes; a value that is not among them gets a plain-English message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, unknown_message: str = "Choose from the list", **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)
        self.unknown_message = unknown_message

    def pre_validate(self, form):
        # Compare like with like: the data is coerced (coerce=int for ids), the choices' values may be text.
        values = [choice.value if hasattr(choice, "value") else choice[0] for choice in self.choices or []]
        try:
            allowed = {self.coerce(value) for value in values}
        except (TypeError, ValueError):
            allowed = set(values)
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(self.unknown_message)


class SlotHoursField(Field):
    """Hours a week in each time of day: a whole-number box for each of the week's 21 times, named `<name>-mon_am` and so on.

    `data` is {slot: hours} in week order, without the empty boxes (None while a box is wrong). A wrong box's
    message is kept in `cell_errors` and shown beside its day; `error_ids` says which box each error in
    `errors` belongs to, so the error summary links to it. Monday morning's box takes the field's id.
    With `optional`, every box left empty (or 0) is no answer: `data` is None and there is no error;
    `none_said` is what the folded field's summary says then.
    """

    DAYS, PARTS, DAY_NAMES, PART_NAMES = DAYS, PARTS, DAY_NAMES, PART_NAMES
    # Which hours of the clock a morning, an afternoon and an evening are, said under the boxes' hint.
    PART_HOURS_SAID = part_hours_sentence()
    WRONG_SAID = "Some hours need correcting"  # an optional field's summary while a box is wrong

    def __init__(self, label=None, validators=None, *, most: int, total_most: int | None = None,
                 required_message: str = "Enter the hours for at least one time of day", optional: bool = False,
                 none_said: str = "No hours given yet", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.most = most
        self.total_most = total_most
        self.required_message = required_message
        self.optional = optional
        self.none_said = none_said
        self.cells: dict[str, str] = dict.fromkeys(SLOTS, "")
        self.cell_errors: dict[str, str] = {}
        self.error_ids: list[str] = []
        self.problem: str | None = None
        self.extra_raw_data: list[str] = []

    def cell_id(self, slot: str) -> str:
        """Return the id of a time's box."""
        return self.id if slot == SLOTS[0] else f"{self.id}-{slot}"

    def cell_name(self, slot: str) -> str:
        """Return the name a time's box is sent under."""
        return f"{self.name}-{slot}"

    def day_errors(self, day: str) -> list[tuple[str, str]]:
        """Return (slot, message) for each wrong box of a day."""
        return [(f"{day}_{part}", self.cell_errors[f"{day}_{part}"]) for part in PARTS if f"{day}_{part}" in self.cell_errors]

    def said(self) -> str:
        """Say the hours given so far in plain words (`none_said` when there are none; a wrong box in an optional field says so)."""
        hours = self.data if isinstance(self.data, Mapping) else None
        if not hours and self.cell_errors:
            # A wrong box leaves the hours unread: the others still hold hours, so "none given" would be untrue
            # (and in an optional field empty means "no change").
            return self.WRONG_SAID
        if not hours:
            return self.none_said
        return f"{plural(total(hours), 'hour')} a week: {slot_hours_words(hours)}"

    def whole_errors(self) -> list[str]:
        """Return the errors about the hours as a whole (none of a single box's)."""
        own = set(self.cell_errors.values())
        return [message for message in self.errors if message not in own]

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.cell_errors, self.error_ids, self.problem = {}, [], None
        if isinstance(self.data, Mapping):
            self.cells = {slot: str(self.data.get(slot) or "") for slot in SLOTS}
        if formdata is None:
            return
        self.cells = {slot: (formdata.getlist(self.cell_name(slot)) or [""])[0].strip() for slot in SLOTS}
        self.extra_raw_data = list(self.cells.values())
        self.read_boxes(self.most)

    def read_boxes(self, most: int | Mapping[str, int] | None, why: str | Mapping[str, str] = "", kept: Mapping[str, int] | None = None) -> None:
        """Read the boxes sent, each a whole number from 0 to `most` (None: of 0 or more, as the limit rests on a wrong answer elsewhere).

        `why` says where `most` comes from (both may be given per time of day); `kept` ({slot: hours}) may stay above
        it (hours recorded before the limit).
        """
        self.cell_errors, self.problem = {}, None
        kept = kept or {}
        hours: dict[str, int] = {}
        for slot, text in self.cells.items():
            try:
                value = parse_whole_number(text) if text else 0
            except ValueError:
                value = None
            limit = in_slot(most, slot)  # one limit, or one per time of day
            if value is None or value < 0 or (limit is not None and value > max(limit, kept.get(slot, 0))):
                self.cell_errors[slot] = box_problem(slot, most, why)
            else:
                hours[slot] = value
        self.data = None if self.cell_errors else in_week_order(hours)
        if self.data is not None and not self.data:
            if self.optional:
                self.data = None
            else:
                self.problem = self.required_message
        elif self.data and self.total_most is not None and total(self.data) > self.total_most:
            self.problem = f"The hours add up to {total(self.data)} a week: enter no more than {self.total_most} in all"

    def process_formdata(self, valuelist):
        """Leave the work to `process`, which reads the 21 boxes."""

    def pre_validate(self, form):
        for slot in SLOTS:
            if slot in self.cell_errors:
                self.errors.append(self.cell_errors[slot])
                self.error_ids.append(self.cell_id(slot))
        # Nothing sent at all (no box) is no hours at all.
        problem = self.problem or (self.required_message if not self.cell_errors and not self.data and not self.optional else None)
        if problem:
            self.errors.append(problem)
            self.error_ids.append(self.id)
        if self.errors:
            raise StopValidation()
