"""Independent reference computations for checking the engine."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from brokerage.matching.instance import Instance
from brokerage.matching.rules import can_serve


def brute_force_pairs(instance: Instance) -> list[tuple[int, int]]:
    """Return every (line, supplier) index pair that can_serve accepts, by trying them all."""
    return [
        (i, j)
        for i, d in enumerate(instance.demand)
        for j, s in enumerate(instance.supply)
        if can_serve(d, s)
    ]


def reference_max_flow(instance: Instance) -> int:
    """Return the maximum coverable hours, computed with SciPy from brute-force pairs."""
    nd, ns = len(instance.demand), len(instance.supply)
    pairs = brute_force_pairs(instance)
    if not pairs:
        return 0
    tails, heads, caps = [], [], []
    for i, d in enumerate(instance.demand):
        tails.append(0), heads.append(2 + i), caps.append(d.hours)
    for j, s in enumerate(instance.supply):
        tails.append(2 + nd + j), heads.append(1), caps.append(s.capacity_hours)
    for i, j in pairs:
        tails.append(2 + i), heads.append(2 + nd + j), caps.append(10**6)
    n = 2 + nd + ns
    graph = csr_matrix((np.array(caps, np.int32), (tails, heads)), shape=(n, n))
    return int(maximum_flow(graph, 0, 1).flow_value)
