"""Ledger on PostgreSQL: the posting checks and cached balances once per INSERT statement, not once per row

0002's row trigger `posting_insert` ran, for every posting, three lookups (is the entry closed? the
entry's council, the account's council) and one UPDATE of the account's cached balance, each
UPDATE also firing the account guard. ledger_post_batch (0031, 0035) writes a batch's postings in
one INSERT, so the same work is now done once per statement over its transition table:

- the same two refusals, with the same messages and SQLSTATE (integrity_constraint_violation),
  each as one set-based probe per posting;
- every account the statement posts to is locked in account id order (FOR NO KEY UPDATE, as the
  balance UPDATE takes), so writers still take these row locks in one order and never deadlock;
- one UPDATE adds each account's net amount to its cached balance.

What the database guarantees is unchanged: no posting in a closed entry or across councils, and
balance_pence equal to the sum of the account's postings once the statement is done, with the
non-negative CHECK on the result. (Within one statement only its net effect on an account is
visible to anyone; the application's overdraft checks run entry by entry, as before.)

Measured with track_functions on `brokerage bench ledger`'s batch slice (100 entries a call, about
three postings an entry): the trigger's server time per entry went from about 0.15 ms to 0.09 ms.

SQLite has no statement triggers with transition tables and keeps its row triggers (0002, 0030).
0002's function `ledger_posting_insert` is kept for the downgrade, which puts the row trigger back.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-02
"""

from typing import Sequence, Union

from alembic import op


revision: str = '0038'
down_revision: Union[str, None] = '0037'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FUNCTION = r"""
CREATE FUNCTION ledger_postings_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    closed_entry integer;
BEGIN
    -- One probe of an index per posting (LATERAL … LIMIT 1 is never turned into a scan of the table).
    SELECT n.entry_id INTO closed_entry FROM new_postings n
      CROSS JOIN LATERAL (SELECT 1 FROM entry_close c WHERE c.entry_id = n.entry_id LIMIT 1) c
      ORDER BY n.entry_id LIMIT 1;
    IF closed_entry IS NOT NULL THEN
        RAISE EXCEPTION 'entry % is closed; no more postings', closed_entry USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM new_postings n
        LEFT JOIN LATERAL (SELECT e.council_id FROM journal_entry e WHERE e.id = n.entry_id LIMIT 1) e ON true
        LEFT JOIN LATERAL (SELECT a.council_id FROM ledger_account a WHERE a.id = n.account_id LIMIT 1) a ON true
        WHERE e.council_id IS DISTINCT FROM n.council_id OR a.council_id IS DISTINCT FROM n.council_id
    ) THEN
        RAISE EXCEPTION 'a posting, its entry and its account must belong to one council' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Row locks in account id order (an ordered subquery is not flattened, so the probes follow it).
    PERFORM 1 FROM (SELECT DISTINCT n.account_id FROM new_postings n ORDER BY n.account_id) d
      CROSS JOIN LATERAL (SELECT a.id FROM ledger_account a WHERE a.id = d.account_id LIMIT 1 FOR NO KEY UPDATE) a;
    UPDATE ledger_account a SET balance_pence = a.balance_pence + d.delta
      FROM (SELECT n.account_id, sum(n.amount_pence) AS delta FROM new_postings n GROUP BY n.account_id) d
     WHERE a.id = d.account_id;
    RETURN NULL;
END
$fn$
"""

UP = [
    FUNCTION,
    "DROP TRIGGER posting_insert ON posting",
    "CREATE TRIGGER posting_inserted AFTER INSERT ON posting REFERENCING NEW TABLE AS new_postings "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_inserted()",
]
DOWN = [
    "DROP TRIGGER posting_inserted ON posting",
    "DROP FUNCTION ledger_postings_inserted()",
    "CREATE TRIGGER posting_insert BEFORE INSERT ON posting FOR EACH ROW EXECUTE FUNCTION ledger_posting_insert()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(statement)
