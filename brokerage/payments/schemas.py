"""Forms of the payment pages."""

from __future__ import annotations

import uuid

from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from brokerage.forms import BaseForm, PoundsField
from brokerage.payments.rules import TOP_UP_MESSAGE
from brokerage.payments.run_rules import CANCEL_REASON_MAX

METHOD_CHOICES = [
    SelectChoice("either", "Card or Direct Debit: choose on the payment page"),
    SelectChoice("card", "Debit or credit card"),
    SelectChoice("bacs_debit", "Direct Debit from a UK bank account"),
]
METHOD_HINTS = {
    "card": "The money is usually in the pool within a minute.",
    "bacs_debit": "Direct Debits take about 4 working days. The money is added once your bank has paid it.",
}


class TopUpForm(BaseForm):
    """Add money to a pool share."""

    cluster = RadioField("Which group's pool", coerce=int, validate_choice=False, validators=[InputRequired("Choose one of your groups")])
    amount = PoundsField("How much to add, in pounds", description="From £1 to £5,000, like 25 or 12.50.",
                         validators=[InputRequired("Enter how much to add")], too_much=TOP_UP_MESSAGE, too_little=TOP_UP_MESSAGE)
    method = RadioField("How you will pay", choices=METHOD_CHOICES, default="either", validators=[InputRequired("Choose how to pay")])
    # One key per form shown: sending the same form twice makes one payment, not two.
    form_key = HiddenField()

    def set_choices(self, shares) -> None:
        """Offer the holder's groups; give a new form its key."""
        self.cluster.choices = [SelectChoice(s.cluster.id, s.cluster.name) for s in shares]
        if not self.form_key.data:
            self.form_key.data = uuid.uuid4().hex

    def methods(self) -> list[str]:
        """Return the Stripe payment method types chosen."""
        return ["card", "bacs_debit"] if self.method.data == "either" else [self.method.data]


class CancelRunForm(BaseForm):
    """Cancel a payment run waiting for release, saying why (kept on the run and shown on its page)."""

    reason = TextAreaField("Why are you cancelling this run?", description="Kept with the run and shown on its page, to the officer who would have checked it too.",
                           validators=[InputRequired("Say why you are cancelling this payment run"),
                                       Length(max=CANCEL_REASON_MAX, message=f"Use {CANCEL_REASON_MAX} characters or fewer")])
