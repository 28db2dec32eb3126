"""Forms of the timesheet pages."""

from __future__ import annotations

from datetime import date, time

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from brokerage.formatting import time_of_day, weekday_date
from brokerage.forms import BaseForm, ChooseOneField, WholeNumberField
from brokerage.timesheets.rules import MAX_TRAVEL_MINUTES, MAX_VISIT_MINUTES, TRAVEL_NEGATIVE, TRAVEL_TOO_LONG, VisitIn, parse_start, travel_problem


def _iso_date(value):
    if isinstance(value, date) or value is None:
        return value
    return date.fromisoformat(value)


class VisitForm(BaseForm):
    """Record or change one visit."""

    holder_id = ChooseOneField("Member visited", coerce=int, choices=[], prompt="Choose the member visited",
                            invalid_choice_message="Choose a member this contract serves")
    visit_date = SelectField("Day", coerce=_iso_date, choices=[], validate_choice=True, invalid_choice_message="Choose a day of this week")
    start = StringField("Start time", description="For example 9:30am or 14:00.",
                        validators=[InputRequired("Enter the time the visit started"), Length(max=12, message="Enter a start time like 9:30am or 14:00")])
    minutes = WholeNumberField(
        "Length in minutes", description="For example 90 for 1 hour 30 minutes.",
        invalid_message="Enter the length in whole minutes, like 90",
        validators=[InputRequired("Enter how long the visit lasted, in minutes"),
                    NumberRange(min=1, max=MAX_VISIT_MINUTES, message=f"Enter a length from 1 to {MAX_VISIT_MINUTES} minutes")],
    )
    travel_minutes = WholeNumberField(
        "Travel time to the visit in minutes",
        description=f"Leave empty if there was none. At most {MAX_TRAVEL_MINUTES} minutes, and no longer than the visit itself.",
        invalid_message="Enter the travel time in whole minutes, like 20",
        # Each side its own message, so travel below 0 is not also told it is over the hour.
        validators=[Optional(), NumberRange(min=0, message=TRAVEL_NEGATIVE), NumberRange(max=MAX_TRAVEL_MINUTES, message=TRAVEL_TOO_LONG)],
    )

    def set_choices(self, members: list[tuple[int, str]], days: list[date]) -> None:
        """Offer the contract's members by name and the seven days of the sheet's week."""
        self.holder_id.choices = [SelectChoice(str(holder_id), name) for holder_id, name in members]
        self.visit_date.choices = [SelectChoice(day.isoformat(), weekday_date(day)) for day in days]

    def validate_start(self, field):
        """Read the start time, or say how to write one (once: not again after the length check has said it)."""
        if field.errors:
            return
        try:
            self.start_time = parse_start(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_travel_minutes(self, field):
        """Refuse travel longer than the visit (rules.travel_problem), beside the field, unless the range check has said why already."""
        if field.data and not field.errors and isinstance(self.minutes.data, int) and not self.minutes.errors:
            problem = travel_problem(VisitIn(holder_id=0, visit_date=date.min, start=time(), minutes=self.minutes.data, travel_minutes=field.data))
            if problem:
                raise ValidationError(problem)

    def fill(self, visit) -> None:
        """Show a recorded visit for changing, its start time written as the pages write it ('2pm', 'midday')."""
        self.process(data={"holder_id": visit.holder_id, "visit_date": visit.visit_date, "start": time_of_day(visit.start_time),
                           "minutes": visit.minutes, "travel_minutes": visit.travel_minutes})

    def visit(self) -> dict:
        """Return the visit as the service takes it."""
        return {"holder_id": self.holder_id.data, "visit_date": self.visit_date.data, "start": self.start_time,
                "minutes": self.minutes.data, "travel_minutes": self.travel_minutes.data or 0}


class StartForm(BaseForm):
    """Start a week's timesheet (a button beside the week)."""

    week = HiddenField("Week", validators=[InputRequired("Choose a week from the list")])


class RejectForm(BaseForm):
    """Send a timesheet back with the reason."""

    reason = TextAreaField("Why are you sending it back?", description="The provider reads this and corrects the timesheet.",
                           validators=[InputRequired("Say why you are sending the timesheet back, so the provider can correct it"),
                                       Length(max=1000, message="Use 1000 characters or fewer")])


class ApproverForm(BaseForm):
    """Propose the member who approves the group's timesheets."""

    holder_id = ChooseOneField("Who should approve timesheets", coerce=int, choices=[], prompt="Choose a member",
                            invalid_choice_message="Choose a member of this group")
