"""Freezing the public report: each complete quarter's figures are stored the first time they are shown and read back after."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from brokerage.errors import AlreadyDone
from brokerage.locks import insert_once
from brokerage.transparency.models import PublishedQuarter
from brokerage.transparency.report import PublicPeriod, Shown


def _shown(value: list | None) -> Shown:
    return Shown(None) if value is None else Shown(value[0], value[1])


def _plain(shown: Shown) -> list | None:
    return None if shown.hidden else [shown.pence, shown.people]


def to_json(period: PublicPeriod) -> dict:
    """Return a period's shown figures as JSON (a hidden figure is stored as null, never its amount)."""
    return {
        "pooled": _plain(period.pooled), "spent": _plain(period.spent),
        "kinds": {k: _plain(v) for k, v in period.kinds.items()}, "services": {k: _plain(v) for k, v in period.services.items()},
        "measures": {k: _plain(v) for k, v in period.measures.items()},
    }


def from_json(start: date, figures: dict, *, kinds: list[str], services: list[str]) -> PublicPeriod:
    """Rebuild a published period; a kind or service it never had (none of its spend was counted so) shows as nothing spent."""
    nothing = Shown(0, 0)
    return PublicPeriod(
        start=start, pooled=_shown(figures["pooled"]), spent=_shown(figures["spent"]),
        kinds={k: _shown(figures["kinds"][k]) if k in figures["kinds"] else nothing for k in kinds},
        services={k: _shown(figures["services"][k]) if k in figures["services"] else nothing for k in services},
        measures={k: _shown(v) for k, v in figures["measures"].items()},
    )


def published(session: Session, council_id: int, starts: list[date]) -> dict[date, dict]:
    """Return the stored figures of the council's quarters that were already published, by first day."""
    rows = session.exec(
        select(PublishedQuarter).where(PublishedQuarter.council_id == council_id, PublishedQuarter.quarter_start.in_(starts))
    ).all()
    return {row.quarter_start: row.figures for row in rows}


def publish(session: Session, council_id: int, periods: list[PublicPeriod], *, kinds: list[str], services: list[str]) -> list[PublicPeriod]:
    """Store quarters shown for the first time and return them as published.

    When another request published a quarter at the same moment, its figures are the ones kept and
    returned, so every reader of a quarter sees the same figures.
    """
    shown = []
    for period in periods:
        try:
            with insert_once(session, AlreadyDone("This quarter was published by another request at the same moment.")):
                session.add(PublishedQuarter(council_id=council_id, quarter_start=period.start, figures=to_json(period)))
            shown.append(period)
        except AlreadyDone:
            stored = published(session, council_id, [period.start])[period.start]
            shown.append(from_json(period.start, stored, kinds=kinds, services=services))
    return shown
