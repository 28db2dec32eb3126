"""audit packs: the requests for a quarter's auditor pack

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0022'
down_revision: Union[str, None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


OPEN_PACK_WHERE = "status IN ('queued', 'building')"


def upgrade() -> None:
    op.create_table(
        'audit_pack_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.String(length=6), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('queued', 'building', 'ready', 'failed', name='audit_pack_status', native_enum=False, length=12), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('file_name', sa.String(length=120), nullable=True),
        sa.Column('size_bytes', sa.BigInteger(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('error', sa.String(length=500), server_default='', nullable=False),
        sa.CheckConstraint('size_bytes IS NULL OR size_bytes >= 0', name='ck_audit_pack_size'),
        sa.CheckConstraint("status <> 'ready' OR (file_name IS NOT NULL AND size_bytes IS NOT NULL AND sha256 IS NOT NULL)", name='ck_audit_pack_ready'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_pack_request_council_requested', 'audit_pack_request', ['council_id', 'requested_at'], unique=False)
    op.create_index('ux_audit_pack_open', 'audit_pack_request', ['council_id', 'quarter'], unique=True,
                    sqlite_where=sa.text(OPEN_PACK_WHERE), postgresql_where=sa.text(OPEN_PACK_WHERE))


def downgrade() -> None:
    op.drop_index('ux_audit_pack_open', table_name='audit_pack_request')
    op.drop_index('ix_audit_pack_request_council_requested', table_name='audit_pack_request')
    op.drop_table('audit_pack_request')
