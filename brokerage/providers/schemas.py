"""Forms of the provider pages: the profile, registering a provider, and vetting evidence."""

from __future__ import annotations

from datetime import date

from wtforms import BooleanField, EmailField, Field, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from brokerage.accounts.rules import normalise_email, password_problem
from brokerage.forms import BaseForm, Checkboxes, PoundsField, SlotHoursField, range_message_of_long_number
from brokerage.places.schemas import PostcodeField
from brokerage.providers.models import ProviderKind, VettingKind
from brokerage.providers.rules import MICRO_STAFF
from brokerage.providers.services import (
    CAPACITY_MAX, RADIUS_MAX, RADIUS_MIN, RATE_MESSAGE, STAFF_MAX, STAFF_MESSAGE, capacity_least, capacity_message, provider_slot_hours,
    slot_limit, staff_valid,
)
from brokerage.formatting import HOURLY_RATE_TOO_LOW
from brokerage.slot_hours import CARER_SLOT_MAX, PROVIDER_SLOT_MAX, carer_hours_in, slot_hours_problems
from brokerage.validation import parse_date, parse_date_parts, parse_decimal, parse_whole_number
from brokerage.vocabulary import HOURLY_RATE_MAX_PENCE, SERVICES, language_choices, service_name

VETTING_NAMES = {"dbs": "DBS check", "insurance": "Insurance", "cqc": "CQC registration"}
VETTING_HINTS = {
    "dbs": "An enhanced check from the Disclosure and Barring Service.",
    "insurance": "Public liability insurance.",
    "cqc": "Needed when the provider gives personal care, unless it is a personal assistant.",
}
GENDER_CHOICES = [SelectChoice("female", "Women"), SelectChoice("male", "Men")]
KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in ProviderKind]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class NumberField(StringField):
    """A number typed in a text box; a value that is not a number gets `invalid_message` and is shown back as typed."""

    def __init__(self, *args, whole: bool = False, invalid_message: str = "Enter a number", **kwargs):
        super().__init__(*args, **kwargs)
        self.whole = whole
        self.invalid_message = invalid_message
        self.invalid = False

    def process_formdata(self, valuelist):
        self.invalid = False
        text = (valuelist[0] if valuelist else "") or ""
        text = text.strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_whole_number(text) if self.whole else parse_decimal(text)
        except ValueError:
            self.data, self.invalid = text, True

    def pre_validate(self, form):
        if self.invalid:
            raise StopValidation(range_message_of_long_number(self, self.data) or self.invalid_message)


class DateInputField(Field):
    """A GOV.UK date input (day, month and year boxes named `<name>-day` and so on), or one YYYY-MM-DD value."""

    PARTS = ("day", "month", "year")

    def __init__(self, *args, required_message: str = "Enter a date", **kwargs):
        super().__init__(*args, **kwargs)
        self.required_message = required_message
        self.parts = dict.fromkeys(self.PARTS, "")
        self.problem: str | None = None
        self.extra_raw_data: list[str] = []

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.problem = None
        if isinstance(self.data, date):
            self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        if formdata is None:
            return
        whole = (formdata.getlist(self.name) or [""])[0].strip()
        self.parts = {part: (formdata.getlist(f"{self.name}-{part}") or [""])[0].strip() for part in self.PARTS}
        self.extra_raw_data = [whole, *self.parts.values()]
        self.data = None
        if not whole and not any(self.parts.values()):
            self.problem = self.required_message
            return
        try:
            if whole and not any(self.parts.values()):
                self.data = parse_date(whole)
                self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
            else:
                self.data = parse_date_parts(self.parts["day"], self.parts["month"], self.parts["year"])
        except ValueError as error:
            self.problem = str(error)

    def process_formdata(self, valuelist):
        """Leave the work to `process`, which reads the three boxes."""

    def pre_validate(self, form):
        if self.problem:
            raise StopValidation(self.problem)


# The profile's fields in the order templates/providers/_fields.html shows them.
PROFILE_ORDER = ("services", "languages", "staff_genders", "staff_count", "slot_hours", "capacity_hours", "radius_km", "hourly_rate",
                 "living_wage", "ethical_care_charter", "ownership_model")


# The profile's words for each reader: the provider changing their own ("you"), and a broker ("the provider").
# Keys: the labels of the ten worded fields, then the descriptions and messages that name the reader.
OWN_WORDS = {
    "services": "Care you offer", "languages": "Languages you and your staff speak", "staff_genders": "The carers who work with you include",
    "staff_count": "How many people work with you", "slot_hours": "Hours you can offer each week, by time of day",
    "capacity_hours": "Most hours you will take each week (optional)", "radius_km": "How far you will travel, in kilometres",
    "hourly_rate": "Your hourly rate", "living_wage": "I pay everyone who works with me at least the real Living Wage",
    "ethical_care_charter": "I keep UNISON's Ethical Care Charter (no 15-minute visits, travel time paid)",
    "staff_hint": "you included; 1 if you work alone", "staff_missing": "Enter how many people work with you",
    "slot_hint": "With everyone who works with you.", "radius_hint": "From your postcode.",
    "radius_missing": "Enter how far you will travel", "rate_missing": "Enter your hourly rate",
}
BROKER_WORDS = {
    "services": "Services offered", "languages": "Languages the staff speak", "staff_genders": "The staff include",
    "staff_count": "How many people work for the provider", "slot_hours": "Hours the provider can work each week, by time of day",
    "capacity_hours": "Most hours each week, across all times (optional)", "radius_km": "How far the provider travels, in kilometres",
    "hourly_rate": "Hourly rate", "living_wage": "Pays every worker at least the real Living Wage",
    "ethical_care_charter": "Has signed up to UNISON's Ethical Care Charter",
    "staff_hint": "the owner included; 1 for a personal assistant", "staff_missing": "Enter how many people work for the provider",
    "slot_hint": "Across all the staff, for all groups.", "radius_hint": "From the provider's postcode.",
    "radius_missing": "Enter how far the provider travels", "rate_missing": "Enter the hourly rate",
}


def capacity_field(words: dict[str, str], *, new: bool = False) -> NumberField:
    """Return the weekly cap's box in one reader's words: from 0 (take no more work for now) for a provider, from 1 for a new one."""
    least = capacity_least(None) if new else 0
    message = capacity_message(least)
    # Only a provider who has work can stop taking it: a new one is not told how.
    stop_hint = "" if new else " Enter 0 to take no more work for now."
    return NumberField(words["capacity_hours"], whole=True, invalid_message=message,
                       description="Leave this empty if the hours above are the only limit." + stop_hint,
                       validators=[Optional(), NumberRange(min=least, max=CAPACITY_MAX, message=message)])


def profile_fields(words: dict[str, str], *, new: bool = False) -> tuple:
    """Return the ten worded profile fields (services … ethical_care_charter, in PROFILE_ORDER) in one reader's words.

    `new`: for a provider not made yet (applying, or registered by a broker), whose weekly cap is at least an hour.
    """
    return (
        Checkboxes(words["services"], unknown_message="Choose services from the list", validators=[DataRequired("Choose at least one service")]),
        Checkboxes(words["languages"], unknown_message="Choose languages from the list", validators=[DataRequired("Choose at least one language")]),
        Checkboxes(words["staff_genders"], choices=GENDER_CHOICES, unknown_message="Choose women, men or both",
                   validators=[DataRequired("Choose women, men or both")]),
        NumberField(words["staff_count"], whole=True, invalid_message=STAFF_MESSAGE,
                    description=f"Everyone who gives care or runs it, {words['staff_hint']}. {MICRO_STAFF} or fewer is a micro-provider.",
                    validators=[InputRequired(words["staff_missing"]), NumberRange(min=1, max=STAFF_MAX, message=STAFF_MESSAGE)]),
        SlotHoursField(words["slot_hours"], most=PROVIDER_SLOT_MAX,
                       description=f"{words['slot_hint']} Up to {CARER_SLOT_MAX} hours for each person in a morning, and {carer_hours_in('mon_eve')} in an afternoon or an evening. "
                                   "Leave a box empty when nobody can work then."),
        capacity_field(words, new=new),
        NumberField(words["radius_km"], invalid_message="Enter the distance as a number, like 5 or 7.5",
                    description=f"{words['radius_hint']} 1 mile is about 1.6 km.",
                    validators=[InputRequired(words["radius_missing"]),
                                NumberRange(min=RADIUS_MIN, max=RADIUS_MAX, message=f"Enter a distance from {RADIUS_MIN:g} to {RADIUS_MAX:g} km")]),
        PoundsField(words["hourly_rate"], description="In pounds, like 22.50.", validators=[InputRequired(words["rate_missing"])], too_much=RATE_MESSAGE,
                    too_little=HOURLY_RATE_TOO_LOW),
        BooleanField(words["living_wage"]),
        BooleanField(words["ethical_care_charter"]),
    )


class ProfileForm(BaseForm):
    """What a provider offers, as the provider changes it themselves ("you"): services, languages, staff, hours, times, distance, rate and commitments."""

    field_order = PROFILE_ORDER

    (services, languages, staff_genders, staff_count, slot_hours, capacity_hours, radius_km, hourly_rate, living_wage,
     ethical_care_charter) = profile_fields(OWN_WORDS)
    ownership_model = StringField("Who owns and runs it (optional)", description="For example: owned by its care workers, or a sole trader.",
                                  filters=[_strip], validators=[Length(max=80, message="Use 80 characters or fewer")])

    def validate_hourly_rate(self, field):
        """Refuse a rate of nothing, or one no care costs (said with the other fields' problems, not after them)."""
        if field.pence is not None and field.pence <= 0:
            raise ValidationError(HOURLY_RATE_TOO_LOW)  # the service's own lowest rate, for £0 as for 1p
        if field.pence is not None and field.pence > HOURLY_RATE_MAX_PENCE:
            raise ValidationError(RATE_MESSAGE)

    def validate(self, extra_validators=None) -> bool:
        """Check the fields; each hours box against the limit its staff count sets, or, with no valid staff count, against none."""
        if not staff_valid(self.staff_count.data):
            # Only whole numbers of 0 or more: the staff count's own message, beside it, says what to put right.
            self.slot_hours.read_boxes(None)
        else:
            # A box that is not a number states the same limit as one over it ("from 0 to 6 (one person works …)"), not 168.
            self.slot_hours.read_boxes(**slot_limit(getattr(self, "provider", None), self.staff_count.data))
        return super().validate(extra_validators)

    def validate_slot_hours(self, field):
        """Mark each box over the hours its staff can work in one time of day (`services.slot_limit`), beside the box, all at once."""
        staff = self.staff_count.data
        if not isinstance(field.data, dict) or not staff_valid(staff):
            return
        limit = slot_limit(getattr(self, "provider", None), staff)
        for slot, hours in field.data.items():
            message = slot_hours_problems({slot: hours}, **limit) if hours > 0 else None
            if message:
                field.cell_errors[slot] = message
                field.errors.append(message)
                field.error_ids.append(field.cell_id(slot))

    def set_choices(self, provider=None) -> None:
        """Offer the common languages and services, plus any the provider already has that are not in the lists."""
        self.provider = provider
        have_languages = list(provider.languages) if provider else []
        self.languages.choices = [SelectChoice(code, name) for code, name in language_choices(have_languages)]
        have_services = list(provider.services) if provider else []
        tokens = list(SERVICES) + [t for t in have_services if t not in SERVICES]
        self.services.choices = [SelectChoice(t, service_name(t).capitalize()) for t in tokens]

    def fill(self, provider) -> None:
        """Show the provider's current profile in the form."""
        for name in ("services", "languages", "staff_genders"):
            getattr(self, name).data = list(getattr(provider, name))
        self.slot_hours.process(None, provider_slot_hours(provider))
        self.capacity_hours.data = provider.capacity_hours
        self.staff_count.data = provider.staff_count
        self.radius_km.data = f"{provider.radius_km:g}"
        self.hourly_rate.data = f"{provider.hourly_rate_pence / 100:.2f}"
        self.living_wage.data = provider.living_wage
        self.ethical_care_charter.data = provider.ethical_care_charter
        self.ownership_model.data = provider.ownership_model

    def profile(self) -> dict:
        """Return the profile as keyword arguments for the services."""
        return {
            "services": self.services.data or [], "languages": self.languages.data or [], "staff_genders": self.staff_genders.data or [],
            "capacity_hours": self.capacity_hours.data, "staff_count": self.staff_count.data, "slot_hours": self.slot_hours.data or {},
            "radius_km": self.radius_km.data,
            "hourly_rate_pence": self.hourly_rate.pence, "living_wage": bool(self.living_wage.data),
            "ethical_care_charter": bool(self.ethical_care_charter.data), "ownership_model": self.ownership_model.data or "",
        }


class BrokerProfileForm(ProfileForm):
    """The profile as a broker sees it ("the provider"), with the name and kind."""

    field_order = ("name", "kind", "postcode", *PROFILE_ORDER)

    (services, languages, staff_genders, staff_count, slot_hours, capacity_hours, radius_km, hourly_rate, living_wage,
     ethical_care_charter) = profile_fields(BROKER_WORDS)

    name = StringField("Name", filters=[_strip], validators=[DataRequired("Enter the name"), Length(max=120, message="Use 120 characters or fewer")])
    kind = RadioField("Kind of provider", choices=KIND_CHOICES, validate_choice=False, validators=[InputRequired("Choose the kind of provider")])
    # Left empty when changing a provider registered before postcodes were kept, it keeps where they are.
    postcode = PostcodeField("Postcode", description="Where they work from, like E1 6AN. Distances are measured from here.", validators=[Optional()])

    def validate_kind(self, field):
        """Refuse a kind that is not in the list."""
        if field.data not in {choice.value for choice in KIND_CHOICES}:
            raise ValidationError("Choose the kind of provider")

    def fill(self, provider) -> None:
        """Show the provider's current profile, name and kind in the form."""
        super().fill(provider)
        self.name.data = provider.name
        self.kind.data = provider.kind.value
        self.postcode.data = provider.postcode

    def profile(self) -> dict:
        """Return the profile, name, kind and postcode as keyword arguments for the services."""
        return super().profile() | {"name": self.name.data, "kind": self.kind.data, "postcode": self.postcode.data or None}


class RegisterForm(BrokerProfileForm):
    """A new provider or personal assistant, and where they are."""

    postcode = PostcodeField("Postcode", description="Where they work from, like E1 6AN. Distances are measured from here.")
    # A new provider has no work to stop: its weekly cap, when given, is at least an hour.
    capacity_hours = capacity_field(BROKER_WORDS, new=True)

    def profile(self) -> dict:
        """Return everything about the new provider as keyword arguments for the services (a postcode is required)."""
        return super().profile() | {"postcode": self.postcode.data}


class VettingForm(BaseForm):
    """One piece of vetting evidence."""

    kind = RadioField("Evidence", choices=[SelectChoice(k.value, VETTING_NAMES[k.value]) for k in VettingKind], validate_choice=False,
                      validators=[InputRequired("Choose the kind of evidence")])
    reference = StringField("Reference number", description="As printed on the certificate or policy.", filters=[_strip],
                            validators=[DataRequired("Enter the reference number"), Length(max=80, message="Use 80 characters or fewer")])
    expires_on = DateInputField("Date it runs out", description="For example, 27 3 2027.", required_message="Enter the date the evidence runs out")

    def validate_kind(self, field):
        """Refuse a kind of evidence that is not in the list."""
        if field.data not in {k.value for k in VettingKind}:
            raise ValidationError("Choose the kind of evidence")


class ApplicationForm(BrokerProfileForm):
    """The public "offer care" form: who the applicant is, their account, where they are, and what they offer."""

    field_order = ("contact_name", "name", "kind", "postcode", "email", "password", *PROFILE_ORDER)

    contact_name = StringField("Your full name", filters=[_strip], validators=[DataRequired("Enter your full name"), Length(max=120, message="Use 120 characters or fewer")])
    name = StringField("Name people will see", description="Your own name if you work alone as a personal assistant, or your organisation's name.",
                       filters=[_strip], validators=[DataRequired("Enter the name people will see"), Length(max=120, message="Use 120 characters or fewer")])
    kind = RadioField("How you work", choices=KIND_CHOICES, validate_choice=False, validators=[InputRequired("Choose how you work")])
    email = EmailField("Email address", description="You sign in with this. We write to it about your application.", filters=[_strip],
                       validators=[DataRequired("Enter your email address"), Email("Enter an email address like name@example.org"),
                                   Length(max=254, message="Use 254 characters or fewer")])
    password = PasswordField("Choose a password", description="At least 12 characters and not easy to guess: a few unusual words together work well.",
                             validators=[DataRequired("Choose a password")])
    postcode = PostcodeField("Your postcode", description="Where you work from, for example E1 6AN. Distances to the people you could care for are measured from here.")
    # The applicant is spoken to as a provider is on their own form, but for the weekly cap: no work to stop yet.
    (services, languages, staff_genders, staff_count, slot_hours, capacity_hours, radius_km, hourly_rate, living_wage,
     ethical_care_charter) = profile_fields(OWN_WORDS, new=True)
    # A box people never see: a form-filling robot fills it in, and is refused.
    website = StringField("Leave this box empty")

    def validate_kind(self, field):
        """Refuse a way of working that is not in the list."""
        if field.data not in {choice.value for choice in KIND_CHOICES}:
            raise ValidationError("Choose how you work")

    def validate_password(self, field):
        """Refuse a password that is too short or easy to guess (said with the other fields' problems, not after them)."""
        problem = password_problem(field.data or "", email=normalise_email(self.email.data or ""), name=self.contact_name.data or "")
        if problem:
            raise ValidationError(problem)

    def validate(self, extra_validators=None) -> bool:
        """Check the fields; refuse the whole form when the hidden box was filled in (people never see it)."""
        ok = super().validate(extra_validators)
        if self.website.data:
            self.form_errors.append("The form could not be sent. Leave the box called 'Leave this box empty' empty, and send it again.")
            return False
        return ok

    def answers(self) -> dict:
        """Return the answers but the password as keyword arguments for `pending.problems`."""
        return self.profile() | {"contact_name": self.contact_name.data or "", "email": self.email.data or "", "postcode": self.postcode.data or ""}

    def application(self) -> dict:
        """Return everything about the application as keyword arguments for `pending.apply`."""
        return self.answers() | {"password": self.password.data or ""}


class ConfirmForm(BaseForm):
    """The button that confirms an application through its emailed link (it only needs its CSRF token)."""


class RefuseForm(BaseForm):
    """A broker refuses an application, saying why."""

    reason = TextAreaField("Why are you refusing it?", description="The applicant reads this. Say what they could do, if anything.", filters=[_strip],
                           validators=[DataRequired("Say why the application is refused: the applicant reads this"),
                                       Length(max=500, message="Use 500 characters or fewer")])
