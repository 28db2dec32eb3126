"""a timesheet keeps its week's terms

The hourly rate, weekly hours and sharing rule the week is priced under, and each member's part, fixed
when the sheet is submitted; approval pays exactly that. Sheets already sent are given their contract's
current terms (what approval would have used).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-09
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_pence', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('hours_per_week', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allocation_rule', sa.Enum('equal', 'by_hours', 'by_pledge', name='allocation_rule', native_enum=False, length=12), nullable=True))
        batch_op.add_column(sa.Column('parts', sa.JSON(), nullable=True))
    for column in ('rate_pence', 'hours_per_week', 'allocation_rule'):
        op.execute(
            f"UPDATE timesheet SET {column} = (SELECT contract.{column} FROM contract WHERE contract.id = timesheet.contract_id) "
            "WHERE status <> 'draft'"
        )


def downgrade() -> None:
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.drop_column('parts')
        batch_op.drop_column('allocation_rule')
        batch_op.drop_column('hours_per_week')
        batch_op.drop_column('rate_pence')
