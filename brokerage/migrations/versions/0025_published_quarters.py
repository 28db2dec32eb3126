"""published quarters

The public report's figures of each complete quarter, frozen the first time they are shown, so a later
change to a provider's facts cannot move a past quarter's figures (two readings could be subtracted).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-11
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
import brokerage.types


revision: str = '0025'
down_revision: Union[str, None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'published_quarter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('quarter_start', sa.Date(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('published_at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('council_id', 'quarter_start', name='uq_published_quarter'),
    )


def downgrade() -> None:
    op.drop_table('published_quarter')
