"""match_run.lower_bound, match_run.gap_pct

A matching run keeps the proven lower bound on its cost (pounds) and its optimality gap (percent of
its cost), as `brokerage match solve` prints them, so a broker and an auditor can see how far the
proposal may be from the cheapest that covers as many hours. Runs made before keep NULL.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0037'
down_revision: Union[str, None] = '0036'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lower_bound', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('gap_pct', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.drop_column('gap_pct')
        batch_op.drop_column('lower_bound')
