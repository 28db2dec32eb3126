"""Turn domain errors, HTTP errors and database races into a page or JSON: the error handlers."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from brokerage.db import rollback_request_session
from brokerage.errors import ALREADY_DONE_MESSAGE, BUSY_MESSAGE, NOT_FOUND, AlreadyDone, BrokerageError, ServiceBusy
from brokerage.extensions import login_manager
from brokerage.locks import is_busy, is_unique_violation

# What a person is told, instead of the web server's words, when a request goes wrong before any page's own check.
PLAIN_WORDS = {
    400: "Something your browser sent could not be read. Go back, reload the page and try again.",
    405: "This address is for a button on a page, not for opening on its own. Go back to the page and use its button.",
    413: "What you sent is too large. Go back and send something smaller.",
}


def wants_json() -> bool:
    """Tell whether the client asked for JSON rather than a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    @app.errorhandler(BrokerageError)
    def handle_domain_error(error: BrokerageError):
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
        if not is_busy(error):
            return handle_unexpected(error)
        app.logger.warning("Database busy: %s", str(getattr(error, "orig", error)).splitlines()[0])
        if "_login_user" not in g:
            # The page must not wait on the busy database again just to name who is signed in.
            g._login_user = login_manager.anonymous_user()
        return handle_domain_error(ServiceBusy(BUSY_MESSAGE))

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # A service should have turned a race on a unique row into its own clear error
        # (locks.insert_once); this is the safety net, so such a race is never a 500.
        if not is_unique_violation(error):
            return handle_unexpected(error)
        app.logger.warning("Unique violation reached the handler: %s", str(getattr(error, "orig", error)).splitlines()[0])
        return handle_domain_error(AlreadyDone(ALREADY_DONE_MESSAGE))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        rollback_request_session()
        status = error.code or 500
        if wants_json():
            # A bad or unknown address answers like a missing record, so no id can be confirmed either way.
            return jsonify({"error": NOT_FOUND if status == 404 else (error.description or error.name)}), status
        template = {403: "errors/403.html", 404: "errors/404.html"}.get(status, "errors/problem.html")
        # Werkzeug's own words ("The method is not allowed for the requested URL.") are for developers.
        plain = PLAIN_WORDS.get(status) if error.description == type(error).description else None
        return render_template(template, error=error, status=status, plain=plain), status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        rollback_request_session()
        app.logger.exception("Unhandled error")
        if wants_json():
            return jsonify({"error": "Something went wrong on our side. Nothing was saved."}), 500
        return render_template("errors/500.html"), 500
