"""Stripe events as received, holders' top-ups, and payouts from providers' connected accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Enum, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerage.payments.rules import PayoutStatus, TopUpStatus
from brokerage.types import UTCDateTime, utcnow


class StripeEvent(SQLModel, table=True):
    """One event Stripe sent us, stored before it has any effect; processed once (processed_at)."""

    __tablename__ = "stripe_event"
    __table_args__ = (UniqueConstraint("event_id", name="uq_stripe_event_event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(sa_column=Column(String(255), nullable=False))
    type: str = Field(sa_column=Column(String(100), nullable=False))
    council_id: int | None = Field(default=None, foreign_key="council.id", index=True, ondelete="RESTRICT")
    # What the event is about (a PaymentIntent, an account, a transfer): events waiting for an earlier one look here.
    subject_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True, index=True))
    # The connected account an event came from (Connect events), else None.
    account: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    stripe_created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class TopUp(SQLModel, table=True):
    """Money a holder adds to their share of a group's pool by card or Direct Debit (a PaymentIntent)."""

    __tablename__ = "top_up"
    __table_args__ = (
        UniqueConstraint("payment_intent_id", name="uq_top_up_payment_intent"),
        CheckConstraint("amount_pence > 0", name="ck_top_up_amount_positive"),
        CheckConstraint("refunded_pence >= 0 AND refunded_pence <= amount_pence", name="ck_top_up_refunded"),
        CheckConstraint("shortfall_pence >= 0 AND shortfall_pence <= refunded_pence", name="ck_top_up_shortfall"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    payment_intent_id: str = Field(sa_column=Column(String(255), nullable=False))
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    methods: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: TopUpStatus = Field(
        default=TopUpStatus.waiting,
        sa_column=Column(Enum(TopUpStatus, name="top_up_status", native_enum=False, length=20), nullable=False),
    )
    # Refunded by Stripe, and the part of that the pool share no longer held (for the broker to settle).
    refunded_pence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    shortfall_pence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    failure_message: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    event_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Who cancelled it before anyone paid, and when (a cancel made on Stripe's side names nobody).
    cancelled_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ConnectedPayout(SQLModel, table=True):
    """A payout from a provider's connected account to their bank, as Stripe's payout events report it."""

    __tablename__ = "connected_payout"
    __table_args__ = (
        UniqueConstraint("payout_id", name="uq_connected_payout_payout_id"),
        CheckConstraint("amount_pence >= 0", name="ck_connected_payout_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    provider_id: int = Field(foreign_key="provider.id", index=True, ondelete="RESTRICT")
    payout_id: str = Field(sa_column=Column(String(255), nullable=False))
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    status: PayoutStatus = Field(sa_column=Column(Enum(PayoutStatus, name="payout_status", native_enum=False, length=20), nullable=False))
    arrival_date: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    failure_message: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    event_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
