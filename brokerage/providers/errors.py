"""Errors of the providers domain."""

from __future__ import annotations

from brokerage.errors import Conflict, NotAllowed


class SameChecker(NotAllowed):
    """Four eyes: the person who added a piece of evidence may not also verify it."""

    def __init__(self, message: str, *, provider_id: int):
        super().__init__(message)
        self.provider_id = provider_id


class BadProviderMove(Conflict):
    """A provider's status cannot move from where it is to that one."""
