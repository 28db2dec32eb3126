"""The words several packages share: care services, time slots, provider kinds, staff genders and languages.

A bottom-layer module: it imports no domain package, no Flask and no SQL, so the pure matching engine
(whose file format uses these codes) and every page can read the same words.
"""

from __future__ import annotations

from babel import Locale

# --- care services --------------------------------------------------------------------------------

SERVICES = (
    "home_care",
    "personal_care",
    "companionship",
    "day_activities",
    "respite",
    "domestic",
    "transport",
    "reablement",
)
SERVICE_NAMES = {
    "home_care": "home care",
    "personal_care": "personal care",
    "companionship": "companionship",
    "day_activities": "day activities",
    "respite": "respite",
    "domestic": "domestic help",
    "transport": "transport",
    "reablement": "reablement",
}


# The two kinds of care whose names people often do not know, said where services are chosen.
SERVICE_HINT = ("Respite is care that gives a family carer a break. Reablement is short-term help to relearn everyday "
                "things after an illness, a fall or a stay in hospital.")


def service_name(token: str) -> str:
    """Return a service token in plain English, e.g. "home_care" -> "home care"."""
    return SERVICE_NAMES.get(token, token.replace("_", " "))


# --- hourly rates ---------------------------------------------------------------------------------

# The most an hour of care may cost, a provider's rate or what a group will pay (pence): far above any real
# rate, so a slip of the keyboard (£2,250 for £22.50) is caught where it is typed, and far below the matching
# file format's limit on a rate (brokerage.matching.instance.MAX_PENCE), so no saved rate can stop a run.
HOURLY_RATE_MAX_PENCE = 100_000
# The National Living Wage for workers aged 21 and over from 1 April 2026 (GOV.UK, "National Minimum Wage and
# National Living Wage rates"): a group offering less an hour could not lawfully employ a personal assistant,
# so its request could never be met. Update it each April.
NATIONAL_LIVING_WAGE_PENCE = 1_271


# --- time slots -----------------------------------------------------------------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = ("am", "pm", "eve")
# Bit i of a slot mask stands for SLOTS[i]; the order is part of no file format.
SLOTS = tuple(f"{day}_{part}" for day in DAYS for part in PARTS)
SLOT_BIT = {slot: 1 << i for i, slot in enumerate(SLOTS)}
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
PART_NAMES = {"am": "morning", "pm": "afternoon", "eve": "evening"}
# The hours of the clock each part of the day covers, [from, to): a visit starting between 10pm and 6am is in none.
PART_HOURS = {"am": (6, 12), "pm": (12, 17), "eve": (17, 22)}


def clock_words(hour: int, minute: int = 0) -> str:
    """Say a time of day the GOV.UK way: 6am, 9:30am, 5:05pm, midday, midnight (hour 0-24, 24 being midnight)."""
    if minute == 0 and hour in (0, 12, 24):
        return "midday" if hour == 12 else "midnight"
    shown = f"{(hour - 1) % 12 + 1}:{minute:02d}" if minute else str((hour - 1) % 12 + 1)
    return f"{shown}{'am' if hour % 24 < 12 else 'pm'}"


def part_hours_sentence() -> str:
    """Say which hours of the clock each part of the day covers (PART_HOURS): "A morning is 6am to midday, an afternoon …"."""
    spans = [(PART_NAMES[part], f"{clock_words(first)} to {clock_words(last)}") for part, (first, last) in PART_HOURS.items()]
    (name, hours), rest = spans[0], [f"{'an' if n[0] in 'aeiou' else 'a'} {n} {h}" for n, h in spans[1:]]
    return f"A {name} is {hours}, {', '.join(rest[:-1])} and {rest[-1]}."


def slot_label(slot: str) -> str:
    """Return a slot token as a choice to tick, e.g. "sun_eve" -> "Sunday evening"."""
    day, part = slot.split("_")
    return f"{DAY_NAMES[day]} {PART_NAMES[part]}"


def slot_name(slot: str) -> str:
    """Return a slot token as words in a sentence, e.g. "sun_eve" -> "Sunday evenings"."""
    return f"{slot_label(slot)}s"


def times_phrase(slots) -> str:
    """Return slot tokens as one phrase, e.g. mon_am..thu_am and fri_pm -> "Monday to Thursday mornings and Friday afternoons".

    Days of one part of the day go together; three or more days in a row become "X to Y".
    """
    days_of: dict[str, list[int]] = {}
    for slot in sorted(set(slots), key=SLOTS.index):
        day, part = slot.split("_")
        days_of.setdefault(part, []).append(DAYS.index(day))
    groups = []
    for part, days in sorted(days_of.items(), key=lambda item: (item[1][0], PARTS.index(item[0]))):
        runs: list[list[int]] = []
        for day in days:
            if runs and day == runs[-1][-1] + 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        names = []
        for run in runs:
            if len(run) >= 3:
                names.append(f"{DAY_NAMES[DAYS[run[0]]]} to {DAY_NAMES[DAYS[run[-1]]]}")
            else:
                names.extend(DAY_NAMES[DAYS[day]] for day in run)
        groups.append(f"{_and(names)} {PART_NAMES[part]}s")
    return _and(groups)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


# --- what brings a group together -----------------------------------------------------------------

# The codes are the group's kinds (clusters.models.ClusterKind); people read these words.
GROUP_KIND_NAMES = {
    "neighbourhood": "neighbours",
    "culture": "a shared culture",
    "care_need": "the same care need",
    "goal": "a shared goal",
}


def group_kinds_words(kinds) -> str:
    """Say what brings a group together, e.g. ["culture", "neighbourhood"] -> "Neighbours and a shared culture"."""
    names = [GROUP_KIND_NAMES.get(kind, kind.replace("_", " ")) for kind in GROUP_KIND_NAMES if kind in (kinds or [])]
    names += [kind.replace("_", " ") for kind in kinds or [] if kind not in GROUP_KIND_NAMES]
    if not names:
        return "–"
    sentence = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return sentence[:1].upper() + sentence[1:]


# --- providers ------------------------------------------------------------------------------------

# The codes are the matching file format's; the labels are what people read on every page and in
# the engine's explanations.
PROVIDER_KINDS = ("pa", "micro_provider", "coop", "cic", "charity", "private")
PROVIDER_KIND_LABELS = {
    "pa": "Personal assistant",
    "micro_provider": "Micro-provider",
    "coop": "Care co-operative",
    "cic": "Community interest company",
    "charity": "Charity",
    "private": "Private company",
}


def provider_kind_name(kind: str) -> str:
    """Return a provider kind as words in a sentence, e.g. "coop" -> "care co-operative"."""
    label = PROVIDER_KIND_LABELS[kind]
    return label[:1].lower() + label[1:]


GENDERS = ("female", "male")

# --- vetting evidence -----------------------------------------------------------------------------

# As a sentence reads them: "Missing: DBS check, insurance".
VETTING_IN_A_SENTENCE = {"dbs": "DBS check", "insurance": "insurance", "cqc": "CQC registration"}


def vetting_names(codes) -> str:
    """Return vetting evidence codes as words in a list, e.g. ["dbs", "insurance"] -> "DBS check, insurance"."""
    return ", ".join(VETTING_IN_A_SENTENCE.get(code, code) for code in codes)

# --- languages ------------------------------------------------------------------------------------

# ISO 639-1 withdrew "bh" (Bihari) in 2021 and CLDR no longer names it, but older council systems
# still send it, so it stays accepted under its last ISO name.
WITHDRAWN_LANGUAGES = {"bh": "Bihari"}
# CLDR's English name for "bn" is "Bangla", but people in England, the census and NHS interpreting
# services say "Bengali": the name a person would look for in the list wins.
NAMES_USED_IN_ENGLAND = {"bn": "Bengali"}


def _iso_639_1_names() -> dict[str, str]:
    """Return every ISO 639-1 two-letter code with its English name, from the CLDR data babel ships."""
    names = {code: name for code, name in Locale("en").languages.items() if len(code) == 2 and code.isalpha() and code.islower()}
    return dict(sorted((names | WITHDRAWN_LANGUAGES | NAMES_USED_IN_ENGLAND).items()))


# Every language code carepool accepts (the matching file format's too), with its English name.
LANGUAGE_NAMES = _iso_639_1_names()
LANGUAGE_CODES = frozenset(LANGUAGE_NAMES)
# The languages offered as choices on the forms: those most spoken by the people carepool serves.
COMMON_LANGUAGES = (
    "en", "so", "bn", "ur", "pa", "gu", "pl", "ar", "tr", "yo", "ig", "zh", "hi", "ta", "ro", "pt", "es",
    "fr", "cy", "ga", "el", "it", "lt", "fa", "ku", "ti", "am", "sw", "tw", "vi", "he", "yi", "bg",
)  # fmt: skip
COMMON_LANGUAGE_NAMES = {code: LANGUAGE_NAMES[code] for code in COMMON_LANGUAGES}


def language_name(code: str) -> str:
    """Return a language's English name for its ISO 639-1 code, or the code itself if unknown."""
    return LANGUAGE_NAMES.get(code, code)


def language_choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Return (code, name) for the common languages plus `extra` codes, English first, then by name."""
    codes = list(COMMON_LANGUAGES) + [code for code in extra if code not in COMMON_LANGUAGE_NAMES]
    return sorted(((code, language_name(code)) for code in dict.fromkeys(codes)), key=lambda pair: (pair[0] != "en", pair[1]))
