"""The access log: every time staff open a holder's record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from brokerage.types import UTCDateTime, utcnow


class AccessLog(SQLModel, table=True):
    """One read of a holder's record by a member of staff."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_council_holder", "council_id", "holder_id"),
        # The officers' log, newest first, and filtered by who looked (migration 0023).
        Index("ix_access_log_council_at", "council_id", "at"),
        Index("ix_access_log_council_actor_at", "council_id", "actor_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    actor_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", ondelete="RESTRICT")
    what: str = Field(sa_column=Column(String(80), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
