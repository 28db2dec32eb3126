"""Forms of the clusters pages."""

from __future__ import annotations

from brokerage.forms import BaseForm, ChooseOneField, Checkboxes, PoundsField, WholeNumberField
from brokerage.clusters.rules import PLEDGE_ABOVE_ZERO, PLEDGE_ABOVE_ZERO_MEMBER
from brokerage.places.schemas import PostcodeField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError

KIND_CHOICES = [
    SelectChoice("neighbourhood", "Neighbours – people who live near each other"),
    SelectChoice("culture", "Culture – a shared language, faith or heritage"),
    SelectChoice("care_need", "Care need – the same kind of care"),
    SelectChoice("goal", "Goal – something you want to do together"),
]


# What a pledge box says when the amount is too big even to read (its limit is the member's own budget).
PLEDGE_TOO_MUCH = "Enter a weekly pledge no bigger than the weekly care budget"


class ClusterForm(BaseForm):
    """Start a new cluster."""

    name = StringField("Name of the group", validators=[DataRequired("Enter a name for the group"), Length(max=120, message="Use 120 characters or fewer")])
    description = TextAreaField("What the group is for", validators=[Optional(), Length(max=1000, message="Use 1000 characters or fewer")])
    kinds = Checkboxes("What brings the group together", choices=KIND_CHOICES, validators=[DataRequired("Choose at least one thing that brings the group together")])
    districts = Checkboxes("Area", description="The postcode districts the group is for. Tick all that apply.", unknown_message="Choose from your council's districts")
    min_size = WholeNumberField("Smallest number of members", invalid_message="Enter the smallest number of members as a whole number, like 3", validators=[InputRequired("Enter the smallest number of members"), NumberRange(min=2, max=12, message="Enter a number from 2 to 12")])
    max_size = WholeNumberField("Largest number of members", invalid_message="Enter the largest number of members as a whole number, like 8", validators=[InputRequired("Enter the largest number of members"), NumberRange(min=2, max=12, message="Enter a number from 2 to 12")])
    holder_id = ChooseOneField("Who is starting it", coerce=int, choices=[], prompt="Choose who is starting it", invalid_choice_message="Choose yourself or someone you act for")
    pledge = PoundsField("Weekly pledge in pounds", description="How much of your weekly budget to put into the group's pool. You can change it later.", validators=[Optional()], too_much=PLEDGE_TOO_MUCH, too_little=PLEDGE_ABOVE_ZERO)
    THEIR_PLEDGE = "How much of their weekly budget to put into the group's pool. It can change later."
    # A broker may start a group with nobody in it yet.
    BROKER_PLEDGE = f"{THEIR_PLEDGE} Leave it empty when nobody is in the group yet."

    def validate_max_size(self, field):
        """Refuse a largest size below the smallest."""
        if self.min_size.data and field.data and field.data < self.min_size.data:
            raise ValidationError("The largest number cannot be less than the smallest")


class JoinForm(BaseForm):
    """Ask to join a cluster."""

    holder_id = ChooseOneField("Who is joining", coerce=int, choices=[], prompt="Choose who is joining", invalid_choice_message="Choose yourself or someone you act for who is not already in this group")
    pledge = PoundsField("Weekly pledge in pounds", description="How much of your weekly budget to put into the group's pool.", validators=[InputRequired(PLEDGE_ABOVE_ZERO)], too_much=PLEDGE_TOO_MUCH, too_little=PLEDGE_ABOVE_ZERO)
    THEIR_PLEDGE = "How much of the weekly budget of the person joining to put into the group's pool."


class PledgeForm(BaseForm):
    """Change one's own weekly pledge."""

    # A member's own pledge: £0 or less is met with how to stop paying in (`clusters.rules.check_pledge_above_zero`).
    pledge = PoundsField("New weekly pledge in pounds", validators=[InputRequired(PLEDGE_ABOVE_ZERO)], too_much=PLEDGE_TOO_MUCH, too_little=PLEDGE_ABOVE_ZERO_MEMBER)


class ProposalForm(BaseForm):
    """Put something to the members."""

    kind = RadioField(
        "What kind of decision",
        choices=[
            SelectChoice("remove_member", "Ask a member to leave"),
            SelectChoice("dissolve", "Close the group (needs two thirds of the votes)"),
            SelectChoice("free_text", "Something else: say what below"),
        ],
        validators=[InputRequired("Choose what kind of decision")],
    )
    # Asking someone to leave needs no title of its own: the proposal is called "Ask <name> to leave".
    title = StringField("What should the group decide", validators=[Length(max=200, message="Use 200 characters or fewer")])
    description = TextAreaField("More detail", validators=[Optional(), Length(max=2000, message="Use 2000 characters or fewer")])
    membership_id = SelectField("Which member", coerce=int, choices=[], validate_choice=True, invalid_choice_message="Choose a member of this group")

    def validate_title(self, field):
        """Require a title, except when asking a member to leave."""
        if not (field.data or "").strip() and self.kind.data != "remove_member":
            raise StopValidation("Enter what you want the group to decide")


class VoteForm(BaseForm):
    """Vote on a proposal for one member."""

    holder_id = ChooseOneField("Voting for", coerce=int, choices=[], prompt="Choose whom you are voting for", invalid_choice_message="Choose a member you can still vote for: people on notice to leave, and anyone who has voted, cannot vote")
    choice = RadioField(
        "Your vote",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No"), SelectChoice("abstain", "Abstain – I do not mind")],
        validators=[InputRequired("Choose yes, no or abstain")],
    )


class FindForm(BaseForm):
    """Search for clusters (a GET form, so no CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField("Kind of group", choices=[SelectChoice("", "Any kind")] + KIND_CHOICES, validators=[Optional()])
    language = SelectField("Language", choices=[], validators=[Optional()], validate_choice=True)
    need = SelectField("Care need", choices=[], validators=[Optional()], validate_choice=True)
    # Its choices are the council's districts, from the page; the search checks the district is one of them.
    district = SelectField("Area", choices=[], validators=[Optional()], validate_choice=False)
    near = PostcodeField("Distance from postcode", description="Leave empty to measure from your home.", validators=[Optional()])
    within_km = WholeNumberField("Within (km)", invalid_message="Enter a distance in whole kilometres, like 5", validators=[Optional(), NumberRange(min=1, max=100, message="Enter a distance from 1 to 100 km")])
