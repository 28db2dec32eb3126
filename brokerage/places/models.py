"""Where postcodes are: the centroid of each full postcode, or of a postcode district, loaded from the ONS Postcode Directory."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, Float, String
from sqlmodel import Field, SQLModel


class PostcodeCentroid(SQLModel, table=True):
    """The centre of a full postcode ("E1 6AN") or of a district ("E1"), in WGS84 degrees.

    National reference data, not a council's: every council looks up the same table.
    """

    __tablename__ = "postcode_centroid"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_postcode_centroid_location"),
        # A district's row is keyed by the district itself; a full postcode's by more than its district.
        CheckConstraint("(is_district AND postcode = district) OR (NOT is_district AND postcode <> district)", name="ck_postcode_centroid_kind"),
    )

    # Normalised: capitals, one space before the inward code ("E1 6AN", "SW1A 1AA"), or a district alone ("E1W").
    postcode: str = Field(sa_column=Column(String(8), primary_key=True))
    district: str = Field(sa_column=Column(String(4), nullable=False, index=True))
    lat: float = Field(sa_column=Column(Float, nullable=False))
    lon: float = Field(sa_column=Column(Float, nullable=False))
    is_district: bool = Field(sa_column=Column(Boolean, nullable=False))
