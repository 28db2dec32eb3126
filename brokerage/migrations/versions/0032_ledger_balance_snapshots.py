"""Balance snapshots at each seal, a queue of unsealed entries, and storage settings for ledger_account

- `ledger_balance_snapshot`: an account's balance at a seal (the sum of its postings whose entries have
  seq <= the seal's last_seq), written by `seal`, append-only like the other ledger tables.
- `ledger_unsealed_entry`: a trigger adds every entry as it closes and `seal` removes what it seals, so
  sealing (and the lower bound a point-in-time balance needs) never searches the whole journal.
  Entries already closed and unsequenced are queued here.
- `ledger_seal.min_created_at` / `through_created_at`: the time span a seal covers (NULL on older seals).
- PostgreSQL: `ledger_account` is updated by every posting; fillfactor 80 leaves room on each page for
  HOT updates, and autovacuum visits it after a fixed number of dead rows rather than a fraction of a
  tiny table.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-16
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

from brokerage.types import UTCDateTime


revision: str = '0032'
down_revision: Union[str, None] = '0031'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POSTGRES_UP = [
    """
    CREATE FUNCTION ledger_queue_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO ledger_unsealed_entry (entry_id, council_id, created_at)
        SELECT NEW.entry_id, NEW.council_id, e.created_at FROM journal_entry e WHERE e.id = NEW.entry_id;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER entry_close_queues_unsealed AFTER INSERT ON entry_close FOR EACH ROW EXECUTE FUNCTION ledger_queue_unsealed()",
    "CREATE TRIGGER ledger_balance_snapshot_append_only BEFORE UPDATE OR DELETE ON ledger_balance_snapshot "
    "FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change()",
    "CREATE TRIGGER ledger_balance_snapshot_no_truncate BEFORE TRUNCATE ON ledger_balance_snapshot "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change()",
    "ALTER TABLE ledger_account SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000, "
    "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000, autovacuum_vacuum_cost_delay = 0)",
]
POSTGRES_DOWN = [
    "ALTER TABLE ledger_account RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
    "autovacuum_analyze_scale_factor, autovacuum_analyze_threshold, autovacuum_vacuum_cost_delay)",
    "DROP TRIGGER IF EXISTS ledger_balance_snapshot_no_truncate ON ledger_balance_snapshot",
    "DROP TRIGGER IF EXISTS ledger_balance_snapshot_append_only ON ledger_balance_snapshot",
    "DROP TRIGGER IF EXISTS entry_close_queues_unsealed ON entry_close",
    "DROP FUNCTION IF EXISTS ledger_queue_unsealed()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER entry_close_queues_unsealed AFTER INSERT ON entry_close
    BEGIN
        INSERT INTO ledger_unsealed_entry (entry_id, council_id, created_at)
        SELECT NEW.entry_id, NEW.council_id, created_at FROM journal_entry WHERE id = NEW.entry_id;
    END
    """,
    "CREATE TRIGGER ledger_balance_snapshot_no_update BEFORE UPDATE ON ledger_balance_snapshot "
    "BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: UPDATE on ledger_balance_snapshot refused'); END",
    "CREATE TRIGGER ledger_balance_snapshot_no_delete BEFORE DELETE ON ledger_balance_snapshot "
    "BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: DELETE on ledger_balance_snapshot refused'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_balance_snapshot_no_delete",
    "DROP TRIGGER IF EXISTS ledger_balance_snapshot_no_update",
    "DROP TRIGGER IF EXISTS entry_close_queues_unsealed",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column('ledger_seal', sa.Column('min_created_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('ledger_seal', sa.Column('through_created_at', UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_ledger_seal_council_through', 'ledger_seal', ['council_id', 'through_created_at'])
    op.create_table(
        'ledger_balance_snapshot',
        sa.Column('seal_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('balance_pence', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['seal_id'], ['ledger_seal.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('seal_id', 'account_id'),
    )
    op.create_index(
        'ix_ledger_balance_snapshot_account_seq', 'ledger_balance_snapshot', ['account_id', 'last_seq'],
        postgresql_include=['balance_pence'],
    )
    op.create_table(
        'ledger_unsealed_entry',
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('entry_id'),
    )
    op.create_index('ix_ledger_unsealed_entry_council_created', 'ledger_unsealed_entry', ['council_id', 'created_at'])
    op.execute(
        "INSERT INTO ledger_unsealed_entry (entry_id, council_id, created_at) "
        "SELECT e.id, e.council_id, e.created_at FROM journal_entry e JOIN entry_close c ON c.entry_id = e.id "
        "WHERE NOT EXISTS (SELECT 1 FROM entry_sequence s WHERE s.entry_id = e.id)"
    )
    for statement in POSTGRES_UP if postgres else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWN if postgres else SQLITE_DOWN:
        op.execute(statement)
    op.drop_index('ix_ledger_unsealed_entry_council_created', table_name='ledger_unsealed_entry')
    op.drop_table('ledger_unsealed_entry')
    op.drop_index('ix_ledger_balance_snapshot_account_seq', table_name='ledger_balance_snapshot')
    op.drop_table('ledger_balance_snapshot')
    op.drop_index('ix_ledger_seal_council_through', table_name='ledger_seal')
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild ledger_seal and lose its triggers.
    op.execute("ALTER TABLE ledger_seal DROP COLUMN through_created_at")
    op.execute("ALTER TABLE ledger_seal DROP COLUMN min_created_at")
