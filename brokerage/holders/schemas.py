"""Forms of the holder pages, and the shapes of the subject access download."""

from __future__ import annotations

import csv
import io
import json

from marshmallow import Schema, validate
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from brokerage.forms import BaseForm, Checkboxes, PoundsField
from brokerage.holders.models import Power, SensitiveItem, Visibility
from brokerage.holders.registration import ALLOCATION_MESSAGE, ALLOCATION_TOO_LITTLE, CONTACT_MESSAGE, EMAIL_MAX, EMAIL_MESSAGE, NAME_MAX
from brokerage.holders.rules import phone_problem
from brokerage.places.schemas import PostcodeField
from brokerage.holders.services import GOALS_MAX, SENSITIVE_MAX, THEIR_VISIBILITY_LABELS, VISIBILITY_LABELS
from brokerage.validation import Text, WholeNumber, load_filters
from brokerage.vocabulary import SERVICE_HINT, SERVICES, language_choices, service_name

CONSENT_MISSING = "Tick the box to agree, or leave this empty"
VISIBILITY_HINTS = {
    Visibility.nobody: "Only you and anyone you asked to act for you.",
    Visibility.clusters: "The other members of groups you are in, and your broker.",
    Visibility.broker: "Your broker and the council officers who check their work. We record every time they look.",
}


def their_visibility_hints(name: str) -> dict[Visibility, str]:
    """Return the hints of the visibility choices as someone acting for `name` reads them."""
    return {
        Visibility.nobody: f"Only {name} and anyone they asked to act for them.",
        Visibility.clusters: f"The other members of groups {name} is in, and their broker.",
        Visibility.broker: "Their broker and the council officers who check their work. We record every time they look.",
    }


ITEM_HINTS = {
    SensitiveItem.culture: "For example Somali, Caribbean or Deaf culture.",
    SensitiveItem.faith: "For example Muslim, Sikh or Church of England.",
    SensitiveItem.heritage: "For example Irish Traveller, Windrush generation or Polish.",
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _one_line_breaks(value):
    # Browsers send a line break as two characters; count it as one, as the page does.
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def _visibility_field(item: SensitiveItem) -> RadioField:
    return RadioField(
        f"Who can see your {item.value}",
        choices=[SelectChoice(v.value, VISIBILITY_LABELS[v]) for v in Visibility],
        default=Visibility.nobody.value,
        validate_choice=False,
    )


class ProfileForm(BaseForm):
    """A holder's languages, care needs and goals, and optionally their culture, faith and heritage."""

    languages = Checkboxes("Languages you speak", unknown_message="Choose languages from the list")
    care_needs = Checkboxes("The care you need", description=SERVICE_HINT, unknown_message="Choose care needs from the list")
    goals = TextAreaField(
        "What you want your care to help you do",
        description=f"For example: get out to the mosque on Fridays, or cook my own meals. Up to {GOALS_MAX} characters.",
        filters=[_one_line_breaks],
        validators=[Optional(), Length(max=GOALS_MAX, message=f"Use {GOALS_MAX} characters or fewer")],
    )
    culture = StringField("Your culture (optional)", description=ITEM_HINTS[SensitiveItem.culture], filters=[_strip],
                          validators=[Optional(), Length(max=SENSITIVE_MAX, message=f"Use {SENSITIVE_MAX} characters or fewer")])
    culture_visibility = _visibility_field(SensitiveItem.culture)
    culture_consent = BooleanField("I agree that carepool stores this")
    faith = StringField("Your faith (optional)", description=ITEM_HINTS[SensitiveItem.faith], filters=[_strip],
                        validators=[Optional(), Length(max=SENSITIVE_MAX, message=f"Use {SENSITIVE_MAX} characters or fewer")])
    faith_visibility = _visibility_field(SensitiveItem.faith)
    faith_consent = BooleanField("I agree that carepool stores this")
    heritage = StringField("Your heritage (optional)", description=ITEM_HINTS[SensitiveItem.heritage], filters=[_strip],
                           validators=[Optional(), Length(max=SENSITIVE_MAX, message=f"Use {SENSITIVE_MAX} characters or fewer")])
    heritage_visibility = _visibility_field(SensitiveItem.heritage)
    heritage_consent = BooleanField("I agree that carepool stores this")

    def about(self, name: str) -> None:
        """Word the form for someone acting for the holder: "Languages Hodan Warsame speaks", not "Languages you speak"."""
        self.languages.label.text = f"Languages {name} speaks"
        self.care_needs.label.text = f"The care {name} needs"
        self.goals.label.text = f"What {name} wants their care to help them do"
        self.goals.description = f"For example: get out to the mosque on Fridays, or cook their own meals. Up to {GOALS_MAX} characters."
        for item in SensitiveItem:
            getattr(self, item.value).label.text = f"{name}'s {item.value} (optional)"
            getattr(self, f"{item.value}_visibility").label.text = f"Who can see {name}'s {item.value}"
            getattr(self, f"{item.value}_visibility").choices = [SelectChoice(v.value, THEIR_VISIBILITY_LABELS[v]) for v in Visibility]
            getattr(self, f"{item.value}_consent").label.text = f"{name} agrees that carepool stores this"

    def set_choices(self, *, languages: list[str], care_needs: list[str]) -> None:
        """Offer the common languages and services, plus any the holder already has that are not in the lists."""
        self.languages.choices = [SelectChoice(code, name) for code, name in language_choices(languages)]
        tokens = list(SERVICES) + [t for t in care_needs if t not in SERVICES]
        self.care_needs.choices = [SelectChoice(t, service_name(t).capitalize()) for t in tokens]

    def fill(self, holder, details: dict) -> None:
        """Show the holder's current profile in the form."""
        self.languages.data = list(holder.languages)
        self.care_needs.data = list(holder.care_needs)
        self.goals.data = holder.goals
        for item in SensitiveItem:
            row = details.get(item)
            getattr(self, item.value).data = row.value if row else ""
            getattr(self, f"{item.value}_visibility").data = row.visibility.value if row else Visibility.nobody.value
            getattr(self, f"{item.value}_consent").data = row is not None

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then that every sensitive value comes with consent and an audience."""
        ok = super().validate(extra_validators)
        for item in SensitiveItem:
            if not getattr(self, item.value).data:
                continue
            visibility = getattr(self, f"{item.value}_visibility")
            if visibility.data not in {v.value for v in Visibility}:
                visibility.errors = list(visibility.errors) + ["Choose who can see this"]
                ok = False
            consent = getattr(self, f"{item.value}_consent")
            if not consent.data:
                consent.errors = list(consent.errors) + [CONSENT_MISSING]
                ok = False
        return ok

    def sensitive(self) -> dict[str, tuple[str, str]]:
        """Return each item's value and audience; an empty value means delete it."""
        return {item.value: (getattr(self, item.value).data or "", getattr(self, f"{item.value}_visibility").data) for item in SensitiveItem}


class AddHolderForm(BaseForm):
    """A broker adds a budget holder: who they are, their budget, where they live, and how to invite them."""

    name = StringField("Full name", filters=[_strip], validators=[DataRequired("Enter their name"), Length(max=NAME_MAX, message=f"Use {NAME_MAX} characters or fewer")])
    allocation = PoundsField("Weekly care budget", description="Their direct payment each week, in pounds, like 250.00.",
                             validators=[InputRequired("Enter their weekly care budget")], too_much=ALLOCATION_MESSAGE,
                             too_little=ALLOCATION_TOO_LITTLE)
    postcode = PostcodeField("Postcode", description="Where they live, like E1 6AN. Groups near them are found from this.")
    languages = Checkboxes("Languages they speak", unknown_message="Choose languages from the list",
                           validators=[DataRequired("Choose at least one language they speak")])
    care_needs = Checkboxes("The care they need", description=SERVICE_HINT, unknown_message="Choose care needs from the list")
    email = EmailField("Email address", description="Theirs, or their representative's. Give this, a phone number, or both.", filters=[_strip],
                       validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=EMAIL_MAX, message=f"Use {EMAIL_MAX} characters or fewer")])
    phone = StringField("Phone number", description="For example 07700 900123. Someone can pass the invitation on.", filters=[_strip],
                        validators=[Optional()])

    def set_choices(self) -> None:
        """Offer the common languages and the services as care needs."""
        self.languages.choices = [SelectChoice(code, name) for code, name in language_choices()]
        self.care_needs.choices = [SelectChoice(t, service_name(t).capitalize()) for t in SERVICES]

    def validate_allocation(self, field):
        """Refuse a budget of nothing."""
        if field.pence is not None and field.pence <= 0:
            raise ValidationError(ALLOCATION_TOO_LITTLE)

    def validate_phone(self, field):
        """Refuse what is not a phone number."""
        problem = phone_problem(field.data) if field.data else None
        if problem:
            raise ValidationError(problem)

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then that there is a way to invite them: an email address or a phone number."""
        ok = super().validate(extra_validators)
        if ok and not self.email.data and not self.phone.data:
            self.email.errors = list(self.email.errors) + [CONTACT_MESSAGE]
            ok = False
        return ok


class PostcodeForm(BaseForm):
    """Where a holder lives, changed by a broker."""

    postcode = PostcodeField("Postcode", description="For example E1 6AN.")


# --- the subject access download ----------------------------------------------------------------

CSV_COLUMNS = ("section", "field", "value", "when")
# A spreadsheet runs a cell that starts with one of these as a formula; other members write proposal titles.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _account_label(account: dict) -> str:
    if account["kind"] == "wallet":
        return "Your wallet"
    if account["group"]:
        return f"Your share of {account['group']}'s pool"
    return account["account"]


def export_rows(data: dict) -> list[tuple[str, str, str, str]]:
    """Flatten a subject access export into (section, field, value, when) rows, one per item."""
    rows: list[tuple[str, str, str, str]] = [("export", "Made for", data["exported_by"], data["exported_at"])]
    p = data["profile"]
    rows += [
        ("profile", "Name", p["name"], p["created_at"]),
        ("profile", "Council", p["council"], None),
        ("profile", "Weekly care budget", p["weekly_allocation"]["pounds"], None),
        ("profile", "Postcode", p["postcode"], None),
        ("profile", "Postcode district", p["postcode_district"], None),
        ("profile", "Location", f"{p['location']['lat']}, {p['location']['lon']}", None),
        ("profile", "Email address", p["email"], None),
        ("profile", "Phone number", p["phone"], None),
        ("profile", "Languages", ", ".join(lang["name"] for lang in p["languages"]), None),
        ("profile", "Care needs", ", ".join(need["name"] for need in p["care_needs"]), None),
        ("profile", "Goals", p["goals"], None),
    ]
    for a in data["sign_in_accounts"]:
        rows.append(("sign_in_accounts", a["email"], f"{a['name']} ({a['role']}); last signed in {a['last_sign_in_at'] or 'never'}", a["created_at"]))
    for d in data["sensitive_details"]:
        rows.append(("sensitive_details", d["label"], f"{d['value']} (who can see it: {d['who_can_see']}; consent recorded by {d['consent_recorded_by']})", d["consent_given_at"]))
    for r in data["representations"]:
        state = f"authority ended {r['revoked_at']}" if r["revoked_at"] else "can act for you"
        may = f"may: {', '.join(r['may'])}" if r["may"] else "may do nothing for you"
        rows.append(("representations", r["representative"], f"{r['relationship'] or 'representative'}; {state}; {may}", r["granted_at"]))
    for m in data["memberships"]:
        rows.append(("memberships", m["group"], f"{m['status']}; weekly pledge {m['weekly_pledge']['pounds']}", m["start_date"] or m["created_at"]))
    for v in data["votes"]:
        rows.append(("votes", f"{v['proposal']} ({v['group']})", f"{v['choice']}, cast by {v['cast_by']}", v["cast_at"]))
    for account in data["ledger"]:
        label = _account_label(account)
        rows.append(("ledger", f"{label}: balance now", account["balance"]["pounds"], data["exported_at"]))
        for line in account["postings"]:
            rows.append(("ledger", f"{label}: {line['memo'] or line['kind']} (entry {line['entry_id']})", line["amount"]["pounds"], line["at"]))
    rows += _care_and_payment_rows(data)
    for line in data["access_log"]:
        rows.append(("access_log", line["who"], line["what"], line["at"]))
    return [tuple(_cell(v) for v in row) for row in rows]


def _care_and_payment_rows(data: dict) -> list[tuple]:
    """Rows of the top-ups, the care visits, what each week of care cost and the contracts that name the holder."""
    rows: list[tuple] = []
    for t in data.get("top_ups", []):
        done = "paid by" if t["status"] in ("succeeded", "refunded") else "tried by"
        how = f"{done} {t['method']}" if t["method"] else "could be paid by " + " or ".join(t["could_be_paid_by"])
        if t.get("cancelled_at"):
            how = f"cancelled {t['cancelled_at']}" + (f" by {t['cancelled_by']}" if t.get("cancelled_by") else " on Stripe")
        said = "; ".join(filter(None, [
            t["where_it_is"], how, f"Stripe said: {t['failure_message']}" if t["failure_message"] else None,
            f"refunded {t['refunded']['pounds']}" if t["refunded"] else None, f"started by {t['started_by']}" if t["started_by"] else None,
            f"last changed {t['last_changed_at']}",
        ]))
        rows.append(("top_ups", f"{t['amount']['pounds']} to {t['group']}'s pool", said, t["started_at"]))
    for v in data.get("care_visits", []):
        travel = f", {v['travel_minutes']} minutes' travel" if v["travel_minutes"] else ""
        rows.append(("care_visits", f"{v['provider']} ({v['group']})", f"started {v['start_time']}, {v['minutes']} minutes{travel}; timesheet: {v['timesheet']}",
                     f"{v['date']}T{v['start_time']}"))
    for c in data.get("care_costs", []):
        share = (f"your share {c['your_share']['pounds']} of {c['week_total']['pounds']}" if c["your_share"]
                 else "your share is worked out when the provider sends the timesheet")
        rows.append(("care_costs", f"{c['provider']} ({c['group']}), {c['week']}", f"{share}; timesheet: {c['timesheet']}", c["week_starts"]))
    for c in data.get("contracts", []):
        rows.append(("contracts", f"{c['service']} from {c['provider']} ({c['group']})",
                     f"{c['status']}; {c['hours_per_week']} hours a week at {c['hourly_rate']['pounds']} an hour; your share of the hours "
                     f"{c['your_share_of_the_hours']}; your part {c['your_weekly_part']['pounds']} a week ({c['how_the_cost_is_shared'].lower()})"
                     + (f" until you leave the group on {c['you_pay_until']}" if c.get("you_pay_until") else "")
                     + (f", {c['your_weekly_part_once_others_on_notice_have_left']['pounds']} a week once the others on notice have left"
                        if c.get("your_weekly_part_once_others_on_notice_have_left") else "")
                     + (f"; ends {c['end_date']}" if c["end_date"] else ""), c["start_date"]))
    return rows


def export_csv(data: dict) -> str:
    """Return the export as CSV text, with a byte-order mark so spreadsheets read the £ sign."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(export_rows(data))
    return out.getvalue()


def export_json(data: dict) -> str:
    """Return the export as indented JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def powers_field(label: str = "What they may do for you") -> Checkboxes:
    """Return the checkboxes of what a representative may do (Power): none ticked until the holder chooses."""
    return Checkboxes(
        label, choices=[SelectChoice(power.value, power.label) for power in Power],
        unknown_message="Choose from the list", validators=[DataRequired("Choose at least one thing they may do")],
    )


class PowersForm(BaseForm):
    """Change what someone acting for me may do."""

    powers = powers_field()


class AllocationForm(BaseForm):
    """A holder's weekly direct payment, set by the council's broker."""

    allocation = PoundsField("Weekly care budget in pounds", validators=[InputRequired("Enter the weekly budget in pounds")], too_much=ALLOCATION_MESSAGE,
                             too_little=ALLOCATION_TOO_LITTLE)


class BrokerForm(BaseForm):
    """Who looks after a holder: one of the council's brokers, or nobody yet."""

    broker_id = SelectField("Their broker", choices=[], validate_choice=False)

    @property
    def chosen_id(self) -> int | None:
        """Return the chosen broker's id, None for nobody, or -1 for something that is not in the list."""
        value = (self.broker_id.data or "").strip()
        if not value:
            return None
        return int(value) if value.isascii() and value.isdigit() else -1


class HolderFilterSchema(Schema):
    """The budget holders list's search: part of a name or postcode district, and a page number."""

    class Meta:
        unknown = "exclude"

    q = Text(load_default=None, validate=validate.Length(max=120, error="Enter at most {max} characters"),
             metadata={"description": "Part of a name or postcode district"})
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100_000))


def load_holder_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load the budget holders list's search from the query string (blank means everyone); return (filters, errors by field)."""
    filters, errors = load_filters(HolderFilterSchema, args)
    return {"text": filters["q"], "page": filters["page"]}, errors
