"""Councils (tenants) and user accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false as sa_false
from sqlalchemy import Boolean, CheckConstraint, Column, Enum, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerage.types import ROLE_LABELS, Role, UTCDateTime, utcnow  # noqa: F401 (Role lives at the bottom layer)


class Council(SQLModel, table=True):
    """A council: the tenant that owns every other record."""

    __tablename__ = "council"
    __table_args__ = (
        CheckConstraint("cluster_min_size >= 2 AND cluster_max_size <= 12 AND cluster_min_size <= cluster_max_size", name="ck_council_cluster_sizes"),
        CheckConstraint("notice_weeks >= 0", name="ck_council_notice_weeks"),
        CheckConstraint("surplus_weeks >= 1", name="ck_council_surplus_weeks"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 99", name="ck_council_quorum"),
        CheckConstraint("majority_percent BETWEEN 50 AND 100", name="ck_council_majority"),
        CheckConstraint(
            "dissolve_denominator >= 1 AND dissolve_numerator <= dissolve_denominator AND 2 * dissolve_numerator >= dissolve_denominator",
            name="ck_council_dissolve_majority",
        ),
        CheckConstraint("local_distance_km IS NULL OR (local_distance_km >= 0.5 AND local_distance_km <= 50)", name="ck_council_local_distance"),
        CheckConstraint("match_time_limit_s BETWEEN 0 AND 600", name="ck_council_match_time_limit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(120), nullable=False))
    # Postcode districts the council covers, space separated, e.g. "E1 E2 E3".
    area_districts: str = Field(default="", sa_column=Column(String(400), nullable=False, server_default=""))
    cluster_min_size: int = Field(default=2, sa_column=Column(Integer, nullable=False, server_default="2"))
    cluster_max_size: int = Field(default=12, sa_column=Column(Integer, nullable=False, server_default="12"))
    notice_weeks: int = Field(default=4, sa_column=Column(Integer, nullable=False, server_default="4"))
    surplus_weeks: int = Field(default=8, sa_column=Column(Integer, nullable=False, server_default="8"))
    # A proposal is quorate when more than quorum_percent of active members vote.
    quorum_percent: int = Field(default=50, sa_column=Column(Integer, nullable=False, server_default="50"))
    # A proposal passes when more than majority_percent of yes+no votes are yes.
    majority_percent: int = Field(default=50, sa_column=Column(Integer, nullable=False, server_default="50"))
    # Dissolving needs at least numerator/denominator (two thirds by default) of yes+no votes; a
    # fraction, because 67% would refuse 2 votes out of 3.
    dissolve_numerator: int = Field(default=2, sa_column=Column(Integer, nullable=False, server_default="2"))
    dissolve_denominator: int = Field(default=3, sa_column=Column(Integer, nullable=False, server_default="3"))
    # Community wealth (brokerage.transparency, docs/community-wealth.md): a provider outside the council's districts
    # still counts as local within this many km of their centre; None counts the districts only.
    local_distance_km: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # The public report of pooled spending (/public/<slug>) is shown only once a council officer opts in.
    publish_report: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    # Matching runs improve their first answer for about this many seconds of deterministic work
    # (brokerage.matching.improve); 0 keeps the one-pass answer.
    match_time_limit_s: int = Field(default=10, sa_column=Column(Integer, nullable=False, server_default="10"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def districts(self) -> list[str]:
        """Return the postcode districts as a list."""
        return [d for d in self.area_districts.split() if d]


class CouncilDistrict(SQLModel, table=True):
    """A postcode district claimed by one council: the database refuses a second council claiming it."""

    __tablename__ = "council_district"
    # The target of a group's area (clusters.models.ClusterDistrict): a district of this council, not any.
    __table_args__ = (UniqueConstraint("district", "council_id", name="uq_council_district_council"),)

    district: str = Field(sa_column=Column(String(4), primary_key=True))
    council_id: int = Field(sa_column=Column(Integer, ForeignKey("council.id", ondelete="CASCADE"), nullable=False, index=True))


class User(SQLModel, table=True):
    """Somebody who signs in; admins belong to no council, everyone else to one."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role = 'admin' OR council_id IS NOT NULL", name="ck_user_council_unless_admin"),
        CheckConstraint("failed_sign_ins >= 0", name="ck_user_failed_sign_ins"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int | None = Field(default=None, foreign_key="council.id", index=True, ondelete="RESTRICT")
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(120), nullable=False))
    role: Role = Field(sa_column=Column(Enum(Role, name="user_role", native_enum=False, length=20), nullable=False))
    password_hash: str = Field(sa_column=Column(String(200), nullable=False))
    is_active_account: bool = Field(default=True)
    failed_sign_ins: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_sign_in_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Every session cookie carries the version it was issued under; raising it ends them all
    # (sign-out, a password change or reset, deactivation), which a signed cookie alone cannot do.
    session_version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    # The holder record a holder account is; the provider record a provider account works for.
    holder_id: int | None = Field(default=None, foreign_key="holder.id", index=True, ondelete="SET NULL")
    provider_id: int | None = Field(default=None, foreign_key="provider.id", index=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        # A system actor (scheduled jobs) is never a signed-in person, whatever its flags say.
        return self.is_active_account and self.role != Role.system

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Return the id and session version Flask-Login keeps in the session (and any remember cookie)."""
        return f"{self.id}:{self.session_version}"


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins per email address, known or not, so a lock does not reveal which emails have accounts."""

    __tablename__ = "sign_in_throttle"

    # SHA-256 of the normalised email: unknown addresses typed at the form are not stored in clear.
    key: str = Field(sa_column=Column(String(64), primary_key=True))
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
