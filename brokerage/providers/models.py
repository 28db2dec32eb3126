"""Micro-providers, co-ops and personal assistants, and their vetting evidence."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import false as sa_false
from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, Date, Enum, Float, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from brokerage.providers.rules import ProviderStatus
from brokerage.types import UTCDateTime, utcnow
from brokerage.vocabulary import PROVIDER_KIND_LABELS


class ProviderKind(str, enum.Enum):
    """The legal or working form of a provider."""

    pa = "pa"
    micro_provider = "micro_provider"
    coop = "coop"
    cic = "cic"
    charity = "charity"
    private = "private"

    @property
    def label(self) -> str:
        """Return the kind in plain English."""
        return PROVIDER_KIND_LABELS[self.value]


class VettingKind(str, enum.Enum):
    """A piece of evidence a provider must keep current."""

    dbs = "dbs"
    insurance = "insurance"
    cqc = "cqc"


class Provider(SQLModel, table=True):
    """Somebody who delivers care and can be matched and paid."""

    __tablename__ = "provider"
    __table_args__ = (
        CheckConstraint("hourly_rate_pence > 0", name="ck_provider_rate_positive"),
        CheckConstraint("capacity_hours >= 0", name="ck_provider_capacity"),
        CheckConstraint("radius_km > 0", name="ck_provider_radius"),
        CheckConstraint("staff_count >= 1", name="ck_provider_staff_count"),
        # A refused application records when, and says why.
        CheckConstraint("status <> 'refused' OR (reviewed_at IS NOT NULL AND review_note <> '')", name="ck_provider_refusal"),
        Index("ix_provider_council_status", "council_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    name: str = Field(sa_column=Column(String(120), nullable=False))
    kind: ProviderKind = Field(sa_column=Column(Enum(ProviderKind, name="provider_kind", native_enum=False, length=20), nullable=False))
    ownership_model: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default=""))
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    staff_genders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Hours a week it can work in each time of day across all its staff, e.g. {"mon_am": 12}, in week order (matching
    # format 2); `slots` are the times with hours. A provider stored without them (empty) spreads its capacity over `slots`.
    slot_hours: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    slots: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The most hours a week it takes across all times; None: no cap beyond the sum of its slot hours.
    capacity_hours: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The postcode the broker gave (None for providers registered before postcodes were kept), and its district and centre.
    postcode: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    postcode_district: str = Field(sa_column=Column(String(8), nullable=False))
    lat: float = Field(sa_column=Column(Float, nullable=False))
    lon: float = Field(sa_column=Column(Float, nullable=False))
    radius_km: float = Field(sa_column=Column(Float, nullable=False))
    hourly_rate_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    living_wage: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    ethical_care_charter: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # The day the charter was last agreed and the day it was last given up (Europe/London dates): travel time is paid
    # only for visits on days it was kept. None for charters agreed before these days were kept (every visit).
    charter_since: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    charter_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # The day a broker confirmed the charter, and who (providers.charter): travel is paid from then, not before. A provider's own tick
    # waits for it, as vetting evidence waits to be verified; a broker's tick is confirmed by that act. Cleared when ticked again
    # on a later day; who confirmed is emptied when a broker gives the charter up, so a tick that day waits (providers.charter).
    charter_confirmed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    charter_confirmed_by_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("user_account.id", ondelete="RESTRICT", use_alter=True, name="fk_provider_charter_confirmed_by_id_user_account"), nullable=True,
    ))
    # The earlier periods the charter was kept and confirmed, oldest first (rules.periods_to_json): archived by
    # providers.charter when it is ticked again on a later day, so travel on their days stays paid on sheets not yet sent.
    charter_earlier: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    # Everyone who works for it, the owner included: five or fewer makes it a micro-provider (community wealth).
    # Whether it is local is not stored: the council's rule decides it (brokerage.transparency.rules.is_local).
    staff_count: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    stripe_account_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    stripe_status: str = Field(default="none", sa_column=Column(String(20), nullable=False, server_default="none"))
    # True only once Stripe's `account.updated` event says the connected account can receive payouts.
    payouts_enabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false()))
    # When Stripe made the newest `account.updated` applied above: an older event arriving late changes nothing.
    stripe_event_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # A broker registering a provider approves it by that act (and the rows from before applications existed
    # were registered so); an application on the public form starts pending_review (brokerage.providers.applications).
    status: ProviderStatus = Field(
        default=ProviderStatus.approved,
        sa_column=Column(Enum(ProviderStatus, name="provider_status", native_enum=False, length=20), nullable=False, server_default="approved"),
    )
    # The broker who approved or refused an application, when, and (for a refusal) why, in words the applicant reads.
    # use_alter: user_account.provider_id points the other way, and the two tables must still be created in some order.
    reviewed_by_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("user_account.id", ondelete="RESTRICT", use_alter=True, name="fk_provider_reviewed_by_id_user_account"), nullable=True,
    ))
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    review_note: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class VettingItem(SQLModel, table=True):
    """Evidence such as a DBS check, with the date it runs out."""

    __tablename__ = "vetting_item"

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    provider_id: int = Field(foreign_key="provider.id", index=True, ondelete="CASCADE")
    kind: VettingKind = Field(sa_column=Column(Enum(VettingKind, name="vetting_kind", native_enum=False, length=12), nullable=False))
    reference: str = Field(sa_column=Column(String(80), nullable=False))
    expires_on: date = Field(sa_column=Column(Date, nullable=False))
    # Four eyes: whoever added the evidence may not verify it. NULL only for evidence added before this was recorded.
    added_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    added_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The broker who verified the evidence (the column keeps its first name) and the last time it was checked.
    checked_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    checked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Evidence counts only once a broker has seen and verified it; until then the provider is not matched.
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PendingApplication(SQLModel, table=True):
    """An application to offer care waiting for its email address to be confirmed: nothing else exists until the link is used.

    One per email address (a new application replaces the one waiting). The link's token and the chosen
    password are stored only as hashes; the answers are kept to make the provider from once the link is used.
    """

    __tablename__ = "pending_application"

    id: int | None = Field(default=None, primary_key=True)
    # The council of the postcode when the form was sent; it is looked up again when the link is used.
    council_id: int = Field(sa_column=Column(Integer, ForeignKey("council.id", ondelete="CASCADE"), nullable=False, index=True))
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    contact_name: str = Field(sa_column=Column(String(120), nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    # The rest of the form, as `applications.make_provider` takes it: name, kind, postcode and the profile.
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # SHA-256 of the token in the link; a new application for the address replaces it, so the old link stops working.
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
