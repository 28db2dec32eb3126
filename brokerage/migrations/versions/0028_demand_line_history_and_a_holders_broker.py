"""demand line history and a holder's broker

A broker can edit and withdraw a demand line: the line records when it last changed, and each edit or
withdrawal is kept with who made it and what the line was before. A holder names the broker who looks
after them.

Revision ID: 0028
Revises: 0029
Create Date: 2026-12-12
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
import brokerage.types


revision: str = '0028'
down_revision: Union[str, None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('demand_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_at', brokerage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'demand_line_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('demand_line_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('edited', 'withdrawn', name='demand_line_change_kind', native_enum=False, length=12), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), server_default='', nullable=False),
        sa.Column('at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['demand_line_id'], ['demand_line.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('demand_line_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_line_change_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_line_change_demand_line_id'), ['demand_line_id'], unique=False)
    with op.batch_alter_table('holder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broker_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_holder_broker_id_user_account', 'user_account', ['broker_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('holder', schema=None) as batch_op:
        batch_op.drop_constraint('fk_holder_broker_id_user_account', type_='foreignkey')
        batch_op.drop_column('broker_id')
    with op.batch_alter_table('demand_line_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_line_change_demand_line_id'))
        batch_op.drop_index(batch_op.f('ix_demand_line_change_council_id'))
    op.drop_table('demand_line_change')
    with op.batch_alter_table('demand_line', schema=None) as batch_op:
        batch_op.drop_column('changed_at')
