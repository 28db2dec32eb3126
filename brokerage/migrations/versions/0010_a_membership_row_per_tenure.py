"""a membership row per tenure

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30

A rejoin used to reuse the membership row, so money keys built from its id (`leave:{membership}`)
met the keys of the earlier stay. Each tenure now has its own row: the unique pair (cluster, holder)
becomes unique among memberships that have not ended.
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0010'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIVE = sa.text("status <> 'left'")


def upgrade() -> None:
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint('uq_membership_cluster_holder', type_='unique')
    op.create_index(
        'uq_membership_live_cluster_holder', 'membership', ['cluster_id', 'holder_id'], unique=True,
        sqlite_where=LIVE, postgresql_where=LIVE,
    )


def downgrade() -> None:
    # Only possible while nobody has rejoined a group: earlier tenures would break the old constraint.
    op.drop_index('uq_membership_live_cluster_holder', table_name='membership')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_membership_cluster_holder', ['cluster_id', 'holder_id'])
