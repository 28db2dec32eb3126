"""Pure rules about providers."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from brokerage.clock import years_after
from brokerage.formatting import long_date
from brokerage.providers.errors import BadProviderMove
from brokerage.slot_hours import PROVIDER_SLOT_MAX, carer_hours_in
from brokerage.vocabulary import PART_NAMES, SLOTS

REQUIRED_EVIDENCE = ("dbs", "insurance")
SOON = timedelta(days=30)
# Evidence runs out within this many years of being recorded: it is checked again at least that often, and a
# date further off is a slip of the year (2100 for 2030).
VETTING_YEARS_AHEAD = 5
MICRO_STAFF = 5  # a provider with this many staff or fewer is a micro-provider (DESIGN.md section 1)
PA_STAFF = 1  # a personal assistant works alone


@dataclass(frozen=True)
class VettingState:
    """Whether a provider may be matched and paid, and what to chase."""

    valid: bool
    missing: tuple[str, ...]
    expired: tuple[str, ...]
    expiring_soon: tuple[str, ...]
    unverified: tuple[str, ...] = ()
    # (kind, the date it runs out) of the latest verified evidence of each required kind, in the order required.
    # Dates for the pages that show them; two states with the same judgement compare equal whatever the dates.
    expires: tuple[tuple[str, date], ...] = field(default=(), compare=False)

    def expiry_of(self, kind: str) -> date | None:
        """Return the date the latest verified evidence of this kind runs out, or None when there is none."""
        return dict(self.expires).get(kind)


def expiry_problem(expires_on: object, *, today: date) -> str | None:
    """Return why a date cannot be when vetting evidence runs out, in words for the form (None when it can).

    It is after today and at most VETTING_YEARS_AHEAD years ahead (29 February counts as 28 February then).
    """
    if not isinstance(expires_on, date) or isinstance(expires_on, datetime):
        return "Enter the date the evidence runs out"
    if expires_on <= today:
        return "The date the evidence runs out must be in the future"
    latest = years_after(today, VETTING_YEARS_AHEAD)
    if expires_on > latest:
        return (f"Enter a date up to {long_date(latest)}: evidence is checked again at least every {VETTING_YEARS_AHEAD} years. "
                "Check the year")
    return None


def kind_staff_errors(kind: object, staff_count: object, *, field: str = "kind") -> dict[str, str]:
    """Return {field: why a provider of this kind cannot have this many staff}, or {} when they agree.

    A personal assistant works alone (PA_STAFF); a micro-provider has MICRO_STAFF staff or fewer. A kind or a count that
    is not valid is left to its own check. `field` is where the problem is put right: "kind" on a form that has the kind
    (a broker's, or the application), "staff_count" on the provider's own profile, whose kind only a broker changes.
    """
    kind = str(getattr(kind, "value", kind))
    if isinstance(staff_count, bool) or not isinstance(staff_count, int) or staff_count < 1:
        return {}
    if kind == "pa" and staff_count != PA_STAFF:
        if field == "staff_count":
            return {field: "You are registered as a personal assistant, who works alone: enter 1. "
                           "If others now work with you, ask the broker to change how you are registered"}
        return {field: f"A personal assistant works alone, so the number of staff is 1, not {staff_count:,}: "
                       "choose another kind, or change the number of staff"}
    if kind == "micro_provider" and staff_count > MICRO_STAFF:
        if field == "staff_count":
            return {field: f"You are registered as a micro-provider, which has {MICRO_STAFF} staff or fewer: enter {MICRO_STAFF} or fewer. "
                           "If more people now work with you, ask the broker to change how you are registered"}
        return {field: f"A micro-provider has {MICRO_STAFF} staff or fewer, not {staff_count:,}: choose another kind, or change the number of staff"}
    return {}


def offer_limits(staff: int) -> tuple[dict[str, int], dict[str, str]]:
    """Return ({slot: most hours}, {slot: why in words}) a provider with `staff` people may offer in each time of day.

    Each person works at most `slot_hours.carer_hours_in(slot)` hours then: 6 in a morning, 5 in an afternoon or an
    evening (which last 5 hours); never more than PROVIDER_SLOT_MAX in all.
    """
    most, why = {}, {}
    for slot in SLOTS:
        each = carer_hours_in(slot)
        most[slot] = min(PROVIDER_SLOT_MAX, each * staff)
        part = PART_NAMES[slot.split("_")[1]]
        a_part = f"{'an' if part[0] in 'aeiou' else 'a'} {part}"
        if most[slot] == PROVIDER_SLOT_MAX:
            why[slot] = ""
        elif staff == 1:
            why[slot] = f" (one person works up to {each} hours in {a_part})"
        else:
            why[slot] = f" (up to {each} hours for each of the {staff} staff in {a_part})"
    return most, why


def regulated(kind: str, services) -> bool:
    """Tell whether a provider needs CQC registration: it offers personal care and is not a personal assistant.

    Personal care is the regulated activity among carepool's services. A personal assistant works on
    their own, directly for the people they care for, and CQC's scope of registration leaves them out;
    an organisation of any kind offering personal care must register.
    """
    return "personal_care" in services and str(getattr(kind, "value", kind)) != "pa"


def vetting_state(items: list[tuple], *, regulated: bool, today: date) -> VettingState:
    """Judge vetting evidence: DBS and insurance always, CQC when the service is regulated.

    Each item is (kind, expires_on) or (kind, expires_on, verified); only verified evidence counts.
    """
    required = REQUIRED_EVIDENCE + (("cqc",) if regulated else ())
    latest: dict[str, date] = {}
    waiting: set[str] = set()
    for item in items:
        kind, expires = item[0], item[1]
        verified = item[2] if len(item) > 2 else True
        if not verified:
            waiting.add(kind)
            continue
        if kind not in latest or expires > latest[kind]:
            latest[kind] = expires
    missing = tuple(k for k in required if k not in latest and k not in waiting)
    unverified = tuple(k for k in required if k not in latest and k in waiting)
    expired = tuple(k for k in required if k in latest and latest[k] < today)
    soon = tuple(k for k in required if k in latest and today <= latest[k] < today + SOON)
    expires = tuple((k, latest[k]) for k in required if k in latest)
    return VettingState(valid=not missing and not expired and not unverified, missing=missing, expired=expired, expiring_soon=soon, unverified=unverified,
                        expires=expires)


class ProviderStatus(str, enum.Enum):
    """Where a provider stands with the council: an application waiting for a broker's review, approved, or refused.

    A provider a broker registers is approved by that act; one that applies on the public form waits
    for review. Only an approved provider whose vetting is valid is ever matched.
    """

    pending_review = "pending_review"
    approved = "approved"
    refused = "refused"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return STATUS_WORDS[self.value]


STATUS_WORDS = {"pending_review": "Waiting for review", "approved": "Approved", "refused": "Refused"}

PROVIDER_MOVES: dict[str, set[str]] = {
    "pending_review": {"approved", "refused"},
    "approved": set(),
    "refused": {"pending_review"},  # the applicant, having put right what the broker said, asks for another look
}


def move_provider(current: str | enum.Enum, target: str | enum.Enum) -> ProviderStatus:
    """Return the provider's new status, or raise BadProviderMove (an approval stays; a refusal may be reviewed again)."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in PROVIDER_MOVES.get(current, set()):
        raise BadProviderMove(f"A provider that is {current} cannot become {target}.")
    return ProviderStatus(target)


def is_matchable(status: str | enum.Enum, state: VettingState) -> bool:
    """Tell whether a provider may be matched: approved by a broker, and its vetting valid."""
    return getattr(status, "value", status) == ProviderStatus.approved.value and state.valid


def still_to_do(status: str | enum.Enum, state: VettingState, words: dict[str, str], *, own: bool = True) -> list[str]:
    """Return what must still happen before a provider can be matched, one plain sentence each ([] when nothing or refused).

    `own`: the sentences speak to the provider ("your DBS check"); otherwise about them ("their DBS check").
    """
    status = getattr(status, "value", status)
    if status == ProviderStatus.refused.value:
        return []
    whose, add = ("your", "Add your") if own else ("their", "They add their")
    steps = []
    if status == ProviderStatus.pending_review.value:
        steps.append(f"A broker has to review {whose} application.")
    steps += [f"{add} {words.get(kind, kind)}." for kind in state.missing]
    steps += [f"A broker has to check and verify {whose} {words.get(kind, kind)}." for kind in state.unverified]
    steps += [f"{add} new {words.get(kind, kind)}: the last one has run out." for kind in state.expired]
    return steps


# A period the Ethical Care Charter was kept and confirmed, as JSON keeps it: [first day or null, last day] in ISO dates
# (null: ticked before these days were kept, so every day up to the last). Provider.charter_earlier and Timesheet.travel_earlier.
def periods_from_json(stored: list | None) -> tuple[tuple[date | None, date], ...]:
    """Read charter periods stored as JSON, oldest first: each (first day or None, last day)."""
    return tuple((date.fromisoformat(first) if first else None, date.fromisoformat(last)) for first, last in stored or ())


def periods_to_json(periods) -> list[list[str | None]]:
    """Write charter periods, each (first day or None, last day), as JSON keeps them."""
    return [[first.isoformat() if first else None, last.isoformat()] for first, last in periods]


def name_key(name: str | None) -> str:
    """Return a name reduced for spotting one provider registered twice: case, punctuation, spacing and a bracketed note such as "(PA)" aside."""
    name = re.sub(r"\([^)]*\)", " ", name or "")
    return " ".join("".join(c if c.isalnum() else " " for c in name.casefold()).split())
