"""Invitations to carepool, and password reset links: each stored only as the hash of its token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Enum, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from brokerage.invitations.rules import InvitationKind, InvitationStatus
from brokerage.types import UTCDateTime, utcnow


class Invitation(SQLModel, table=True):
    """An invitation for someone to make their own account: a holder, a holder's representative, a provider, a broker or an officer."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="ck_invitation_reachable"),
        CheckConstraint("kind NOT IN ('holder', 'representative') OR holder_id IS NOT NULL", name="ck_invitation_holder"),
        CheckConstraint("kind IN ('holder', 'provider') OR email IS NOT NULL", name="ck_invitation_email_unless_holder"),
        CheckConstraint("kind <> 'provider' OR provider_id IS NOT NULL", name="ck_invitation_provider"),
        CheckConstraint("times_sent >= 1", name="ck_invitation_times_sent"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    kind: InvitationKind = Field(sa_column=Column(Enum(InvitationKind, name="invitation_kind", native_enum=False, length=20), nullable=False))
    status: InvitationStatus = Field(
        default=InvitationStatus.pending,
        sa_column=Column(Enum(InvitationStatus, name="invitation_status", native_enum=False, length=12), nullable=False),
    )
    # Whom it is for. A holder or provider known only by phone has no email: their broker passes the link on by hand.
    name: str = Field(sa_column=Column(String(120), nullable=False))
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True, index=True))
    phone: str | None = Field(default=None, sa_column=Column(String(30), nullable=True))
    # The holder the account will be (kind holder), or will act for (kind representative).
    holder_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("holder.id", ondelete="CASCADE"), nullable=True, index=True))
    # The provider record the account will work for (kind provider).
    provider_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("provider.id", ondelete="CASCADE"), nullable=True, index=True))
    # A representative's: how the holder knows them, and what the holder lets them do (brokerage.holders.models.Power values).
    relationship: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    powers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # SHA-256 of the token in the link; a new link replaces it, so the old link stops working.
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    times_sent: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    invited_by_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_sent_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # When it was accepted, by which account; or cancelled, by whom.
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))
    cancelled_by_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))


class PasswordReset(SQLModel, table=True):
    """A "forgotten your password?" link: single use, short-lived, dead once the account's sessions end another way."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # The account's session version when the link was sent: a password change, a reset, deactivation or
    # signing out raises it, and the link stops working.
    session_version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
