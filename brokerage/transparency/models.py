"""What the public report has published: each complete quarter's figures, frozen the first time they are shown."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerage.types import UTCDateTime, utcnow


class PublishedQuarter(SQLModel, table=True):
    """One council's public figures for one quarter, exactly as first shown (suppressed figures are not stored).

    A quarter's figures never change once published: a provider's facts (kind, Living Wage, staff count,
    where it works) or the council's local rule may change later, and two different readings of the same
    quarter could be subtracted to give away a figure the report hides.
    """

    __tablename__ = "published_quarter"
    __table_args__ = (UniqueConstraint("council_id", "quarter_start", name="uq_published_quarter"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    quarter_start: date = Field(sa_column=Column(Date, nullable=False))
    figures: dict = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
