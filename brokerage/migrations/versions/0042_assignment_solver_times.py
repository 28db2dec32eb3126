"""assignment solver times

A proposed part keeps the times the solver gave it (`solver_slot_hours`), as it keeps the solver's
hours (`solver_hours`). The gap report can then tell, at each time of day, the hours a broker took
out of the proposed match from the hours no provider could give: until now a line's gap kept the
two mixed in one set of times, and a row with both showed no times at all.

Existing parts no broker has changed get their times now (they are still the solver's); a part a
broker changed keeps none (NULL), as its solver's times were not kept.

Downgrade drops the column.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-05
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0042'
down_revision: Union[str, None] = '0041'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

assignment = sa.table('match_assignment', sa.column('edited_by_id', sa.Integer), sa.column('hours', sa.Integer),
                      sa.column('solver_hours', sa.Integer), sa.column('slot_hours', sa.JSON), sa.column('solver_slot_hours', sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('match_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('solver_slot_hours', sa.JSON(), nullable=True))
    op.get_bind().execute(
        assignment.update()
        .where(assignment.c.edited_by_id.is_(None), assignment.c.hours == assignment.c.solver_hours, assignment.c.slot_hours.is_not(None))
        .values(solver_slot_hours=assignment.c.slot_hours)
    )


def downgrade() -> None:
    with op.batch_alter_table('match_assignment', schema=None) as batch_op:
        batch_op.drop_column('solver_slot_hours')
