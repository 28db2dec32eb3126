"""Format 2's network: hours placed per time of day (docs/matching-format-2.md, "Covered hours").

Each feasible pair gets one slot arc per common slot: (line, slot) -> (supplier, slot), with
capacity the smaller of the two sides' hours in that slot. A chunk's network is
source -> (line, slot) -> (supplier, slot) -> supplier -> sink. Its min-cost maximum flow is the
maximum flow of the format, so coverage stays exact, and the hours a pair gets are the sum of its
slot arcs' flows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brokerage.matching.instance import Instance
from brokerage.matching.pairs import Pairs
from brokerage.matching.vocabulary import SLOTS

N_SLOTS = len(SLOTS)
SLOT_INDEX = {slot: i for i, slot in enumerate(SLOTS)}
# Pairs are expanded into slot arcs this many at a time, so a big instance's (pairs x 21) test stays small.
_EXPAND_PAIRS = 500_000


@dataclass(frozen=True)
class SlotArcs:
    """The slot arcs of a format 2 network, sorted by (pair, slot), and each side's hours per slot."""

    pair: np.ndarray  # int32: index into the network's pairs
    slot: np.ndarray  # int8: index into vocabulary.SLOTS
    capacity: np.ndarray  # int32: min(the line's hours in the slot, the supplier's)
    start: np.ndarray  # pair p's arcs are start[p] .. start[p + 1] - 1
    d_hours: np.ndarray  # (lines, 21): hours needed per slot
    s_hours: np.ndarray  # (suppliers, 21): hours offered per slot
    pair_capacity: np.ndarray  # per pair: the most hours it can carry on its own

    def __len__(self) -> int:
        return len(self.pair)

    def of_pairs(self, pairs: np.ndarray) -> np.ndarray:
        """Return the positions of the slot arcs of these pairs (ascending pair indices), in order."""
        lo, hi = self.start[pairs], self.start[pairs + 1]
        counts = hi - lo
        if counts.sum() == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts)
        return np.arange(int(counts.sum()), dtype=np.int64) + offsets


def hours_table(records) -> np.ndarray:
    """Return a (records, 21) array of each record's `slot_hours` (0 where it has none)."""
    table = np.zeros((len(records), N_SLOTS), dtype=np.int64)
    for i, record in enumerate(records):
        for slot, hours in (record.slot_hours or {}).items():
            table[i, SLOT_INDEX[slot]] = hours
    return table


def slot_arcs(instance: Instance, pairs: Pairs, d_total: np.ndarray, s_capacity: np.ndarray) -> SlotArcs:
    """Expand every feasible pair into its slot arcs (format 2)."""
    d_hours, s_hours = hours_table(instance.demand), hours_table(instance.supply)
    d_narrow, s_narrow = d_hours.astype(np.int32), s_hours.astype(np.int32)  # hours fit; the (pairs x 21) gathers are halved
    pair_parts, slot_parts, cap_parts = [], [], []
    for lo in range(0, len(pairs), _EXPAND_PAIRS):
        d = pairs.demand[lo:lo + _EXPAND_PAIRS]
        s = pairs.supply[lo:lo + _EXPAND_PAIRS]
        both = np.minimum(d_narrow[d], s_narrow[s])
        p, t = np.nonzero(both)
        pair_parts.append(p + lo)
        slot_parts.append(t)
        cap_parts.append(both[p, t])
    pair = np.concatenate(pair_parts) if pair_parts else np.zeros(0, dtype=np.int64)
    slot = np.concatenate(slot_parts) if slot_parts else np.zeros(0, dtype=np.int64)
    capacity = np.concatenate(cap_parts) if cap_parts else np.zeros(0, dtype=np.int64)
    start = np.searchsorted(pair, np.arange(len(pairs) + 1))
    on_own = np.bincount(pair, weights=capacity, minlength=len(pairs)).astype(np.int64)
    pair_capacity = np.minimum(on_own, np.minimum(d_total[pairs.demand], s_capacity[pairs.supply]))
    # Held for the whole solve, so as narrow as they can be (pairs and hours fit in int32, a slot in int8);
    # arithmetic on them is done after widening (slot_job, fixed_charge).
    return SlotArcs(pair.astype(np.int32), slot.astype(np.int8), capacity.astype(np.int32), start,
                    d_hours, s_hours, pair_capacity)


def slot_job(arcs: SlotArcs, pairs: Pairs, chunk_pairs: np.ndarray, costs: np.ndarray, s_capacity: np.ndarray):
    """Return the flow job of one chunk's slot network and the positions of its slot arcs.

    Nodes: 0 source, 1 sink, then (line, slot), (supplier, slot) and supplier nodes in ascending
    order; the priced slot arcs come first, then the free arcs in and out of them.
    """
    positions = arcs.of_pairs(chunk_pairs)
    pair, slot = arcs.pair[positions].astype(np.int64), arcs.slot[positions].astype(np.int64)
    d, s = pairs.demand[pair], pairs.supply[pair]
    line_slots, line_node = _unique(d * N_SLOTS + slot, len(arcs.d_hours) * N_SLOTS)
    supplier_slots, supplier_slot_node = _unique(s * N_SLOTS + slot, len(arcs.s_hours) * N_SLOTS)
    suppliers = _unique(s, len(arcs.s_hours))[0]
    first_line, first_supplier_slot = 2, 2 + len(line_slots)
    first_supplier = first_supplier_slot + len(supplier_slots)
    line_node = line_node.reshape(-1) + first_line
    supplier_slot_node = supplier_slot_node.reshape(-1) + first_supplier_slot
    ls_d, ls_t = np.divmod(line_slots, N_SLOTS)
    ss_s, ss_t = np.divmod(supplier_slots, N_SLOTS)
    tails = np.concatenate([line_node, np.zeros(len(line_slots), np.int64), np.arange(len(supplier_slots)) + first_supplier_slot,
                            np.arange(len(suppliers)) + first_supplier])
    heads = np.concatenate([supplier_slot_node, np.arange(len(line_slots)) + first_line,
                            np.searchsorted(suppliers, ss_s) + first_supplier, np.ones(len(suppliers), np.int64)])
    capacity = np.concatenate([arcs.capacity[positions], arcs.d_hours[ls_d, ls_t], arcs.s_hours[ss_s, ss_t], s_capacity[suppliers]])
    cost = np.concatenate([costs[pair], np.zeros(len(tails) - len(positions), np.int64)])
    # Nodes and hours fit in int32 (the flow solver takes them so): a big chunk's job, held and sent
    # to the helper process, is then a third smaller.
    return ("slots", len(positions), tails.astype(np.int32), heads.astype(np.int32), capacity.astype(np.int32), cost), positions


def _unique(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return np.unique(keys, return_inverse=True) for keys in 0 .. size - 1, by marking, not sorting.

    The same values (the ranks as int32): a chunk's nodes keep their order (and the flow solver its
    answer); at M format 2 this took slot_job from 0.10 to 0.02 s.
    """
    present = np.zeros(size, dtype=bool)
    present[keys] = True
    values = np.flatnonzero(present)
    rank = np.zeros(size, dtype=np.int32)  # node numbers fit; at L, size is lines x 21
    rank[values] = np.arange(len(values))
    return values, rank[keys]


def pair_hours(arcs: SlotArcs, slot_flow: np.ndarray, n_pairs: int) -> np.ndarray:
    """Return the hours each pair carries: the sum of its slot arcs' flows."""
    return np.bincount(arcs.pair, weights=slot_flow, minlength=n_pairs).astype(np.int64)


def slot_dict(slots: np.ndarray, hours: np.ndarray) -> dict[str, int]:
    """Return slot indices and hours (in slot order) as a `slot_hours` object, leaving out zeros."""
    return {SLOTS[t]: h for t, h in zip(slots.tolist(), hours.tolist()) if h > 0}
