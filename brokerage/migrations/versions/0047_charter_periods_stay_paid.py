"""a provider keeps every period its charter was kept and confirmed

A provider's row kept one period of the Ethical Care Charter (`charter_since` to `charter_until`, confirmed on
`charter_confirmed_on`). Given up and ticked again on a later day, the new period replaced the old one, and a sheet
not yet sent then paid no travel on the days of the old, confirmed period. The provider now keeps the periods
before the current one (`provider.charter_earlier`), and a sent sheet those that share a day with its week
(`timesheet.travel_earlier`), fixed with its other travel terms.

Both start empty: each row's current period stays in the columns it was in, so what any provider or sheet is paid
does not change. A period already replaced before this revision was not kept anywhere and cannot be filled in.

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-06
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0047'
down_revision: Union[str, None] = '0046'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charter_earlier', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('travel_earlier', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.drop_column('travel_earlier')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('charter_earlier')
