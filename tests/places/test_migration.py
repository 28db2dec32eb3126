"""Migration 0026: each group's single area moves into its set of districts, where it is still its council's own."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from brokerage.migrate import alembic_config, upgrade

COUNCIL = (
    "INSERT INTO council (id, slug, name, area_districts, cluster_min_size, cluster_max_size, notice_weeks, surplus_weeks, "
    "quorum_percent, majority_percent, dissolve_numerator, dissolve_denominator, created_at) "
    "VALUES (:id, :slug, :slug, :districts, 3, 8, 4, 8, 50, 50, 2, 3, '2026-11-01 00:00:00')"
)
CLUSTER = (
    "INSERT INTO cluster (id, council_id, name, description, kinds, area, min_size, max_size, status, created_at) "
    "VALUES (:id, :council, :name, '', '[]', :area, 2, 8, 'forming', '2026-11-01 00:00:00')"
)


def test_each_groups_area_moves_into_its_set_and_back(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'areas.sqlite'}"
    upgrade("0025", url=url)
    engine = create_engine(url)
    with engine.begin() as connection:
        for council_id, slug, districts in ((1, "riverside", "E1 E2"), (2, "northfield", "LS6")):
            connection.execute(text(COUNCIL), {"id": council_id, "slug": slug, "districts": districts})
            connection.execute(text("INSERT INTO council_district (district, council_id) VALUES " + ", ".join(f"('{d}', {council_id})" for d in districts.split())))
        for cluster_id, council_id, area in ((1, 1, "E1"), (2, 1, " e2 "), (3, 1, ""), (4, 1, "LS6"), (5, 2, "LS6"), (6, 1, "E9")):
            connection.execute(text(CLUSTER), {"id": cluster_id, "council": council_id, "name": f"Group {cluster_id}", "area": area})
    upgrade("head", url=url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT cluster_id, district, council_id FROM cluster_district ORDER BY cluster_id")).all()
        columns = {c["name"] for c in inspect(connection).get_columns("cluster")}
    assert [tuple(r) for r in rows] == [(1, "E1", 1), (2, "E2", 1), (5, "LS6", 2)]  # LS6 is not Riverside's, and E9 nobody's
    assert "area" not in columns
    command.downgrade(alembic_config(url), "0025")
    with engine.connect() as connection:
        areas = dict(connection.execute(text("SELECT id, area FROM cluster")).all())
    engine.dispose()
    assert areas == {1: "E1", 2: "E2", 3: "", 4: "", 5: "LS6", 6: ""}
