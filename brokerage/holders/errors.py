"""Errors of holders and the representatives who act for them."""

from __future__ import annotations

from brokerage.errors import NotAllowed

# What each power let a representative do, as "<name> no longer lets you … for them" says it.
POWER_REMOVED_WORDS = {
    "money": "see their money",
    "groups": "vote or change their groups",
    "care": "manage their care",
}


class PowerRemoved(NotAllowed):
    """A representative still acts for the holder, but no longer with the power this needs (removed since the form was shown)."""

    def __init__(self, holder_name: str, power: str, undone: str = "nothing was changed"):
        what = POWER_REMOVED_WORDS[getattr(power, "value", power)]
        super().__init__(f"{holder_name} no longer lets you {what} for them, so {undone}.")
