"""Signed-in sessions: started at sign-in, ended by the idle and absolute lifetimes or a new session version.

The session cookie is signed, not stored, so it cannot be revoked by itself. It carries the user's
`session_version` (in Flask-Login's id, "id:version") and when it was signed in and last used. Raising the
version in the database (sign-out, password change or reset, deactivation) ends every cookie issued before,
copies included.
"""

from __future__ import annotations

from flask import current_app, flash
from flask import session as cookie
from flask_login import login_user

from brokerage.accounts import rules
from brokerage.accounts.models import User
from brokerage.accounts.services import load_user
from brokerage.types import utcnow

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"


def _now() -> int:
    return int(utcnow().timestamp())


def begin(user: User) -> None:
    """Start a fresh signed-in session for the user: nothing from before carries over."""
    cookie.clear()
    login_user(user)
    now = _now()
    cookie[SIGNED_IN_AT] = now
    cookie[SEEN_AT] = now


def reissue(user: User) -> None:
    """Keep this session signed in under the user's new session version; its lifetimes run on."""
    login_user(user)


def load(session, user_id: str) -> User | None:
    """Return the signed-in user for this request, or None when the session was ended or has run out."""
    parsed = rules.parse_session_id(user_id)
    user = load_user(session=session, user_id=str(parsed[0])) if parsed else None
    if user is None or user.session_version != parsed[1]:
        # Flask-Login asks here for a remember cookie too; it carries the same "id:version" and,
        # with no sign-in time in the session, is refused below even when the version matches.
        cookie.clear()
        return None
    now = _now()
    reason = rules.session_end_reason(
        cookie.get(SIGNED_IN_AT),
        cookie.get(SEEN_AT),
        now,
        idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
        max_hours=current_app.config["SESSION_MAX_HOURS"],
    )
    if reason is not None:
        had_signed_in = cookie.get(SIGNED_IN_AT) is not None
        cookie.clear()
        if reason == "idle":
            flash(f"You were signed out because carepool was not used for {current_app.config['SESSION_IDLE_MINUTES']} minutes. Sign in again to carry on.", "info")
        elif had_signed_in:
            flash(f"You were signed out because you signed in more than {current_app.config['SESSION_MAX_HOURS']} hours ago. Sign in again to carry on.", "info")
        return None
    cookie[SEEN_AT] = now
    return user
