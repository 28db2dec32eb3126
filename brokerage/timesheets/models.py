"""Timesheets: the visits a provider delivered under a contract in a week, and who approves a group's sheets."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import false as sa_false
from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, Date, Enum, Integer, String, Text, Time, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerage.contracts.rules import AllocationRule
from brokerage.timesheets.rules import TimesheetStatus
from brokerage.types import UTCDateTime, utcnow


class Timesheet(SQLModel, table=True):
    """One contract's week of care: drafted and submitted by the provider, approved (its cost taken from the pool) or sent back."""

    __tablename__ = "timesheet"
    __table_args__ = (
        UniqueConstraint("contract_id", "week", name="uq_timesheet_contract_week"),
        CheckConstraint("total_pence >= 0", name="ck_timesheet_total"),
        CheckConstraint("travel_pence >= 0", name="ck_timesheet_travel"),
        # An approved sheet always names the ledger entry that paid for it.
        CheckConstraint("status <> 'approved' OR care_entry_id IS NOT NULL", name="ck_timesheet_approved_entry"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    contract_id: int = Field(foreign_key="contract.id", index=True, ondelete="RESTRICT")
    provider_id: int = Field(foreign_key="provider.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    # The ISO week in its canonical ASCII form, e.g. "2026-W49" (shown as "week of 30 November 2026").
    week: str = Field(sa_column=Column(String(8), nullable=False))
    status: TimesheetStatus = Field(
        default=TimesheetStatus.draft,
        sa_column=Column(Enum(TimesheetStatus, name="timesheet_status", native_enum=False, length=12), nullable=False),
    )
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    # Why the last approver sent it back; kept after resubmission so the approver sees what was asked.
    rejection_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The week's pay in pence as last submitted or approved.
    total_pence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # Whether travel time was paid (the provider kept the Ethical Care Charter) when the sheet was last submitted or approved.
    travel_paid: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    # The days the charter covered, fixed with it (rules.TravelTerms): travel to a visit outside them is not paid.
    # Both empty on a sheet sent before the days were kept: its travel was paid for every visit, and still is.
    travel_from: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    travel_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # Travel not paid because, when the sheet was last sent, the provider's own tick of the charter waited for a broker to
    # confirm it (rules.TravelTerms.awaiting): its pages say so, not that the charter was never signed.
    travel_awaiting: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    # The earlier periods the charter was kept and confirmed that share a day with the week, fixed with the rest
    # (providers.rules.periods_to_json): travel on their days is paid too.
    travel_earlier: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    # The part of total_pence paid for travel, as last submitted or approved; None on a sheet sent before it was kept.
    travel_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The week's own terms, fixed when the sheet is (last) submitted, and what approval pays: the contract's
    # hourly rate, weekly hours and sharing rule on the week's last day (changes passed later undone), and
    # each member's part in pence by holder id ({"12": 1075}). Empty while a sheet has never been sent.
    rate_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    hours_per_week: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    allocation_rule: AllocationRule | None = Field(
        default=None, sa_column=Column(Enum(AllocationRule, name="allocation_rule", native_enum=False, length=12), nullable=True),
    )
    parts: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    # The care_cost entry posted when the sheet was approved.
    care_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id", ondelete="RESTRICT")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Visit(SQLModel, table=True):
    """One visit to one member: the day, the start, how long, and the travel to it."""

    __tablename__ = "visit"
    __table_args__ = (
        CheckConstraint("minutes >= 30", name="ck_visit_minutes"),
        CheckConstraint("travel_minutes >= 0", name="ck_visit_travel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    timesheet_id: int = Field(foreign_key="timesheet.id", index=True, ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", index=True, ondelete="RESTRICT")
    visit_date: date = Field(sa_column=Column(Date, nullable=False))
    start_time: time = Field(sa_column=Column(Time, nullable=False))
    minutes: int = Field(sa_column=Column(Integer, nullable=False))
    travel_minutes: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TimesheetApprover(SQLModel, table=True):
    """The member a group chose, by a passed proposal, to approve its timesheets (besides the broker)."""

    __tablename__ = "timesheet_approver"
    __table_args__ = (UniqueConstraint("cluster_id", name="uq_timesheet_approver_cluster"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", ondelete="RESTRICT")
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="RESTRICT")
    chosen_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
