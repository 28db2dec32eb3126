"""payment runs

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa  # noqa: F401

from alembic import op  # noqa: F401


revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


OPEN_RUN_WHERE = "status IN ('prepared', 'released', 'paying')"


def upgrade() -> None:
    op.create_table(
        'payment_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('prepared', 'released', 'paying', 'paid', 'paid_with_failures', 'cancelled',
                                    name='payment_run_status', native_enum=False, length=20), nullable=False),
        sa.Column('prepared_by_id', sa.Integer(), nullable=False),
        sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('released_by_id', sa.Integer(), nullable=True),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
        sa.Column('total_pence', sa.BigInteger(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('total_pence >= 0', name='ck_payment_run_total'),
        sa.CheckConstraint('released_by_id IS NULL OR released_by_id <> prepared_by_id', name='ck_payment_run_four_eyes'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['prepared_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['released_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_payment_run_council_id', 'payment_run', ['council_id'], unique=False)
    op.create_index('ux_payment_run_open', 'payment_run', ['council_id'], unique=True,
                    sqlite_where=sa.text(OPEN_RUN_WHERE), postgresql_where=sa.text(OPEN_RUN_WHERE))
    op.create_table(
        'payment_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.Enum('planned', 'sending', 'sent', 'paid', 'failed', 'reversed', 'held',
                                    name='payment_line_status', native_enum=False, length=12), nullable=False),
        sa.Column('stripe_transfer_id', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.String(length=500), server_default='', nullable=False),
        sa.Column('payout_entry_id', sa.Integer(), nullable=True),
        sa.Column('paid_entry_id', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount_pence > 0', name='ck_payment_line_amount'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['run_id'], ['payment_run.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['payout_entry_id'], ['journal_entry.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['paid_entry_id'], ['journal_entry.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'provider_id', name='uq_payment_line_provider'),
    )
    op.create_index('ix_payment_line_council_id', 'payment_line', ['council_id'], unique=False)
    op.create_index('ix_payment_line_run_id', 'payment_line', ['run_id'], unique=False)
    op.create_index('ix_payment_line_provider_id', 'payment_line', ['provider_id'], unique=False)
    op.create_index('ix_payment_line_transfer', 'payment_line', ['stripe_transfer_id'], unique=False)
    op.create_table(
        'payment_line_timesheet',
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('timesheet_id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['line_id'], ['payment_line.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['timesheet_id'], ['timesheet.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('line_id', 'timesheet_id'),
    )
    op.create_index('ix_payment_line_timesheet_council_id', 'payment_line_timesheet', ['council_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_line_timesheet_council_id', table_name='payment_line_timesheet')
    op.drop_table('payment_line_timesheet')
    for name in ('ix_payment_line_transfer', 'ix_payment_line_provider_id', 'ix_payment_line_run_id', 'ix_payment_line_council_id'):
        op.drop_index(name, table_name='payment_line')
    op.drop_table('payment_line')
    op.drop_index('ux_payment_run_open', table_name='payment_run')
    op.drop_index('ix_payment_run_council_id', table_name='payment_run')
    op.drop_table('payment_run')
