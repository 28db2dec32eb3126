"""Pure rules about providers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

REQUIRED_EVIDENCE = ("dbs", "insurance")
SOON = timedelta(days=30)


@dataclass(frozen=True)
class VettingState:
    """Whether a provider may be matched and paid, and what to chase."""

    valid: bool
    missing: tuple[str, ...]
    expired: tuple[str, ...]
    expiring_soon: tuple[str, ...]


def vetting_state(items: list[tuple[str, date]], *, regulated: bool, today: date) -> VettingState:
    """Judge vetting evidence: DBS and insurance always, CQC when the service is regulated."""
    required = REQUIRED_EVIDENCE + (("cqc",) if regulated else ())
    latest: dict[str, date] = {}
    for kind, expires in items:
        if kind not in latest or expires > latest[kind]:
            latest[kind] = expires
    missing = tuple(k for k in required if k not in latest)
    expired = tuple(k for k in required if k in latest and latest[k] < today)
    soon = tuple(k for k in required if k in latest and today <= latest[k] < today + SOON)
    return VettingState(valid=not missing and not expired, missing=missing, expired=expired, expiring_soon=soon)
