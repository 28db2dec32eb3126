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
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "1" if mode == "production" else "0") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "1" if mode == "production" else "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(env.get("LOGIN_LOCK_MINUTES", "15")),
        "WTF_CSRF_TIME_LIMIT": None,
        # No page takes an upload, so a request body over this is refused with 413 before it is read.
        "MAX_CONTENT_LENGTH": _whole_number(env, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
    }


def _whole_number(env, name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ConfigError(f"{name} must be a whole number of bytes, like {default}.")
    return int(text)


def check(config: dict, *, serving: bool = True) -> None:
    """Refuse unsafe settings; the web secret is checked only where requests are served."""
    if serving:
        check_secret(config)
    if not config.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL is empty.")


def check_secret(config: dict) -> None:
    """Refuse to serve requests with a missing or placeholder secret outside development."""
    if config["ENV_MODE"] == "production":
        secret = config.get("SECRET_KEY") or ""
        if not secret or secret == DEVELOPMENT_SECRET or len(secret) < 16:
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 16 characters in production "
                "(set CAREPOOL_ENV=development for local use)."
            )
