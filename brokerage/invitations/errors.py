"""Errors of invitations and password reset links (no Flask here)."""

from __future__ import annotations

from brokerage.errors import BrokerageError, Conflict

# One answer for every link that does not work, whatever the reason (never sent, used, cancelled, expired, or
# the account has gone): a different answer for each would tell whoever holds a link which one it is.
LINK_NOT_USABLE = (
    "This link does not work. It may have been used already, replaced by a newer one, cancelled, or it may have run out. "
    "Ask whoever sent it for a new one."
)


class LinkNotUsable(BrokerageError):
    """An invitation or password reset link that cannot be used; every reason answers exactly alike (410 Gone, one plain page)."""

    status = 410
    title = "This link does not work"

    def __init__(self, message: str = LINK_NOT_USABLE, *, field: str | None = None):
        super().__init__(LINK_NOT_USABLE, field=field)


class BadInvitationMove(Conflict):
    """An invitation's status cannot move that way (it was accepted or cancelled already)."""


class InvitationClash(Conflict):
    """The invitation would repeat one already waiting, or an account that already exists."""
