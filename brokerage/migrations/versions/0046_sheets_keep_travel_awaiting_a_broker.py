"""sheets keep that travel waited for a broker to confirm the charter

A sheet sent while the provider's own tick of the Ethical Care Charter waited for a broker kept only
"travel not paid", and its pages then said the provider had not signed the charter. The sheet now keeps
that its travel waited for a broker (`timesheet.travel_awaiting`), fixed with its other travel terms.

Sheets already sent are filled in from what the provider records: a sent sheet whose travel was not paid
is marked waiting when the provider's last tick came on or before the day it was last sent (in England),
it had not given the charter up by then, and no broker had confirmed it by then. A charter ticked again since then hides an earlier wait, and such a
sheet keeps saying the charter was not signed; its pay, fixed when it was sent, is not touched.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-06
"""

from datetime import timezone
from typing import Sequence, Union
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alembic import op


revision: str = '0046'
down_revision: Union[str, None] = '0045'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ENGLAND = ZoneInfo("Europe/London")


def upgrade() -> None:
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('travel_awaiting', sa.Boolean(), server_default=sa.false(), nullable=False))
    sheet = sa.table('timesheet', sa.column('id', sa.Integer), sa.column('provider_id', sa.Integer), sa.column('status', sa.String),
                     sa.column('travel_paid', sa.Boolean), sa.column('submitted_at', sa.DateTime(timezone=True)),
                     sa.column('travel_awaiting', sa.Boolean))
    provider = sa.table('provider', sa.column('id', sa.Integer), sa.column('ethical_care_charter', sa.Boolean),
                        sa.column('charter_since', sa.Date), sa.column('charter_until', sa.Date), sa.column('charter_confirmed_on', sa.Date))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(sheet.c.id, sheet.c.submitted_at, provider.c.charter_since, provider.c.charter_until, provider.c.charter_confirmed_on)
        .join(provider, provider.c.id == sheet.c.provider_id)
        .where(sheet.c.status.in_(['submitted', 'approved']), sheet.c.travel_paid == sa.false(), sheet.c.submitted_at.is_not(None),
               provider.c.charter_since.is_not(None))
    ).all()
    waited = []
    for sheet_id, sent_at, since, until, confirmed in rows:
        # SQLite hands back the stored UTC time without its zone.
        sent_on = (sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=timezone.utc)).astimezone(ENGLAND).date()
        kept = since <= sent_on and (until is None or until < since or until >= sent_on)
        if kept and (confirmed is None or confirmed > sent_on):
            waited.append(sheet_id)
    if waited:
        bind.execute(sheet.update().where(sheet.c.id.in_(waited)).values(travel_awaiting=True))


def downgrade() -> None:
    with op.batch_alter_table('timesheet', schema=None) as batch_op:
        batch_op.drop_column('travel_awaiting')
