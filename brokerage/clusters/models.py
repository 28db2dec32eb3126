"""Clusters of holders who pool part of their budgets, and their memberships."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Date, Enum, Float, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.types import UTCDateTime, utcnow


class ClusterKind(str, enum.Enum):
    """Why the members came together."""

    neighbourhood = "neighbourhood"
    culture = "culture"
    care_need = "care_need"
    goal = "goal"


class ClusterStatus(str, enum.Enum):
    """Where a cluster is in its life."""

    forming = "forming"
    active = "active"
    closing = "closing"
    closed = "closed"


class MembershipStatus(str, enum.Enum):
    """Where a membership is in its life."""

    requested = "requested"
    admitted = "admitted"
    active = "active"
    leaving = "leaving"
    left = "left"


class Cluster(SQLModel, table=True):
    """A small group of holders with one pool."""

    __tablename__ = "cluster"
    __table_args__ = (
        CheckConstraint("min_size >= 2 AND max_size <= 12 AND min_size <= max_size", name="ck_cluster_sizes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    name: str = Field(sa_column=Column(String(120), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Where the group is, for distances and matching: the centre of its founder's district (never a home), or of its area
    # (the districts in `cluster_district`). None only for groups started before areas were kept.
    lat: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    lon: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    min_size: int = Field(default=2, sa_column=Column(Integer, nullable=False))
    max_size: int = Field(default=12, sa_column=Column(Integer, nullable=False))
    status: ClusterStatus = Field(
        default=ClusterStatus.forming,
        sa_column=Column(Enum(ClusterStatus, name="cluster_status", native_enum=False, length=12), nullable=False),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ClusterDistrict(SQLModel, table=True):
    """One postcode district of a group's area; the database refuses a district that is not its council's own."""

    __tablename__ = "cluster_district"
    __table_args__ = (
        ForeignKeyConstraint(
            ["district", "council_id"], ["council_district.district", "council_district.council_id"],
            name="fk_cluster_district_council_district", ondelete="RESTRICT",
        ),
    )

    cluster_id: int = Field(sa_column=Column(Integer, ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True))
    district: str = Field(sa_column=Column(String(4), primary_key=True))
    council_id: int = Field(sa_column=Column(Integer, ForeignKey("council.id", ondelete="RESTRICT"), nullable=False, index=True))


# One membership that has not ended per holder and cluster; ended ones stay as history.
LIVE_MEMBERSHIP_WHERE = text("status <> 'left'")


class Membership(SQLModel, table=True):
    """One tenure of a holder in a cluster, with their weekly pledge.

    Someone who leaves and joins again gets a new row: the row id names the tenure in money keys
    (`pledge:{membership}:{week}`, `member-left:{membership}`), so a second stay never meets the
    first one's keys.
    """

    __tablename__ = "membership"
    __table_args__ = (
        Index(
            "uq_membership_live_cluster_holder", "cluster_id", "holder_id", unique=True,
            sqlite_where=LIVE_MEMBERSHIP_WHERE, postgresql_where=LIVE_MEMBERSHIP_WHERE,
        ),
        CheckConstraint("weekly_pledge_pence >= 0", name="ck_membership_pledge_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", index=True, ondelete="RESTRICT")
    status: MembershipStatus = Field(
        default=MembershipStatus.requested,
        sa_column=Column(Enum(MembershipStatus, name="membership_status", native_enum=False, length=12), nullable=False),
    )
    weekly_pledge_pence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    start_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    notice_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # The last day of the notice period; the pool share goes back to the wallet after it.
    leaves_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # Who last changed the pledge or gave notice: the holder, their representative or a broker.
    changed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Proposal(SQLModel, table=True):
    """A decision the members of a cluster take by vote."""

    __tablename__ = "proposal"
    __table_args__ = (Index("ix_proposal_cluster_status", "cluster_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    cluster_id: int = Field(foreign_key="cluster.id", ondelete="RESTRICT")
    kind: ProposalKind = Field(sa_column=Column(Enum(ProposalKind, name="proposal_kind", native_enum=False, length=20), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # What the proposal would do, e.g. {"membership_id": 4} or {"pledges": {"4": 2500}}.
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    deadline: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: ProposalStatus = Field(
        default=ProposalStatus.open,
        sa_column=Column(Enum(ProposalStatus, name="proposal_status", native_enum=False, length=12), nullable=False),
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    outcome: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Vote(SQLModel, table=True):
    """One member's vote on a proposal, and who cast it (the holder or their representative)."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("proposal_id", "holder_id", name="uq_vote_one_per_member"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", ondelete="RESTRICT")
    choice: Choice = Field(sa_column=Column(Enum(Choice, name="vote_choice", native_enum=False, length=8), nullable=False))
    cast_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    cast_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
