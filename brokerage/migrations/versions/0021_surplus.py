"""surplus rules, flags and clawbacks

Each council's surplus rule (rule A's weeks stay in council.surplus_weeks), the flags the daily review
raises on pool shares, and clawbacks proposed by one officer and decided by another.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-14
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_FLAG_WHERE = "status = 'open'"
PENDING_CLAWBACK_WHERE = "status = 'proposed'"


def _rule_kind() -> sa.Enum:
    return sa.Enum('unspent_weeks', 'above_pledges', name='surplus_rule_kind', native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        'surplus_rule',
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('kind', _rule_kind(), nullable=False),
        sa.Column('multiple', sa.Integer(), server_default='8', nullable=False),
        sa.Column('notice_days', sa.Integer(), server_default='28', nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('multiple BETWEEN 1 AND 52', name='ck_surplus_rule_multiple'),
        sa.CheckConstraint('notice_days BETWEEN 7 AND 365', name='ck_surplus_rule_notice'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('council_id'),
    )
    op.create_table(
        'surplus_flag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('rule', _rule_kind(), nullable=False),
        sa.Column('status', sa.Enum('open', 'closed', name='surplus_flag_status', native_enum=False, length=8), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('raised_on', sa.Date(), nullable=False),
        sa.Column('clawback_from', sa.Date(), nullable=False),
        sa.Column('reviewed_on', sa.Date(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('closed_reason', sa.String(length=300), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount_pence >= 0', name='ck_surplus_flag_amount'),
        sa.CheckConstraint("status <> 'open' OR amount_pence > 0", name='ck_surplus_flag_open_amount'),
        sa.CheckConstraint('clawback_from >= raised_on', name='ck_surplus_flag_notice'),
        sa.CheckConstraint("(status = 'open' AND closed_on IS NULL) OR (status <> 'open' AND closed_on IS NOT NULL)",
                           name='ck_surplus_flag_closed_on'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_surplus_flag_cluster_id', 'surplus_flag', ['cluster_id'], unique=False)
    op.create_index('ix_surplus_flag_holder_id', 'surplus_flag', ['holder_id'], unique=False)
    op.create_index('ix_surplus_flag_council_status', 'surplus_flag', ['council_id', 'status'], unique=False)
    op.create_index('ux_surplus_flag_open', 'surplus_flag', ['cluster_id', 'holder_id'], unique=True,
                    sqlite_where=sa.text(OPEN_FLAG_WHERE), postgresql_where=sa.text(OPEN_FLAG_WHERE))
    op.create_table(
        'surplus_clawback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('flag_id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('status', sa.Enum('proposed', 'approved', 'rejected', 'cancelled', name='surplus_clawback_status',
                                    native_enum=False, length=12), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.String(length=500), server_default='', nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount_pence > 0', name='ck_surplus_clawback_amount'),
        sa.CheckConstraint('decided_by_id IS NULL OR decided_by_id <> proposed_by_id', name='ck_surplus_clawback_four_eyes'),
        sa.CheckConstraint("status <> 'approved' OR (entry_id IS NOT NULL AND decided_by_id IS NOT NULL)",
                           name='ck_surplus_clawback_approved'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['flag_id'], ['surplus_flag.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_surplus_clawback_flag_id', 'surplus_clawback', ['flag_id'], unique=False)
    op.create_index('ix_surplus_clawback_council_status', 'surplus_clawback', ['council_id', 'status'], unique=False)
    op.create_index('ux_surplus_clawback_pending', 'surplus_clawback', ['flag_id'], unique=True,
                    sqlite_where=sa.text(PENDING_CLAWBACK_WHERE), postgresql_where=sa.text(PENDING_CLAWBACK_WHERE))


def downgrade() -> None:
    for name in ('ux_surplus_clawback_pending', 'ix_surplus_clawback_council_status', 'ix_surplus_clawback_flag_id'):
        op.drop_index(name, table_name='surplus_clawback')
    op.drop_table('surplus_clawback')
    for name in ('ux_surplus_flag_open', 'ix_surplus_flag_council_status', 'ix_surplus_flag_holder_id', 'ix_surplus_flag_cluster_id'):
        op.drop_index(name, table_name='surplus_flag')
    op.drop_table('surplus_flag')
    op.drop_table('surplus_rule')
