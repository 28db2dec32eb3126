"""A request for a quarter's auditor pack: who asked, when, and the file it made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Enum, Index, String, text
from sqlmodel import Field, SQLModel

from brokerage.auditpack.rules import PackStatus
from brokerage.types import UTCDateTime, utcnow

OPEN_PACK_WHERE = "status IN ('queued', 'building')"


class AuditPackRequest(SQLModel, table=True):
    """One officer's request for one quarter's pack; the job that builds it fills in the file."""

    __tablename__ = "audit_pack_request"
    __table_args__ = (
        CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="ck_audit_pack_size"),
        CheckConstraint("status <> 'ready' OR (file_name IS NOT NULL AND size_bytes IS NOT NULL AND sha256 IS NOT NULL)", name="ck_audit_pack_ready"),
        Index("ix_audit_pack_request_council_requested", "council_id", "requested_at"),
        # One pack of a quarter being made at a time in a council: asking twice (a double click) makes one.
        Index("ux_audit_pack_open", "council_id", "quarter", unique=True, sqlite_where=text(OPEN_PACK_WHERE), postgresql_where=text(OPEN_PACK_WHERE)),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    # The quarter in its canonical form, e.g. "2026Q3".
    quarter: str = Field(sa_column=Column(String(6), nullable=False))
    requested_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    status: PackStatus = Field(
        default=PackStatus.queued,
        sa_column=Column(Enum(PackStatus, name="audit_pack_status", native_enum=False, length=12), nullable=False),
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The file under the pack folder, its size in bytes and its SHA-256, once ready.
    file_name: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    size_bytes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # Why it failed, in one line, for the officer.
    error: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
