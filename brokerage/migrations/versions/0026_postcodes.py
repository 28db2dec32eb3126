"""postcodes

The centroids of full postcodes and of postcode districts (`brokerage geo import`), so forms take a
postcode and nobody types a latitude.

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


def downgrade() -> None:
    with op.batch_alter_table('postcode_centroid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postcode_centroid_district'))
    op.drop_table('postcode_centroid')
