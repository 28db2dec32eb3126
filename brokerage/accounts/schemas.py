"""Forms and schemas of the accounts domain."""

from __future__ import annotations

from marshmallow import Schema, fields, validate, validates
from marshmallow import ValidationError as SchemaError
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from brokerage import validation
from brokerage.accounts.models import ROLE_LABELS, Role
from brokerage.types import PERSON_ROLES
from brokerage.errors import ValidationFailed
from brokerage.forms import BaseForm
from brokerage.validation import ID_MAX, Text, WholeNumber
from brokerage.validation import load_filters as load_query

# The roles an administrator gives when adding an account by hand.
STAFF_ROLES = (Role.broker, Role.council_officer, Role.admin)


class SignInForm(BaseForm):
    """Email and password."""

    # Its one message is the same for every mistake ("The email address or password is not right."): nothing added.
    asks_passwords_again = False

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Email("Enter an email address like name@example.org")],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class CouncilForm(BaseForm):
    """A new council."""

    name = StringField("Council name", validators=[DataRequired("Enter the council's name"), Length(max=120, message="Use 120 characters or fewer")])
    slug = StringField(
        "Short name",
        description="Lower-case letters, numbers and hyphens, for example tower-hamlets.",
        validators=[
            DataRequired("Enter a short name"),
            Length(max=40, message="Use 40 characters or fewer"),
            Regexp(validation.SLUG, message=validation.SLUG_MESSAGE),
        ],
    )
    area_districts = StringField(
        "Postcode districts",
        description="Separated by spaces, for example E1 E2 E3.",
        validators=[Optional(), Length(max=400, message="Use 400 characters or fewer")],
    )

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then the rules the command line uses too (CouncilSchema)."""
        ok = super().validate(extra_validators)
        if self.control_character_errors():
            return False
        data = {"name": self.name.data or "", "slug": self.slug.data or "", "area_districts": self.area_districts.data or ""}
        for name, messages in schema_errors(CouncilSchema(), data).items():
            field = getattr(self, name)
            if not field.errors:
                field.errors = list(field.errors) + messages
                ok = False
        return ok


class UserForm(BaseForm):
    """A new account."""

    name = StringField("Full name", validators=[DataRequired("Enter the person's name"), Length(max=120, message="Use 120 characters or fewer")])
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter an email address"), Email("Enter an email address like name@example.org"), Length(max=254, message="Use 254 characters or fewer for an email address")],
    )
    # Staff only: an unlinked holder, representative or provider account is a dead end ("not linked to a care budget
    # yet"). They arrive by a broker's or holder's invitation, or by applying to offer care, which link them.
    role = SelectField("Role", choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in PERSON_ROLES if r in STAFF_ROLES],
                       validators=[DataRequired("Choose a role")])
    council_id = SelectField("Council", coerce=int, choices=[], validate_choice=True)
    password = PasswordField(
        "Temporary password",
        description="At least 12 characters. Ask the person to change it.",
        validators=[DataRequired("Enter a temporary password"), Length(min=12, message="Use at least 12 characters")],
    )

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then the rules the command line uses too (NewUserSchema)."""
        ok = super().validate(extra_validators)
        if self.control_character_errors():
            return False
        data = {"name": self.name.data or "", "email": self.email.data or "", "role": self.role.data or ""}
        for name, messages in schema_errors(NewUserSchema(), data).items():
            field = getattr(self, name)
            if not field.errors:
                field.errors = list(field.errors) + messages
                ok = False
        return ok


class ResetPasswordForm(BaseForm):
    """An administrator sets a temporary password."""

    password = PasswordField("New temporary password", validators=[DataRequired("Enter a temporary password")])


class RoleForm(BaseForm):
    """An administrator gives an account another role; `confirm` is sent by the confirmation page."""

    # Staff roles only, as for a new account: an unlinked holder, representative or provider account is a dead end.
    role = SelectField("New role", choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in PERSON_ROLES if r in STAFF_ROLES and r != Role.admin],
                       validators=[DataRequired("Choose a role")])
    confirm = HiddenField()

    @property
    def confirmed(self) -> bool:
        """Tell whether the administrator has confirmed the change."""
        return self.confirm.data == "yes"


class ChangePasswordForm(BaseForm):
    """Someone changes their own password."""

    current = PasswordField("Current password", validators=[DataRequired("Enter your current password")])
    new = PasswordField("New password", description="At least 12 characters and not easy to guess: a few unusual words together work well.",
                        validators=[DataRequired("Enter a new password")])


# --- marshmallow schemas: the rules for a new council and a new account, shared by the forms and the CLI ---


class CouncilSchema(Schema):
    """A new council: name, short name and postcode districts."""

    name = Text(required=True, validate=validate.Length(min=1, max=120, error="Enter the council's name in 120 characters or fewer"))
    slug = Text(required=True, validate=[
        validate.Length(min=1, max=40, error="Use 40 characters or fewer"),
        validate.Regexp(validation.SLUG, error=validation.SLUG_MESSAGE),
    ])
    area_districts = Text(load_default="", validate=validate.Length(max=400, error="Use 400 characters or fewer"))

    @validates("name")
    def check_name(self, value, **kwargs):
        """Refuse a name of spaces only, which the service would store as no name at all."""
        if not value.strip():
            raise SchemaError("Enter the council's name")

    @validates("area_districts")
    def check_districts(self, value, **kwargs):
        """Refuse anything that is not a list of postcode districts."""
        try:
            validation.parse_districts(value)
        except ValueError as error:
            raise SchemaError(str(error)) from None


class NewUserSchema(Schema):
    """A new account: name, email address and role (the password rules are checked by the service)."""

    name = Text(required=True, validate=validate.Length(min=1, max=120, error="Enter the person's name in 120 characters or fewer"))
    email = fields.Email(required=True, validate=validate.Length(max=254, error="Use 254 characters or fewer for an email address"), error_messages={"invalid": "Enter an email address like name@example.org"})
    role = fields.Enum(Role, by_value=True, required=True, error_messages={"unknown": "Choose a role from the list"})

    @validates("email")
    def check_email(self, value, **kwargs):
        """Refuse hidden characters, which the email check lets through after the @ (a lone surrogate no database can store)."""
        if problem := validation.control_character_problem(value):
            raise SchemaError(problem)


class AccountFilterSchema(Schema):
    """The accounts list's search: part of a name or email address, a role, a council and a page number."""

    class Meta:
        unknown = "exclude"

    q = Text(load_default=None, validate=validate.Length(max=120, error="Enter at most {max} characters"),
             metadata={"description": "Part of a name or email address"})
    role = fields.Enum(Role, by_value=True, load_default=None, error_messages={"unknown": "Choose a role from the list"})
    council = WholeNumber(load_default=None, validate=validate.Range(min=1, max=ID_MAX, error="Choose a council from the list"))
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100_000))


def load_account_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load the accounts list's filters from the query string (blank means any); return (filters, errors by field)."""
    filters, errors = load_query(AccountFilterSchema, args, messages={"role": "Choose a role from the list", "council": "Choose a council from the list"})
    return {"text": filters["q"], "role": filters["role"], "council_id": filters["council"], "page": filters["page"]}, errors


def load_or_refuse(schema: Schema, data: dict) -> dict:
    """Load data through a schema, raising ValidationFailed naming each wrong field."""
    try:
        return schema.load(data)
    except SchemaError as error:
        raise ValidationFailed({key: (value if isinstance(value, list) else [str(value)]) for key, value in error.messages.items()}) from None


def schema_errors(schema: Schema, data: dict) -> dict[str, list[str]]:
    """Return the schema's messages for the data, per field ({} when it is valid)."""
    return {key: (value if isinstance(value, list) else [str(value)]) for key, value in schema.validate(data).items()}
