"""Errors raised by the matching engine, each carrying an HTTP status."""

from __future__ import annotations


class MatchingError(Exception):
    """Base of the matching engine's errors; carries an HTTP status and a plain message."""

    # Kept local so the engine imports no framework; the app may re-parent it onto its own base.
    status = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        """Return the error as a JSON-ready dict naming the field when known."""
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body


class InstanceError(MatchingError):
    """An instance or solution file breaks the format contract."""


class BadStatusMove(MatchingError):
    """A matching run, assignment or demand line cannot move from its status to that one."""

    status = 409
