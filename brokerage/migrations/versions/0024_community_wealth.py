"""community wealth

Each provider's staff count (five or fewer is a micro-provider). Providers already registered are
given a count by their kind, to be checked by a broker: a personal assistant 1, a micro-provider 5
(the most a micro-provider has, so it stays one), and any other kind 6 (the fewest that is not micro,
so no provider is counted as micro on a guess).

Whether a provider is local is no longer stored (`provider.is_local`, never set by any form, is
dropped): the council's own rule decides it when the figures are read, from its postcode districts
and, when set, a distance from their centre (`council.local_distance_km`).

A council publishes its public report of pooled spending only when an officer opts in
(`council.publish_report`, off for every council until then).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-11
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0024'
down_revision: Union[str, None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_count', sa.Integer(), nullable=True))
    op.execute("UPDATE provider SET staff_count = CASE kind WHEN 'pa' THEN 1 WHEN 'micro_provider' THEN 5 ELSE 6 END")
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.alter_column('staff_count', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint('ck_provider_staff_count', 'staff_count >= 1')
        batch_op.drop_column('is_local')
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_distance_km', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('publish_report', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            'ck_council_local_distance', 'local_distance_km IS NULL OR (local_distance_km >= 0.5 AND local_distance_km <= 50)'
        )


def downgrade() -> None:
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.drop_constraint('ck_council_local_distance', type_='check')
        batch_op.drop_column('publish_report')
        batch_op.drop_column('local_distance_km')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_local', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.drop_constraint('ck_provider_staff_count', type_='check')
        batch_op.drop_column('staff_count')
