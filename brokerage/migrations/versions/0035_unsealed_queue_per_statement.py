"""The unsealed-entry queue is filled once per statement on PostgreSQL

0032's trigger queued each closed entry with a row trigger: one function call and one INSERT per
entry. A batch of 100 entries closes them in one statement, so a statement trigger with a transition
table queues all of them with one INSERT … SELECT. What is queued is unchanged: every entry_close row,
with its entry's created_at, whichever path wrote it. SQLite has no statement triggers and keeps 0032's.

Measured with the server's track_functions on `brokerage bench ledger`'s batch slice (100 entries a
call): the row trigger was about a tenth of the server's time per entry.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01
"""

from typing import Sequence, Union

from alembic import op


revision: str = '0035'
down_revision: Union[str, None] = '0034'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UP = [
    """
    CREATE FUNCTION ledger_queue_unsealed_closed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO ledger_unsealed_entry (entry_id, council_id, created_at)
        SELECT c.entry_id, c.council_id, e.created_at FROM closed c JOIN journal_entry e ON e.id = c.entry_id
        ORDER BY c.entry_id;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER entry_close_queues_unsealed ON entry_close",
    "CREATE TRIGGER entry_close_queues_unsealed AFTER INSERT ON entry_close REFERENCING NEW TABLE AS closed "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_queue_unsealed_closed()",
]
DOWN = [
    "DROP TRIGGER entry_close_queues_unsealed ON entry_close",
    "CREATE TRIGGER entry_close_queues_unsealed AFTER INSERT ON entry_close FOR EACH ROW EXECUTE FUNCTION ledger_queue_unsealed()",
    "DROP FUNCTION ledger_queue_unsealed_closed()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(statement)
