"""stripe accounts events and top ups

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
from brokerage.types import UTCDateTime


revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payouts_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('stripe_event_at', UTCDateTime(), nullable=True))

    op.create_table(
        'stripe_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=100), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=True),
        sa.Column('subject_id', sa.String(length=255), nullable=True),
        sa.Column('account', sa.String(length=255), nullable=True),
        sa.Column('stripe_created_at', UTCDateTime(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('processed_at', UTCDateTime(), nullable=True),
        sa.Column('outcome', sa.Text(), server_default='', nullable=False),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id', name='uq_stripe_event_event_id'),
    )
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_event_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_event_subject_id'), ['subject_id'], unique=False)

    op.create_table(
        'top_up',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('payment_intent_id', sa.String(length=255), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.Column('methods', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum('waiting', 'succeeded', 'failed', 'refunded', name='top_up_status', native_enum=False, length=20), nullable=False),
        sa.Column('refunded_pence', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('shortfall_pence', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('failure_message', sa.String(length=500), server_default='', nullable=False),
        sa.Column('event_ids', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('amount_pence > 0', name='ck_top_up_amount_positive'),
        sa.CheckConstraint('refunded_pence >= 0 AND refunded_pence <= amount_pence', name='ck_top_up_refunded'),
        sa.CheckConstraint('shortfall_pence >= 0 AND shortfall_pence <= refunded_pence', name='ck_top_up_shortfall'),
        sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('payment_intent_id', name='uq_top_up_payment_intent'),
    )
    with op.batch_alter_table('top_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_top_up_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_top_up_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_top_up_cluster_id'), ['cluster_id'], unique=False)

    op.create_table(
        'connected_payout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('payout_id', sa.String(length=255), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.Enum('paid', 'failed', name='payout_status', native_enum=False, length=20), nullable=False),
        sa.Column('arrival_date', sa.Integer(), nullable=True),
        sa.Column('failure_message', sa.String(length=500), server_default='', nullable=False),
        sa.Column('event_ids', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('amount_pence >= 0', name='ck_connected_payout_amount'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('payout_id', name='uq_connected_payout_payout_id'),
    )
    with op.batch_alter_table('connected_payout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connected_payout_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_connected_payout_provider_id'), ['provider_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('connected_payout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connected_payout_provider_id'))
        batch_op.drop_index(batch_op.f('ix_connected_payout_council_id'))
    op.drop_table('connected_payout')
    with op.batch_alter_table('top_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_top_up_cluster_id'))
        batch_op.drop_index(batch_op.f('ix_top_up_holder_id'))
        batch_op.drop_index(batch_op.f('ix_top_up_council_id'))
    op.drop_table('top_up')
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_event_subject_id'))
        batch_op.drop_index(batch_op.f('ix_stripe_event_council_id'))
    op.drop_table('stripe_event')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('stripe_event_at')
        batch_op.drop_column('payouts_enabled')
