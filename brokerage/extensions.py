"""Extension objects, created unbound and bound in the app factory."""

from __future__ import annotations

import hashlib
import ipaddress

from flask import current_app, request
from typing import Callable

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mailman import Mail
from flask_wtf import CSRFProtect


def client_address() -> str:
    """Return the address a per-address limit counts against: the peer, or the network of an IPv6 peer.

    `request.remote_addr` is the TCP peer unless `TRUSTED_PROXIES` makes ProxyFix take it from
    X-Forwarded-For, so a client cannot choose its own address by sending that header.
    """
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        # One IPv6 customer usually holds a whole /64: counting single addresses would be no limit.
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


csrf = CSRFProtect()
# Sends by SMTP when MAIL_SERVER is set; brokerage.mail keeps mail in the outbox page otherwise.
mailman = Mail()
login_manager = LoginManager()
login_manager.login_view = "accounts.sign_in"
login_manager.login_message = "Please sign in to see this page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
# Storage comes from the app (init_limiter). If Redis cannot be reached, each process counts in
# memory until it can again: an outage of Redis must not stop sign-in, and the per-email lockout
# in the database holds either way.
limiter = Limiter(
    key_func=client_address, headers_enabled=True, strategy="moving-window", in_memory_fallback_enabled=True, key_prefix="carepool"
)


def rate_limit(setting: str, *, per: Callable[[], str] | None = None, counts: Callable | None = None):
    """Limit a view's POSTs per client address by the limit named in the setting, e.g. SIGN_IN_RATE_LIMIT.

    `per` counts against another key instead, such as the email address a form asks about (`per_typed_email`).
    `counts(response)` says which answers count against the limit (all of them by default); once it is
    reached, every POST is refused with 429 until the window moves on.
    """
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"], key_func=per, scope=setting if per else None,
                         deduct_when=counts)


def sent_on(response) -> bool:
    """Tell whether a form's answer means it went (a redirect): a `rate_limit(counts=)` for forms whose refusals change nothing.

    A form sent back to be put right sends no mail and stores nothing, so it does not count: several people on one
    connection (a library, a council drop-in) are not held back by each other's typing mistakes. Forms that guess a
    secret (sign-in, passwords) count every try instead.
    """
    return response.status_code == 302


def per_typed_email(purpose: str) -> Callable[[], str]:
    """Return a `rate_limit(per=)` key: the email address typed in the form, hashed (never kept as typed), under `purpose`."""
    def key() -> str:
        typed = (request.form.get("email") or "").strip().lower()  # as accounts.rules.normalise_email
        return f"{purpose}:" + hashlib.sha256(typed.encode()).hexdigest()

    return key


def init_limiter(app) -> None:
    """Bind the limiter to the app, storing counts in Redis when REDIS_URL is set and in memory otherwise."""
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
