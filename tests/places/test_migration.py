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


def test_groups_without_a_place_get_one_and_their_demand_lines_leave_latitude_zero(tmp_path):
    """Migration 0033: from the area's centre, else the live members' homes; lines at (0, 0) take the group's place."""
    from sqlmodel import Session

    from brokerage.clusters.models import ClusterDistrict
    from brokerage.matching.models import DemandLine
    from tests import factories as f

    url = f"sqlite:///{tmp_path / 'places.sqlite'}"
    upgrade("head", url=url)
    engine = create_engine(url)
    with Session(engine) as session:
        council = f.CouncilFactory(session=session)
        f.claim_districts(session, council, "E1 E2")
        f.load_places(session)
        by_area = f.ClusterFactory(session=session, council_id=council.id, lat=None, lon=None)
        session.add(ClusterDistrict(cluster_id=by_area.id, district="E2", council_id=council.id))
        by_members = f.ClusterFactory(session=session, council_id=council.id, lat=None, lon=None)
        nowhere = f.ClusterFactory(session=session, council_id=council.id, lat=None, lon=None, status="forming")
        homes = [(51.5155, -0.0590), (51.5291, -0.0554), (40.0, 0.0)]
        for (lat, lon), status in zip(homes, ["active", "leaving", "left"]):
            holder = f.HolderFactory(session=session, council_id=council.id, lat=lat, lon=lon)
            f.MembershipFactory(session=session, council_id=council.id, cluster_id=by_members.id, holder_id=holder.id, status=status)
        line = DemandLine(council_id=council.id, cluster_id=by_members.id, service="home_care", hours=3, lat=0.0, lon=0.0, max_rate_pence=2_000)
        placed = DemandLine(council_id=council.id, cluster_id=by_area.id, service="home_care", hours=3, lat=51.5, lon=-0.1, max_rate_pence=2_000)
        session.add_all([line, placed])
        session.commit()
        ids = by_area.id, by_members.id, nowhere.id, line.id, placed.id
    from alembic import command

    command.downgrade(alembic_config(url), "0032")
    upgrade("head", url=url)
    with engine.connect() as connection:
        places = {row[0]: (row[1], row[2]) for row in connection.execute(text("SELECT id, lat, lon FROM cluster"))}
        lines = {row[0]: (row[1], row[2]) for row in connection.execute(text("SELECT id, lat, lon FROM demand_line"))}
    engine.dispose()
    middle = (round((51.5155 + 51.5291) / 2, 6), round((-0.0590 - 0.0554) / 2, 6))  # the member who left does not count
    assert places[ids[0]] == (51.5290, -0.0600)  # the centre of E2
    assert places[ids[1]] == middle
    assert places[ids[2]] == (None, None)
    assert lines[ids[3]] == middle
    assert lines[ids[4]] == (51.5, -0.1)
