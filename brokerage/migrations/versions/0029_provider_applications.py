"""provider applications

Providers can apply on a public form. Each provider has a status: an application waits for a
broker's review (`pending_review`) and is then `approved` or `refused`; only an approved provider
with valid vetting is matched. Every provider registered before this (by a broker) is approved.
The broker who decided an application, when, and why a refusal was made are kept with it.

Revision ID: 0029
Revises: 0026
Create Date: 2026-12-14
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0029'
down_revision: Union[str, None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'status', sa.Enum('pending_review', 'approved', 'refused', name='provider_status', native_enum=False, length=20),
            server_default='approved', nullable=False,
        ))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.String(length=500), server_default='', nullable=False))
        batch_op.create_foreign_key('fk_provider_reviewed_by_id_user_account', 'user_account', ['reviewed_by_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint('ck_provider_refusal', "status <> 'refused' OR (reviewed_at IS NOT NULL AND review_note <> '')")
        batch_op.create_index('ix_provider_council_status', ['council_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_council_status')
        batch_op.drop_constraint('ck_provider_refusal', type_='check')
        batch_op.drop_constraint('fk_provider_reviewed_by_id_user_account', type_='foreignkey')
        batch_op.drop_column('review_note')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('status')
