"""Errors of surplus flags and clawbacks; each carries its HTTP status (brokerage.errors)."""

from __future__ import annotations

from brokerage.errors import BrokerageError, Conflict, NotAllowed


class BadClawbackMove(Conflict):
    """A clawback cannot move from its status to that one (it was decided already)."""


class BadFlagMove(Conflict):
    """A flag cannot move from its status to that one (a closed flag stays closed)."""


class SamePerson(NotAllowed):
    """Maker-checker: the officer who proposed a clawback cannot approve or reject it."""


class NotYourProposal(NotAllowed):
    """Only the officer who proposed a clawback can withdraw it; another officer rejects it instead."""


class FlagClosed(Conflict):
    """The flag no longer applies, so nothing can be taken back under it."""


class NoticeNotOver(Conflict):
    """The clawback notice given to the holder has not ended yet: the council cannot take the money back before that date."""

    status = 422


class ClawbackPending(Conflict):
    """A clawback of this flag is already waiting for a second officer."""


class ShareTooSmall(BrokerageError):
    """The share no longer holds what the clawback would take, or the unspent amount has fallen below it."""

    status = 422
