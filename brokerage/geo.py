"""Distance on the Earth: the one haversine, for groups near a holder and for carers within reach.

A bottom-layer module with no imports from the project, so the pure matching engine and the
clusters rules can both use it.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in km between two WGS84 points (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2) - math.radians(lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    # Rounding can push h a hair above its true maximum of 1 for antipodes; clamp it.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
