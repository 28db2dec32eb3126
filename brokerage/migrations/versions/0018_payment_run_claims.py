"""payment run claims: the job paying a run holds it (no second job, restart or check meanwhile)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('payment_run') as batch:
        batch.add_column(sa.Column('claim_token', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_run') as batch:
        batch.drop_column('claimed_until')
        batch.drop_column('claim_token')
