"""contract changes and notice

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

import brokerage.types
from alembic import op  # noqa: F401


revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_shares', sa.JSON(), nullable=True))
    # A contract made before this serves the members of the demand line it was made from.
    contract = sa.table('contract', sa.column('id', sa.Integer), sa.column('demand_line_id', sa.Integer), sa.column('member_shares', sa.JSON))
    line = sa.table('demand_line', sa.column('id', sa.Integer), sa.column('shares', sa.JSON))
    connection = op.get_bind()
    shares_of_line = dict(connection.execute(sa.select(line.c.id, line.c.shares)).all())
    for contract_id, line_id in connection.execute(sa.select(contract.c.id, contract.c.demand_line_id)).all():
        connection.execute(contract.update().where(contract.c.id == contract_id).values(member_shares=shares_of_line.get(line_id) or {}))
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.alter_column('member_shares', existing_type=sa.JSON(), nullable=False)

    # A contract's history: made, changes proposed and decided, notice given, ended.
    op.create_table('contract_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('at', brokerage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('made', 'change_proposed', 'change_passed', 'change_rejected', 'change_lapsed', 'notice_given', 'ended',
                              name='contract_event_kind', native_enum=False, length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contract_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_event_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_event_council_id'), ['council_id'], unique=False)
    # Every contract made before this has its first line: made (from its decision, when it has one).
    contract_table = sa.table('contract', sa.column('id', sa.Integer), sa.column('council_id', sa.Integer), sa.column('proposal_id', sa.Integer),
                              sa.column('created_at', brokerage.types.UTCDateTime(timezone=True)))
    event = sa.table('contract_event', sa.column('council_id', sa.Integer), sa.column('contract_id', sa.Integer), sa.column('proposal_id', sa.Integer),
                     sa.column('at', brokerage.types.UTCDateTime(timezone=True)), sa.column('kind', sa.String), sa.column('detail', sa.JSON))
    rows = connection.execute(sa.select(contract_table.c.id, contract_table.c.council_id, contract_table.c.proposal_id, contract_table.c.created_at)).all()
    if rows:
        connection.execute(event.insert(), [
            {"council_id": council_id, "contract_id": contract_id, "proposal_id": proposal_id, "at": created_at, "kind": "made", "detail": {}}
            for contract_id, council_id, proposal_id, created_at in rows
        ])


def downgrade() -> None:
    with op.batch_alter_table('contract_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_event_council_id'))
        batch_op.drop_index(batch_op.f('ix_contract_event_contract_id'))
    op.drop_table('contract_event')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('member_shares')
