"""Run Alembic migrations from code, against the app's database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from brokerage.db import engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config pointing at our migrations and the app's database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or current_app.config["DATABASE_URL"]).replace("%", "%%"))
    return config


def upgrade(revision: str = "head", *, connection=None, url: str | None = None) -> None:
    """Upgrade the database schema to `revision`."""
    config = alembic_config(url)
    if connection is not None:
        config.attributes["connection"] = connection
    command.upgrade(config, revision)


def revision_ids() -> list[str]:
    """Return the id of every migration, newest first."""
    return [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]


def current_revision() -> str | None:
    """Return the database's current revision, or None when empty."""
    with engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
