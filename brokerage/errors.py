"""One base error for the domain, carrying its HTTP status (no Flask here: `brokerage.handlers` turns errors into answers)."""

from __future__ import annotations


class BrokerageError(Exception):
    """Base of every domain error; carries an HTTP status and a plain message."""

    status = 400
    title = "There is a problem"

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        """Return the error as a JSON-ready dict naming the field when known."""
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ConfigError(BrokerageError):
    """The configuration is missing or unsafe."""

    status = 500


class ValidationFailed(BrokerageError):
    """Input was invalid; `errors` maps field names to messages."""

    status = 422

    def __init__(self, errors: dict[str, list[str]] | dict[str, str], message: str = "Check the highlighted fields."):
        super().__init__(message)
        self.errors = {k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()}

    def to_dict(self) -> dict:
        """Return the message and the errors per field."""
        return {"error": self.message, "fields": self.errors}


class NotAllowed(BrokerageError):
    """The acting user may not do this."""

    status = 403
    title = "You cannot do this"


class PowerRemoved(NotAllowed):
    """A representative still acts for the person, who has taken away the power this needs since the form was shown."""

    heading = "You can no longer do this for them"


# One message for every record that is missing or not the reader's to see (another council's, another
# person's): a different word for each would tell an attacker which ids exist.
NOT_FOUND = "There is nothing here. Check the address, or go back and try again."


class NotFound(BrokerageError):
    """The record does not exist, or is not visible to the acting user; both answer exactly alike."""

    status = 404
    title = "Page not found"

    def __init__(self, message: str = NOT_FOUND, *, field: str | None = None):
        super().__init__(NOT_FOUND, field=field)


class Conflict(BrokerageError):
    """The request conflicts with the current state."""

    status = 409


class AlreadyDone(Conflict):
    """Another request made the same change at the same moment (a unique constraint refused a second copy)."""

    title = "This was already done"


class ServiceBusy(BrokerageError):
    """The database was busy with other changes; nothing was saved and trying again shortly will work."""

    status = 503
    title = "The service is busy"
    retry_after = 5


BUSY_MESSAGE = "The service is busy with other changes. Nothing was saved. Please try again in a few seconds."
ALREADY_DONE_MESSAGE = "Someone made the same change at the same moment, so it is already done. Reload the page to see it."
