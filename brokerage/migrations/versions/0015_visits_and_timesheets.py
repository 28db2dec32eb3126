"""visits and timesheets

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

import brokerage.types  # noqa: F401  (our own column types)
from alembic import op


revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('timesheet_approver',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cluster_id', name='uq_timesheet_approver_cluster')
    )
    with op.batch_alter_table('timesheet_approver', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timesheet_approver_council_id'), ['council_id'], unique=False)

    op.create_table('timesheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'rejected', name='timesheet_status', native_enum=False, length=12), nullable=False),
    sa.Column('submitted_at', brokerage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', brokerage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('total_pence', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('travel_paid', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('care_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'approved' OR care_entry_id IS NOT NULL", name='ck_timesheet_approved_entry'),
    sa.CheckConstraint('total_pence >= 0', name='ck_timesheet_total'),
    sa.ForeignKeyConstraint(['care_entry_id'], ['journal_entry.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'week', name='uq_timesheet_contract_week')
    )
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timesheet_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timesheet_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timesheet_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timesheet_provider_id'), ['provider_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('timesheet_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('travel_minutes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes >= 30', name='ck_visit_minutes'),
    sa.CheckConstraint('travel_minutes >= 0', name='ck_visit_travel'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['timesheet_id'], ['timesheet.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_timesheet_id'), ['timesheet_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_timesheet_id'))
        batch_op.drop_index(batch_op.f('ix_visit_holder_id'))
        batch_op.drop_index(batch_op.f('ix_visit_council_id'))

    op.drop_table('visit')
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timesheet_provider_id'))
        batch_op.drop_index(batch_op.f('ix_timesheet_council_id'))
        batch_op.drop_index(batch_op.f('ix_timesheet_contract_id'))
        batch_op.drop_index(batch_op.f('ix_timesheet_cluster_id'))

    op.drop_table('timesheet')
    with op.batch_alter_table('timesheet_approver', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timesheet_approver_council_id'))

    op.drop_table('timesheet_approver')
