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


def test_a_district_two_councils_listed_stays_with_the_first_and_leaves_the_others_list(tmp_path):
    from sqlalchemy import create_engine, text

    from brokerage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'districts.sqlite'}"
    upgrade("0012", url=url)
    engine = create_engine(url)
    with engine.begin() as connection:
        for slug, districts in (("first", "E1 E2"), ("second", "E2 E3")):
            connection.execute(text(
                "INSERT INTO council (slug, name, area_districts, cluster_min_size, cluster_max_size, notice_weeks, surplus_weeks, "
                "quorum_percent, majority_percent, dissolve_numerator, dissolve_denominator, created_at) "
                "VALUES (:slug, :slug, :districts, 3, 8, 4, 8, 50, 50, 2, 3, '2026-11-01 00:00:00')"
            ), {"slug": slug, "districts": districts})
    upgrade("head", url=url)
    with engine.connect() as connection:
        lists = dict(connection.execute(text("SELECT slug, area_districts FROM council")).all())
        claims = dict(connection.execute(text("SELECT district, c.slug FROM council_district JOIN council c ON c.id = council_id")).all())
    engine.dispose()
    assert lists == {"first": "E1 E2", "second": "E3"}
    assert claims == {"E1": "first", "E2": "first", "E3": "second"}
