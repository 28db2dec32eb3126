"""council.match_time_limit_s

How long (seconds of deterministic work) a council's matching runs improve the one-pass answer
towards the optimum of the documented cost (brokerage.matching.improve). 10 for every council.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-20
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0034'
down_revision: Union[str, None] = '0033'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_time_limit_s', sa.Integer(), server_default='10', nullable=False))
        batch_op.create_check_constraint('ck_council_match_time_limit', 'match_time_limit_s BETWEEN 0 AND 600')


def downgrade() -> None:
    with op.batch_alter_table('council', schema=None) as batch_op:
        batch_op.drop_constraint('ck_council_match_time_limit', type_='check')
        batch_op.drop_column('match_time_limit_s')
