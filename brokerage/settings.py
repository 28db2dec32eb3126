"""Configuration read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from brokerage.errors import ConfigError

DEVELOPMENT_SECRET = "development-only-not-secret"


def from_environment(*, instance_path: str) -> dict:
    """Return the app configuration read from environment variables."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "carepool.sqlite")
    mode = env.get("CAREPOOL_ENV", "production")
    if mode not in ("production", "development", "testing"):
        raise ConfigError(f"CAREPOOL_ENV must be production, development or testing, not {mode!r}.")
    return {
        "ENV_MODE": mode,
        "SECRET_KEY": env.get("SECRET_KEY", DEVELOPMENT_SECRET if mode != "production" else ""),
        "DATABASE_URL": env.get("DATABASE_URL", default_db),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "JOB_QUEUE": env.get("CAREPOOL_JOB_QUEUE", "carepool"),
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE") or None,
        # Sent to holders' browsers for Stripe's Payment Element (pk_live_... or pk_test_...); never a secret key.
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY") or None,
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "1" if mode == "production" else "0") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "1" if mode == "production" else "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "LOGIN_MAX_FAILURES": _whole_number(env, "LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _whole_number(env, "LOGIN_LOCK_MINUTES", 15),
        # A signed-in session ends after this long without a request, and this long after signing in.
        "SESSION_IDLE_MINUTES": _whole_number(env, "SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _whole_number(env, "SESSION_MAX_HOURS", 12),
        # Per-address limits (Flask-Limiter syntax). Tests sign in many times a minute from one address.
        "SIGN_IN_RATE_LIMIT": env.get("SIGN_IN_RATE_LIMIT", "1000 per minute" if mode == "testing" else "20 per minute;200 per hour"),
        "PASSWORD_RATE_LIMIT": env.get("PASSWORD_RATE_LIMIT", "1000 per minute" if mode == "testing" else "10 per minute;50 per hour"),
        # Sending the public "offer care" form (each one that passes makes an account and a provider).
        "APPLY_RATE_LIMIT": env.get("APPLY_RATE_LIMIT", "1000 per minute" if mode == "testing" else "20 per hour;50 per day"),
        # Empty: Redis at REDIS_URL when that is set, else memory (per process).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or None,
        # How many proxies in front of the app may set X-Forwarded-For; 0 trusts none.
        "TRUSTED_PROXIES": _whole_number(env, "TRUSTED_PROXIES", 0, minimum=0),
        "WTF_CSRF_TIME_LIMIT": None,
        # No page takes an upload, so a request body over this is refused with 413 before it is read.
        "MAX_CONTENT_LENGTH": _whole_number(env, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
        # How often the scheduled seal runs (`brokerage ledger seal` from cron, or the "ledger.seal" job): the ledger
        # pages tell staff when an entry not sealed yet should be.
        "SEAL_EVERY_MINUTES": _whole_number(env, "SEAL_EVERY_MINUTES", 10),
    }


def _whole_number(env, name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.strip().isascii() or not raw.strip().isdigit() or int(raw) < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {raw!r}.")
    return int(raw)


def check(config: dict, *, serving: bool = True) -> None:
    """Refuse unsafe settings; the web secret is checked only where requests are served."""
    if serving:
        check_secret(config)
        check_stripe_webhook_secret(config)
    if not config.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL is empty.")
    check_stripe_publishable_key(config)
    from limits import parse_many

    for name in ("SIGN_IN_RATE_LIMIT", "PASSWORD_RATE_LIMIT", "APPLY_RATE_LIMIT"):
        try:
            parse_many(config[name])
        except ValueError:
            raise ConfigError(f"{name} must be a limit such as '20 per minute;200 per hour', not {config[name]!r}.") from None


def check_secret(config: dict) -> None:
    """Refuse to serve requests with a missing or placeholder secret outside development."""
    if config["ENV_MODE"] == "production":
        secret = config.get("SECRET_KEY") or ""
        if not secret or secret == DEVELOPMENT_SECRET or len(secret) < 16:
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 16 characters in production "
                "(set CAREPOOL_ENV=development for local use)."
            )


def check_stripe_webhook_secret(config: dict) -> None:
    """Refuse to serve in production without STRIPE_WEBHOOK_SECRET: Stripe's events could not be verified."""
    if config["ENV_MODE"] == "production" and not config.get("STRIPE_WEBHOOK_SECRET"):
        raise ConfigError(
            "STRIPE_WEBHOOK_SECRET must be set in production: without it no Stripe event can be verified "
            "(set CAREPOOL_ENV=development for local use)."
        )


def check_stripe_publishable_key(config: dict) -> None:
    """Refuse a STRIPE_PUBLISHABLE_KEY that is not a publishable key: it is written into pages for every holder to read."""
    key = config.get("STRIPE_PUBLISHABLE_KEY")
    if key and not (key.startswith("pk_") and key.isascii() and key.replace("_", "").isalnum()):
        raise ConfigError(
            "STRIPE_PUBLISHABLE_KEY must be Stripe's publishable key (it starts pk_live_ or pk_test_). "
            "It is shown to every holder's browser, so never put a secret or restricted key there."
        )
