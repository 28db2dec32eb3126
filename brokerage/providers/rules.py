"""Pure rules about providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

REQUIRED_EVIDENCE = ("dbs", "insurance")
SOON = timedelta(days=30)
MICRO_STAFF = 5  # a provider with this many staff or fewer is a micro-provider (DESIGN.md section 1)


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
