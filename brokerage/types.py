"""Column types and the user roles shared by every domain (the bottom layer: imports no domain package)."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from brokerage import clock


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware (read through brokerage.clock, so tests can freeze it)."""
    return clock.now()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every engine (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Role(str, enum.Enum):
    """What a user is in the service."""

    holder = "holder"
    representative = "representative"
    broker = "broker"
    council_officer = "council_officer"
    provider = "provider"
    admin = "admin"
    # Not a person: the recorded actor of scheduled jobs and command-line runs, one per council
    # (brokerage.accounts.system). It has no password, never signs in and is never listed as a person.
    system = "system"

    @property
    def label(self) -> str:
        """Return the role's name in plain English."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.holder: "Budget holder",
    Role.representative: "Representative",
    Role.broker: "Broker",
    Role.council_officer: "Council officer",
    Role.provider: "Care provider",
    Role.admin: "Administrator",
    Role.system: "Scheduled job",
}

# The roles a person can have: what forms, commands and lists of people offer (never Role.system).
PERSON_ROLES = tuple(role for role in Role if role is not Role.system)
