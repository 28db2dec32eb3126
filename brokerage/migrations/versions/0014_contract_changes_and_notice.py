"""contract changes and notice

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op  # noqa: F401


revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_shares', sa.JSON(), nullable=True))
    # A contract made before this serves the members of the demand line it was made from.
    contract = sa.table('contract', sa.column('id', sa.Integer), sa.column('demand_line_id', sa.Integer), sa.column('member_shares', sa.JSON))
    line = sa.table('demand_line', sa.column('id', sa.Integer), sa.column('shares', sa.JSON))
    connection = op.get_bind()
    shares_of_line = dict(connection.execute(sa.select(line.c.id, line.c.shares)).all())
    for contract_id, line_id in connection.execute(sa.select(contract.c.id, contract.c.demand_line_id)).all():
        connection.execute(contract.update().where(contract.c.id == contract_id).values(member_shares=shares_of_line.get(line_id) or {}))
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.alter_column('member_shares', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('member_shares')
