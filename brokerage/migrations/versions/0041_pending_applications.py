"""pending applications to offer care

An application on the public "offer care" form is kept here until the applicant opens the link emailed
to them; only then are the provider and its account made. One row per email address (a new application
replaces the one waiting); the link's token and the chosen password are stored only as hashes.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
import brokerage.types


revision: str = '0041'
down_revision: Union[str, None] = '0040'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'pending_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('contact_name', sa.String(length=120), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', brokerage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('pending_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_application_council_id'), ['council_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_application_council_id'))
    op.drop_table('pending_application')
