"""The form an officer asks for a quarter's auditor pack with."""

from __future__ import annotations

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from brokerage.auditpack.rules import Quarter, parse_quarter
from brokerage.forms import BaseForm


class PackForm(BaseForm):
    """Which quarter's pack to make."""

    quarter = SelectField("Quarter", choices=[], validate_choice=True, invalid_choice_message="Choose a quarter from the list")

    def set_choices(self, quarters: list[Quarter]) -> None:
        """Offer these quarters, newest first, named for people ("July to September 2026")."""
        self.quarter.choices = [SelectChoice(str(q), q.label) for q in quarters]

    @property
    def chosen(self) -> Quarter:
        """Return the chosen quarter (after validation)."""
        return parse_quarter(self.quarter.data)
