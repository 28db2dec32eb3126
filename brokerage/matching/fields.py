"""Reading the fields of a matching file: the checks every record kind shares (formats 1 and 2).

Each check raises `Bad` naming the field; `records` adds which record it is in and raises the
one-line `InstanceError`, for example ``demand[d-0001].hours: must be an integer >= 0``.
"""

from __future__ import annotations

import re

from brokerage.matching.errors import InstanceError
from brokerage.matching.vocabulary import GENDERS, SLOT_BIT
from brokerage.untrusted import has_lone_surrogate, shown, shown_value

SERVICE_RE = re.compile(r"[a-z][a-z0-9_]*\Z")

class Bad(Exception):
    """A field is wrong; the caller adds which record it is in."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def read_records(kind: str, raw: list, parse) -> list:
    result = []
    for index, rec in enumerate(raw):
        try:
            if type(rec) is not dict:
                raise Bad("", "must be an object")
            result.append(parse(rec))
        except Bad as bad:
            label = record_label(kind, index, rec)
            where = f"{label}.{bad.field}" if bad.field else label
            raise InstanceError(f"{where}: {bad.message}", field=bad.field or None) from None
    return result


def record_label(kind: str, index: int, rec: object) -> str:
    return f"{kind}[{record_name(kind, index, rec)}]"


def record_name(kind: str, index: int, rec: object) -> str:
    """Name a record of list `kind` for a message: by its id (escaped and shortened), else `#index`."""
    # Name the record by its id when it has a usable one, since that is what a person can find.
    if type(rec) is dict:
        keys = ("demand", "supplier") if kind == "assignments" else (
            ("demand",) if kind == "unmet" else ("id",))
        ids = [rec.get(k) for k in keys]
        if all(type(x) is str and x for x in ids):
            return "->".join(shown(x) for x in ids)
    return f"#{index}"


def top_keys(obj: dict, order: tuple) -> None:
    try:
        check_keys(obj, order)
    except Bad as bad:
        raise InstanceError(f"{bad.field}: {bad.message}", field=bad.field) from None


KEYSETS: dict[tuple, frozenset] = {}


def check_keys(obj: dict, order: tuple) -> None:
    keyset = KEYSETS.get(order)
    if keyset is None:
        keyset = KEYSETS[order] = frozenset(order)
    if obj.keys() == keyset:
        return
    for key in order:
        if key not in obj:
            raise Bad(key, "missing")
    raise Bad(shown(sorted(str(k) for k in obj if k not in order)[0]), "unknown field")


def check_unique(kind: str, records: tuple) -> None:
    seen: set[str] = set()
    for rec in records:
        if rec.id in seen:
            raise InstanceError(f"{kind}[{shown(rec.id)}].id: duplicate id (ids must be unique)",
                                field="id")
        seen.add(rec.id)


def text_field(field: str, value: object) -> str:
    if type(value) is not str or not value:
        raise Bad(field, "must be a non-empty string")
    if has_lone_surrogate(value):
        raise Bad(field, NOT_UNICODE)
    return value


def free_text_field(field: str, value: object) -> str:
    if type(value) is not str:
        raise Bad(field, "must be a string")
    if has_lone_surrogate(value):
        raise Bad(field, NOT_UNICODE)
    return value


# A lone surrogate decodes from "\ud800" in JSON but cannot be written as UTF-8.
NOT_UNICODE = "holds a lone surrogate, which is not a character (not valid Unicode)"


def count_field(field: str, value: object, limit: int) -> int:
    if type(value) is not int or value < 0:
        raise Bad(field, "must be an integer >= 0")
    if value > limit:
        raise Bad(field, f"must be at most {limit} (the matcher's limit)")
    return value


def boolean_field(field: str, value: object) -> bool:
    if type(value) is not bool:
        raise Bad(field, "must be true or false")
    return value


def service_token(value: object) -> bool:
    return type(value) is str and SERVICE_RE.match(value) is not None


def token_list(field: str, value: object, allowed, what: str) -> tuple[str, ...]:
    """Return a list of tokens as a tuple; `allowed` is a frozenset or a predicate."""
    if type(value) is list:
        try:
            fine = (allowed.issuperset(value) if isinstance(allowed, frozenset)
                    else all(allowed(item) for item in value))
        except TypeError:  # an unhashable item, such as a list or an object
            fine = False
        if fine:
            # Repeats carry no meaning in these set-like lists, so keep the first of each.
            return tuple(dict.fromkeys(value))
        for item in value:
            ok = type(item) is str and (item in allowed if isinstance(allowed, frozenset)
                                        else allowed(item))
            if not ok:
                raise Bad(field, f"must be a list of {what}; {shown_value(item)} is not one")
    raise Bad(field, f"must be a list of {what}")


SLOT_SET = frozenset(SLOT_BIT)
LAT_LON = frozenset(("lat", "lon"))
GENDER_SET = frozenset(GENDERS)
SLOTS_WHAT = "slots of the form <mon..sun>_<am|pm|eve>"
LANGUAGES_WHAT = "ISO 639-1 codes (two lowercase letters)"


def location_field(value: object) -> tuple[float, float]:
    if type(value) is not dict:
        raise Bad("location", "must be an object with lat and lon")
    if value.keys() != LAT_LON:
        try:
            check_keys(value, ("lat", "lon"))
        except Bad as bad:
            raise Bad(f"location.{bad.field}", bad.message) from None
    lat, lon = value["lat"], value["lon"]
    # NaN fails both comparisons, so it is rejected with the out-of-range message.
    if type(lat) not in (int, float) or not -90.0 <= lat <= 90.0:
        raise Bad("location.lat", "must be a number between -90 and 90")
    if type(lon) not in (int, float) or not -180.0 <= lon <= 180.0:
        raise Bad("location.lon", "must be a number between -180 and 180")
    return float(lat), float(lon)


