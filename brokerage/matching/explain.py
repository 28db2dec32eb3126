"""Explain a matching in plain English: why each supplier, and why hours went unmet.

The words are for people, brokers and the members who vote on a match alike: a supplier of the file
format is a "provider", a demand line is a "request", and money is "an hour", never "/h".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from brokerage.formatting import km_away, plural, pounds
from brokerage.matching.pairs import km_for_chord, pair_rules, reach_pairs, unit_vectors
from brokerage.matching.rules import why_not
from brokerage.matching.slots import SLOT_INDEX
from brokerage.matching.vocabulary import KIND_NAMES, SLOTS, language_name, service_name, times_phrase

if TYPE_CHECKING:
    from brokerage.matching.instance import Demand, Supply
    from brokerage.matching.solver import Network

# Supplier id -> (hours it works in each slot, its weekly cap or None), before committed care is taken off.
Offered = Mapping[str, tuple[Mapping[str, int], int | None]]


def explain_assignments(network: Network, flow: np.ndarray, used: np.ndarray, *,
                        cluster_names: Mapping[str, str] | None = None,
                        supplier_names: Mapping[str, str] | None = None,
                        placed: list[dict[str, int]] | None = None) -> list[str]:
    """Return one explanation per used pair (indices `used` into the network's pairs).

    A cluster is named from `cluster_names` (id -> name) when given, else "cluster <id>"; a
    supplier from `supplier_names`, else by its id. Format 2's `placed` (each used pair's hours per
    slot) puts the times first: "Monday to Thursday mornings (12 hours). Speaks Somali …".
    """
    names = cluster_names or {}
    who = supplier_names or {}
    instance, t, p = network.instance, network.tables, network.pairs
    nd, ns = len(instance.demand), len(instance.supply)
    d_used, s_used = p.demand[used], p.supply[used]
    suppliers_of_line = np.bincount(d_used, minlength=nd)
    assigned = np.bincount(d_used, weights=flow[used], minlength=nd).astype(np.int64)
    supplier_load = np.bincount(s_used, weights=flow[used], minlength=ns).astype(np.int64)
    # How many lines of the same cluster each supplier serves, to say when carers are shared.
    key = t.d_cluster[d_used] * ns + s_used
    _, inverse, shared_count = np.unique(key, return_inverse=True, return_counts=True)
    cluster_mates = shared_count[inverse.reshape(-1)] - 1
    line_used_pairs = np.searchsorted(d_used, np.arange(nd + 1))
    supplier_phrases: dict[int, str] = {}
    current_notes: dict[int, str] = {}
    # Many pairs share the same facts; building each phrase once saves most of the time.
    fact_phrases: dict[tuple, str] = {}
    price_phrases: dict[tuple[int, int], str] = {}
    split = ((suppliers_of_line > 1) | (assigned < t.d_hours)).tolist()
    assigned_list = assigned.tolist()

    texts = []
    for i, (d, s, h, mates, km) in enumerate(zip(d_used.tolist(), s_used.tolist(), flow[used].tolist(),
                                                 cluster_mates.tolist(), p.distance_km[used].tolist())):
        demand, supply = instance.demand[d], instance.supply[s]
        fact_key = (demand.languages, demand.language_required, demand.carer_gender,
                    supply.languages)
        facts = fact_phrases.get(fact_key)
        if facts is None:
            facts = fact_phrases[fact_key] = "".join(f"{f}, " for f in _line_facts(demand, supply))
        price_key = (supply.rate_pence, demand.max_rate_pence)
        price = price_phrases.get(price_key)
        if price is None:
            price = price_phrases[price_key] = _price_phrase(*price_key)
        if s not in supplier_phrases:
            supplier_phrases[s] = _supplier_phrase(supply)
        notes = [supplier_phrases[s]]
        if demand.current_supplier is not None:
            if demand.current_supplier == supply.id:
                notes.append("current carer kept")
            else:
                if d not in current_notes:
                    current_notes[d] = _current_note(network, d, supplier_load, flow, used,
                                                     line_used_pairs, who)
                if current_notes[d]:
                    notes.append(current_notes[d])
        if split[d]:
            notes.append(_share_note(instance, d, s, h, assigned_list[d], d_used, s_used,
                                     line_used_pairs, who))
        if mates:
            cluster = names.get(demand.cluster) or f"cluster {demand.cluster}"
            notes.append(f"also serves {plural(mates, 'other request')} from {cluster}")
        sentence = f"{facts}{km_away(km)}, {price}; {'; '.join(notes)}."
        sentence = sentence[0].upper() + sentence[1:]
        if placed is not None:
            sentence = f"{times_sentence(placed[i])} {sentence}"
        texts.append(sentence)
    return texts


def explain_unmet(network: Network, flow: np.ndarray, short: np.ndarray, *, left_in_slots: np.ndarray | None = None,
                  offered: Offered | None = None) -> list[str]:
    """Return, for each demand line in `short`, why its remaining hours went unmet.

    Format 2's `left_in_slots` (lines x 21, the hours left per slot) names the times, and each time
    gets its own reason: nobody suitable works then, or those who could come charge too much, or are
    booked. `offered` (supplier id -> (hours per slot, weekly cap or None)) gives the hours suppliers
    work before care already arranged was taken off the instance's free hours, so that a supplier
    whose hours are all committed is "fully booked" rather than not working at those times.
    """
    instance, p = network.instance, network.pairs
    offered_services = _vetted_offers(instance)
    reach_zero = [d for d in short.tolist() if p.n_feasible[d] == 0 and p.n_reach[d] == 0]
    nearest = _nearest_offering(network, reach_zero)
    assigned = np.bincount(p.demand, weights=flow, minlength=len(instance.demand))
    # Feasible suppliers that have any hours at all: one with capacity 0 is not "booked".
    with_hours = np.bincount(p.demand, weights=network.tables.s_capacity[p.supply] > 0,
                             minlength=len(instance.demand)).astype(np.int64)
    by_time = {} if left_in_slots is None else _slot_reasons(network, short, left_in_slots, offered)
    reasons = []
    for d in short.tolist():
        demand = instance.demand[d]
        service = service_name(demand.service)
        left = demand.hours - int(assigned[d])
        prefix = "" if left == demand.hours else f"{left} of {plural(demand.hours, 'hour')} not covered: "
        if d in by_time:
            reason, prefix = by_time[d], ""
        elif p.n_feasible[d] and with_hours[d] == 0:
            n = int(p.n_feasible[d])
            none = ("none of them has any hours to offer (each has a capacity of 0 hours a week)"
                    if n > 1 else "it has no hours to offer (its capacity is 0 hours a week)")
            reason = f"{plural(n, 'provider')} could give this care but {none}"
        elif p.n_feasible[d]:
            n = int(with_hours[d])
            reason = (f"{plural(n, 'provider')} could give this care but "
                      f"{'they are' if n > 1 else 'it is'} fully booked by other requests")
        elif demand.service not in offered_services:
            reason = f"No vetted provider offers {service} at all"
        elif p.n_reach[d] == 0:
            km, radius = nearest[d]
            reason = (f"No vetted provider of {service} travels this far; the "
                      f"nearest is {km_away(km)} and travels up to {radius:g} km")
        elif demand.language_required and not demand.languages:
            reason = ("The request says the carer must speak a language but names none, so no "
                      "provider can match it; add the language, or say the carer need not speak it")
        elif p.n_slots[d] == 0:
            reason = f"No vetted provider within reach offers {service} {_when(demand.slots)}"
        elif p.n_language[d] == 0:
            reason = (f"No vetted {_languages_phrase(demand.languages)}-speaking provider within "
                      f"reach offers {service} {_when(demand.slots)}")
        elif p.n_gender[d] == 0:
            reason = (f"No vetted provider within reach with {demand.carer_gender} staff offers "
                      f"{service} {_when(demand.slots)}" + _language_tail(demand))
        elif p.cheapest_over_cap[d] >= 0:
            n = int(p.n_gender[d])
            reason = f"{plural(n, 'provider')} could give this care but {_too_dear(n, int(p.cheapest_over_cap[d]), demand)}"
        else:
            reason = "No vetted provider meets everything this request asks for"
        reason = prefix + reason + "."
        reasons.append(reason[0].upper() + reason[1:])
    return reasons


def _too_dear(n: int, cheapest: int, demand: Demand) -> str:
    return (f"{'charge' if n > 1 else 'charges'} more than the {pounds(demand.max_rate_pence)} an hour the group will pay "
            f"({'the cheapest asks' if n > 1 else 'it asks'} {pounds(cheapest)} an hour)")


def _slot_reasons(network: Network, short: np.ndarray, left_in_slots: np.ndarray, offered: Offered | None) -> dict[int, str]:
    """Format 2: return, for each short line some vetted provider of its service can reach, a reason for each of its unmet times.

    Each unmet time goes through the same funnel as a whole line does (works then, speaks the
    language, sends the carer's gender, within the rate cap), and times with the same outcome are
    named together, in week order: "14 hours not covered: on Friday afternoons the only provider who
    could come is fully booked; no vetted provider within reach offers home care on Sunday evenings".
    Lines no provider can reach, or asking for a language without naming one, are left to the whole-line reasons.
    """
    instance, t, p = network.instance, network.tables, network.pairs
    lines = short[(p.n_reach[short] > 0) & ~(t.d_lang_required[short] & (t.d_lang[short] == 0).all(axis=1))]
    if not len(lines):
        return {}
    works, cap_zero = _working_hours(network, offered)
    di, si, _ = reach_pairs(instance, t, lines)
    order = np.lexsort((si, di))
    di, si = di[order], si[order]
    lang_ok, gender_ok, rate_ok = pair_rules(t, di, si)
    bounds = np.searchsorted(di, np.r_[lines, lines + 1]).reshape(2, -1).T
    reasons = {}
    for d, (lo, hi) in zip(lines.tolist(), bounds.tolist()):
        times = np.flatnonzero(left_in_slots[d] > 0)
        if not len(times):
            continue
        sups = si[lo:hi]
        working = works[sups][:, times]  # (candidates, times)
        speaking = working & lang_ok[lo:hi, None]
        sending = speaking & gender_ok[lo:hi, None]
        able = sending & rate_ok[lo:hi, None]
        # Times with one outcome are said together; who could come is counted over all of them.
        outcome: dict[tuple, list[int]] = {}
        for j in range(len(times)):
            if able[:, j].any():
                key = ("booked", bool(cap_zero[sups[able[:, j]]].all()))
            elif sending[:, j].any():
                key = ("dear",)
            elif speaking[:, j].any():
                key = ("gender",)
            elif working[:, j].any():
                key = ("language",)
            else:
                key = ("works",)
            outcome.setdefault(key, []).append(j)
        words = {}
        for key, columns in outcome.items():
            if key[0] == "booked":
                could = able[:, columns].any(axis=1)
                key = (*key, int(could.sum()))
            elif key[0] == "dear":
                could = sending[:, columns].any(axis=1)
                key = (*key, int(could.sum()), int(t.s_rate[sups[could]].min()))
            words[key] = [SLOTS[time] for time in times[columns].tolist()]
        demand = instance.demand[d]
        parts = [_time_reason(key, slots, demand) for key, slots in words.items()]
        hours_left = int(left_in_slots[d].sum())
        if hours_left == demand.hours and len(parts) == 1:
            reasons[d] = parts[0]
        else:
            head = plural(hours_left, "hour") if hours_left == demand.hours else f"{hours_left} of {plural(demand.hours, 'hour')}"
            reasons[d] = f"{head} not covered: " + "; ".join(parts)
    return reasons


def _time_reason(key: tuple, slots: list[str], demand: Demand) -> str:
    """Say why a line's hours at `slots` went unmet, for one outcome of `_slot_reasons`' funnel."""
    service, when = service_name(demand.service), f"on {times_phrase(slots)}"
    kind = key[0]
    if kind == "works":
        return f"no vetted provider within reach offers {service} {when}"
    if kind == "language":
        return f"no vetted {_languages_phrase(demand.languages)}-speaking provider within reach offers {service} {when}"
    if kind == "gender":
        return f"no vetted provider within reach with {demand.carer_gender} staff offers {service} {when}{_language_tail(demand)}"
    if kind == "dear":
        n, cheapest = key[1], key[2]
        return f"{when} {plural(n, 'provider')} could give this care but {_too_dear(n, cheapest, demand)}"
    none_to_offer, n = key[1], key[2]
    who = "the only provider who could come" if n == 1 else f"the {n} providers who could come"
    state = (("has" if n == 1 else "have") + " no hours to offer (a weekly cap of 0 hours)" if none_to_offer
             else ("is" if n == 1 else "are") + " fully booked")
    return f"{when} {who} {state}"


def _working_hours(network: Network, offered: Offered | None) -> tuple[np.ndarray, np.ndarray]:
    """Return (suppliers x 21: works in that slot, suppliers: has a weekly cap of 0), counting hours already committed as worked."""
    works = network.slots.s_hours > 0
    cap_zero = network.tables.s_capacity == 0
    if offered:
        index = {s.id: i for i, s in enumerate(network.instance.supply)}
        for supplier_id, (slot_hours, cap) in offered.items():
            i = index.get(supplier_id)
            if i is None:
                continue
            for slot, hours in slot_hours.items():
                works[i, SLOT_INDEX[slot]] |= hours > 0
            cap_zero[i] = (cap if cap is not None else sum(slot_hours.values())) == 0
    return works, cap_zero


# --- phrases -------------------------------------------------------------------------------


def times_sentence(slot_hours: Mapping[str, int]) -> str:
    """Return the sentence a format 2 explanation starts with, e.g. "Monday to Thursday mornings (12 hours)."."""
    return f"{_times(tuple(slot_hours))} ({plural(sum(slot_hours.values()), 'hour')})."


def retimed(explanation: str, before: Mapping[str, int], after: Mapping[str, int]) -> str:
    """Return an explanation whose times sentence names `after` instead of `before` (a broker changed the hours).

    A part taken down to no hours loses its times sentence, and gets one again when hours are put back,
    so the sentence always names the part's times. An explanation that has hours but does not start
    with `before`'s sentence (one the solver did not write) is returned unchanged.
    """
    if before:
        old = times_sentence(before)
        if not explanation.startswith(old):
            return explanation
        rest = explanation[len(old):].lstrip()
    else:
        rest = explanation  # a part with no hours has no times sentence
    return f"{times_sentence(after)} {rest}" if after else rest


@lru_cache(maxsize=4096)
def _times(slots: tuple[str, ...]) -> str:
    """times_phrase, remembered: many assignments share the same times."""
    return times_phrase(slots)



def _languages_phrase(codes) -> str:
    names = [language_name(c) for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _language_tail(demand: Demand) -> str:
    if demand.language_required and demand.languages:
        return f" in {_languages_phrase(demand.languages)}"
    return ""


def _when(slots) -> str:
    """Say a line's times after "offers home care", naming them all, e.g. "on Monday to Thursday mornings and Friday afternoons"."""
    if not slots:
        return "at any time (the request gives no times)"
    return f"on {times_phrase(slots)}"


def _line_facts(demand: Demand, supply: Supply) -> list[str]:
    facts = []
    shared = [c for c in demand.languages if c in supply.languages]
    if demand.language_required:
        facts.append(f"speaks {' and '.join(language_name(c) for c in shared)} (required)")
    elif shared:
        facts.append(f"speaks {' and '.join(language_name(c) for c in shared)}")
    elif demand.languages:
        facts.append(f"does not speak {_languages_phrase(demand.languages)} (preferred, "
                     "not required)")
    if demand.carer_gender is not None:
        facts.append(f"{demand.carer_gender} staff")
    return facts


def _price_phrase(rate: int, cap: int) -> str:
    if rate == cap:
        return f"{pounds(rate)} an hour, the most the group will pay"
    return f"{pounds(rate)} an hour, within the {pounds(cap)} the group will pay"


def _supplier_phrase(supply: Supply) -> str:
    kind = KIND_NAMES[supply.kind]
    virtues = []
    if supply.living_wage:
        virtues.append("paying the Living Wage")
    if supply.ethical_care_charter:
        virtues.append("signed up to the Ethical Care Charter")
    return f"{kind} {' and '.join(virtues)}" if virtues else kind


def _current_note(network, d, supplier_load, flow, used, line_used_pairs, who) -> str:
    instance, t, p = network.instance, network.tables, network.pairs
    demand = instance.demand[d]
    current = int(t.d_current[d])
    name = who.get(demand.current_supplier, demand.current_supplier)
    if current < 0:
        return f"current provider {name} is not in this matching"
    lo, hi = line_used_pairs[d], line_used_pairs[d + 1]
    if current in p.supply[used[lo:hi]].tolist():
        return ""  # the current carer still has part of the line; the share note says so
    reasons = why_not(demand, instance.supply[current])
    if reasons:
        return f"current provider {name} can no longer give this care ({reasons[0]})"
    if supplier_load[current] >= instance.supply[current].capacity_hours:
        return f"replaces current provider {name}, who is fully booked"
    return (f"replaces current provider {name}, as keeping them would cost "
            "more overall")


def _share_note(instance, d, s, h, assigned, d_used, s_used, line_used_pairs, who) -> str:
    demand = instance.demand[d]
    lo, hi = line_used_pairs[d], line_used_pairs[d + 1]
    others = [who.get(instance.supply[x].id, instance.supply[x].id) for x in s_used[lo:hi].tolist() if x != s]
    return share_note(h, demand.hours, others, demand.hours - assigned)


# The note a gap's reason ends with while a broker has taken hours out of the line's proposed parts
# ("Hours taken out ..." is how runs before the count was said wrote it).
_TOOK_OUT = re.compile(r"\s*(?:Hours|\d+ hours?) taken out of the proposed match by the broker\.")


def took_out_note(reason: str, hours: int) -> str:
    """Return a gap's reason ending with how many hours a broker took out of the proposed match (none: without the note)."""
    base = without_took_out(reason)
    return f"{base} {plural(hours, 'hour')} taken out of the proposed match by the broker.".strip() if hours > 0 else base


def without_took_out(reason: str) -> str:
    """Return a gap's reason without the note about hours a broker took out."""
    return _TOOK_OUT.sub("", reason).strip()


def share_note(hours: int, line_hours: int, others: list[str], uncovered: int) -> str:
    """Return the note on a line shared or not wholly covered: "5 of 14 hours here, the rest with Hooyo; 4 hours not covered"."""
    note = f"{hours} of {plural(line_hours, 'hour')} here"
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        note += f", the rest with {shown}"
    if uncovered > 0:
        note += f"; {plural(uncovered, 'hour')} not covered"
    return note


# A share note inside an explanation (explain_assignments): it runs to the only note that can follow
# it, "also serves …", or to the closing full stop, so a provider named in it may hold "; " itself.
_SHARE_NOTE = re.compile(
    r"\d+ of \d+ hours? here(?:, the rest with .*?)?(?:; \d+ hours? not covered)?(?=; also serves \d+ other requests? from |\.$)"
)


def reshared(explanation: str, note: str) -> str:
    """Return an explanation with its share note replaced by `note` (added before the full stop if it had none; removed if `note` is empty)."""
    found = _SHARE_NOTE.search(explanation)
    if found:
        if note:
            return explanation[:found.start()] + note + explanation[found.end():]
        return explanation[:found.start()].removesuffix("; ") + explanation[found.end():]
    if note and explanation.endswith("."):
        return f"{explanation[:-1]}; {note}."
    return explanation


def _vetted_offers(instance) -> frozenset[str]:
    return frozenset(x for s in instance.supply if s.vetted for x in s.services)


def _nearest_offering(network: Network, lines: list[int]) -> dict[int, tuple[float, float]]:
    """Return, per line, the distance and radius of the nearest vetted supplier of its service."""
    if not lines:
        return {}
    instance, t = network.instance, network.tables
    result = {}
    by_service: dict[str, list[int]] = {}
    for d in lines:
        by_service.setdefault(instance.demand[d].service, []).append(d)
    for service in sorted(by_service):
        sups = np.array([i for i, s in enumerate(instance.supply)
                         if s.vetted and service in s.services], dtype=np.int64)
        if len(sups) == 0:
            continue
        tree = cKDTree(unit_vectors(t.s_lat[sups], t.s_lon[sups]))
        ds = np.array(by_service[service], dtype=np.int64)
        chord, idx = tree.query(unit_vectors(t.d_lat[ds], t.d_lon[ds]), k=1)
        for d, c, i in zip(ds.tolist(), chord.tolist(), idx.tolist()):
            result[d] = (float(km_for_chord(c)), float(t.s_radius[sups[i]]))
    return result

