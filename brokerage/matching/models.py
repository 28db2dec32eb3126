"""Demand lines, matching runs and their proposed assignments and gaps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, Enum, Float, Integer, String, Text
from sqlmodel import Field, SQLModel

from brokerage.matching.rules import AssignmentStatus, DemandLineChangeKind, DemandLineStatus, RunStatus
from brokerage.types import UTCDateTime, utcnow


class DemandLine(SQLModel, table=True):
    """What a cluster asks for: a service, hours, times, language and carer wishes, and a price cap."""

    __tablename__ = "demand_line"
    __table_args__ = (
        CheckConstraint("hours > 0", name="ck_demand_hours"),
        CheckConstraint("max_rate_pence > 0", name="ck_demand_rate"),
        CheckConstraint("carer_gender IS NULL OR carer_gender IN ('female', 'male')", name="ck_demand_gender"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    service: str = Field(sa_column=Column(String(40), nullable=False))
    # Hours a week in each time of day, e.g. {"mon_am": 3, "fri_pm": 2}, in week order (matching format 2). `hours` is
    # their sum and `slots` the times with hours; a line stored without them (empty) spreads `hours` over `slots`.
    slot_hours: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    hours: int = Field(sa_column=Column(Integer, nullable=False))
    slots: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language_required: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    carer_gender: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    lat: float = Field(sa_column=Column(Float, nullable=False))
    lon: float = Field(sa_column=Column(Float, nullable=False))
    max_rate_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    current_provider_id: int | None = Field(default=None, foreign_key="provider.id", ondelete="SET NULL")
    # The members it serves and each one's share, e.g. {"12": 1, "15": 2}.
    shares: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: DemandLineStatus = Field(
        default=DemandLineStatus.open,
        sa_column=Column(Enum(DemandLineStatus, name="demand_line_status", native_enum=False, length=12), nullable=False, server_default="open"),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # When a broker last edited or withdrew it: a matching run made before then matched the old request.
    changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class DemandLineChange(SQLModel, table=True):
    """One edit or withdrawal of a demand line: who, when, and what it was before (the line keeps its history)."""

    __tablename__ = "demand_line_change"

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    demand_line_id: int = Field(foreign_key="demand_line.id", index=True, ondelete="RESTRICT")
    actor_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    kind: DemandLineChangeKind = Field(
        sa_column=Column(Enum(DemandLineChangeKind, name="demand_line_change_kind", native_enum=False, length=12), nullable=False)
    )
    # {field: [before, after]} for an edit; empty for a withdrawal.
    changes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MatchRun(SQLModel, table=True):
    """One run of the matcher over a council's open demand and vetted supply."""

    __tablename__ = "match_run"

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    status: RunStatus = Field(
        default=RunStatus.finished, sa_column=Column(Enum(RunStatus, name="match_run_status", native_enum=False, length=12), nullable=False)
    )
    lines: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    suppliers: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    demanded_hours: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # The hours its assignments give: the solver's, then kept in step with the broker's changes (parts.adjust),
    # as its gaps are. `cost`, `lower_bound` and `gap_pct` stay the solver's.
    covered_hours: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    cost: float = Field(default=0.0, sa_column=Column(Float, nullable=False, server_default="0"))
    seconds: float = Field(default=0.0, sa_column=Column(Float, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The proven lower bound on the cost (pounds) and how far above it the cost may be (percent of
    # the cost); None for runs made before they were kept (migration 0037).
    lower_bound: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    gap_pct: float | None = Field(default=None, sa_column=Column(Float, nullable=True))


class MatchAssignment(SQLModel, table=True):
    """A proposed piece of care: some hours of a demand line from one provider, with the reason."""

    __tablename__ = "match_assignment"
    __table_args__ = (CheckConstraint("hours >= 0", name="ck_match_assignment_hours"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    run_id: int = Field(foreign_key="match_run.id", index=True, ondelete="RESTRICT")
    demand_line_id: int = Field(foreign_key="demand_line.id", ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", ondelete="RESTRICT")
    provider_id: int = Field(foreign_key="provider.id", ondelete="RESTRICT")
    hours: int = Field(sa_column=Column(Integer, nullable=False))
    solver_hours: int = Field(sa_column=Column(Integer, nullable=False))
    rate_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    distance_km: float = Field(sa_column=Column(Float, nullable=False))
    # The hours in each time of day, summing to `hours` (None for a run made before times were matched).
    slot_hours: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    # The solver's times, as `solver_hours` is its hours: what a broker's change took out at each time is these less
    # `slot_hours` (None for a part changed by a broker before they were kept, or a run made before times were matched).
    solver_slot_hours: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    # proposed -> sent (to the cluster's vote) -> accepted (contract made) or rejected
    status: AssignmentStatus = Field(
        default=AssignmentStatus.proposed,
        sa_column=Column(Enum(AssignmentStatus, name="match_assignment_status", native_enum=False, length=12), nullable=False),
    )
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")
    edited_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")


class MatchGap(SQLModel, table=True):
    """Demand the run could not cover, and why: the council's list of what to commission."""

    __tablename__ = "match_gap"

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    run_id: int = Field(foreign_key="match_run.id", index=True, ondelete="RESTRICT")
    demand_line_id: int = Field(foreign_key="demand_line.id", ondelete="RESTRICT")
    hours: int = Field(sa_column=Column(Integer, nullable=False))
    # The hours left in each time of day (None for a run made before times were matched).
    slot_hours: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
