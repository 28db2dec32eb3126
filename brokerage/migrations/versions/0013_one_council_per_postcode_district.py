"""one council per postcode district

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    table = op.create_table(
        'council_district',
        sa.Column('district', sa.String(length=4), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('district'),
    )
    with op.batch_alter_table('council_district', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_district_council_id'), ['council_id'], unique=False)
    # Existing claims: the council created first keeps a district two councils listed.
    connection = op.get_bind()
    claimed: dict[str, int] = {}
    listed = list(connection.execute(sa.text('SELECT id, area_districts FROM council ORDER BY id')))
    for council_id, districts in listed:
        for district in (districts or '').upper().split():
            if len(district) <= 4:
                claimed.setdefault(district, council_id)
    if claimed:
        op.bulk_insert(table, [{'district': d, 'council_id': c} for d, c in sorted(claimed.items())])
    # The council's own list says the same as the claims: a district another council kept is dropped
    # from the later council's list, so groups cannot be started there by either afterwards.
    for council_id, districts in listed:
        kept = ' '.join(d for d in (districts or '').upper().split() if claimed.get(d) == council_id)
        if kept != (districts or ''):
            connection.execute(sa.text('UPDATE council SET area_districts = :kept WHERE id = :id'), {'kept': kept, 'id': council_id})


def downgrade() -> None:
    with op.batch_alter_table('council_district', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_district_council_id'))
    op.drop_table('council_district')
