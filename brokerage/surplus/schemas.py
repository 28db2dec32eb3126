"""Forms of the surplus pages: the council's rule, proposing a clawback, and rejecting one."""

from __future__ import annotations

from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, StopValidation

from brokerage.forms import BaseForm, PoundsField, WholeNumberField
from brokerage.surplus.rules import AMOUNT_TOO_LITTLE, MULTIPLE_RANGE, NOTICE_RANGE, REASON_LIMIT, WEEKS_RANGE, RuleKind, RuleSettings

RULE_CHOICES = [
    SelectChoice(RuleKind.unspent_weeks.value, "Money left unspent for more than a number of weeks"),
    SelectChoice(RuleKind.above_pledges.value, "A balance above a number of weeks of pledges, every day for 12 weeks"),
]
RULE_HINTS = {
    RuleKind.unspent_weeks.value: "Spending uses the oldest money first. Money still in a share after the number of weeks below is flagged.",
    RuleKind.above_pledges.value: "A share that never went down to the number of weekly pledges below, for 12 weeks, is flagged above that.",
}


def _needed_for(kind: RuleKind, what: str):
    """Need the box only when its rule is chosen: the other rule's box, left empty, keeps the council's stored number."""

    def check(form, field) -> None:
        if field.raw_data and (field.raw_data[0] or "").strip():
            return  # a number given is checked against its range, whichever rule is chosen
        field.errors[:] = []
        if form.kind.data == kind.value:
            raise StopValidation(f"Enter {what}")
        raise StopValidation()

    return check


def _whole(label: str, bounds: tuple[int, int], what: str, description: str, *, rule: RuleKind | None = None) -> WholeNumberField:
    needed = InputRequired(message=f"Enter {what}") if rule is None else _needed_for(rule, what)
    return WholeNumberField(
        label, description=description,
        validators=[needed, NumberRange(min=bounds[0], max=bounds[1], message=f"Enter {what} between {bounds[0]} and {bounds[1]}")],
        invalid_message=f"Enter {what} as a whole number, like {bounds[0] + 7}",
    )


class SettingsForm(BaseForm):
    """The council's surplus rule."""

    kind = RadioField("Which rule does the council use?", choices=RULE_CHOICES, invalid_choice_message="Choose which rule the council uses",
                      validators=[InputRequired(message="Choose which rule the council uses")])
    weeks = _whole("Weeks unspent (first rule)", WEEKS_RANGE, "the number of weeks",
                   "Money unspent for more than this many weeks is flagged. The usual number is 8.", rule=RuleKind.unspent_weeks)
    multiple = _whole("Weeks of pledges (second rule)", MULTIPLE_RANGE, "the number of weeks of pledges",
                      "A share above this many weekly pledges, every day for 12 weeks, is flagged.", rule=RuleKind.above_pledges)
    notice_days = _whole("Days of clawback notice", NOTICE_RANGE, "the days of clawback notice",
                         "How long a member has, after seeing a flag, before the council could take money back. The usual clawback notice is 28 days.")

    def fill(self, settings: RuleSettings) -> None:
        """Show the council's current rule."""
        self.kind.data = settings.kind.value
        self.weeks.data, self.multiple.data, self.notice_days.data = settings.weeks, settings.multiple, settings.notice_days


class ProposeForm(BaseForm):
    """Propose taking back flagged money."""

    amount = PoundsField("Amount to take back, in pounds", description="No more than the unspent amount.", too_much="Enter no more than the unspent amount",
                          too_little=AMOUNT_TOO_LITTLE)
    reason = TextAreaField("Why the council is taking it back", description="The member and the second officer will read this.")


class RejectForm(BaseForm):
    """Reject a clawback another officer proposed."""

    note = TextAreaField("Why it is rejected (optional)", description=f"At most {REASON_LIMIT} characters.")
