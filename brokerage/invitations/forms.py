"""The forms of invitations and password resets (Flask-WTF); the services check the same rules again."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from brokerage.forms import BaseForm, ChooseOneField
from brokerage.holders.schemas import powers_field
from brokerage.invitations.rules import EMAIL_MAX, NAME_MAX, RELATIONSHIP_MAX, STAFF_KINDS

EMAIL_MESSAGE = "Enter an email address like name@example.org"
PASSWORD_HINT = "At least 12 characters and not easy to guess: a few unusual words together work well."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class HolderInvitationForm(BaseForm):
    """How to reach a holder: their email address, or a phone number to pass the link on to."""

    email = EmailField("Email address", description="We will email them a link to make their account.", filters=[_strip],
                       validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=EMAIL_MAX, message=f"Use {EMAIL_MAX} characters or fewer for an email address")])
    phone = TelField("Phone number (if they have no email address)",
                     description="You will be shown a link once, to pass on to them by text message or in person.",
                     filters=[_strip], validators=[Optional(), Length(max=30, message="Use 30 characters or fewer")])

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then that one of the two is given."""
        ok = super().validate(extra_validators)
        if ok and not self.email.data and not self.phone.data:
            self.email.errors = list(self.email.errors) + ["Enter their email address, or a phone number if they have no email"]
            return False
        return ok


class RepresentativeInvitationForm(BaseForm):
    """Ask a family member or carer to act for me, and choose what they may do."""

    name = StringField("Their name", filters=[_strip], validators=[DataRequired("Enter their name"), Length(max=NAME_MAX, message=f"Use {NAME_MAX} characters or fewer")])
    email = EmailField("Their email address", description="We will email them a link. They choose their own password.", filters=[_strip],
                       validators=[DataRequired("Enter their email address"), Email(EMAIL_MESSAGE), Length(max=EMAIL_MAX, message=f"Use {EMAIL_MAX} characters or fewer for an email address")])
    relationship = StringField("How you know them (optional)", description="For example: daughter, carer, friend.", filters=[_strip],
                               validators=[Optional(), Length(max=RELATIONSHIP_MAX, message=f"Use {RELATIONSHIP_MAX} characters or fewer")])
    powers = powers_field()


class StaffInvitationForm(BaseForm):
    """A broker or council officer to invite."""

    name = StringField("Full name", filters=[_strip], validators=[DataRequired("Enter the person's name"), Length(max=NAME_MAX, message=f"Use {NAME_MAX} characters or fewer")])
    email = EmailField("Email address", filters=[_strip],
                       validators=[DataRequired("Enter an email address"), Email(EMAIL_MESSAGE), Length(max=EMAIL_MAX, message=f"Use {EMAIL_MAX} characters or fewer for an email address")])
    # Nothing is chosen for the administrator: an invitation to the wrong council would open its people's records.
    role = ChooseOneField("Role", choices=[SelectChoice(kind.value, kind.label) for kind in STAFF_KINDS], prompt="Choose a role",
                          invalid_choice_message="Choose a role from the list")
    council_id = ChooseOneField("Council", coerce=int, choices=[], prompt="Choose a council", invalid_choice_message="Choose a council from the list")


class AcceptForm(BaseForm):
    """The person's own name, email address (when none was given) and password."""

    name = StringField("Your name", filters=[_strip], validators=[Optional(), Length(max=NAME_MAX, message=f"Use {NAME_MAX} characters or fewer")])
    email = EmailField("Your email address", description="You will sign in with it.", filters=[_strip],
                       validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=EMAIL_MAX, message=f"Use {EMAIL_MAX} characters or fewer for an email address")])
    password = PasswordField("Choose a password", description=PASSWORD_HINT)


class ForgottenPasswordForm(BaseForm):
    """The email address of the account."""

    email = EmailField("Email address", filters=[_strip],
                       validators=[DataRequired("Enter your email address"), Email(EMAIL_MESSAGE), Length(max=EMAIL_MAX, message=f"Use {EMAIL_MAX} characters or fewer for an email address")])


class NewPasswordForm(BaseForm):
    """A new password, chosen through a reset link."""

    password = PasswordField("New password", description=PASSWORD_HINT, validators=[DataRequired("Choose a new password")])


class ButtonForm(BaseForm):
    """A button that only needs its CSRF token (send again, cancel)."""
