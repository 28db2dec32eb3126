"""Tokens for links sent by email: random, stored only as their SHA-256, compared in constant time (pure: no Flask, no database).

Invitations and password reset links (`brokerage.invitations.rules`) use them, and so do domains
below invitations in the layers, such as confirming an application to offer care.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

TOKEN_BYTES = 32
# secrets.token_urlsafe(32): 43 characters of A-Z a-z 0-9 - _.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)


def new_token() -> str:
    """Return a new random token for a link: 32 bytes from the operating system's generator."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the SHA-256 (hex) of a token: the only form in which it is stored."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Tell whether text has the shape of a token, so anything else is refused before a database lookup."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


def token_matches(token: str, stored_hash: str) -> bool:
    """Tell, in constant time, whether a token is the one whose hash is stored."""
    return hmac.compare_digest(hash_token(token), stored_hash)


def expiry(now: datetime, *, days: int = 0, hours: int = 0, minutes: int = 0) -> datetime:
    """Return when a link made now stops working."""
    if days < 0 or hours < 0 or minutes < 0 or days == hours == minutes == 0:
        raise ValueError("a link must work for some time")
    return now + timedelta(days=days, hours=hours, minutes=minutes)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """Tell whether a link that works until `expires_at` has run out at `now`."""
    return now >= expires_at
