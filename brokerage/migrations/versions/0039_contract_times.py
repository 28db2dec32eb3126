"""contract times

A contract keeps the hours in each time of day agreed at the match it was made from (`slot_hours`,
as matching format 2 names times: {"mon_am": 3, "fri_pm": 2}), so the contract itself says when the
care happens. Until now they were only on the match's assignment, which the contract page never showed.

Existing contracts made from a match get the times of that match's accepted assignment (same
proposal, demand line and provider); a contract with no such assignment, or from a run made before
times were matched, keeps none (NULL): its times were never agreed.

Downgrade drops the column (the assignments still hold the times).

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-02
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0039'
down_revision: Union[str, None] = '0038'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

contract = sa.table('contract', sa.column('id', sa.Integer), sa.column('proposal_id', sa.Integer), sa.column('demand_line_id', sa.Integer),
                    sa.column('provider_id', sa.Integer), sa.column('slot_hours', sa.JSON))
assignment = sa.table('match_assignment', sa.column('id', sa.Integer), sa.column('proposal_id', sa.Integer),
                      sa.column('demand_line_id', sa.Integer), sa.column('provider_id', sa.Integer), sa.column('status', sa.String),
                      sa.column('slot_hours', sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_hours', sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(contract.c.id, assignment.c.slot_hours)
        .join(assignment, sa.and_(assignment.c.proposal_id == contract.c.proposal_id, assignment.c.demand_line_id == contract.c.demand_line_id,
                                  assignment.c.provider_id == contract.c.provider_id, assignment.c.status == 'accepted'))
        .order_by(contract.c.id, assignment.c.id)
    ).all()
    done = set()
    for row in rows:
        if row.id in done or not row.slot_hours:
            continue
        done.add(row.id)
        connection.execute(contract.update().where(contract.c.id == row.id).values(slot_hours=row.slot_hours))


def downgrade() -> None:
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('slot_hours')
