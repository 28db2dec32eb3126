"""The Alembic migrations and the SQLModel models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import brokerage.models  # noqa: F401
from brokerage.migrate import alembic_config


def test_migrations_and_models_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"run `alembic revision --autogenerate`; differences: {differences}"


def test_the_database_is_at_the_newest_revision(engine, db_url):
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_there_is_one_head(db_url):
    assert len(ScriptDirectory.from_config(alembic_config(db_url)).get_heads()) == 1
