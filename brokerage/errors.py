"""One base error for the domain, carrying its HTTP status, and the handlers."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


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


def wants_json() -> bool:
    """Tell whether the client asked for JSON rather than a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    @app.errorhandler(BrokerageError)
    def handle_domain_error(error: BrokerageError):
        from brokerage.db import rollback_request_session

        rollback_request_session()
        if wants_json():
            response = jsonify(error.to_dict())
        else:
            template = {403: "errors/403.html", 404: "errors/404.html"}.get(error.status, "errors/problem.html")
            response = app.make_response(render_template(template, error=error))
        response.status_code = error.status
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(OperationalError)
    def handle_database_busy(error: OperationalError):
        from brokerage.locks import is_busy

        if not is_busy(error):
            return handle_unexpected(error)
        app.logger.warning("Database busy: %s", str(getattr(error, "orig", error)).splitlines()[0])
        if "_login_user" not in g:
            # The page must not wait on the busy database again just to name who is signed in.
            from brokerage.extensions import login_manager

            g._login_user = login_manager.anonymous_user()
        return handle_domain_error(ServiceBusy(BUSY_MESSAGE))

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        from brokerage.locks import is_unique_violation

        # A service should have turned a race on a unique row into its own clear error
        # (locks.insert_once); this is the safety net, so such a race is never a 500.
        if not is_unique_violation(error):
            return handle_unexpected(error)
        app.logger.warning("Unique violation reached the handler: %s", str(getattr(error, "orig", error)).splitlines()[0])
        return handle_domain_error(AlreadyDone(ALREADY_DONE_MESSAGE))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        from brokerage.db import rollback_request_session

        rollback_request_session()
        status = error.code or 500
        if wants_json():
            # A bad or unknown address answers like a missing record, so no id can be confirmed either way.
            return jsonify({"error": NOT_FOUND if status == 404 else (error.description or error.name)}), status
        template = {403: "errors/403.html", 404: "errors/404.html"}.get(status, "errors/problem.html")
        return render_template(template, error=error, status=status), status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from brokerage.db import rollback_request_session

        rollback_request_session()
        app.logger.exception("Unhandled error")
        if wants_json():
            return jsonify({"error": "Something went wrong on our side. Nothing was saved."}), 500
        return render_template("errors/500.html"), 500
