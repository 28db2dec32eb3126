"""a broker invites a registered provider to make its account

A provider or personal assistant registered by a broker had no way to get an account, so could never record
a visit or be paid (tester R7-1). An invitation may now be for a provider (`kind = 'provider'`, with
`invitation.provider_id`): like a holder's, it goes by email, or by a link passed on to a phone number.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-06
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0049'
down_revision: Union[str, None] = '0048'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitation_provider_id'), ['provider_id'], unique=False)
        batch_op.create_foreign_key('fk_invitation_provider_id_provider', 'provider', ['provider_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_constraint('ck_invitation_email_unless_holder', type_='check')
        batch_op.create_check_constraint('ck_invitation_email_unless_holder', "kind IN ('holder', 'provider') OR email IS NOT NULL")
        batch_op.create_check_constraint('ck_invitation_provider', "kind <> 'provider' OR provider_id IS NOT NULL")


def downgrade() -> None:
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM invitation WHERE kind = 'provider'")).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} invitations are to providers, a kind revision 0048 does not know: downgrade refused")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint('ck_invitation_provider', type_='check')
        batch_op.drop_constraint('ck_invitation_email_unless_holder', type_='check')
        batch_op.create_check_constraint('ck_invitation_email_unless_holder', "kind = 'holder' OR email IS NOT NULL")
        batch_op.drop_constraint('fk_invitation_provider_id_provider', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitation_provider_id'))
        batch_op.drop_column('provider_id')
