"""Forms of the broker's matching pages."""

from __future__ import annotations

from brokerage.forms import BaseForm, WholeNumberField
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from brokerage.forms import Checkboxes, PoundsField
from brokerage.vocabulary import COMMON_LANGUAGE_NAMES, SERVICE_NAMES, SLOTS, slot_label

SLOT_CHOICES = [SelectChoice(slot, slot_label(slot)) for slot in SLOTS]


class DemandLineForm(BaseForm):
    """What a cluster asks for."""

    cluster_id = SelectField("Group", coerce=int, choices=[], validators=[DataRequired("Choose a group")])
    service = SelectField("Service", choices=[SelectChoice(k, v.capitalize()) for k, v in SERVICE_NAMES.items()], validators=[DataRequired("Choose a service")])
    hours = WholeNumberField("Hours a week", invalid_message="Enter the hours a week as a whole number, like 12", validators=[InputRequired("Enter the hours a week"), NumberRange(min=1, max=168, message="Enter between 1 and 168 hours")])
    slots = Checkboxes("When the care is needed", choices=SLOT_CHOICES, validators=[DataRequired("Choose at least one time")])
    languages = Checkboxes("Languages the carer could speak", choices=[SelectChoice(c, n) for c, n in sorted(COMMON_LANGUAGE_NAMES.items(), key=lambda i: i[1])])
    language_required = BooleanField("The carer must speak one of these languages")
    carer_gender = RadioField("Carer", choices=[SelectChoice("", "No preference"), SelectChoice("female", "A woman"), SelectChoice("male", "A man")], default="")
    max_rate = PoundsField("Most the group will pay an hour", validators=[InputRequired("Enter the most the group will pay an hour")])


class ClusterDemandForm(DemandLineForm):
    """What a group asks for, from its own page: no group choice, but whom it serves."""

    cluster_id = None
    served = Checkboxes("Who is this care for", coerce=int, choices=[], validators=[DataRequired("Choose the members this care is for")])


class AdjustForm(BaseForm):
    """Change a proposed assignment's hours."""

    hours = WholeNumberField("Hours a week", invalid_message="Enter the hours as a whole number, or 0 to remove", validators=[InputRequired("Enter the hours, or 0 to remove"), NumberRange(min=0, max=168, message="Enter between 0 and 168 hours")])


class WithdrawDemandForm(BaseForm):
    """Withdraw what a group asks for, saying why."""

    reason = TextAreaField("Why it is withdrawn (optional)", description="This is kept with the request's history.",
                           validators=[Optional(), Length(max=500, message="Use 500 characters or fewer")])
