"""who cancelled a top-up

A person (or their representative) can now cancel a top-up nobody has paid yet: Stripe cancels its
PaymentIntent and the top-up becomes `cancelled`. The row keeps who cancelled it and when, for the
council's staff; a cancel made on Stripe's side (its `payment_intent.canceled` event) keeps only when.
The status column is a plain string (no database enum), so the new status needs no change to it.

Downgrade drops the columns; it refuses while a cancelled top-up exists, as the older code knows no
such status.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-06
"""

from typing import Sequence, Union

import sqlalchemy as sa

import brokerage.types
from alembic import op


revision: str = '0043'
down_revision: Union[str, None] = '0042'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('top_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', brokerage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_top_up_cancelled_by', 'user_account', ['cancelled_by_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    cancelled = op.get_bind().execute(sa.text("SELECT count(*) FROM top_up WHERE status = 'cancelled'")).scalar()
    if cancelled:
        raise RuntimeError(f"{cancelled} top-ups are cancelled, a status revision 0042 does not know: downgrade refused")
    with op.batch_alter_table('top_up', schema=None) as batch_op:
        batch_op.drop_constraint('fk_top_up_cancelled_by', type_='foreignkey')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('cancelled_by_id')
