"""Contracts made from accepted matches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Date, Enum, Integer, String
from sqlmodel import Field, SQLModel

from brokerage.contracts.rules import AllocationRule, ContractEventKind, ContractStatus
from brokerage.types import UTCDateTime, utcnow


class Contract(SQLModel, table=True):
    """An agreement for a provider to give a cluster's members care at an hourly rate."""

    __tablename__ = "contract"
    __table_args__ = (
        CheckConstraint("hours_per_week > 0", name="ck_contract_hours"),
        CheckConstraint("rate_pence > 0", name="ck_contract_rate"),
        CheckConstraint("min_visit_minutes >= 30", name="ck_contract_min_visit"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ck_contract_dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    provider_id: int = Field(foreign_key="provider.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    demand_line_id: int | None = Field(default=None, foreign_key="demand_line.id", ondelete="RESTRICT")
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")
    service: str = Field(sa_column=Column(String(40), nullable=False))
    # The members the contract serves, holder id (as text) -> their share of the hours, e.g. {"12": 1, "15": 2};
    # copied from the demand line when the contract is made, so the contract alone says whom it serves.
    member_shares: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    hours_per_week: int = Field(sa_column=Column(Integer, nullable=False))
    # When the care happens: the hours in each time of day agreed at the match, e.g. {"mon_am": 3, "fri_pm": 2}
    # (brokerage.slot_hours); None when no times were agreed (a contract made before times were matched).
    # They sum to the hours a week the contract was made with; a passed change of hours leaves them as agreed.
    slot_hours: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    rate_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    start_date: date = Field(sa_column=Column(Date, nullable=False))
    end_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    allocation_rule: AllocationRule = Field(
        default=AllocationRule.by_hours,
        sa_column=Column(Enum(AllocationRule, name="allocation_rule", native_enum=False, length=12), nullable=False),
    )
    min_visit_minutes: int = Field(default=60, sa_column=Column(Integer, nullable=False))
    status: ContractStatus = Field(
        default=ContractStatus.active,
        sa_column=Column(Enum(ContractStatus, name="contract_status", native_enum=False, length=12), nullable=False, server_default="active"),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ContractEvent(SQLModel, table=True):
    """One line of a contract's history: made, a change proposed, agreed or not, notice given, ended.

    Append-only in spirit: lines are added, never changed or removed.
    """

    __tablename__ = "contract_event"

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    contract_id: int = Field(foreign_key="contract.id", index=True, ondelete="RESTRICT")
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Who did it: a person, or the council's system user for the daily run; the deciding vote's caster for a decision.
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")
    kind: ContractEventKind = Field(sa_column=Column(Enum(ContractEventKind, name="contract_event_kind", native_enum=False, length=20), nullable=False))
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
