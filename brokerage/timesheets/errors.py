"""Errors of timesheets."""

from __future__ import annotations

from brokerage.errors import BrokerageError, Conflict


class SheetNotOpen(Conflict):
    """The timesheet is not with the provider (submitted or approved), or not waiting for a decision."""


class ShareTooSmall(BrokerageError):
    """A member's share of the pool cannot cover their part of the week's cost."""

    status = 422
