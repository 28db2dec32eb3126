"""Configuration read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from brokerage.errors import ConfigError
from brokerage.untrusted import shown

DEVELOPMENT_SECRET = "development-only-not-secret"


def from_environment(*, instance_path: str) -> dict:
    """Return the app configuration read from environment variables."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "carepool.sqlite")
    mode = env.get("CAREPOOL_ENV", "production")
    if mode not in ("production", "development", "testing"):
        raise ConfigError(f"CAREPOOL_ENV must be production, development or testing, not {_quoted(mode)}.")
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
        # Applications sent for one email address, whoever sends them: each mails that address.
        "APPLY_EMAIL_RATE_LIMIT": env.get("APPLY_EMAIL_RATE_LIMIT", "1000 per minute" if mode == "testing" else "3 per hour;5 per day"),
        # Empty: Redis at REDIS_URL when that is set, else memory (per process).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or None,
        # How many proxies in front of the app may set X-Forwarded-For; 0 trusts none.
        "TRUSTED_PROXIES": _whole_number(env, "TRUSTED_PROXIES", 0, minimum=0),
        "WTF_CSRF_TIME_LIMIT": None,
        # No page takes an upload, so a request body over this is refused with 413 before it is read.
        "MAX_CONTENT_LENGTH": _whole_number(env, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
        # Mail (Flask-Mailman). With no MAIL_SERVER, outside production, mail is kept in the outbox page that
        # administrators read (/admin/outbox) instead of being sent: development, tests and the demo.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": _whole_number(env, "MAIL_PORT", 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag(env, "MAIL_USE_TLS"),
        "MAIL_USE_SSL": _flag(env, "MAIL_USE_SSL"),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER") or None,
        # Seconds to wait for the mail server, so a server that hangs cannot hold a request or a job for ever.
        "MAIL_TIMEOUT": _whole_number(env, "MAIL_TIMEOUT", 10),
        # Flask-Mailman would keep mail in memory when TESTING is set: carepool's tests use a real SMTP server instead.
        "MAIL_BACKEND": "smtp",
        # The address people reach carepool at, for the links in emails (never taken from a request's Host header
        # in production, where it must be set).
        "PUBLIC_URL": (env.get("PUBLIC_URL") or "").strip().rstrip("/") or None,
        # An invitation's link works for this many days; a password reset link for this many minutes.
        "INVITATION_DAYS": _whole_number(env, "INVITATION_DAYS", 7),
        "RESET_LINK_MINUTES": _whole_number(env, "RESET_LINK_MINUTES", 60),
        # The link that confirms an application to offer care works for this many hours.
        "APPLICATION_LINK_HOURS": _whole_number(env, "APPLICATION_LINK_HOURS", 24),
        # "Forgotten your password?" posts allowed per client address, and per email address asked about.
        "RESET_RATE_LIMIT": env.get("RESET_RATE_LIMIT", "1000 per minute" if mode == "testing" else "5 per minute;30 per hour"),
        "RESET_EMAIL_RATE_LIMIT": env.get("RESET_EMAIL_RATE_LIMIT", "1000 per minute" if mode == "testing" else "3 per 15 minutes;10 per day"),
        # How often the scheduled seal runs (`brokerage ledger seal` from cron, or the "ledger.seal" job): the ledger
        # pages tell staff when an entry not sealed yet should be.
        "SEAL_EVERY_MINUTES": _whole_number(env, "SEAL_EVERY_MINUTES", 10),
    }


def _whole_number(env, name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    # At most 9 digits: int() refuses a number of thousands of digits with a ValueError of its own.
    if not raw.strip().isascii() or not raw.strip().isdigit() or len(raw.strip()) > 9 or int(raw) < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {_quoted(raw)}.")
    return int(raw)


def _flag(env, name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, not {_quoted(env.get(name))}.")


def check(config: dict, *, serving: bool = True) -> None:
    """Refuse unsafe settings; the web secret is checked only where requests are served."""
    if serving:
        check_secret(config)
        check_stripe_webhook_secret(config)
        check_mail_in_production(config)
    check_mail(config)
    if not config.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL is empty.")
    check_stripe_publishable_key(config)
    check_redis(config)
    from limits import parse_many

    for name in ("SIGN_IN_RATE_LIMIT", "PASSWORD_RATE_LIMIT", "APPLY_RATE_LIMIT", "APPLY_EMAIL_RATE_LIMIT", "RESET_RATE_LIMIT",
                 "RESET_EMAIL_RATE_LIMIT"):
        try:
            parse_many(config[name])
        except ValueError:
            raise ConfigError(f"{name} must be a limit such as '20 per minute;200 per hour', not {_quoted(config[name])}.") from None


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


def check_redis(config: dict) -> None:
    """Refuse a REDIS_URL or rate limit store that Redis and Flask-Limiter cannot open (they fail with a traceback of their own)."""
    from limits.storage import SCHEMES

    redis_url = config.get("REDIS_URL")
    if redis_url and _scheme(redis_url) not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must be a Redis address like redis://localhost:6379/0, not {_quoted(redis_url)}.")
    store = config.get("RATELIMIT_STORAGE_URI") or redis_url
    if store and _scheme(store) not in SCHEMES:
        if config.get("RATELIMIT_STORAGE_URI"):
            raise ConfigError(f"RATELIMIT_STORAGE_URI must be a store Flask-Limiter knows, like memory:// or redis://localhost:6379/1, "
                              f"not {_quoted(store)}.")
        raise ConfigError(f"REDIS_URL {_quoted(store)} is also where the rate limits are kept, and Flask-Limiter cannot open it: "
                          "set RATELIMIT_STORAGE_URI too, like redis+unix:///run/redis.sock.")


def _quoted(value: str) -> str:
    """Return a setting's value as it may appear in a one-line message: quoted, escaped and cut when very long."""
    return f"'{shown(value)}'"


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else ""


def check_mail(config: dict) -> None:
    """Refuse mail settings that cannot work: TLS and SSL together, a server with no sender, a public address that is not a web address."""
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        raise ConfigError("Set MAIL_USE_TLS (STARTTLS, usually port 587) or MAIL_USE_SSL (usually port 465), not both.")
    if config.get("MAIL_SERVER") and not config.get("MAIL_DEFAULT_SENDER"):
        raise ConfigError("MAIL_DEFAULT_SENDER must be set with MAIL_SERVER: it is the From address of every email, e.g. 'carepool <carepool@council.gov.uk>'.")
    public = config.get("PUBLIC_URL")
    if public and not (public.startswith(("https://", "http://")) and public.isascii() and " " not in public):
        raise ConfigError(f"PUBLIC_URL must be the web address people open carepool at, like https://carepool.council.gov.uk, not {_quoted(public)}.")


def check_mail_in_production(config: dict) -> None:
    """Refuse to serve in production without a mail server and a public https address for the links in emails.

    Without a mail server the outbox would keep working invitation and password reset links in the database.
    """
    if config["ENV_MODE"] != "production":
        return
    if not config.get("MAIL_SERVER"):
        raise ConfigError(
            "MAIL_SERVER must be set in production: invitations and password reset links are sent by email "
            "(set CAREPOOL_ENV=development to keep mail in the outbox page instead)."
        )
    if not (config.get("PUBLIC_URL") or "").startswith("https://"):
        raise ConfigError("PUBLIC_URL must be set in production to the https:// address people open carepool at: the links in emails use it.")
