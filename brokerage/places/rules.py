"""UK postcodes as people type them, and the rows of the ONS Postcode Directory, with no database.

A full postcode is an outward code (the district: "E1", "E1W", "EC1A", "SW1A") and an inward code
("6AN"). The format is the UK Government Data Standards Catalogue's, which also allows "GIR 0AA".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from brokerage.untrusted import shown, shown_value
from brokerage.validation import parse_decimal

# The outward code: A9, A99, AA9, AA99, A9A or AA9A, with the letters each position may hold.
_OUTWARD = r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[A-PR-UWYZ][0-9][A-HJKPS-UW])"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL = re.compile(rf"(?:{_OUTWARD} {_INWARD}|GIR 0AA)", re.ASCII)
_DISTRICT = re.compile(_OUTWARD, re.ASCII)
_LOOKS_INWARD = re.compile(r"[0-9][A-Z]{2}", re.ASCII)

# Where a place may be: the United Kingdom, its islands and the Crown dependencies, so a file with
# latitude and longitude the wrong way round is caught.
LAT_MIN, LAT_MAX = 49.0, 61.0
LON_MIN, LON_MAX = -9.0, 2.0
# The ONS Postcode Directory's latitude for a postcode it has no location for.
ONS_NO_LOCATION = 99.999999

POSTCODE_HEADERS = ("pcds", "pcd", "pcd2", "postcode")
LAT_HEADERS = ("lat", "latitude")
LON_HEADERS = ("long", "lon", "longitude")


def normalise_postcode(text: str | None) -> str:
    """Return a postcode as it is stored: capitals, no outer spaces, one space before the inward code ("e16an" -> "E1 6AN")."""
    packed = "".join((text or "").split()).upper()
    if len(packed) >= 5 and _LOOKS_INWARD.fullmatch(packed[-3:]):
        return f"{packed[:-3]} {packed[-3:]}"
    return packed


def is_valid_postcode(text: str | None) -> bool:
    """Tell whether text is a full UK postcode, however it is spaced or capitalised ("e1 6an", "SW1A1AA", "GIR 0AA")."""
    return bool(_FULL.fullmatch(normalise_postcode(text)))


def is_valid_district(text: str | None) -> bool:
    """Tell whether text is a postcode district (an outward code), like E1, E1W, EC1A or LS6."""
    return bool(_DISTRICT.fullmatch(normalise_postcode(text)))


def district_of(postcode: str) -> str:
    """Return the district of a full postcode ("E1W 2RG" -> "E1W"), or the district itself; ValueError for anything else."""
    code = normalise_postcode(postcode)
    if _FULL.fullmatch(code):
        return code.split(" ")[0]
    if _DISTRICT.fullmatch(code):
        return code
    raise ValueError(f"{postcode!r} is not a UK postcode")


# A place shown to other people instead of someone's home, when the home's district centre is not known: two
# decimal places of a degree, about 1.1 km north-south and 0.7 km east-west in England (a postcode unit,
# about 15 homes, is much smaller, so distances from typed-in postcodes no longer lead to one).
COARSE_DECIMALS = 2


def coarse(lat: float, lon: float) -> tuple[float, float]:
    """Return a point rounded to about a kilometre (COARSE_DECIMALS), so it names no one's home."""
    return round(lat, COARSE_DECIMALS), round(lon, COARSE_DECIMALS)


class Centroid(NamedTuple):
    """One place read from a file: a full postcode or a district, and its centre."""

    postcode: str
    district: str
    lat: float
    lon: float
    is_district: bool


class BadFile(ValueError):
    """A file of postcodes that cannot be read as a whole (its header), or one of its rows."""


class Columns(NamedTuple):
    """Where the postcode, latitude and longitude are in each row."""

    postcode: int
    lat: int
    lon: int


def find_columns(header: Sequence[str]) -> Columns:
    """Return the positions of the postcode, latitude and longitude in a header row (ONS names first), or raise BadFile."""
    names = [name.strip().lower() for name in header]

    def position(choices: tuple[str, ...], what: str) -> int:
        for choice in choices:
            if choice in names:
                return names.index(choice)
        raise BadFile(f"the file has no {what} column: name it {' or '.join(choices)} in the first row")

    return Columns(position(POSTCODE_HEADERS, "postcode"), position(LAT_HEADERS, "latitude"), position(LON_HEADERS, "longitude"))


def read_row(values: Sequence[str], columns: Columns) -> Centroid | None:
    """Return the place in one row, None for a postcode without a location (ONS latitude 99.999999, or both blank); BadFile for anything else."""
    if len(values) <= max(columns):
        raise BadFile(f"it has {len(values)} values, fewer than the header's columns")
    raw_postcode, raw_lat, raw_lon = values[columns.postcode], values[columns.lat].strip(), values[columns.lon].strip()
    code = normalise_postcode(raw_postcode)
    is_district = not _FULL.fullmatch(code)
    if is_district and not _DISTRICT.fullmatch(code):
        raise BadFile(f"{shown_value(raw_postcode.strip())} is not a UK postcode or postcode district")
    if not raw_lat and not raw_lon:
        return None
    try:
        lat, lon = parse_decimal(raw_lat), parse_decimal(raw_lon)
    except ValueError:
        raise BadFile(f"the latitude {shown_value(raw_lat)} and longitude {shown_value(raw_lon)} of {code} must be numbers like 51.5155 and -0.059") from None
    if lat == ONS_NO_LOCATION:
        return None
    if not (LAT_MIN <= lat <= LAT_MAX and LON_MIN <= lon <= LON_MAX):
        raise BadFile(
            f"{code} is at latitude {shown(raw_lat)}, longitude {shown(raw_lon)}, which is not in the United Kingdom "
            f"(latitude {LAT_MIN:g} to {LAT_MAX:g}, longitude {LON_MIN:g} to {LON_MAX:g})"
        )
    return Centroid(code, code if is_district else code.split(" ")[0], lat, lon, is_district)



def district_sort_key(district: str) -> tuple[str, int, str]:
    """Sort districts as people read them: E1, E1W, E2, E14, not E1, E14, E1W, E2."""
    match = re.fullmatch(r"([A-Z]+)([0-9]+)([A-Z]?)", district or "", re.ASCII)
    if not match:
        return (district or "", 0, "")
    return (match.group(1), int(match.group(2)), match.group(3))
