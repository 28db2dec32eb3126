"""Pure rules about signing in."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from zxcvbn import zxcvbn

# zxcvbn's score (0-4) a new password must reach: 3 is its "safely unguessable" (about 10^8 guesses and more),
# which turns away the passwords people use most, keyboard rows, repeats and a word with a year on the end.
# NCSC's password guidance asks for a block list of common passwords rather than rules about symbols.
MIN_GUESS_SCORE = 3
# zxcvbn refuses more than 72 characters (its time grows with length): the first 72 are what it weighs.
GUESS_CHECK_LENGTH = 72
# zxcvbn's warnings, in our words: the reason a password is easy to guess.
_GUESS_REASONS = (
    ("common", "it is one of the passwords people use most often, or close to one"),
    ("key", "it follows the keys along the keyboard"),
    ("repeats", "it repeats the same letters, numbers or words"),
    ("sequences", "it runs in order, like abc or 6543"),
    ("years", "it leans on a year or a date"),
    ("dates", "it leans on a year or a date"),
    ("names", "it is mostly a name"),
    ("word by itself", "it is mostly one word"),
)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Tell whether an account is still locked at `now`."""
    return locked_until is not None and now < locked_until


def after_failed_sign_in(failures: int, now: datetime, *, max_failures: int, lock_minutes: int) -> tuple[int, datetime | None]:
    """Return the new failure count and lock expiry after one more failed sign-in."""
    failures += 1
    if failures >= max_failures:
        return 0, now + timedelta(minutes=lock_minutes)
    return failures, None


def is_safe_next(target: str | None) -> bool:
    """Tell whether a `next` redirect stays on this site (a path, not a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and all(ord(c) >= 32 for c in target)


def normalise_email(email: str) -> str:
    """Return an email address trimmed and lower-cased for lookup."""
    return email.strip().lower()


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Return why a new password is too easy to guess, or None if it will do.

    At least 12 characters, not built on the email address or the full name, and a zxcvbn score of at least
    MIN_GUESS_SCORE with the person's email address, name and this service's name counted as known words.
    """
    if len(password) < 12:
        return "Use a password of at least 12 characters"
    if len(set(password.lower())) < 5:
        return "Use a password that is harder to guess: more different letters, numbers or words"
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in password.lower():
        # Say which part: someone whose password is "Zofia-…" did not think they had used their email address.
        return f"Do not use {local!r}, the first part of your email address, in your password"
    letters = "".join(c for c in name.lower() if c.isalpha())
    if len(letters) >= 6 and letters in "".join(c for c in password.lower() if c.isalpha()):
        return "Do not use your name in your password"
    known = [word for word in [local, *email.split("@")[1:], *name.lower().split(), "carepool"] if word]
    result = zxcvbn(password[:GUESS_CHECK_LENGTH], user_inputs=known)
    if result["score"] >= MIN_GUESS_SCORE:
        return None
    warning = (result.get("feedback") or {}).get("warning", "").lower()
    reason = next((words for clue, words in _GUESS_REASONS if clue in warning), None)
    return (
        "This password is too easy to guess" + (f": {reason}" if reason else "")
        + ". Try three or four unusual words together"
    )


def session_end_reason(signed_in_at: int | None, seen_at: int | None, now: int, *, idle_minutes: int, max_hours: int) -> str | None:
    """Return why a signed-in session (times in whole seconds) has ended, "idle" or "expired", or None while it lasts."""
    if signed_in_at is None or seen_at is None or now - signed_in_at >= max_hours * 3600:
        return "expired"
    if now - seen_at >= idle_minutes * 60:
        return "idle"
    return None


def parse_session_id(value: str) -> tuple[int, int] | None:
    """Return the user id and session version from a session's "id:version", or None if malformed."""
    user_id, _, version = (value or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    if len(user_id) > 10 or len(version) > 10:
        return None
    return int(user_id), int(version)
