"""Migration 0044: a group placed exactly at a holder's home moves to the centre of that holder's district (or to the
home rounded to about a kilometre where no centre is known); a group at the middle of its area stays (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from brokerage.clusters.models import Cluster
from brokerage.migrate import alembic_config, upgrade
from brokerage.places.models import PostcodeCentroid
from tests import factories as f
from tests.migration_support import migrated


def test_groups_at_a_home_move_to_the_districts_centre_and_others_stay(scratch_url):
    url = scratch_url
    with migrated(url, "head") as (engine, sessions):
        with sessions() as session:
            council = f.CouncilFactory(session=session)
            session.merge(PostcodeCentroid(postcode="E1", district="E1", lat=51.5155, lon=-0.0590, is_district=True))
            known = f.HolderFactory(session=session, council_id=council.id, postcode="E1 6AN", postcode_district="E1", lat=51.5203, lon=-0.0714)
            unknown = f.HolderFactory(session=session, council_id=council.id, postcode="E9 7AB", postcode_district="E9", lat=51.54376, lon=-0.04123)
            groups = [f.ClusterFactory(session=session, council_id=council.id, lat=h.lat, lon=h.lon) for h in (known, unknown)]
            groups.append(f.ClusterFactory(session=session, council_id=council.id, lat=51.52225, lon=-0.0595))  # an area's middle
            session.commit()
            ids = [g.id for g in groups]
        command.downgrade(alembic_config(url), "0043")
        upgrade("head", url=url)
        with engine.connect() as connection:
            places = {i: (lat, lon) for i, lat, lon in connection.execute(select(Cluster.id, Cluster.lat, Cluster.lon).where(Cluster.id.in_(ids)))}
    assert [places[i] for i in ids] == [(51.5155, -0.0590), (51.54, -0.04), (51.52225, -0.0595)]
