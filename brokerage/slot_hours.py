"""Hours per time of day ("slot hours"): a week of care as {slot: hours}, such as {"mon_am": 3, "fri_pm": 2}.

What a group asks for and what a provider can give are kept this way (matching format 2,
docs/matching-format-2.md), so matching places hours only at times both sides have them. A
bottom-layer module like `brokerage.vocabulary`: no Flask, no SQL, no domain package. The words for
people are in `brokerage.formatting` (`slot_hours_words`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from brokerage.vocabulary import PART_HOURS, SLOTS, slot_label

# The most hours one box of the forms takes: a group's need in one time of day, and a provider's offer
# (across all its staff), each week.
DEMAND_SLOT_MAX = 40
PROVIDER_SLOT_MAX = 168
# The most hours one carer works in one time of day (a morning, an afternoon or an evening) in a week:
# a provider's offer in one box is at most this much for each of its staff.
CARER_SLOT_MAX = 6


def carer_hours_in(slot: str) -> int:
    """Return the most hours one carer works in this time of day: CARER_SLOT_MAX, or the part of the day's length if shorter.

    An afternoon (midday to 5pm) and an evening (5pm to 10pm) last 5 hours (`vocabulary.PART_HOURS`): a sole carer
    offering 6 hours in a Sunday evening was taken, hours that cannot happen.
    """
    first, last = PART_HOURS[slot.split("_")[1]]
    return min(CARER_SLOT_MAX, last - first)


def in_slot(value, slot: str):
    """Return a limit (or its words) for one time of day: the value itself, or its entry when given per time of day."""
    return value.get(slot) if isinstance(value, Mapping) else value


def people_slot_limit(people: int | None) -> tuple[int, str]:
    """Return (most hours, why) of care in one time of day for `people` people (None: not known), and why in words.

    One person has at most CARER_SLOT_MAX hours of care in a morning, an afternoon or an evening (the same limit as
    one carer's work, `providers.services.slot_limit`), so care for n people is at most n times that in each, and
    never more than DEMAND_SLOT_MAX. A group's request (`matching.rules`) and a contract's change (`contracts.rules`) use it.
    """
    if not people:
        return DEMAND_SLOT_MAX, ""
    most = min(DEMAND_SLOT_MAX, CARER_SLOT_MAX * people)
    if most == DEMAND_SLOT_MAX:
        return most, ""
    if people == 1:
        return most, f" (one person has up to {CARER_SLOT_MAX} hours of care in a morning, an afternoon or an evening)"
    return most, f" (up to {CARER_SLOT_MAX} hours for each of the {people} people it is for)"


def in_week_order(slot_hours: Mapping[str, int] | None) -> dict[str, int]:
    """Return slot hours with the slots in week order (Monday morning first), leaving out slots with no hours."""
    hours = slot_hours or {}
    return {slot: int(hours[slot]) for slot in SLOTS if hours.get(slot, 0) > 0}


def total(slot_hours: Mapping[str, int] | None) -> int:
    """Return the hours a week of slot hours."""
    return sum((slot_hours or {}).values())


def spread_hours(hours: int, slots: Iterable[str], *, at_least_one: bool = False) -> dict[str, int]:
    """Spread weekly hours over slots as evenly as whole hours allow, the remainder to the earliest slots.

    14 hours over Monday to Thursday mornings and Friday afternoon give 3, 3, 3, 3 and 2. With
    `at_least_one` every slot keeps an hour even when there are more slots than hours (a provider's
    times, whose weekly cap still holds). Slots that are not slots are left out.
    """
    wanted = set(slots or ())
    ordered = [slot for slot in SLOTS if slot in wanted]
    if not ordered or (hours <= 0 and not at_least_one):
        return {}
    each, extra = divmod(max(hours, 0), len(ordered))
    spread = {slot: each + (1 if index < extra else 0) for index, slot in enumerate(ordered)}
    if at_least_one:
        spread = {slot: max(1, value) for slot, value in spread.items()}
    return in_week_order(spread)


def without(slot_hours: Mapping[str, int], taken: Mapping[str, int]) -> dict[str, int]:
    """Return slot hours less the hours taken in each slot (never below nothing)."""
    return in_week_order({slot: hours - taken.get(slot, 0) for slot, hours in slot_hours.items()})


def at_most(slot_hours: Mapping[str, int], hours: int) -> dict[str, int]:
    """Return the earliest of the slot hours, up to `hours` in all (a part of some care, such as a lowered assignment)."""
    kept, left = {}, max(hours, 0)
    for slot, value in in_week_order(slot_hours).items():
        if left <= 0:
            break
        kept[slot] = min(value, left)
        left -= kept[slot]
    return kept


def take_earliest(slot_hours: Mapping[str, int], hours: int) -> dict[str, int]:
    """Return slot hours with `hours` taken from the earliest slots (care whose times are not known)."""
    return without(slot_hours, at_most(slot_hours, hours))


def added(slot_hours: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    """Return two sets of slot hours added together."""
    return in_week_order({slot: slot_hours.get(slot, 0) + more.get(slot, 0) for slot in SLOTS})


def fit(slot_hours: Mapping[str, int], hours: int, room: Mapping[str, int]) -> dict[str, int] | None:
    """Return slot hours changed to `hours` in all: cut from the latest slots, or grown into the earliest slots with room.

    Returns None when the room is too small for the hours asked.
    """
    current = in_week_order(slot_hours)
    if hours <= total(current):
        return at_most(current, hours)
    wanted = hours - total(current)
    more = at_most(in_week_order(room), wanted)
    if total(more) < wanted:
        return None
    return added(current, more)


def box_problem(slot: str, most, why="") -> str:
    """Return the message for one time's hours that are not a whole number from 0 to `most` (None: no limit is known).

    `most` and `why` are one for every time of day, or {slot: value} per time of day.
    """
    most, why = in_slot(most, slot), in_slot(why, slot) or ""
    if most is None:
        return f"{slot_label(slot)} hours must be a whole number, 0 or more"
    return f"{slot_label(slot)} hours must be a whole number from 0 to {most}{why}"


def slot_hours_problems(value: object, *, most: int | Mapping[str, int] | None, total_most: int | None = None,
                        kept: Mapping[str, int] | None = None, why: str | Mapping[str, str] = "") -> str | None:
    """Return what is wrong with slot hours in words for the form (None when they are fine).

    Each value is a whole number from 0 to `most` (`why` says where that limit comes from), or at most
    what `kept` already records for that time (so saving never drops a value recorded before a limit);
    there is at least one hour in all, and no more than `total_most` when given. With `most` None the
    limit is not known (it rests on another answer that is wrong), and any whole number of 0 or more will do.
    `most` and `why` may be given per time of day ({slot: value}), as a provider's are (`providers.rules.offer_limits`).
    """
    if not isinstance(value, Mapping) or not value:
        return "Enter the hours for at least one time of day"
    kept = kept or {}
    for slot, hours in value.items():
        if slot not in SLOTS:
            return "Enter hours only for the times of day on the form"
        limit = in_slot(most, slot)
        if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0 or (limit is not None and hours > max(limit, kept.get(slot, 0))):
            return box_problem(slot, most, why)
    hours = total(value)
    if hours < 1:
        return "Enter the hours for at least one time of day"
    if total_most is not None and hours > total_most:
        return f"The hours add up to {hours} a week: enter no more than {total_most} in all"
    return None
