"""groups never at a home

A group started with no area (or by a founder living in it) was placed at its founder's home, and "Find a
group" gives anyone distances from any postcode they type, so a group's distances told where its founder
lives. Groups are now placed at the centre of the founder's postcode district (`clusters.areas.place_of_group`).
This moves every group that sits exactly where one of its council's holders lives to the centre of that
holder's district, or, where the postcode table has no centre for it, to the home rounded to two decimal
places of a degree (about a kilometre). Groups placed at the middle of an area are not moved.

Downgrade does nothing: the homes are not put back.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-06
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0044'
down_revision: Union[str, None] = '0043'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

cluster = sa.table('cluster', sa.column('id', sa.Integer), sa.column('council_id', sa.Integer), sa.column('lat', sa.Float), sa.column('lon', sa.Float))
holder = sa.table('holder', sa.column('council_id', sa.Integer), sa.column('postcode_district', sa.String),
                  sa.column('lat', sa.Float), sa.column('lon', sa.Float))
centroid = sa.table('postcode_centroid', sa.column('postcode', sa.String), sa.column('lat', sa.Float), sa.column('lon', sa.Float),
                    sa.column('is_district', sa.Boolean))


def upgrade() -> None:
    bind = op.get_bind()
    at_homes = bind.execute(
        sa.select(cluster.c.id, cluster.c.lat, cluster.c.lon, sa.func.min(holder.c.postcode_district))
        .select_from(cluster.join(holder, sa.and_(holder.c.council_id == cluster.c.council_id, holder.c.lat == cluster.c.lat,
                                                  holder.c.lon == cluster.c.lon)))
        .group_by(cluster.c.id, cluster.c.lat, cluster.c.lon)
    ).all()
    for cluster_id, lat, lon, district in at_homes:
        centre = bind.execute(sa.select(centroid.c.lat, centroid.c.lon).where(
            centroid.c.postcode == district, centroid.c.is_district.is_(True))).first()
        place = (centre.lat, centre.lon) if centre is not None else (round(lat, 2), round(lon, 2))
        bind.execute(cluster.update().where(cluster.c.id == cluster_id).values(lat=place[0], lon=place[1]))


def downgrade() -> None:
    pass
