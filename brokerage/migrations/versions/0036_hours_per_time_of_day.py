"""hours per time of day

Demand lines and providers keep hours per time of day (`slot_hours`, matching format 2), and a matching
run's proposed assignments and gaps keep the hours of each time of day they cover or leave.

Existing rows are filled in:
- a demand line's weekly hours are spread over its times as evenly as whole hours allow, the
  remainder to the earliest times (14 hours on Monday to Thursday mornings and Friday afternoon:
  3, 3, 3, 3 and 2); a time left with no hours (more times than hours) is no longer one of its times;
- a provider's weekly capacity is spread over its times the same way, each of its times keeping at
  least one hour, and the capacity stays as its weekly cap; a provider's cap may now be empty (no
  cap beyond its slot hours);
- assignments and gaps of earlier runs keep no times (NULL).

Downgrade drops the new columns; a provider with no cap gets the sum of its slot hours as its capacity.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-01
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0036'
down_revision: Union[str, None] = '0035'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# As brokerage.vocabulary.SLOTS on the day of this migration: a migration keeps its own copy.
SLOTS = tuple(f"{day}_{part}" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for part in ("am", "pm", "eve"))

demand_line = sa.table('demand_line', sa.column('id', sa.Integer), sa.column('hours', sa.Integer), sa.column('slots', sa.JSON),
                       sa.column('slot_hours', sa.JSON))
provider = sa.table('provider', sa.column('id', sa.Integer), sa.column('capacity_hours', sa.Integer), sa.column('slots', sa.JSON),
                    sa.column('slot_hours', sa.JSON))


def spread(hours, slots, at_least_one=False):
    """Spread hours over slots evenly in whole hours, the remainder to the earliest (as brokerage.slot_hours.spread_hours)."""
    ordered = [slot for slot in SLOTS if slot in set(slots or [])]
    if not ordered or (not hours and not at_least_one):
        return {}
    each, extra = divmod(max(hours or 0, 0), len(ordered))
    hours_of = {slot: each + (1 if index < extra else 0) for index, slot in enumerate(ordered)}
    if at_least_one:
        hours_of = {slot: max(1, value) for slot, value in hours_of.items()}
    return {slot: value for slot, value in hours_of.items() if value > 0}


def upgrade() -> None:
    with op.batch_alter_table('demand_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_hours', sa.JSON(), nullable=True))
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_hours', sa.JSON(), nullable=True))
    connection = op.get_bind()
    for row in connection.execute(sa.select(demand_line.c.id, demand_line.c.hours, demand_line.c.slots).order_by(demand_line.c.id)).all():
        hours_of = spread(row.hours, row.slots)
        connection.execute(demand_line.update().where(demand_line.c.id == row.id).values(slot_hours=hours_of, slots=list(hours_of)))
    for row in connection.execute(sa.select(provider.c.id, provider.c.capacity_hours, provider.c.slots).order_by(provider.c.id)).all():
        connection.execute(provider.update().where(provider.c.id == row.id).values(slot_hours=spread(row.capacity_hours, row.slots, at_least_one=True)))
    with op.batch_alter_table('demand_line', schema=None) as batch_op:
        batch_op.alter_column('slot_hours', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.alter_column('slot_hours', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('capacity_hours', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('match_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_hours', sa.JSON(), nullable=True))
    with op.batch_alter_table('match_gap', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_hours', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('match_gap', schema=None) as batch_op:
        batch_op.drop_column('slot_hours')
    with op.batch_alter_table('match_assignment', schema=None) as batch_op:
        batch_op.drop_column('slot_hours')
    connection = op.get_bind()
    uncapped = sa.select(provider.c.id, provider.c.slot_hours).where(provider.c.capacity_hours.is_(None)).order_by(provider.c.id)
    for row in connection.execute(uncapped).all():
        connection.execute(provider.update().where(provider.c.id == row.id).values(capacity_hours=sum((row.slot_hours or {}).values())))
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.alter_column('capacity_hours', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('slot_hours')
    with op.batch_alter_table('demand_line', schema=None) as batch_op:
        batch_op.drop_column('slot_hours')
