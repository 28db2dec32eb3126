"""JSON nones as SQL NULL

Three nullable JSON columns stored a missing value as the JSON text `null` rather than SQL NULL:
`match_assignment.slot_hours` and `match_gap.slot_hours` (a run made before times were matched)
and `timesheet.parts` (a sheet never sent). Reading gave None either way, but a query asking
`IS NULL` missed those rows, and the database could not tell "nothing" from a value. The models
now say `JSON(none_as_null=True)` (as `contract.slot_hours` already did), and this turns the
stored `null`s into SQL NULL.

Downgrade changes nothing: the older code reads SQL NULL as None too.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-02
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op


revision: str = '0040'
down_revision: Union[str, None] = '0039'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (('match_assignment', 'slot_hours'), ('match_gap', 'slot_hours'), ('timesheet', 'parts'))


def upgrade() -> None:
    connection = op.get_bind()
    for table_name, column_name in COLUMNS:
        column = sa.column(column_name, sa.JSON)
        table = sa.table(table_name, column)
        # A JSON null, however it was spelled (json on PostgreSQL keeps the text as written).
        json_type = sa.func.json_typeof if connection.dialect.name == 'postgresql' else sa.func.json_type
        connection.execute(table.update().where(json_type(column) == 'null').values({column_name: sa.null()}))


def downgrade() -> None:
    pass
