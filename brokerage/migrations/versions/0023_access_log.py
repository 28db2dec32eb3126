"""access log indexes for the officers' filters

The officers' access log lists a council's reads newest first, filtered by who looked and by day.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-10
"""

from typing import Sequence, Union

from alembic import op


revision: str = '0023'
down_revision: Union[str, None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_council_at', ['council_id', 'at'], unique=False)
        batch_op.create_index('ix_access_log_council_actor_at', ['council_id', 'actor_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_council_actor_at')
        batch_op.drop_index('ix_access_log_council_at')
