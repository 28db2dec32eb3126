"""The outbox: mail kept for administrators to read instead of being sent (no MAIL_SERVER: development, tests, the demo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from brokerage.types import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """One email that was not sent, as it would have been: to whom, the subject and the plain-text body."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(sa_column=Column(String(254), nullable=False))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
