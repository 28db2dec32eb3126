"""Pure rules for a holder's contact details: a phone number as people write it, and how it is kept."""

from __future__ import annotations

import re

PHONE_MESSAGE = "Enter a phone number, like 07700 900123 or +44 20 7946 0123"
PHONE_MAX = 32
# What people put between the digits: spaces, hyphens, dots and brackets around an area code.
_SEPARATORS = re.compile(r"[ \-.()]", re.ASCII)
# A UK number: 0 then 9 or 10 digits, or +44 then the same without its 0; any other country's: + and 8 to 15 digits (E.164).
_UK = re.compile(r"(?:0|\+44)[1-9][0-9]{8,9}", re.ASCII)
_ABROAD = re.compile(r"\+[1-9][0-9]{7,14}", re.ASCII)


def normalise_phone(text: str | None) -> str:
    """Return a phone number as it is kept: as typed, with its spaces collapsed ("07700  900123 " -> "07700 900123")."""
    return " ".join((text or "").split())


def phone_problem(text: str | None) -> str | None:
    """Return why text is not a phone number carepool can keep, or None if it is."""
    number = normalise_phone(text)
    if len(number) > PHONE_MAX:
        return PHONE_MESSAGE
    digits = _SEPARATORS.sub("", number)
    if digits.startswith("00"):  # "0044 20 ...": the international prefix dialled from the UK
        digits = "+" + digits[2:]
    if digits.startswith("+440"):  # "+44 (0)20 7946 0123": the 0 is dialled only from inside the UK
        digits = "+44" + digits[4:]
    if number.count("(") != number.count(")") or not (_UK.fullmatch(digits) or _ABROAD.fullmatch(digits)):
        return PHONE_MESSAGE
    return None
