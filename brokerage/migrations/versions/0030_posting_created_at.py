"""posting.created_at

Each posting carries its entry's `created_at`, so a balance at a past moment is summed from one
index on (account_id, created_at) without joining every posting to its entry. Postings already
written take their entry's time; the append-only triggers are lifted for that one UPDATE only.

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-15
"""

from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

from brokerage.types import UTCDateTime


revision: str = '0030'
down_revision: Union[str, None] = '0028'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite drops a table's triggers when batch mode rebuilds it: these are 0002's posting triggers, put back.
SQLITE_POSTING_TRIGGERS = [
    """
    CREATE TRIGGER posting_not_after_close BEFORE INSERT ON posting
    WHEN EXISTS (SELECT 1 FROM entry_close WHERE entry_id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'entry is closed; no more postings'); END
    """,
    """
    CREATE TRIGGER posting_one_council BEFORE INSERT ON posting
    WHEN (SELECT council_id FROM journal_entry WHERE id = NEW.entry_id) IS NOT NEW.council_id
      OR (SELECT council_id FROM ledger_account WHERE id = NEW.account_id) IS NOT NEW.council_id
    BEGIN SELECT RAISE(ABORT, 'a posting, its entry and its account must belong to one council'); END
    """,
    """
    CREATE TRIGGER posting_updates_balance AFTER INSERT ON posting
    BEGIN UPDATE ledger_account SET balance_pence = balance_pence + NEW.amount_pence WHERE id = NEW.account_id; END
    """,
    "CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting "
    "BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: UPDATE on posting refused'); END",
    "CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting "
    "BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: DELETE on posting refused'); END",
    # Not on posting, but it reads posting, so SQLite will not rename a table under it.
    """
    CREATE TRIGGER entry_close_check BEFORE INSERT ON entry_close
    WHEN (SELECT COALESCE(SUM(amount_pence), 0) FROM posting WHERE entry_id = NEW.entry_id) <> 0
      OR (SELECT COUNT(*) FROM posting WHERE entry_id = NEW.entry_id) < 2
      OR (SELECT COUNT(*) FROM posting WHERE entry_id = NEW.entry_id) <> NEW.leg_count
    BEGIN SELECT RAISE(ABORT, 'entry does not balance'); END
    """,
]
SQLITE_TRIGGER_NAMES = [
    "posting_not_after_close", "posting_one_council", "posting_updates_balance", "posting_no_update", "posting_no_delete",
    "entry_close_check",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column('posting', sa.Column('created_at', UTCDateTime(timezone=True), nullable=True))
    backfill = (
        "UPDATE posting SET created_at = (SELECT e.created_at FROM journal_entry e WHERE e.id = posting.entry_id)"
    )
    if postgres:
        op.execute("ALTER TABLE posting DISABLE TRIGGER posting_append_only")
        op.execute(backfill)
        op.execute("ALTER TABLE posting ENABLE TRIGGER posting_append_only")
        op.execute("ALTER TABLE posting ALTER COLUMN created_at SET NOT NULL")
        # Index-only sums of a balance at a past moment.
        op.execute("CREATE INDEX ix_posting_account_created ON posting (account_id, created_at) INCLUDE (amount_pence)")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(backfill)
        with op.batch_alter_table('posting', recreate='always') as batch_op:
            batch_op.alter_column('created_at', existing_type=UTCDateTime(timezone=True), nullable=False)
        for statement in SQLITE_POSTING_TRIGGERS:
            op.execute(statement)
        op.create_index('ix_posting_account_created', 'posting', ['account_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_posting_account_created', table_name='posting')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column('posting', 'created_at')
        return
    for name in SQLITE_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('posting', recreate='always') as batch_op:
        batch_op.drop_column('created_at')
    for statement in SQLITE_POSTING_TRIGGERS:
        op.execute(statement)
