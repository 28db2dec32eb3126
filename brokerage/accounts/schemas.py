"""Forms and schemas of the accounts domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from brokerage.accounts.models import ROLE_LABELS, Role


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Email("Enter an email address like name@example.org")],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class CouncilForm(FlaskForm):
    """A new council."""

    name = StringField("Council name", validators=[DataRequired("Enter the council's name"), Length(max=120)])
    slug = StringField(
        "Short name",
        description="Lower-case letters, numbers and hyphens, for example tower-hamlets.",
        validators=[
            DataRequired("Enter a short name"),
            Length(max=40, message="Use 40 characters or fewer"),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message="Use lower-case letters, numbers and hyphens only"),
        ],
    )
    area_districts = StringField(
        "Postcode districts",
        description="Separated by spaces, for example E1 E2 E3.",
        validators=[Optional(), Regexp(r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?( +[A-Za-z]{1,2}[0-9][0-9A-Za-z]?)*$", message="Enter postcode districts like E1 E14 separated by spaces")],
    )


class UserForm(FlaskForm):
    """A new account."""

    name = StringField("Full name", validators=[DataRequired("Enter the person's name"), Length(max=120)])
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter an email address"), Email("Enter an email address like name@example.org"), Length(max=254)],
    )
    role = SelectField("Role", choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role], validators=[DataRequired("Choose a role")])
    council_id = SelectField("Council", coerce=int, choices=[], validate_choice=True)
    password = PasswordField(
        "Temporary password",
        description="At least 12 characters. Ask the person to change it.",
        validators=[DataRequired("Enter a temporary password"), Length(min=12, message="Use at least 12 characters")],
    )


class ResetPasswordForm(FlaskForm):
    """An administrator sets a temporary password."""

    password = PasswordField("New temporary password", validators=[DataRequired("Enter a temporary password")])


class ChangePasswordForm(FlaskForm):
    """Someone changes their own password."""

    current = PasswordField("Current password", validators=[DataRequired("Enter your current password")])
    new = PasswordField("New password", description="At least 12 characters. A few unusual words together work well.",
                        validators=[DataRequired("Enter a new password")])
