"""Community wealth and the public report, as pure rules: no Flask, no SQL (docs/community-wealth.md).

- Which providers are local: the council's own postcode districts, and optionally a distance from their centre.
- The measures a provider counts towards (local, co-operative, CIC, charity, micro, Living Wage, Ethical Care Charter).
- A share of spend to one decimal, or none when there was no spend.
- Suppression for the public report: no figure about fewer than five people, and no sum that would give one away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np

from brokerage.geo import haversine_km
from brokerage.providers.rules import MICRO_STAFF

MIN_PEOPLE = 5  # the public report shows no figure about fewer people than this
SUPPRESSED = "[c]"  # the statistician's mark for a figure kept confidential, in tables and CSV
LOCAL_DISTANCE_MIN, LOCAL_DISTANCE_MAX = 0.5, 50.0  # km; the database holds the same bounds


# --- local providers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalRule:
    """A council's definition of local: its own postcode districts, or within `distance_km` of their centre."""

    districts: frozenset[str]
    centre: tuple[float, float] | None = None
    distance_km: float | None = None

    @property
    def uses_distance(self) -> bool:
        """Tell whether the distance part of the rule applies (a distance is set and the centre is known)."""
        return self.distance_km is not None and self.centre is not None


def district_key(text: str) -> str:
    """Return a postcode district as councils list it: capitals, no spaces."""
    return "".join((text or "").split()).upper()


def distance_from_centre(rule: LocalRule, *, lat: float, lon: float) -> float | None:
    """Return the distance in km from the centre of the council's districts, or None when the centre is unknown."""
    if rule.centre is None:
        return None
    return haversine_km(rule.centre[0], rule.centre[1], lat, lon)


def is_local(rule: LocalRule, *, district: str, lat: float, lon: float) -> bool:
    """Tell whether a provider is local: in one of the council's districts, or within the set distance of their centre."""
    if district_key(district) in rule.districts:
        return True
    if not rule.uses_distance:
        return False
    return distance_from_centre(rule, lat=lat, lon=lon) <= rule.distance_km


def centre_of(districts: Iterable[tuple[float, float, int]]) -> tuple[float, float] | None:
    """Return the centre of some districts, each given as (sum of latitudes, sum of longitudes, locations known there).

    Each district's centre is the mean of the locations known in it; the districts' centre is the mean of
    those, each district counting once however many people live there. None when no location is known.
    (A mean of latitudes and longitudes is exact enough over a council's few kilometres.)
    """
    centres = [(lat_sum / count, lon_sum / count) for lat_sum, lon_sum, count in districts if count > 0]
    if not centres:
        return None
    return sum(lat for lat, _ in centres) / len(centres), sum(lon for _, lon in centres) / len(centres)


# --- the measures --------------------------------------------------------------------------------

# (key, name in a sentence, heading): the order in which pages, charts and CSV files list them.
MEASURES = (
    ("local", "local providers", "Local providers"),
    ("coop", "co-operatives", "Co-operatives"),
    ("cic", "community interest companies", "Community interest companies"),
    ("charity", "charities", "Charities"),
    ("micro", "providers with 5 staff or fewer (personal assistants included)", "Providers with 5 staff or fewer"),  # key kept: CSV and JSON
    ("living_wage", "Living Wage employers", "Living Wage"),
    ("ethical_care", "Ethical Care Charter signatories", "Ethical Care Charter"),
)
MEASURE_KEYS = tuple(key for key, _, _ in MEASURES)
MEASURE_WORDS = {key: words for key, words, _ in MEASURES}
MEASURE_HEADINGS = {key: heading for key, _, heading in MEASURES}
KIND_MEASURES = {"coop": "coop", "cic": "cic", "charity": "charity"}  # provider kind -> the measure it is


@dataclass(frozen=True)
class ProviderFacts:
    """What carepool records about a provider today, as far as community wealth goes."""

    kind: str
    local: bool
    staff_count: int
    living_wage: bool
    ethical_care_charter: bool


def measures_of(facts: ProviderFacts) -> frozenset[str]:
    """Return every measure a provider's spend counts towards: each is its own share, so they may overlap."""
    found = set()
    if facts.local:
        found.add("local")
    if facts.kind in KIND_MEASURES:
        found.add(KIND_MEASURES[facts.kind])
    if facts.staff_count <= MICRO_STAFF:
        found.add("micro")
    if facts.living_wage:
        found.add("living_wage")
    if facts.ethical_care_charter:
        found.add("ethical_care")
    return frozenset(found)


def share_tenths(part: int, whole: int) -> int | None:
    """Return part as a share of whole in tenths of a percent, rounded half away from zero; None when whole is not above 0."""
    if whole <= 0:
        return None
    numerator = abs(part) * 1000
    tenths = (2 * numerator + whole) // (2 * whole)
    return tenths if part >= 0 else -tenths


def percent(tenths: int | None, *, none: str = "no spend") -> str:
    """Format a share in tenths of a percent as people read it ('42.5%'), or `none` when there is no share."""
    if tenths is None:
        return none
    sign = "−" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{tenth}%"


# --- suppression ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure a report could show: its pence, how many people it is about, and the atoms it adds up.

    `atoms` are the smallest groups the report's figures are made of (say, one kind of provider giving one
    service); a figure with atoms is the sum of them, which is how a reader could add and subtract figures.
    An unpublished figure is never shown (a remainder such as "not local"), but it still must not be
    possible to work out when it is about fewer than five people.
    """

    pence: int
    people: int
    atoms: frozenset[Hashable] = frozenset()
    published: bool = True


@dataclass(frozen=True)
class Sum:
    """Parts that add up to a total, as the report's reader knows they do (a quarter's spend by kind of provider)."""

    total: str
    parts: tuple[str, ...]


def is_small(people: int, threshold: int = MIN_PEOPLE) -> bool:
    """Tell whether a group is too small to publish a figure about: one to four people (none is no group)."""
    return 0 < people < threshold


def suppress(
    figures: Mapping[str, Figure], sums: Sequence[Sum] = (), *, atoms: Mapping[Hashable, int] | None = None, threshold: int = MIN_PEOPLE,
) -> frozenset[str]:
    """Return the keys of the published figures to hide, so no figure about 1-4 people can be read or worked out.

    Primary: a figure about fewer than `threshold` people is hidden. Secondary, repeated until nothing changes:
    - in a Sum whose total is shown, the hidden parts must not be one part alone, nor add up to a group that may
      be fewer than `threshold` people (the largest hidden part is the only sure size of their sum); otherwise the
      smallest shown part is hidden too (fewest people, then fewest pence), or the total when no part is left;
    - no hidden figure, and no atom (given with its people in `atoms`) about fewer than `threshold` people, may be
      an exact sum and difference of the figures shown; otherwise a shown figure it depends on is hidden.
    Finally each figure hidden only to protect others is shown again, largest first, when the rest stays safe
    without it. Figures about nobody (0 people) hide nothing and are shown.
    """
    hidden = {key for key, figure in figures.items() if not figure.published or is_small(figure.people, threshold)}
    guarded = {key for key, figure in figures.items() if (figure.published and key in hidden) or is_small(figure.people, threshold)}
    primary = set(hidden)
    small_atoms = [frozenset({atom}) for atom, people in sorted((atoms or {}).items(), key=repr) if is_small(people, threshold)]

    def problem(hidden: set[str], guarded: set[str]) -> str | None:
        return _sum_problem(figures, sums, hidden, guarded, threshold) or _difference_problem(figures, hidden, guarded, small_atoms)

    while (key := problem(hidden, guarded)) is not None:
        hidden.add(key)
        guarded.add(key)
    # Hiding one figure at a time can hide more than needed: show again, largest first, each figure hidden only to
    # protect others whose protection holds without it.
    for key in sorted(hidden - primary, key=_order(figures), reverse=True):
        if problem(hidden - {key}, guarded - {key}) is None:
            hidden.discard(key)
            guarded.discard(key)
    return frozenset(key for key in hidden if figures[key].published)


def _order(figures: Mapping[str, Figure]):
    return lambda key: (figures[key].people, abs(figures[key].pence), key)


def _sum_problem(figures, sums, hidden, guarded, threshold) -> str | None:
    """Return a figure to hide so that no Sum gives away a hidden part, or None when every Sum is safe."""
    for total in sums:
        if total.total in hidden:
            continue
        parts = [key for key in total.parts if figures[key].people > 0]
        hid = [key for key in parts if key in hidden]
        if not any(key in guarded for key in hid):
            continue
        if len(hid) >= 2 and max(figures[key].people for key in hid) >= threshold:
            continue
        shown = sorted((key for key in parts if key not in hidden), key=_order(figures))
        return shown[0] if shown else total.total
    return None


def _difference_problem(figures, hidden, guarded, small_atoms) -> str | None:
    """Return a shown figure to hide so that no guarded figure or small atom is a sum and difference of the shown ones."""
    shown = sorted((key for key, figure in figures.items() if key not in hidden and figure.atoms), key=_order(figures))
    targets = [figures[key].atoms for key in sorted(guarded) if figures[key].atoms] + small_atoms
    if not shown or not targets:
        return None
    index = {atom: number for number, atom in enumerate(sorted({a for key in shown for a in figures[key].atoms} | {a for t in targets for a in t}, key=repr))}
    vectors = {key: _vector(figures[key].atoms, index) for key in shown}
    basis = _row_space(list(vectors.values()))
    for target in targets:
        wanted = _vector(target, index)
        if not _in_span(basis, wanted):
            continue
        for candidate in shown:
            if not _in_span(_row_space([vectors[key] for key in shown if key != candidate]), wanted):
                return candidate
        return shown[0]
    return None


def _vector(atoms: frozenset, index: Mapping[Hashable, int]) -> np.ndarray:
    vector = np.zeros(len(index))
    for atom in atoms:
        vector[index[atom]] = 1.0
    return vector


def _row_space(vectors: list[np.ndarray]) -> np.ndarray | None:
    """Return an orthonormal basis of the space the vectors span (rows), or None for no vectors."""
    if not vectors:
        return None
    _, singular, rows = np.linalg.svd(np.vstack(vectors), full_matrices=False)
    rank = int((singular > 1e-9 * max(1.0, singular[0])).sum())
    return rows[:rank]


def _in_span(basis: np.ndarray | None, vector: np.ndarray) -> bool:
    """Tell whether a 0/1 vector is exactly a combination of the basis (to within rounding far below one atom)."""
    if basis is None or not len(basis):
        return not vector.any()
    rest = vector - basis.T @ (basis @ vector)
    return float(np.abs(rest).max()) < 1e-6

