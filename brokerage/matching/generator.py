"""Make synthetic matching instances with English geography, deterministic by seed.

Demand lines come in clusters of 3 to 8 neighbours around town neighbourhoods; suppliers sit
around the same towns. Each area has its own mix of community languages, so language rules
bite where they would in life. About a third of lines already have a carer (`current_supplier`)
who could still serve them, so continuity matters.

Format 2 (`format=2`, docs/matching-format-2.md) is drawn as format 1 and then given hours per
time of day from a second generator, so format 1 stays the same for the same seed: each line's
hours are spread over its times of day at most four hours a visit (adding times when it has too
few, keeping some when it has more times than hours), and each supplier's hours over the times it
works. Personal assistants and micro-providers are people with a cap on their week; about half
the agencies have no weekly cap beyond their rota.
"""

from __future__ import annotations

import numpy as np

from brokerage.matching.instance import INSTANCE_FORMAT, INSTANCE_FORMAT_2, parse_instance
from brokerage.matching.vocabulary import KINDS, SERVICES, SLOTS

# (name, lat, lon, population in thousands, {language: share of residents speaking it first})
AREAS = (
    ("Tower Hamlets", 51.515, -0.040, 310, {"bn": 0.30, "so": 0.05}),
    ("Newham", 51.525, 0.030, 350, {"bn": 0.10, "ur": 0.10, "pa": 0.05, "gu": 0.05, "lt": 0.03}),
    ("Brent", 51.560, -0.280, 340, {"gu": 0.12, "so": 0.05, "ar": 0.04, "pl": 0.04, "ro": 0.04}),
    ("Ealing", 51.510, -0.370, 370, {"pa": 0.18, "ur": 0.05, "pl": 0.06, "so": 0.04}),
    ("Haringey", 51.590, -0.110, 260, {"tr": 0.10, "pl": 0.04, "so": 0.03}),
    ("Hackney", 51.545, -0.055, 260, {"tr": 0.08, "yo": 0.03}),
    ("Lambeth", 51.460, -0.120, 320, {"pt": 0.06, "es": 0.04, "yo": 0.03}),
    ("Southwark", 51.475, -0.070, 310, {"yo": 0.06, "es": 0.04, "ig": 0.03}),
    ("Croydon", 51.370, -0.100, 390, {"ta": 0.05, "ur": 0.03}),
    ("Barnet", 51.620, -0.200, 390, {"fa": 0.04, "ar": 0.03, "he": 0.02}),
    ("Harrow", 51.580, -0.340, 260, {"gu": 0.15, "ta": 0.05}),
    ("Westminster", 51.500, -0.140, 200, {"ar": 0.06}),
    ("Enfield", 51.650, -0.080, 330, {"tr": 0.08, "el": 0.03}),
    ("Redbridge", 51.570, 0.080, 310, {"ur": 0.08, "pa": 0.05, "bn": 0.04}),
    ("Hounslow", 51.470, -0.360, 290, {"pa": 0.10, "pl": 0.04}),
    ("Birmingham", 52.480, -1.900, 1140, {"ur": 0.12, "pa": 0.06, "bn": 0.03, "so": 0.02,
                                          "ar": 0.02, "pl": 0.02}),
    ("Sandwell", 52.510, -2.010, 340, {"pa": 0.06, "ur": 0.03}),
    ("Wolverhampton", 52.590, -2.130, 260, {"pa": 0.08, "pl": 0.02}),
    ("Coventry", 52.410, -1.510, 340, {"pa": 0.05, "pl": 0.03, "ar": 0.02}),
    ("Leicester", 52.636, -1.130, 370, {"gu": 0.16, "pa": 0.05, "pl": 0.03, "so": 0.03}),
    ("Nottingham", 52.950, -1.150, 320, {"ur": 0.03, "pl": 0.03, "ar": 0.02}),
    ("Derby", 52.920, -1.470, 260, {"pa": 0.04, "ur": 0.03, "pl": 0.03}),
    ("Stoke-on-Trent", 53.000, -2.180, 260, {"ur": 0.02, "pl": 0.02}),
    ("Manchester", 53.480, -2.240, 550, {"ur": 0.06, "ar": 0.03, "zh": 0.02, "pl": 0.02,
                                         "so": 0.02}),
    ("Oldham", 53.540, -2.120, 240, {"bn": 0.06, "ur": 0.05}),
    ("Bolton", 53.580, -2.430, 290, {"gu": 0.05, "ur": 0.03}),
    ("Blackburn", 53.750, -2.480, 155, {"gu": 0.10, "ur": 0.06}),
    ("Preston", 53.760, -2.700, 150, {"gu": 0.05, "pl": 0.02}),
    ("Liverpool", 53.410, -2.980, 490, {"so": 0.02, "ar": 0.02, "zh": 0.02, "pl": 0.02}),
    ("Bradford", 53.795, -1.760, 550, {"ur": 0.15, "pa": 0.06, "pl": 0.03}),
    ("Leeds", 53.800, -1.550, 800, {"ur": 0.03, "pl": 0.03, "ar": 0.02}),
    ("Sheffield", 53.380, -1.470, 560, {"ar": 0.03, "ur": 0.02, "so": 0.02}),
    ("Hull", 53.740, -0.330, 260, {"pl": 0.04, "ku": 0.02}),
    ("Newcastle", 54.980, -1.610, 300, {"ar": 0.02, "bn": 0.02, "zh": 0.02}),
    ("Sunderland", 54.910, -1.380, 275, {}),
    ("Middlesbrough", 54.570, -1.230, 145, {"ur": 0.02}),
    ("York", 53.960, -1.080, 200, {"pl": 0.01}),
    ("Bristol", 51.450, -2.590, 470, {"so": 0.05, "pl": 0.02}),
    ("Plymouth", 50.370, -4.140, 260, {}),
    ("Exeter", 50.720, -3.530, 130, {}),
    ("Bournemouth", 50.720, -1.880, 400, {"pl": 0.01}),
    ("Southampton", 50.900, -1.400, 250, {"pl": 0.04, "pa": 0.02}),
    ("Portsmouth", 50.800, -1.090, 210, {"bn": 0.02}),
    ("Brighton", 50.820, -0.140, 280, {"ar": 0.01}),
    ("Reading", 51.450, -0.970, 175, {"ur": 0.03, "pl": 0.03}),
    ("Slough", 51.510, -0.590, 160, {"pa": 0.10, "ur": 0.06, "pl": 0.06}),
    ("Oxford", 51.750, -1.260, 160, {"ur": 0.01}),
    ("Cambridge", 52.200, 0.120, 150, {"zh": 0.02}),
    ("Peterborough", 52.570, -0.240, 215, {"pl": 0.06, "lt": 0.04, "ur": 0.05}),
    ("Luton", 51.880, -0.420, 225, {"ur": 0.10, "bn": 0.05, "pl": 0.03}),
    ("Milton Keynes", 52.040, -0.760, 290, {"pl": 0.02}),
    ("Northampton", 52.240, -0.900, 230, {"pl": 0.03, "ro": 0.02}),
    ("Norwich", 52.630, 1.300, 145, {"pl": 0.01}),
    ("Ipswich", 52.060, 1.160, 140, {"pl": 0.02}),
    ("Boston", 52.980, -0.020, 70, {"pl": 0.08, "lt": 0.05, "lv": 0.03}),
    ("Lincoln", 53.230, -0.540, 100, {"pl": 0.02}),
    ("Gloucester", 51.860, -2.240, 130, {"gu": 0.01}),
    ("Swindon", 51.560, -1.780, 230, {"pl": 0.03, "ml": 0.01}),
    ("Blackpool", 53.810, -3.050, 140, {}),
    ("Burnley", 53.790, -2.240, 90, {"ur": 0.05, "bn": 0.01}),
    ("Accrington", 53.750, -2.360, 45, {"ur": 0.04}),
    ("Chorley", 53.650, -2.630, 60, {}),
    ("Lancaster", 54.050, -2.800, 50, {"zh": 0.01}),
    ("Skelmersdale", 53.550, -2.780, 40, {}),
    ("Carlisle", 54.890, -2.930, 110, {}),
    ("Medway", 51.380, 0.520, 280, {"pa": 0.02}),
    ("Chelmsford", 51.740, 0.470, 180, {}),
    ("Colchester", 51.890, 0.900, 190, {}),
    ("Southend", 51.540, 0.710, 180, {}),
    ("Crawley", 51.110, -0.190, 120, {"ur": 0.02, "ta": 0.02}),
    ("Watford", 51.660, -0.400, 100, {"ur": 0.03}),
    ("Bedford", 52.140, -0.470, 180, {"pa": 0.03, "it": 0.02}),
    ("Huddersfield", 53.650, -1.780, 160, {"ur": 0.05}),
    ("Doncaster", 53.520, -1.130, 310, {"pl": 0.02}),
    ("Rotherham", 53.430, -1.360, 265, {"ur": 0.03, "sk": 0.01}),
    ("Warrington", 53.390, -2.590, 210, {}),
    ("Telford", 52.680, -2.450, 185, {"pa": 0.01}),
    ("Hereford", 52.060, -2.720, 60, {}),
    ("Truro", 50.260, -5.050, 20, {}),
    ("Durham", 54.780, -1.570, 50, {}),
    ("Kendal", 54.330, -2.750, 30, {}),
)

LONDON = frozenset(a[0] for a in AREAS[:15])
DENSE_RADIUS = 0.6

SCALES = {
    # scale: (demand lines, suppliers, areas used; None means all of England)
    "S": (300, 400, ("Leicester",)),
    "M": (3000, 4000, ("Preston", "Blackburn", "Blackpool", "Burnley", "Accrington", "Chorley",
                       "Lancaster", "Skelmersdale")),
    "L": (120_000, 18_000, None),
}

SERVICE_SHARES = np.array([0.30, 0.22, 0.12, 0.08, 0.08, 0.10, 0.04, 0.06])  # SERVICES order
KIND_SHARES = {  # in KINDS order: pa, micro_provider, coop, cic, charity, private
    "S": (0.55, 0.15, 0.05, 0.05, 0.08, 0.12),
    "M": (0.55, 0.15, 0.05, 0.05, 0.08, 0.12),
    "L": (0.35, 0.15, 0.08, 0.07, 0.10, 0.25),
}
# Per kind, in KINDS order: weekly capacity, hourly rate in pence, travel radius in km, and the
# chance of paying the Living Wage.
CAPACITY = np.array([(10, 30), (20, 60), (60, 250), (40, 150), (40, 150), (80, 300)])
RATE = np.array([(1800, 2400), (2000, 2600), (2100, 2700), (2100, 2700), (2000, 2700),
                 (2300, 3000)])
RADIUS = np.array([(2, 5), (2, 6), (3, 8), (3, 8), (2, 7), (3, 10)])
GOOD_EMPLOYER = np.array([0.5, 0.6, 0.95, 0.75, 0.7, 0.35])
SMALL_KINDS = np.array([True, True, False, False, False, False])
KM_PER_DEGREE = 111.2
# Evenings are rarer and weekdays commoner, for people and for carers alike.
SLOT_WEIGHT = np.array([1.0, 0.9, 0.5] * 7) * np.array([2.0] * 15 + [1.0] * 6)
WEEKDAY_DAYTIME = [SLOTS.index(f"{d}_{p}") for d in ("mon", "tue", "wed", "thu", "fri")
                   for p in ("am", "pm")]
EVERY_MORNING = [SLOTS.index(f"{d}_am") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
# Format 2: the most hours of care one visit gives in one time of day (a morning, say).
VISIT_MAX = 4


def generate(scale: str, seed: int, format: int = 1) -> dict:  # noqa: A002 (the format's own word)
    """Return a synthetic instance in format 1 or 2 for scale S, M or L, the same for the same seed."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    if format not in (1, 2):
        raise ValueError("format must be 1 or 2")
    n_demand, n_supply, names = SCALES[scale]
    rng = np.random.default_rng([seed, ord(scale)])
    areas = [a for a in AREAS if names is None or a[0] in names]
    weight = np.array([a[3] for a in areas], dtype=float)
    weight /= weight.sum()
    spread_km = 2.0 + 0.25 * np.sqrt([a[3] for a in areas])
    languages = sorted({code for a in areas for code in a[4]})
    # share[a, j]: share of area a's residents whose first language is languages[j].
    share = np.array([[a[4].get(code, 0.0) for code in languages] for a in areas]).reshape(
        len(areas), len(languages))

    # Neighbourhoods give each town its own pockets of demand and of small suppliers.
    nb_area = np.repeat(np.arange(len(areas)), [max(3, a[3] // 25) for a in areas])
    nb_lat, nb_lon = _scatter(rng, np.array([areas[i][1] for i in nb_area]),
                              np.array([areas[i][2] for i in nb_area]), spread_km[nb_area])
    town = (np.array([a[1] for a in areas]), np.array([a[2] for a in areas]), spread_km)

    demand = _demand(rng, n_demand, weight, share, languages, (nb_area, nb_lat, nb_lon))
    dense = np.array([a[0] in LONDON for a in areas])
    supply = _supply(rng, n_supply, scale, weight, share, languages, town,
                     (nb_area, nb_lat, nb_lon), dense)
    instance = {"format": INSTANCE_FORMAT, "demand": demand, "supply": supply}
    if format == 2:
        # Its own generator, so that format 1 draws exactly what it always drew.
        _to_format_2(np.random.default_rng([seed, ord(scale), 2]), instance)
    _add_current_suppliers(rng, instance)
    return instance


def _scatter(rng, lat, lon, sigma_km):
    lat = np.asarray(lat, dtype=float)
    # Towns have edges: cutting the bell curve at two spreads keeps distant towns apart.
    north = np.clip(rng.normal(0.0, 1.0, lat.shape), -2.0, 2.0)
    east = np.clip(rng.normal(0.0, 1.0, lat.shape), -2.0, 2.0)
    dlat = north * sigma_km / KM_PER_DEGREE
    dlon = east * sigma_km / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    return lat + dlat, np.asarray(lon, dtype=float) + dlon


def _choose_rows(rng, probs: np.ndarray) -> np.ndarray:
    """Draw one column index per row of a row-stochastic matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _random_slots(rng, n: int, low: int, high: int) -> np.ndarray:
    """Return an (n, 21) boolean matrix with low..high slots per row, drawn by SLOT_WEIGHT."""
    # Gumbel top-k: the k largest of log-weight plus Gumbel noise are a weighted draw of k.
    keys = np.log(SLOT_WEIGHT)[None, :] + rng.gumbel(size=(n, len(SLOTS)))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    counts = rng.integers(low, high + 1, size=n)
    return rank < counts[:, None]


def _demand(rng, n_demand, weight, share, languages, hoods) -> list[dict]:
    nb_area, nb_lat, nb_lon = hoods
    sizes = rng.integers(3, 9, size=n_demand // 3 + 1)
    cut = int(np.searchsorted(np.cumsum(sizes), n_demand))
    sizes = sizes[: cut + 1]
    sizes[-1] -= int(sizes.sum()) - n_demand
    if sizes[-1] < 3 and len(sizes) > 1:
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    n_clusters = len(sizes)
    cluster_of = np.repeat(np.arange(n_clusters), sizes)

    nb_weight = weight[nb_area] / np.bincount(nb_area)[nb_area]
    cluster_nb = rng.choice(len(nb_area), size=n_clusters, p=nb_weight / nb_weight.sum())
    c_lat, c_lon = _scatter(rng, nb_lat[cluster_nb], nb_lon[cluster_nb], 1.0)
    lat, lon = _scatter(rng, c_lat[cluster_of], c_lon[cluster_of], 0.4)
    c_area = nb_area[cluster_nb]

    # A cluster is often a community sharing a first language other than English.
    c_share = share[c_area]
    has_community = (c_share.sum(axis=1) > 0) & (
        rng.random(n_clusters) < np.minimum(0.9, 2.5 * c_share.sum(axis=1)))
    community = _choose_rows(rng, np.where(has_community[:, None], c_share, 1.0)) if len(
        languages) else np.zeros(n_clusters, dtype=int)
    main_service = rng.choice(len(SERVICES), size=n_clusters, p=SERVICE_SHARES)

    n = n_demand
    own_service = rng.choice(len(SERVICES), size=n, p=SERVICE_SHARES)
    service = np.where(rng.random(n) < 0.6, main_service[cluster_of], own_service)
    speaks_community = has_community[cluster_of] & (rng.random(n) < 0.8)
    also_english = rng.random(n) >= 0.6
    required = np.where(speaks_community, rng.random(n) < 0.6, rng.random(n) < 0.05)
    no_language = ~speaks_community & (rng.random(n) < 0.1)
    u = rng.random(n)
    gender = np.where(u < 0.35, 1, np.where(u < 0.43, 2, 0))
    pattern = rng.random(n)
    random_slots = _random_slots(rng, n, 1, 5)
    hours = np.clip(np.rint(rng.lognormal(np.log(10), 0.6, size=n)), 2, 50).astype(int)
    max_rate = rng.integers(22, 33, size=n) * 100
    lat, lon = np.round(lat, 5), np.round(lon, 5)

    width = max(4, len(str(n_clusters)))
    dwidth = max(4, len(str(n_demand)))
    gender_names = (None, "female", "male")
    lines = []
    for i in range(n):
        if speaks_community[i]:
            code = languages[community[cluster_of[i]]]
            langs = [code, "en"] if also_english[i] else [code]
        elif no_language[i]:
            langs = []
        else:
            langs = ["en"]
        if pattern[i] < 0.25:
            slots = [SLOTS[j] for j in EVERY_MORNING]
        elif pattern[i] < 0.45:
            slots = [SLOTS[j] for j in WEEKDAY_DAYTIME]
        else:
            slots = [SLOTS[j] for j in np.flatnonzero(random_slots[i])]
        lines.append({
            "id": f"d-{i + 1:0{dwidth}d}",
            "cluster": f"k-{cluster_of[i] + 1:0{width}d}",
            "service": SERVICES[service[i]],
            "hours": int(hours[i]),
            "slots": slots,
            "languages": langs,
            "language_required": bool(required[i]) and bool(langs),
            "carer_gender": gender_names[gender[i]],
            "location": {"lat": float(lat[i]), "lon": float(lon[i])},
            "max_rate_pence": int(max_rate[i]),
            "current_supplier": None,
        })
    return lines


def _supply(rng, n_supply, scale, weight, share, languages, town, hoods, dense) -> list[dict]:
    nb_area, nb_lat, nb_lon = hoods
    town_lat, town_lon, spread_km = town
    n = n_supply
    kind = rng.choice(len(KINDS), size=n, p=KIND_SHARES[scale])
    small = SMALL_KINDS[kind]
    area = rng.choice(len(weight), size=n, p=weight)
    # Small suppliers live in a neighbourhood of their town; agencies anywhere in it.
    first_nb = np.searchsorted(nb_area, area)
    nb = first_nb + (rng.random(n) * np.bincount(nb_area)[area]).astype(int)
    centre_lat = np.where(small, nb_lat[nb], town_lat[area])
    centre_lon = np.where(small, nb_lon[nb], town_lon[area])
    lat, lon = _scatter(rng, centre_lat, centre_lon, np.where(small, 1.2, spread_km[area]))
    lat, lon = np.round(lat, 5), np.round(lon, 5)

    n_services = np.where(small, rng.integers(1, 3, size=n), rng.integers(2, 5, size=n))
    service_keys = np.log(SERVICE_SHARES)[None, :] + rng.gumbel(size=(n, len(SERVICES)))
    service_rank = np.argsort(np.argsort(-service_keys, axis=1), axis=1)
    offers = service_rank < n_services[:, None]

    english = rng.random(n) < 0.97
    boost = np.where(small, 3.0, 6.0)[:, None]
    speaks = rng.random((n, len(languages))) < np.minimum(0.9, boost * share[area])
    both = rng.random(n) < 0.85
    female_only = rng.random(n) < 0.75
    full_week = ~small & (rng.random(n) < 0.4)
    slots_small = _random_slots(rng, n, 4, 12)
    slots_big = _random_slots(rng, n, 10, 20)
    slots = np.where(full_week[:, None], True, np.where(small[:, None], slots_small, slots_big))

    capacity = rng.integers(CAPACITY[kind, 0], CAPACITY[kind, 1] + 1)
    radius = rng.integers(np.rint(2 * RADIUS[kind, 0]).astype(int),
                          np.rint(2 * RADIUS[kind, 1]).astype(int) + 1) / 2
    # Carers in dense inner cities travel by bus and on foot, so they cover less ground.
    radius = np.where(dense[area], np.maximum(1.5, np.round(radius * DENSE_RADIUS)), radius)
    rate = rng.integers(RATE[kind, 0] // 10, RATE[kind, 1] // 10 + 1) * 10
    good = GOOD_EMPLOYER[kind]
    living_wage = rng.random(n) < good
    ecc = rng.random(n) < good * 0.8
    vetted = rng.random(n) < 0.95

    width = max(4, len(str(n_supply)))
    suppliers = []
    for i in range(n):
        if small[i]:
            genders = ["female"] if female_only[i] else ["male"]
        else:
            genders = ["female", "male"] if both[i] else ["female"]
        suppliers.append({
            "id": f"s-{i + 1:0{width}d}",
            "kind": KINDS[kind[i]],
            "services": [SERVICES[j] for j in np.flatnonzero(offers[i])],
            "capacity_hours": int(capacity[i]),
            "slots": [SLOTS[j] for j in np.flatnonzero(slots[i])],
            "languages": (["en"] if english[i] else [])
            + [languages[j] for j in np.flatnonzero(speaks[i])],
            "genders": genders,
            "location": {"lat": float(lat[i]), "lon": float(lon[i])},
            "radius_km": float(radius[i]),
            "rate_pence": int(rate[i]),
            "living_wage": bool(living_wage[i]),
            "ethical_care_charter": bool(ecc[i]),
            "vetted": bool(vetted[i]),
        })
    return suppliers


def _add_current_suppliers(rng, instance: dict) -> None:
    # Imported here so that importing the generator stays light (pairs loads SciPy).
    from brokerage.matching.pairs import feasible_pairs

    parsed = parse_instance(instance)
    pairs = feasible_pairs(parsed)
    n = len(parsed.demand)
    starts = np.searchsorted(pairs.demand, np.arange(n + 1))
    count = np.diff(starts)
    u = rng.random(n)
    pick = starts[:-1] + (rng.random(n) * np.maximum(count, 1)).astype(int)
    stranger = rng.integers(len(parsed.supply), size=n) if parsed.supply else np.zeros(n, int)
    supply = instance["supply"]
    for i, line in enumerate(instance["demand"]):
        if u[i] < 0.35 and count[i]:
            line["current_supplier"] = supply[int(pairs.supply[pick[i]])]["id"]
        elif u[i] < 0.37 and supply:
            # Some carers can no longer serve a line: they moved, or the needs changed.
            line["current_supplier"] = supply[int(stranger[i])]["id"]


def _to_format_2(rng, instance: dict) -> None:
    """Give a format 1 instance (before its current suppliers) hours per slot, in place."""
    demand, supply = instance["demand"], instance["supply"]
    line_hours = _line_slot_hours(rng, np.array([d["hours"] for d in demand], dtype=np.int64),
                                  _slot_matrix([d["slots"] for d in demand]))
    supply_hours, capacity = _supplier_slot_hours(rng, supply)
    instance["format"] = INSTANCE_FORMAT_2
    instance["demand"] = [_with_slot_hours(d, line_hours[i], "service") for i, d in enumerate(demand)]
    instance["supply"] = [_with_slot_hours(s, supply_hours[j], "services") | {"capacity_hours": capacity[j]}
                          for j, s in enumerate(supply)]


def _slot_matrix(slot_lists) -> np.ndarray:
    rows = np.zeros((len(slot_lists), len(SLOTS)), dtype=bool)
    for i, slots in enumerate(slot_lists):
        rows[i, [SLOTS.index(s) for s in slots]] = True
    return rows


def _with_slot_hours(record: dict, hours_row: np.ndarray, after: str) -> dict:
    """Return a format 2 record: no `hours` or `slots`, and `slot_hours` just after the field `after`."""
    out = {}
    for key, value in record.items():
        if key not in ("hours", "slots"):
            out[key] = value
        if key == after:
            out["slot_hours"] = {SLOTS[b]: int(hours_row[b]) for b in np.flatnonzero(hours_row)}
    return out


def _ranks(keys: np.ndarray) -> np.ndarray:
    """Return each entry's rank in its row, 0 for the largest key."""
    return np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")


def _line_slot_hours(rng, hours: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Spread each line's weekly hours over its slots, 1 to VISIT_MAX hours in each."""
    n = len(hours)
    noise = rng.gumbel(size=(n, len(SLOTS)))
    # A line with more hours than its slots can hold gets more slots, at times of day it already
    # has (a morning person gets more mornings); one with more slots than hours keeps some.
    part_used = np.tile(chosen.reshape(n, 7, 3).any(axis=1), 7)
    keys = np.where(chosen, 100.0 + noise, np.log(SLOT_WEIGHT)[None, :] + noise + 5.0 * part_used)
    count = np.maximum(np.minimum(chosen.sum(axis=1), hours), -(-hours // VISIT_MAX))
    used = _ranks(keys) < count[:, None]
    # Even shares; the odd hours go to slots at random.
    extra = _ranks(np.where(used, rng.random((n, len(SLOTS))), -1.0)) < (hours % count)[:, None]
    return np.where(used, (hours // count)[:, None] + extra, 0)


def _supplier_slot_hours(rng, supply: list[dict]) -> tuple[np.ndarray, list]:
    """Return each supplier's hours per slot and its weekly cap (None for no cap)."""
    n = len(supply)
    works = _slot_matrix([s["slots"] for s in supply])
    kind = np.array([KINDS.index(s["kind"]) for s in supply], dtype=np.int64)
    week = np.array([s["capacity_hours"] for s in supply], dtype=np.int64)
    person = SMALL_KINDS[kind]
    capped = person | (rng.random(n) < 0.5)
    # A person works 2 to 4 hours a time of day; a micro-provider's few staff 3 to 8 between them.
    by_hand = np.where(kind[:, None] == KINDS.index("pa"), rng.integers(2, VISIT_MAX + 1, size=(n, len(SLOTS))),
                       rng.integers(3, 2 * VISIT_MAX + 1, size=(n, len(SLOTS))))
    # An agency's rota: its week spread by how busy each time is, with room to spare when capped.
    rota = np.rint(week * np.where(capped, rng.uniform(1.3, 1.8, size=n), 1.0)).astype(np.int64)
    weight = np.where(works, SLOT_WEIGHT[None, :], 0.0)
    raw = rota[:, None] * weight / np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
    share = np.floor(raw).astype(np.int64)
    share += _ranks(np.where(works, raw - share, -1.0)) < (rota - share.sum(axis=1))[:, None]
    hours = np.where(works, np.where(person[:, None], by_hand, np.maximum(share, 1)), 0)
    capacity = [int(min(week[j], hours[j].sum())) if capped[j] else None for j in range(n)]
    return hours, capacity
