"""Security headers on every response."""

from __future__ import annotations

import math
import time

from flask import Flask, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from brokerage.db import rollback_request_session
from brokerage.errors import BrokerageError
from brokerage.extensions import limiter
from brokerage.formatting import plural
from brokerage.handlers import wants_json

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    """Add CSP, framing, sniffing, referrer, HSTS and no-store headers (static files may be cached); trust only configured proxies."""
    trusted = app.config.get("TRUSTED_PROXIES", 0)
    if trusted:
        # Only the last `trusted` X-Forwarded-For entries were written by our own proxies; anything
        # before them came from the client and is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)

    register_rate_limit_answer(app)

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=(), payment=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # Pages, downloads (proof.json, data.json/.csv), JSON answers and redirects may carry personal or money
            # data: keep every one out of shared caches and the browser's cache. Only the static files may be cached.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_rate_limit_answer(app: Flask) -> None:
    """Answer a request over a per-address limit with 429, a plain message and Retry-After."""
    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded):
        rollback_request_session()
        current = limiter.current_limit
        seconds = max(1, math.ceil(current.reset_at - time.time())) if current is not None else 60
        # The storage rounds the reset time up to whole seconds, so a one-minute window can read 61 s.
        minutes = max(1, round(seconds / 60))
        message = (
            f"There have been too many attempts from your internet connection. Wait {plural(minutes, 'minute')} "
            "and try again."
        )
        problem = BrokerageError(message, status=429)
        problem.title = "Too many attempts"
        if wants_json():
            response = jsonify(problem.to_dict())
        else:
            response = app.make_response(render_template("errors/problem.html", error=problem, status=429))
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
        return response
