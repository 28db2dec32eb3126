"""invitations, password reset links, the outbox, and what representatives may do

Invitations (holders, their representatives, brokers and officers) and "forgotten your password?" links,
each stored only as the SHA-256 of its token; the outbox of mail kept instead of sent; and the powers a
holder gives a representative (representatives authorised before keep all three).

Revision ID: 0027
Revises: 0029 (first written on 0025; re-chained after main's 0026 and 0029 when main was merged in)
Create Date: 2026-12-14
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
import brokerage.types


revision: str = '0027'
down_revision: Union[str, None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('representation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('may_see_money', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('may_act_in_groups', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('may_manage_care', sa.Boolean(), server_default=sa.true(), nullable=False))

    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('holder', 'representative', 'broker', 'council_officer', name='invitation_kind', native_enum=False, length=20), nullable=False),
        sa.Column('status', sa.Enum('pending', 'accepted', 'cancelled', 'expired', name='invitation_status', native_enum=False, length=12), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('phone', sa.String(length=30), nullable=True),
        sa.Column('holder_id', sa.Integer(), nullable=True),
        sa.Column('relationship', sa.String(length=60), server_default='', nullable=False),
        sa.Column('powers', sa.JSON(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('times_sent', sa.Integer(), server_default='1', nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_sent_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', brokerage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL', name='ck_invitation_reachable'),
        sa.CheckConstraint("kind NOT IN ('holder', 'representative') OR holder_id IS NOT NULL", name='ck_invitation_holder'),
        sa.CheckConstraint("kind = 'holder' OR email IS NOT NULL", name='ck_invitation_email_unless_holder'),
        sa.CheckConstraint('times_sent >= 1', name='ck_invitation_times_sent'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_holder_id'), ['holder_id'], unique=False)

    op.create_table(
        'password_reset',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('session_version', sa.Integer(), nullable=False),
        sa.Column('created_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', brokerage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_user_id'), ['user_id'], unique=False)

    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox_message')
    op.drop_table('password_reset')
    op.drop_table('invitation')
    with op.batch_alter_table('representation', schema=None) as batch_op:
        batch_op.drop_column('may_manage_care')
        batch_op.drop_column('may_act_in_groups')
        batch_op.drop_column('may_see_money')
