"""every group has a place

A group started by a broker before areas were kept could have no place (NULL lat/lon), and its
demand lines were then sent to matching at latitude 0, longitude 0. Each such group now gets the
middle of its area, or else the middle of its live members' homes; each demand line stored at
(0, 0) takes its group's place. Groups that still have neither stay without a place (they have no
members, so no demand lines), and the demand form finds their place when they do.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-16
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0033'
down_revision: Union[str, None] = '0032'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _mean(points):
    points = [(lat, lon) for lat, lon in points if lat is not None and lon is not None]
    if not points:
        return None
    return round(sum(p[0] for p in points) / len(points), 6), round(sum(p[1] for p in points) / len(points), 6)


def upgrade() -> None:
    connection = op.get_bind()
    unplaced = [row[0] for row in connection.execute(sa.text("SELECT id FROM cluster WHERE lat IS NULL OR lon IS NULL ORDER BY id"))]
    for cluster_id in unplaced:
        place = _mean(connection.execute(sa.text(
            "SELECT c.lat, c.lon FROM cluster_district d JOIN postcode_centroid c ON c.postcode = d.district AND c.is_district "
            "WHERE d.cluster_id = :cluster"
        ), {"cluster": cluster_id}).all())
        if place is None:
            place = _mean(connection.execute(sa.text(
                "SELECT h.lat, h.lon FROM membership m JOIN holder h ON h.id = m.holder_id "
                "WHERE m.cluster_id = :cluster AND m.status IN ('admitted', 'active', 'leaving')"
            ), {"cluster": cluster_id}).all())
        if place is not None:
            connection.execute(sa.text("UPDATE cluster SET lat = :lat, lon = :lon WHERE id = :cluster"),
                               {"lat": place[0], "lon": place[1], "cluster": cluster_id})
    connection.execute(sa.text(
        "UPDATE demand_line SET lat = (SELECT c.lat FROM cluster c WHERE c.id = demand_line.cluster_id), "
        "lon = (SELECT c.lon FROM cluster c WHERE c.id = demand_line.cluster_id) "
        "WHERE lat = 0 AND lon = 0 AND EXISTS (SELECT 1 FROM cluster c WHERE c.id = demand_line.cluster_id AND c.lat IS NOT NULL)"
    ))


def downgrade() -> None:
    # The places found are kept: they were missing, not wrong, and nothing can tell them from places set since.
    pass
