"""Budget holders and the representatives they authorise."""

from __future__ import annotations

import enum

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from brokerage.types import UTCDateTime, utcnow


class Holder(SQLModel, table=True):
    """A person who gets their care budget as a direct payment."""

    __tablename__ = "holder"
    __table_args__ = (
        CheckConstraint("weekly_allocation_pence >= 0", name="ck_holder_allocation_non_negative"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_holder_location"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    name: str = Field(sa_column=Column(String(120), nullable=False))
    weekly_allocation_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Where they live: the full postcode as typed ("E1 6AN"; None for records from before postcodes were
    # kept), and its district and centre as the postcode table placed it (brokerage.places).
    postcode: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    postcode_district: str = Field(sa_column=Column(String(8), nullable=False))
    lat: float = Field(sa_column=Column(Float, nullable=False))
    lon: float = Field(sa_column=Column(Float, nullable=False))
    # How to reach them, or the representative who passes things on: at least one when a broker adds them.
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    phone: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # ISO 639-1 codes, most fluent first.
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Service tokens from the matching format (home_care, personal_care, ...).
    care_needs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    goals: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The broker who looks after them: named, with how to reach them, on their dashboard.
    # (user_account already points at holder: the constraint is added after both tables exist.)
    broker_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL", use_alter=True, name="fk_holder_broker_id_user_account"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Power(str, enum.Enum):
    """What a holder lets a representative do for them; they choose any of these when they invite them."""

    money = "money"
    groups = "groups"
    care = "care"

    @property
    def label(self) -> str:
        """Return what the power lets someone do, in plain English."""
        return POWER_LABELS[self]

    @property
    def label_for_others(self) -> str:
        """Return what the power lets someone do, said to anyone but the holder ("for them", not "for me")."""
        return POWER_LABELS_FOR_OTHERS[self]

    @property
    def column(self) -> str:
        """Return the Representation column that records this power."""
        return POWER_COLUMNS[self]


POWER_LABELS = {
    Power.money: "See money and statements",
    Power.groups: "Vote and join groups for me",
    Power.care: "Manage care: timesheets, care requests and my care profile",
}
# The same, read by the representative or anyone else: "Vote and join groups for me" is only the holder's to say.
POWER_LABELS_FOR_OTHERS = {
    Power.money: "See money and statements",
    Power.groups: "Vote and join groups for them",
    Power.care: "Manage care: timesheets, care requests and their care profile",
}
POWER_COLUMNS = {Power.money: "may_see_money", Power.groups: "may_act_in_groups", Power.care: "may_manage_care"}


class Representation(SQLModel, table=True):
    """A holder's authorisation for a family member or carer to act for them, in what the holder chose."""

    __tablename__ = "representation"
    __table_args__ = (UniqueConstraint("representative_id", "holder_id", name="uq_representation_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    representative_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    holder_id: int = Field(foreign_key="holder.id", index=True, ondelete="CASCADE")
    relationship: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    granted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # What the holder lets them do (Power). Representatives authorised before these existed keep all three.
    may_see_money: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true()))
    may_act_in_groups: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true()))
    may_manage_care: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true()))

    @property
    def powers(self) -> frozenset[Power]:
        """Return what this representative may do for the holder."""
        return frozenset(power for power in Power if getattr(self, power.column))

    def set_powers(self, powers) -> None:
        """Record what this representative may do for the holder."""
        chosen = {Power(p) for p in powers}
        for power in Power:
            setattr(self, power.column, power in chosen)


class SensitiveItem(str, enum.Enum):
    """Special-category data a holder may choose to share (UK GDPR article 9)."""

    culture = "culture"
    faith = "faith"
    heritage = "heritage"


class Visibility(str, enum.Enum):
    """Who may see a sensitive item."""

    nobody = "nobody"
    clusters = "clusters"
    broker = "broker"


class SensitiveDetail(SQLModel, table=True):
    """A self-declared culture, faith or heritage, stored only with the holder's recorded consent."""

    __tablename__ = "sensitive_detail"
    __table_args__ = (UniqueConstraint("holder_id", "item", name="uq_sensitive_detail_item"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    holder_id: int = Field(foreign_key="holder.id", index=True, ondelete="CASCADE")
    item: SensitiveItem = Field(sa_column=Column(Enum(SensitiveItem, name="sensitive_item", native_enum=False, length=12), nullable=False))
    value: str = Field(sa_column=Column(String(120), nullable=False))
    visibility: Visibility = Field(sa_column=Column(Enum(Visibility, name="visibility", native_enum=False, length=10), nullable=False))
    # Consent is recorded with the value: no consent, no row.
    consent_given_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    consent_recorded_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
