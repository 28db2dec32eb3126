"""travel paid from the day the charter was agreed

Travel time is paid only for visits made while the provider kept the Ethical Care Charter. The provider
keeps the day it last agreed the charter, the day it last gave it up, and the day a broker confirmed
it (and who): travel is paid from the later of the first and the last. A timesheet keeps the days
that applied when it was sent, and the part of its pay that was for travel, so the approver and the
officer releasing the money see travel apart from care.

Providers and sheets from before this revision keep empty days: their charter covers every visit, as
it did, so no week already sent or approved changes. A sent sheet's travel pay is filled in from its
visits at its fixed rate (the same rounding as `timesheets.rules.pay_for`).

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-06
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0045'
down_revision: Union[str, None] = '0044'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charter_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('charter_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('charter_confirmed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('charter_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_provider_charter_confirmed_by_id_user_account', 'user_account', ['charter_confirmed_by_id'], ['id'], ondelete='RESTRICT')
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('travel_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('travel_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('travel_pence', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint('ck_timesheet_travel', 'travel_pence >= 0')
    op.execute(sa.text(
        "UPDATE timesheet SET travel_pence = CASE WHEN travel_paid THEN "
        "((SELECT coalesce(sum(visit.travel_minutes), 0) FROM visit WHERE visit.timesheet_id = timesheet.id) * rate_pence + 30) / 60 "
        "ELSE 0 END WHERE rate_pence IS NOT NULL AND status <> 'draft'"
    ))


def downgrade() -> None:
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.drop_constraint('ck_timesheet_travel', type_='check')
        batch_op.drop_column('travel_pence')
        batch_op.drop_column('travel_until')
        batch_op.drop_column('travel_from')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_constraint('fk_provider_charter_confirmed_by_id_user_account', type_='foreignkey')
        batch_op.drop_column('charter_confirmed_by_id')
        batch_op.drop_column('charter_confirmed_on')
        batch_op.drop_column('charter_until')
        batch_op.drop_column('charter_since')
