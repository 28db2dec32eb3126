"""Surplus tables: each council's rule, the flags the daily review raises on pool shares, and clawbacks (maker-checker)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Enum, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from brokerage.surplus.rules import DEFAULT_MULTIPLE, DEFAULT_NOTICE_DAYS, ClawbackStatus, FlagStatus, RuleKind
from brokerage.types import UTCDateTime, utcnow

# One open flag per pool share, and one clawback waiting for a second officer per flag: the database
# keeps both, so two reviews or two officers at the same moment cannot make a second.
OPEN_FLAG_WHERE = "status = 'open'"
PENDING_CLAWBACK_WHERE = "status = 'proposed'"


class SurplusRule(SQLModel, table=True):
    """A council's surplus rule; a council without a row uses the defaults (rule A, notice 28 days).

    Rule A's number of weeks is `Council.surplus_weeks`, which predates this table.
    """

    __tablename__ = "surplus_rule"
    __table_args__ = (
        CheckConstraint("multiple BETWEEN 1 AND 52", name="ck_surplus_rule_multiple"),
        CheckConstraint("notice_days BETWEEN 7 AND 365", name="ck_surplus_rule_notice"),
    )

    council_id: int = Field(sa_column=Column(Integer, ForeignKey("council.id", ondelete="CASCADE"), primary_key=True))
    kind: RuleKind = Field(
        default=RuleKind.unspent_weeks,
        sa_column=Column(Enum(RuleKind, name="surplus_rule_kind", native_enum=False, length=20), nullable=False),
    )
    # Rule B: a share above this many weekly pledges every day for 12 weeks is flagged.
    multiple: int = Field(default=DEFAULT_MULTIPLE, sa_column=Column(Integer, nullable=False, server_default=str(DEFAULT_MULTIPLE)))
    # Days between a flag being raised and the first day the council could take money back.
    notice_days: int = Field(default=DEFAULT_NOTICE_DAYS, sa_column=Column(Integer, nullable=False, server_default=str(DEFAULT_NOTICE_DAYS)))
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SurplusFlag(SQLModel, table=True):
    """Unspent money the council's rule found in one member's pool share; closed, never deleted, once it no longer applies."""

    __tablename__ = "surplus_flag"
    __table_args__ = (
        CheckConstraint("amount_pence >= 0", name="ck_surplus_flag_amount"),
        CheckConstraint("status <> 'open' OR amount_pence > 0", name="ck_surplus_flag_open_amount"),
        CheckConstraint("clawback_from >= raised_on", name="ck_surplus_flag_notice"),
        CheckConstraint(
            "(status = 'open' AND closed_on IS NULL) OR (status <> 'open' AND closed_on IS NOT NULL)", name="ck_surplus_flag_closed_on",
        ),
        Index("ux_surplus_flag_open", "cluster_id", "holder_id", unique=True,
              sqlite_where=text(OPEN_FLAG_WHERE), postgresql_where=text(OPEN_FLAG_WHERE)),
        Index("ix_surplus_flag_council_status", "council_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", index=True, ondelete="RESTRICT")
    # The tenure whose share it is (a member who leaves and rejoins has a new one).
    membership_id: int = Field(foreign_key="membership.id", ondelete="RESTRICT")
    rule: RuleKind = Field(sa_column=Column(Enum(RuleKind, name="surplus_rule_kind", native_enum=False, length=20), nullable=False))
    status: FlagStatus = Field(
        default=FlagStatus.open,
        sa_column=Column(Enum(FlagStatus, name="surplus_flag_status", native_enum=False, length=8), nullable=False),
    )
    # What could be taken back, as the latest review found it, and why in plain English.
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    # Dates in England: raised by a review; the council could take money back from clawback_from.
    raised_on: date = Field(sa_column=Column(Date, nullable=False))
    clawback_from: date = Field(sa_column=Column(Date, nullable=False))
    reviewed_on: date = Field(sa_column=Column(Date, nullable=False))
    closed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    closed_reason: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Clawback(SQLModel, table=True):
    """Taking flagged money back from a pool share to the council's funding: proposed by one officer, decided by another."""

    __tablename__ = "surplus_clawback"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="ck_surplus_clawback_amount"),
        # Maker-checker, kept by the database too: whoever approves or rejects a clawback did not propose it.
        CheckConstraint("decided_by_id IS NULL OR decided_by_id <> proposed_by_id", name="ck_surplus_clawback_four_eyes"),
        CheckConstraint("status <> 'approved' OR (entry_id IS NOT NULL AND decided_by_id IS NOT NULL)", name="ck_surplus_clawback_approved"),
        Index("ux_surplus_clawback_pending", "flag_id", unique=True,
              sqlite_where=text(PENDING_CLAWBACK_WHERE), postgresql_where=text(PENDING_CLAWBACK_WHERE)),
        Index("ix_surplus_clawback_council_status", "council_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    flag_id: int = Field(sa_column=Column(Integer, ForeignKey("surplus_flag.id", ondelete="RESTRICT"), nullable=False, index=True))
    cluster_id: int = Field(foreign_key="cluster.id", ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", ondelete="RESTRICT")
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    status: ClawbackStatus = Field(
        default=ClawbackStatus.proposed,
        sa_column=Column(Enum(ClawbackStatus, name="surplus_clawback_status", native_enum=False, length=12), nullable=False),
    )
    proposed_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The second officer, who approved or rejected it; or whoever withdrew it (the proposer, or the review when its flag closed).
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    cancelled_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    note: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    # The clawback entry (pool share -> council funding) its approval posted.
    entry_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), nullable=True))
