"""Payment runs: a run per council, a line per provider, and the approved timesheets each line pays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from brokerage.payments.run_rules import CANCEL_REASON_MAX, LineStatus, RunStatus
from brokerage.types import UTCDateTime, utcnow

# One open run per council (see run_rules.OPEN_RUN): the database keeps it so even when two brokers race.
OPEN_RUN_WHERE = "status IN ('prepared', 'released', 'paying')"


class PaymentRun(SQLModel, table=True):
    """A council's payment run: prepared by a broker, released by a different person (a council officer)."""

    __tablename__ = "payment_run"
    __table_args__ = (
        CheckConstraint("total_pence >= 0", name="ck_payment_run_total"),
        # Maker-checker, kept by the database too: the person who releases a run never prepared it.
        CheckConstraint("released_by_id IS NULL OR released_by_id <> prepared_by_id", name="ck_payment_run_four_eyes"),
        Index("ux_payment_run_open", "council_id", unique=True, sqlite_where=text(OPEN_RUN_WHERE), postgresql_where=text(OPEN_RUN_WHERE)),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    status: RunStatus = Field(
        default=RunStatus.prepared,
        sa_column=Column(Enum(RunStatus, name="payment_run_status", native_enum=False, length=20), nullable=False),
    )
    prepared_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    prepared_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    released_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    released_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    cancelled_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    # Why it was cancelled before release, as the broker or officer said it (None for runs cancelled before migration 0048).
    cancel_reason: str | None = Field(default=None, sa_column=Column(String(CANCEL_REASON_MAX), nullable=True))
    # What the broker prepared, in pence; lines held at release are shown apart on the run's page.
    total_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    # When the job last started paying it (a restart updates it), and when every line was done.
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The job paying it now: its random token, and when its claim lapses if the job dies without
    # letting go (renewed before each line). While it holds, no other job pays the run, nobody can
    # restart it, and no line can be checked with Stripe. See transfers.claim_run.
    claim_token: str | None = Field(default=None, sa_column=Column(String(36), nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PaymentLine(SQLModel, table=True):
    """One provider's payment in a run: one ledger payout entry and at most one Stripe transfer."""

    __tablename__ = "payment_line"
    __table_args__ = (
        UniqueConstraint("run_id", "provider_id", name="uq_payment_line_provider"),
        CheckConstraint("amount_pence > 0", name="ck_payment_line_amount"),
        Index("ix_payment_line_transfer", "stripe_transfer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    run_id: int = Field(sa_column=Column(Integer, ForeignKey("payment_run.id", ondelete="RESTRICT"), nullable=False, index=True))
    provider_id: int = Field(foreign_key="provider.id", index=True, ondelete="RESTRICT")
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: LineStatus = Field(
        default=LineStatus.planned,
        sa_column=Column(Enum(LineStatus, name="payment_line_status", native_enum=False, length=12), nullable=False),
    )
    stripe_transfer_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # Why it was held or failed, in words (Stripe's own message for a refused transfer); or the last
    # error of a try that may still succeed.
    reason: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    # payable → clearing when sent; clearing → paid when Stripe confirms.
    payout_entry_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), nullable=True))
    paid_entry_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PaymentLineTimesheet(SQLModel, table=True):
    """An approved timesheet a payment line pays, for the provider's remittance."""

    __tablename__ = "payment_line_timesheet"

    line_id: int = Field(sa_column=Column(Integer, ForeignKey("payment_line.id", ondelete="CASCADE"), primary_key=True))
    timesheet_id: int = Field(sa_column=Column(Integer, ForeignKey("timesheet.id", ondelete="RESTRICT"), primary_key=True))
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
