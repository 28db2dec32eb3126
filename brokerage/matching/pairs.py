"""Find every feasible (demand line, supplier) pair fast: a KD-tree join plus vectorised filters.

For each service, vetted suppliers offering it are joined to the demand lines asking for it by
KD-trees over 3-D unit vectors, where a travel radius becomes a chord length; suppliers go in
bands of similar radius so that one distance query per band wastes few candidates. The remaining
hard constraints (slots, languages, gender, rate) are bitmask and array tests. Pairs close to
a radius are re-measured with `geo.haversine_km`, so this agrees exactly with `can_serve`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from brokerage.geo import EARTH_RADIUS_KM, haversine_km
from brokerage.matching.instance import Instance
from brokerage.matching.rules import DISTANCE_TOLERANCE_KM
from brokerage.matching.vocabulary import KINDS, SLOT_BIT

GENDER_CODE = {None: 0, "female": 1, "male": 2}
# Pairs this close to the radius are re-measured with the scalar formula used by can_serve.
_BORDERLINE_KM = 1e-6
# Suppliers are KD-joined in bands of radius this wide (km), to bound wasted candidates.
_BAND_KM = 0.5


@dataclass(frozen=True)
class Tables:
    """Column arrays of an instance's demand lines and suppliers, in the order of the instance (id order, as `solver.build_network` sorts it)."""

    d_lat: np.ndarray
    d_lon: np.ndarray
    d_service: np.ndarray  # index into `services`
    d_hours: np.ndarray
    d_max_rate: np.ndarray
    d_gender: np.ndarray  # GENDER_CODE
    d_lang_required: np.ndarray
    d_lang: np.ndarray  # (lines, words) bitmask over `languages`
    d_slots: np.ndarray  # bitmask over vocabulary.SLOTS
    d_cluster: np.ndarray  # index into sorted distinct cluster ids
    d_current: np.ndarray  # supplier index, or -1 for none or an unknown id
    s_lat: np.ndarray
    s_lon: np.ndarray
    s_radius: np.ndarray
    s_rate: np.ndarray
    s_capacity: np.ndarray
    s_vetted: np.ndarray
    s_genders: np.ndarray  # bit 0 female, bit 1 male
    s_lang: np.ndarray
    s_slots: np.ndarray
    s_kind: np.ndarray  # index into vocabulary.KINDS
    s_living_wage: np.ndarray
    s_ecc: np.ndarray
    s_services: tuple[tuple[int, ...], ...]
    services: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Pairs:
    """Feasible pairs sorted by (demand, supplier), and how each line's candidates thinned out.

    The funnel counts, per demand line, the vetted suppliers offering its service that are
    within reach, then of those the ones also free at a needed time, then also speaking a
    required language, then also sending an acceptable gender, then also within the rate cap.
    """

    demand: np.ndarray
    supply: np.ndarray
    distance_km: np.ndarray
    n_reach: np.ndarray
    n_slots: np.ndarray
    n_language: np.ndarray
    n_gender: np.ndarray
    n_feasible: np.ndarray
    cheapest_over_cap: np.ndarray  # lowest rate among those stopped only by the cap, or -1

    def __len__(self) -> int:
        return len(self.demand)


def build_tables(instance: Instance) -> Tables:
    """Turn an instance into column arrays for vectorised rules."""
    demand, supply = instance.demand, instance.supply
    nd, ns = len(demand), len(supply)
    services = tuple(sorted({d.service for d in demand} | {x for s in supply for x in s.services}))
    service_index = {name: i for i, name in enumerate(services)}
    languages = tuple(sorted({c for d in demand for c in d.languages}
                             | {c for s in supply for c in s.languages}))
    words = max(1, math.ceil(len(languages) / 64))
    lang_index = {code: i for i, code in enumerate(languages)}
    clusters = sorted({d.cluster for d in demand})
    cluster_index = {c: i for i, c in enumerate(clusters)}
    supply_index = {s.id: i for i, s in enumerate(supply)}

    def lang_masks(records) -> np.ndarray:
        counts = np.fromiter((len(r.languages) for r in records), np.int64, len(records))
        codes = np.fromiter((lang_index[c] for r in records for c in r.languages), np.int64,
                            int(counts.sum()))
        rows = np.repeat(np.arange(len(records)), counts)
        masks = np.zeros((len(records), words), dtype=np.uint64)
        bits = np.left_shift(np.uint64(1), (codes % 64).astype(np.uint64))
        np.bitwise_or.at(masks, (rows, codes // 64), bits)
        return masks

    slot_masks: dict[tuple[str, ...], int] = {}

    def slot_mask(slots: tuple[str, ...]) -> int:
        # Many lines share a weekly pattern, so each distinct pattern is summed once.
        mask = slot_masks.get(slots)
        if mask is None:
            mask = slot_masks[slots] = sum(SLOT_BIT[s] for s in slots)
        return mask

    kind_index = {k: i for i, k in enumerate(KINDS)}
    return Tables(
        d_lat=np.fromiter((d.lat for d in demand), np.float64, nd),
        d_lon=np.fromiter((d.lon for d in demand), np.float64, nd),
        d_service=np.fromiter((service_index[d.service] for d in demand), np.int32, nd),
        d_hours=np.fromiter((d.hours for d in demand), np.int64, nd),
        d_max_rate=np.fromiter((d.max_rate_pence for d in demand), np.int64, nd),
        d_gender=np.fromiter((GENDER_CODE[d.carer_gender] for d in demand), np.int8, nd),
        d_lang_required=np.fromiter((d.language_required for d in demand), np.bool_, nd),
        d_lang=lang_masks(demand),
        d_slots=np.fromiter((slot_mask(d.slots) for d in demand), np.int32, nd),
        d_cluster=np.fromiter((cluster_index[d.cluster] for d in demand), np.int64, nd),
        d_current=np.fromiter((supply_index.get(d.current_supplier, -1) for d in demand),
                              np.int64, nd),
        s_lat=np.fromiter((s.lat for s in supply), np.float64, ns),
        s_lon=np.fromiter((s.lon for s in supply), np.float64, ns),
        s_radius=np.fromiter((s.radius_km for s in supply), np.float64, ns),
        s_rate=np.fromiter((s.rate_pence for s in supply), np.int64, ns),
        s_capacity=np.fromiter((s.capacity_hours for s in supply), np.int64, ns),
        s_vetted=np.fromiter((s.vetted for s in supply), np.bool_, ns),
        s_genders=np.fromiter(((("female" in s.genders) | (("male" in s.genders) << 1))
                               for s in supply), np.int8, ns),
        s_lang=lang_masks(supply),
        s_slots=np.fromiter((slot_mask(s.slots) for s in supply), np.int32, ns),
        s_kind=np.fromiter((kind_index[s.kind] for s in supply), np.int8, ns),
        s_living_wage=np.fromiter((s.living_wage for s in supply), np.bool_, ns),
        s_ecc=np.fromiter((s.ethical_care_charter for s in supply), np.bool_, ns),
        s_services=tuple(tuple(service_index[x] for x in s.services) for s in supply),
        services=services,
        languages=languages,
    )


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Return points on the unit sphere for latitudes and longitudes in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_for_km(km: np.ndarray) -> np.ndarray:
    """Return the straight-line distance on the unit sphere for great-circle distances in km."""
    angle = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, math.pi)
    return 2.0 * np.sin(angle / 2.0)


def km_for_chord(chord: np.ndarray) -> np.ndarray:
    """Return great-circle distances in km for chord lengths on the unit sphere."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.asarray(chord) / 2.0))


def feasible_pairs(instance: Instance, tables: Tables | None = None) -> Pairs:
    """Return every pair meeting all hard constraints, with each line's candidate funnel."""
    t = tables if tables is not None else build_tables(instance)
    nd = len(t.d_hours)
    di, si, dist = reach_pairs(instance, t)
    slots_ok = (t.d_slots[di] & t.s_slots[si]) != 0
    lang_ok, gender_ok, rate_ok = pair_rules(t, di, si)

    stage_slots = slots_ok
    stage_lang = stage_slots & lang_ok
    stage_gender = stage_lang & gender_ok
    feasible = stage_gender & rate_ok

    no_rate = np.iinfo(np.int64).max
    over_cap = np.full(nd, no_rate, dtype=np.int64)
    blocked = stage_gender & ~rate_ok
    np.minimum.at(over_cap, di[blocked], t.s_rate[si[blocked]])
    over_cap[over_cap == no_rate] = -1

    fd, fs, fdist = di[feasible], si[feasible], dist[feasible]
    order = _order_by_line_then_supplier(fd, fs, nd, len(t.s_rate))
    return Pairs(
        demand=fd[order],
        supply=fs[order],
        distance_km=fdist[order],
        n_reach=np.bincount(di, minlength=nd),
        n_slots=np.bincount(di[stage_slots], minlength=nd),
        n_language=np.bincount(di[stage_lang], minlength=nd),
        n_gender=np.bincount(di[stage_gender], minlength=nd),
        n_feasible=np.bincount(fd, minlength=nd),
        cheapest_over_cap=over_cap,
    )


def reach_pairs(instance: Instance, t: Tables, lines: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (line, supplier, km) for every vetted supplier offering a line's service within its radius (of `lines` only, if given)."""
    di, si, chord = _reach_candidates(t, lines)
    dist = km_for_chord(chord)
    limit = t.s_radius[si] + DISTANCE_TOLERANCE_KM
    reach = dist <= limit
    # The chord is exact up to rounding; re-measure the few pairs where rounding could matter.
    for k in np.flatnonzero(np.abs(dist - limit) <= _BORDERLINE_KM):
        d, s = instance.demand[di[k]], instance.supply[si[k]]
        reach[k] = haversine_km(s.lat, s.lon, d.lat, d.lon) <= limit[k]
    return di[reach], si[reach], dist[reach]


def pair_rules(t: Tables, di: np.ndarray, si: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return, for pairs (di, si), whether the language, the carer's gender and the rate cap each allow the pair (three boolean arrays)."""
    if t.d_lang.shape[1] == 1:
        shared = (t.d_lang[di, 0] & t.s_lang[si, 0]) != 0
    else:
        shared = (t.d_lang[di] & t.s_lang[si]).any(axis=1)
    lang_ok = ~t.d_lang_required[di] | shared
    dg = t.d_gender[di]
    gender_ok = (dg == 0) | (((t.s_genders[si] >> np.maximum(dg - 1, 0)) & 1) != 0)
    rate_ok = t.s_rate[si] <= t.d_max_rate[di]
    return lang_ok, gender_ok, rate_ok


def _order_by_line_then_supplier(lines, suppliers, n_lines, n_suppliers) -> np.ndarray:
    """Return the permutation sorting distinct pairs by (line, supplier)."""
    # A sparse row-major matrix sorts by line in linear time and then sorts each short row,
    # several times faster than a general sort of millions of keys.
    index = csr_matrix((np.arange(len(lines)), (lines, suppliers)), shape=(n_lines, n_suppliers))
    index.sort_indices()
    return index.data


def _reach_candidates(t: Tables, lines: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (line, supplier, chord) for vetted suppliers offering the line's service nearby (of `lines` only, if given).

    Suppliers are joined per service and per band of similar radius, so one KD-tree distance
    query per band returns few pairs beyond each supplier's own radius.
    """
    ns = len(t.s_rate)
    d_xyz = unit_vectors(t.d_lat, t.d_lon)
    s_xyz = unit_vectors(t.s_lat, t.s_lon)
    # Slack on the chord keeps every pair that might be in reach; exact distances decide later.
    s_chord = chord_for_km(t.s_radius + _BORDERLINE_KM) * (1 + 1e-9) + 1e-12
    # A radius past half the Earth's circumference reaches everywhere; capping it keeps 1e308 km from overflowing the band.
    band = np.floor(np.minimum(t.s_radius, math.pi * EARTH_RADIUS_KM) / _BAND_KM).astype(np.int64)

    offer_service = np.fromiter(chain.from_iterable(t.s_services), np.int64,
                                sum(map(len, t.s_services)))
    offer_supply = np.repeat(np.arange(ns), [len(x) for x in t.s_services])
    keep = t.s_vetted[offer_supply]
    offer_service, offer_supply = offer_service[keep], offer_supply[keep]
    # Group offers by (service, radius band), in a fixed order.
    order = np.lexsort((offer_supply, band[offer_supply], offer_service))
    offer_service, offer_supply = offer_service[order], offer_supply[order]
    offer_band = band[offer_supply]

    wanted = np.arange(len(t.d_service)) if lines is None else np.asarray(lines, dtype=np.int64)
    demand_order = wanted[np.argsort(t.d_service[wanted], kind="stable")]
    bounds = np.searchsorted(t.d_service[demand_order], np.arange(len(t.services) + 1))
    cand_d, cand_s, cand_c = [], [], []
    group_key = offer_service * (int(band.max(initial=0)) + 1) + offer_band
    starts = np.flatnonzero(np.r_[True, group_key[1:] != group_key[:-1]]) if len(group_key) else []
    ends = np.r_[starts[1:], len(group_key)] if len(group_key) else []
    trees: dict[int, tuple[np.ndarray, cKDTree]] = {}
    for a, b in zip(starts, ends):
        code = int(offer_service[a])
        if code not in trees:
            lines = demand_order[bounds[code]:bounds[code + 1]]
            trees[code] = (lines, cKDTree(d_xyz[lines]) if len(lines) else None)
        lines, line_tree = trees[code]
        if line_tree is None:
            continue
        sups = offer_supply[a:b]
        sup_tree = cKDTree(s_xyz[sups])
        found = sup_tree.sparse_distance_matrix(line_tree, float(s_chord[sups].max()),
                                                output_type="ndarray")
        s_local, d_local, chord = found["i"], found["j"], found["v"]
        near = chord <= s_chord[sups[s_local]]
        cand_s.append(sups[s_local[near]])
        cand_d.append(lines[d_local[near]])
        cand_c.append(chord[near])
    if not cand_d:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float64)
    return (np.concatenate(cand_d).astype(np.int64), np.concatenate(cand_s).astype(np.int64),
            np.concatenate(cand_c))
