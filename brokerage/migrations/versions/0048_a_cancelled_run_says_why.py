"""a payment run cancelled before release keeps why

A run waiting for an officer's check was cancelled with one press and no reason; its page then said "All payments
sent to Stripe" at the moment it was cancelled. The person cancelling now says why (`payment_run.cancel_reason`),
and the page says who cancelled it, when and why. Runs cancelled before this revision have no reason.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-06
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0048'
down_revision: Union[str, None] = '0047'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('payment_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_run', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
