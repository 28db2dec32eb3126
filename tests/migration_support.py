"""Migration tests' scaffolding: a database migrated to a revision, with an engine and sessions on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from brokerage.db import make_engine
from brokerage.migrate import upgrade


@contextmanager
def migrated(url: str, revision: str) -> Iterator[tuple[Engine, sessionmaker]]:
    """Upgrade the database at `url` to `revision`; yield (its engine, a session factory), and dispose of the engine after."""
    upgrade(revision, url=url)
    engine = make_engine(url)
    try:
        yield engine, sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    finally:
        engine.dispose()
