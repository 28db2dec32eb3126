"""postcodes, and a group's area as a set of districts

The centroids of full postcodes and of postcode districts (`brokerage geo import`), so forms take a
postcode and nobody types a latitude; holders and providers keep the postcode they were placed by,
and a holder how to reach them (email, phone). A group's area becomes a set of its council's own
districts (`cluster_district`); each group's single `area` moves into it, where it is still one of
its council's districts, and the column goes.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-14
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0026'
down_revision: Union[str, None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'postcode_centroid',
        sa.Column('postcode', sa.String(length=8), nullable=False),
        sa.Column('district', sa.String(length=4), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('is_district', sa.Boolean(), nullable=False),
        sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180', name='ck_postcode_centroid_location'),
        sa.CheckConstraint('(is_district AND postcode = district) OR (NOT is_district AND postcode <> district)', name='ck_postcode_centroid_kind'),
        sa.PrimaryKeyConstraint('postcode'),
    )
    with op.batch_alter_table('postcode_centroid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postcode_centroid_district'), ['district'], unique=False)

    with op.batch_alter_table('holder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postcode', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postcode', sa.String(length=8), nullable=True))

    with op.batch_alter_table('council_district', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_council_district_council', ['district', 'council_id'])
    op.create_table(
        'cluster_district',
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('district', sa.String(length=4), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['district', 'council_id'], ['council_district.district', 'council_district.council_id'],
                                name='fk_cluster_district_council_district', ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('cluster_id', 'district'),
    )
    with op.batch_alter_table('cluster_district', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cluster_district_council_id'), ['council_id'], unique=False)
    # Each group's one district, where it is still its council's (the forms only ever allowed those).
    op.execute(
        "INSERT INTO cluster_district (cluster_id, district, council_id) "
        "SELECT c.id, d.district, c.council_id FROM cluster c "
        "JOIN council_district d ON d.district = UPPER(TRIM(c.area)) AND d.council_id = c.council_id"
    )
    with op.batch_alter_table('cluster', schema=None) as batch_op:
        batch_op.drop_column('area')


def downgrade() -> None:
    with op.batch_alter_table('cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area', sa.String(length=120), server_default='', nullable=False))
    # The first district of each area goes back to the one column (an area of several districts keeps only that).
    op.execute(
        "UPDATE cluster SET area = (SELECT MIN(cd.district) FROM cluster_district cd WHERE cd.cluster_id = cluster.id) "
        "WHERE EXISTS (SELECT 1 FROM cluster_district cd WHERE cd.cluster_id = cluster.id)"
    )
    with op.batch_alter_table('cluster_district', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cluster_district_council_id'))
    op.drop_table('cluster_district')
    with op.batch_alter_table('council_district', schema=None) as batch_op:
        batch_op.drop_constraint('uq_council_district_council', type_='unique')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('postcode')
    with op.batch_alter_table('holder', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
        batch_op.drop_column('postcode')
    with op.batch_alter_table('postcode_centroid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postcode_centroid_district'))
    op.drop_table('postcode_centroid')
