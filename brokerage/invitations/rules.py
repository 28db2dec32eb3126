"""Pure rules of invitations and password reset links: tokens, statuses and their one transition function.

A link carries a random token; only its SHA-256 is stored, so a copy of the database opens no account.
Tokens are looked up by that hash (an index lookup on a value the sender cannot steer) and compared
again in constant time.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime

from brokerage.invitations.errors import BadInvitationMove
# The links' tokens: one scheme for every emailed link, kept in brokerage.tokens and named here too.
from brokerage.tokens import TOKEN_BYTES, TOKEN_PATTERN, expiry, hash_token, is_expired, looks_like_token, new_token, token_matches  # noqa: F401
from brokerage.types import Role

PHONE_PATTERN = re.compile(r"\+?[0-9(][0-9 ()-]{8,20}", re.ASCII)
RELATIONSHIP_MAX = 60
NAME_MAX = 120
EMAIL_MAX = 254


class InvitationKind(str, enum.Enum):
    """Whom an invitation brings in, and so the role of the account it makes."""

    holder = "holder"
    representative = "representative"
    provider = "provider"
    broker = "broker"
    council_officer = "council_officer"

    @property
    def role(self) -> Role:
        """Return the role of the account accepting makes."""
        return Role(self.value)

    @property
    def label(self) -> str:
        """Return whom the invitation is for, in plain English."""
        return {"holder": "Budget holder", "representative": "Someone acting for a holder", "provider": "Provider", "broker": "Broker",
                "council_officer": "Council officer"}[self.value]


STAFF_KINDS = (InvitationKind.broker, InvitationKind.council_officer)
# A broker invites these, for a record of the council: the account is that holder, or works for that provider.
RECORD_KINDS = (InvitationKind.holder, InvitationKind.provider)
# Each of these makes a new account with its own email address (a representative's may link one they have).
OWN_ADDRESS_KINDS = (*RECORD_KINDS, *STAFF_KINDS)


class InvitationStatus(str, enum.Enum):
    """Where an invitation is. A pending one past its time is expired; sending it again makes it pending with a new link."""

    pending = "pending"
    accepted = "accepted"
    cancelled = "cancelled"
    expired = "expired"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return {"pending": "Waiting", "accepted": "Accepted", "cancelled": "Cancelled", "expired": "Ran out"}[self.value]


INVITATION_MOVES: dict[str, set[str]] = {
    "pending": {"accepted", "cancelled", "expired"},
    # A new link (resend) brings an expired invitation back; it can still be cancelled.
    "expired": {"pending", "cancelled"},
    "accepted": set(),
    "cancelled": set(),
}


def move_invitation(current: str | enum.Enum, target: str | enum.Enum) -> str:
    """Return the new invitation status, or raise BadInvitationMove (an accepted or cancelled invitation is finished)."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in INVITATION_MOVES.get(current, set()):
        raise BadInvitationMove(f"An invitation that is {current} cannot become {target}.")
    return target


def status_at(stored: InvitationStatus | str, expires_at: datetime, now: datetime) -> InvitationStatus:
    """Return an invitation's status at `now`: a pending one whose link has run out is expired, stored or not."""
    status = InvitationStatus(stored)
    if status == InvitationStatus.pending and is_expired(expires_at, now):
        return InvitationStatus.expired
    return status


def normalise_email(email: str | None) -> str:
    """Return an email address trimmed and lower-cased, or "" for none."""
    return (email or "").strip().lower()


def email_problem(email: str) -> str | None:
    """Return why text is not an email address to invite, or None (the forms check more closely)."""
    if len(email) > EMAIL_MAX:
        return f"Use an email address of {EMAIL_MAX} characters or fewer"
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith(".") or any(c.isspace() for c in email):
        return "Enter an email address like name@example.org"
    return None


def normalise_phone(phone: str | None) -> str:
    """Return a phone number with its spacing tidied, or "" for none."""
    return " ".join((phone or "").split())


def is_mobile(phone: str | None) -> bool:
    """Tell whether a UK phone number is a mobile's (07…, or +44 7…), the only kind a text message reaches; other countries' are taken as able to."""
    digits = "".join(c for c in (phone or "") if c.isdigit() or c == "+")
    if digits.startswith("00"):  # 0044 7… is +44 7…
        digits = "+" + digits[2:]
    if digits.startswith("+44"):
        return digits[3:].startswith("7")
    if digits.startswith("+"):
        return True
    return digits.startswith("07")


def phone_problem(phone: str) -> str | None:
    """Return why text is not a phone number, or None."""
    if not PHONE_PATTERN.fullmatch(phone) or not 10 <= sum(c.isdigit() for c in phone) <= 15:
        return "Enter a phone number like 07700 900123 or +44 7700 900123"
    return None
