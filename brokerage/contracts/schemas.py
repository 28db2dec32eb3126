"""Forms of the contract pages: propose a change to the group, and give notice."""

from __future__ import annotations

from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import NumberRange, Optional

from brokerage.contracts.rules import AllocationRule, times_limit
from brokerage.formatting import HOURLY_RATE_TOO_HIGH, HOURLY_RATE_TOO_LOW
from brokerage.forms import BaseForm, PoundsField, SlotHoursField, WholeNumberField
from brokerage.providers.schemas import DateInputField
from brokerage.slot_hours import PROVIDER_SLOT_MAX

RULE_CHOICES = [
    SelectChoice(AllocationRule.equal.value, "Equally: everyone pays the same"),
    SelectChoice(AllocationRule.by_hours.value, "By the hours each person uses"),
    SelectChoice(AllocationRule.by_pledge.value, "In proportion to what each person pledges to the group"),
]


class OptionalDateInputField(DateInputField):
    """A GOV.UK date input that may be left empty (its data is then None)."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if self.problem == self.required_message:
            self.problem = None


class OptionalRadioField(RadioField):
    """Radio buttons that may be left unchosen (data None); blank or spaces count as unchosen, anything else must be a choice.

    Not `validators=[Optional()]`: Optional clears the "not a choice" error for whitespace and lets " " through.
    """

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            super().process_formdata(valuelist)
        else:
            self.data = None

    def pre_validate(self, form):
        if self.data is not None:
            super().pre_validate(form)


class ChangeForm(BaseForm):
    """A change to a contract that the group will vote on."""

    hours_per_week = WholeNumberField(
        "Hours a week", validators=[Optional(), NumberRange(min=1, max=168, message="Enter between 1 and 168 hours a week")],
        invalid_message="Enter the hours a week as a whole number, like 12",
    )
    # Every box empty keeps today's times (or, with new hours, leaves the times to agree later).
    slot_hours = SlotHoursField("Days and times", most=PROVIDER_SLOT_MAX, optional=True, none_said="No change to the days and times")
    hourly_rate = PoundsField("Hourly rate in pounds", description="For example, 21.50.", too_much=HOURLY_RATE_TOO_HIGH,
                               too_little=HOURLY_RATE_TOO_LOW)
    end_date = OptionalDateInputField(
        "Last day of care (optional)", description="Leave empty to keep the care going. Ending needs the council's notice period.",
    )
    allocation_rule = OptionalRadioField("How the members share the cost", choices=RULE_CHOICES,
                                         invalid_choice_message="Choose how the members share the cost")

    def limit_times(self, contract) -> None:
        """Check the boxes sent against the most the contract's members can have in a time of day (`rules.times_limit`), not 168."""
        if self.is_submitted():
            self.slot_hours.read_boxes(**times_limit(len(contract.member_shares), contract.slot_hours))


class NoticeForm(BaseForm):
    """Give notice to end a contract."""

    end_date = DateInputField("Last day of care", description="For example, 31 1 2027.", required_message="Enter the last day of care")
