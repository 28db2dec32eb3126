"""Migration tests' scaffolding: a database migrated to a revision, with an engine and sessions on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from brokerage.db import make_engine
from brokerage.matching.models import DemandLine, MatchRun
from brokerage.migrate import upgrade
from tests import factories as f


@contextmanager
def migrated(url: str, revision: str) -> Iterator[tuple[Engine, sessionmaker]]:
    """Upgrade the database at `url` to `revision`; yield (its engine, a session factory), and dispose of the engine after."""
    upgrade(revision, url=url)
    engine = make_engine(url)
    try:
        yield engine, sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    finally:
        engine.dispose()


TIMES = {"tue_am": 2, "thu_am": 2, "sat_pm": 2}


def a_timed_line(session: Session, providers: int = 1):
    """Add a council, its group, `providers` providers and a line of 12 hours at TIMES, and a run; return (council, cluster, providers, line, run)."""
    council = f.CouncilFactory(session=session)
    cluster = f.ClusterFactory(session=session, council_id=council.id)
    made = [f.ProviderFactory(session=session, council_id=council.id) for _ in range(providers)]
    line = DemandLine(council_id=council.id, cluster_id=cluster.id, service="home_care", hours=12, slots=list(TIMES), slot_hours=TIMES,
                      lat=51.5, lon=-0.05, max_rate_pence=2500)
    run = MatchRun(council_id=council.id)
    session.add_all([line, run])
    session.flush()
    return council, cluster, made, line, run
