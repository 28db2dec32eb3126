"""Forms of the broker's matching pages."""

from __future__ import annotations

from brokerage.forms import BaseForm, ChooseOneField, WholeNumberField
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from brokerage.formatting import HOURLY_RATE_TOO_HIGH, HOURLY_RATE_TOO_LOW
from brokerage.forms import Checkboxes, PoundsField, SlotHoursField
from brokerage.matching.rules import DEMAND_HOURS_MAX, MATCH_TIME_LIMIT_MAX
from brokerage.matching.parts import time_problems
from brokerage.slot_hours import CARER_SLOT_MAX, DEMAND_SLOT_MAX
from brokerage.validation import parse_whole_number
from brokerage.vocabulary import COMMON_LANGUAGE_NAMES, SERVICE_HINT, SERVICE_NAMES


class DemandLineForm(BaseForm):
    """What a cluster asks for."""

    cluster_id = ChooseOneField("Group", coerce=int, choices=[], prompt="Choose a group", invalid_choice_message="Choose a group from the list")
    service = ChooseOneField("Service", choices=[SelectChoice(k, v.capitalize()) for k, v in SERVICE_NAMES.items()], prompt="Choose a service", description=SERVICE_HINT,
                             invalid_choice_message="Choose a service from the list")
    slot_hours = SlotHoursField(
        "Hours of care needed each week, by time of day", most=DEMAND_SLOT_MAX, total_most=DEMAND_HOURS_MAX,
        description=("For example, 3 in Monday morning for three hours every Monday morning. Leave a box empty when no care is needed then. "
                     f"Each person can have up to {CARER_SLOT_MAX} hours of care in one morning, afternoon or evening."),
    )
    languages = Checkboxes("Languages the carer could speak", choices=[SelectChoice(c, n) for c, n in sorted(COMMON_LANGUAGE_NAMES.items(), key=lambda i: i[1])])
    language_required = BooleanField("The carer must speak one of these languages")
    carer_gender = RadioField("Carer", choices=[SelectChoice("", "No preference"), SelectChoice("female", "A woman"), SelectChoice("male", "A man")], default="")
    max_rate = PoundsField("Most the group will pay an hour", validators=[InputRequired("Enter the most the group will pay an hour")],
                           too_much=HOURLY_RATE_TOO_HIGH, too_little=HOURLY_RATE_TOO_LOW)


class ClusterDemandForm(DemandLineForm):
    """What a group asks for, from its own page: no group choice, but whom it serves."""

    cluster_id = None
    served = Checkboxes("Who is this care for", coerce=int, choices=[], validators=[DataRequired("Choose the members this care is for")])


class AdjustForm(BaseForm):
    """Change a proposed assignment's hours."""

    hours = WholeNumberField(
        "Hours a week", invalid_message="Enter the hours as a whole number, or 0 to remove",
        validators=[InputRequired("Enter the hours, or 0 to remove"), NumberRange(min=0, message="Enter the hours as 0 or more"),
                    NumberRange(max=168, message="A week has 168 hours: enter 168 or fewer")],
    )
    # The most a part may have is the service's to say (parts.adjust), with why: its line, its provider or its times.


class PartSlotHoursField(SlotHoursField):
    """A proposed part's hours in each time of day: each box a whole number, 0 or more, within what the part may have then.

    The limits come from the form's `room` (a parts.PartRoom; `parts.time_problems`). Every wrong box is
    marked at once, beside it and in week order: one that is not a number and one over its limit alike.
    """

    def pre_validate(self, form):
        room = getattr(form, "room", None)
        if room is not None:
            given = {slot: parse_whole_number(text) for slot, text in self.cells.items() if text and slot not in self.cell_errors}
            for slot, message in time_problems(room, {slot: hours for slot, hours in given.items() if hours}).items():
                if slot:
                    self.cell_errors[slot] = message
                elif not self.cell_errors:
                    self.problem = self.problem or message
        super().pre_validate(form)


class PartTimesForm(BaseForm):
    """The hours a proposed part gives in each time of day (each box checked against `room`, a parts.PartRoom, when set)."""

    slot_hours = PartSlotHoursField(
        "Hours in each time of day", most=None,
        required_message="Enter the hours for at least one time of day. To take this part out, set its hours to 0 on the run's page",
    )
    room = None


class WithdrawDemandForm(BaseForm):
    """Withdraw what a group asks for, saying why."""

    reason = TextAreaField("Why it is withdrawn (optional)", description="This is kept with the request's history.",
                           validators=[Optional(), Length(max=500, message="Use 500 characters or fewer")])


class TimeLimitForm(BaseForm):
    """How long the council's matching runs improve their first answer."""

    time_limit = WholeNumberField(
        "Seconds to improve each run",
        description="Matching first finds an answer covering as many hours as possible, then spends up to this long making it cheaper "
                    "and steadier for people. 0 keeps the first answer. The same demand and setting always give the same answer.",
        invalid_message="Enter the seconds as a whole number",
        validators=[InputRequired("Enter the seconds, or 0"), NumberRange(min=0, max=MATCH_TIME_LIMIT_MAX, message=f"Enter between 0 and {MATCH_TIME_LIMIT_MAX} seconds")],
    )
