"""Ledger writes on PostgreSQL: plans that stay on the indexes, and the unsealed queue filled per statement

1. ledger_post_batch (0031) looked its accounts up with plans that the planner chose, once per
   connection, from ledger_account's statistics. On a small or freshly analysed table it chose a
   sequential scan to lock the accounts, and a scan of every account of the council to check the
   caller's ids; both grow with the council and with the dead row versions every posting leaves
   (one connection posting on a new database: 3.1 ms an entry at first, 6.4 ms after 6,000
   entries); the idempotency keys were looked up by scanning the council's entries through
   ix_journal_entry_council_created (7,900 scans reading 29 million rows over 6,000 entries). Every
   lookup and lock in the function is now a probe of one key (LATERAL … LIMIT 1, which the planner
   cannot turn into a join over the table; the locks are still taken in account id order).
   Otherwise it is 0031's. (Running the function with sequential scans off also held the plans, but
   the SET clause cost about a tenth of a call.) It also skips two statements that usually have no
   rows: the second look at keys when every key was claimed, and the pool summary for entries that
   touch no pool share.
2. 0032's trigger queued each closed entry with a row trigger: one function call and one INSERT per
   entry. A batch of 100 entries closes them in one statement, so a statement trigger with a
   transition table queues them all with one INSERT … SELECT. What is queued is unchanged: every
   entry_close row, with its entry's created_at, whichever path wrote it. Measured with the server's
   track_functions on the bench's batch slice (100 entries a call), the row trigger was about a tenth
   of the server's time per entry. SQLite has no statement triggers and keeps 0032's.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01
"""

import importlib.util
from pathlib import Path
from typing import Sequence, Union

from alembic import op


revision: str = '0035'
down_revision: Union[str, None] = '0034'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_post_batch(
    p_council integer, p_actor integer, p_created_at timestamptz, p_all_or_nothing boolean,
    e_kind text[], e_key text[], e_memo text[], e_fingerprint text[], e_hash text[],
    l_entry integer[], l_leg integer[], l_account integer[], l_code text[], l_amount bigint[],
    s_entry integer[], s_account integer[], s_month date[], s_kind text[], s_provider integer[], s_contract integer[],
    s_amount bigint[], s_cluster integer[], s_holder integer[]
) RETURNS TABLE (r_index integer, r_status text, r_entry_id integer, r_detail text)
LANGUAGE plpgsql AS $fn$
DECLARE
    n integer := coalesce(array_length(e_key, 1), 0);
    m integer := coalesce(array_length(l_entry, 1), 0);
    status text[] := array_fill(NULL::text, ARRAY[n]);
    entry_ids integer[] := array_fill(NULL::integer, ARRAY[n]);
    detail text[] := array_fill(NULL::text, ARRAY[n]);
    fresh integer[] := array_fill(NULL::integer, ARRAY[n]);
    lock_ids integer[];
    balances bigint[];
    leg_pos integer[];
    touched integer[];
    deltas bigint[];
    codes text[];
    refused boolean := false;
    bad text;
    i integer;
    j integer;
    k integer := 1;
    q integer;
    rec record;
    err_state text;
    err_constraint text;
    err_text text;
BEGIN
    -- The caller's account ids must name these codes in this council (it caches them): one
    -- primary-key probe per leg (LATERAL … LIMIT 1 is never turned into a scan of the council).
    IF EXISTS (
        SELECT 1 FROM unnest(l_account, l_code) AS u(a, c)
        LEFT JOIN LATERAL (SELECT a.council_id, a.code FROM ledger_account a WHERE a.id = u.a LIMIT 1) a ON true
        WHERE a.code IS DISTINCT FROM u.c OR a.council_id IS DISTINCT FROM p_council
    ) THEN
        RETURN QUERY SELECT 0, 'stale'::text, NULL::integer, NULL::text;
        RETURN;
    END IF;

    -- Lock the non-negative accounts in id order (writers never deadlock) and read their balances.
    -- NO KEY UPDATE, as the balance trigger's UPDATE takes: a posting's foreign key check still passes.
    SELECT coalesce(array_agg(x.id ORDER BY x.id), '{}'), coalesce(array_agg(x.balance_pence ORDER BY x.id), '{}')
      INTO lock_ids, balances
      FROM (SELECT DISTINCT u.a FROM unnest(l_account) AS u(a) ORDER BY u.a) u
      CROSS JOIN LATERAL (SELECT a.id, a.balance_pence FROM ledger_account a
                          WHERE a.id = u.a AND a.non_negative LIMIT 1 FOR NO KEY UPDATE) x;
    -- Each leg's place among the locked accounts (NULL for an account that may go negative).
    SELECT coalesce(array_agg(x.pos ORDER BY u.j), '{}') INTO leg_pos
      FROM unnest(l_account) WITH ORDINALITY AS u(a, j)
      LEFT JOIN unnest(lock_ids) WITH ORDINALITY AS x(id, pos) ON x.id = u.a;

    -- Keys used before (read after the locks, so a writer that held them and committed is seen):
    -- one probe of the idempotency index per key.
    FOR rec IN
        SELECT u.i, e.id, e.fingerprint FROM unnest(e_key) WITH ORDINALITY AS u(k, i)
        CROSS JOIN LATERAL (SELECT e.id, e.fingerprint FROM journal_entry e
                            WHERE e.council_id = p_council AND e.idempotency_key = u.k LIMIT 1) e
    LOOP
        entry_ids[rec.i] := rec.id;
        status[rec.i] := CASE WHEN rec.fingerprint = e_fingerprint[rec.i] THEN 'existing' ELSE 'conflict' END;
        refused := refused OR status[rec.i] = 'conflict';
    END LOOP;

    -- Overdrafts: balances run forward entry by entry; a refused entry changes nothing.
    FOR i IN 1..n LOOP
        j := k;
        WHILE k <= m AND l_entry[k] = i LOOP
            k := k + 1;
        END LOOP;
        CONTINUE WHEN status[i] IS NOT NULL;
        touched := '{}'; deltas := '{}'; codes := '{}';
        FOR q IN j..k - 1 LOOP
            IF leg_pos[q] IS NOT NULL THEN
                IF leg_pos[q] = ANY (touched) THEN
                    deltas[array_position(touched, leg_pos[q])] := deltas[array_position(touched, leg_pos[q])] + l_amount[q];
                ELSE
                    touched := touched || leg_pos[q]; deltas := deltas || l_amount[q]; codes := codes || l_code[q];
                END IF;
            END IF;
        END LOOP;
        bad := NULL;
        FOR q IN 1..coalesce(array_length(touched, 1), 0) LOOP
            IF balances[touched[q]] + deltas[q] < 0 AND (bad IS NULL OR codes[q] < split_part(bad, ' ', 1)) THEN
                bad := codes[q] || ' ' || balances[touched[q]] || ' ' || deltas[q];
            END IF;
        END LOOP;
        IF bad IS NOT NULL THEN
            status[i] := 'overdraft'; detail[i] := bad; refused := true;
        ELSE
            status[i] := 'accept';
            FOR q IN 1..coalesce(array_length(touched, 1), 0) LOOP
                balances[touched[q]] := balances[touched[q]] + deltas[q];
            END LOOP;
        END IF;
    END LOOP;

    IF p_all_or_nothing AND refused THEN
        RETURN QUERY SELECT g.i, CASE WHEN status[g.i] = 'accept' THEN 'skipped' ELSE status[g.i] END, entry_ids[g.i], detail[g.i]
            FROM generate_series(1, n) AS g(i);
        RETURN;
    END IF;

    IF 'accept' = ANY (status) THEN
        BEGIN
            -- Claim the keys; a key a concurrent writer claimed first comes back as no row.
            FOR rec IN
                WITH claimed AS (
                    INSERT INTO journal_entry (council_id, kind, memo, actor_id, idempotency_key, fingerprint, created_at, reverses_id, content_hash)
                    SELECT p_council, e_kind[g.i], e_memo[g.i], p_actor, e_key[g.i], e_fingerprint[g.i], p_created_at, NULL, e_hash[g.i]
                    FROM generate_series(1, n) AS g(i) WHERE status[g.i] = 'accept' ORDER BY g.i
                    ON CONFLICT (council_id, idempotency_key) DO NOTHING
                    RETURNING id, idempotency_key
                )
                SELECT u.i, c.id FROM claimed c JOIN unnest(e_key) WITH ORDINALITY AS u(k, i) ON u.k = c.idempotency_key
            LOOP
                fresh[rec.i] := rec.id; entry_ids[rec.i] := rec.id; status[rec.i] := 'posted';
            END LOOP;
            -- Keys a concurrent writer claimed first (none, unless two writers raced for a key).
            IF 'accept' = ANY (status) THEN
                FOR rec IN
                    SELECT g.i, e.id, e.fingerprint FROM generate_series(1, n) AS g(i)
                    CROSS JOIN LATERAL (SELECT e.id, e.fingerprint FROM journal_entry e
                                        WHERE e.council_id = p_council AND e.idempotency_key = e_key[g.i] LIMIT 1) e
                    WHERE status[g.i] = 'accept'
                LOOP
                    entry_ids[rec.i] := rec.id;
                    status[rec.i] := CASE WHEN rec.fingerprint = e_fingerprint[rec.i] THEN 'existing' ELSE 'conflict' END;
                    IF status[rec.i] = 'conflict' AND p_all_or_nothing THEN
                        RAISE EXCEPTION 'idempotency key % was claimed by a concurrent writer for other content', e_key[rec.i]
                            USING ERRCODE = 'unique_violation', CONSTRAINT = 'uq_journal_entry_idempotency';
                    END IF;
                END LOOP;
            END IF;

            -- The pool summary (brokerage.ledger.summary), before the postings: its rows belong to
            -- pool shares, which are non-negative and so locked above.
            -- (No statement at all for entries that touch no pool share, such as a direct payment.)
            IF coalesce(array_length(s_entry, 1), 0) > 0 THEN
                INSERT INTO ledger_pool_month (council_id, account_id, cluster_id, holder_id, month, kind, provider_id, contract_id, amount_pence, entries)
                SELECT p_council, s.a, min(s.cl), min(s.h), s.mo, s.k, s.pr, s.co, sum(s.amt), count(DISTINCT s.e)
                FROM unnest(s_entry, s_account, s_month, s_kind, s_provider, s_contract, s_amount, s_cluster, s_holder)
                    AS s(e, a, mo, k, pr, co, amt, cl, h)
                WHERE fresh[s.e] IS NOT NULL
                GROUP BY s.a, s.mo, s.k, s.pr, s.co
                ORDER BY s.a, s.mo, s.k, s.pr, s.co
                ON CONFLICT (account_id, month, kind, provider_id, contract_id) DO UPDATE
                    SET amount_pence = ledger_pool_month.amount_pence + EXCLUDED.amount_pence,
                        entries = ledger_pool_month.entries + EXCLUDED.entries;
            END IF;

            -- Postings to locked accounts first; then those to accounts that may go negative, in
            -- account id order, so their row locks are taken last and in one order by every writer.
            INSERT INTO posting (council_id, entry_id, leg, account_id, amount_pence, created_at)
            SELECT p_council, fresh[l.e], l.leg, l.a, l.amt, p_created_at
            FROM unnest(l_entry, l_leg, l_account, l_amount, leg_pos) AS l(e, leg, a, amt, pos)
            WHERE fresh[l.e] IS NOT NULL
            ORDER BY (l.pos IS NULL), CASE WHEN l.pos IS NULL THEN l.a END, l.e, l.leg;

            INSERT INTO entry_close (entry_id, council_id, leg_count)
            SELECT fresh[l.e], p_council, count(*) FROM unnest(l_entry) AS l(e)
            WHERE fresh[l.e] IS NOT NULL GROUP BY l.e ORDER BY l.e;
        EXCEPTION WHEN integrity_constraint_violation THEN
            GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_constraint = CONSTRAINT_NAME, err_text = MESSAGE_TEXT;
            RETURN QUERY SELECT 0, 'error'::text, NULL::integer,
                err_state || ' ' || coalesce(nullif(err_constraint, ''), '-') || ' ' || err_text;
            RETURN;
        END;
    END IF;

    RETURN QUERY SELECT g.i, status[g.i], entry_ids[g.i], detail[g.i] FROM generate_series(1, n) AS g(i);
END
$fn$
"""


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


def _revision_0031():
    """0031's module, loaded from its file beside this one (migrations are files, not a package)."""
    spec = importlib.util.spec_from_file_location("carepool_migration_0031", Path(__file__).with_name("0031_ledger_post_batch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        for statement in UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(statement)
        op.execute(_revision_0031().FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))  # 0031's, settings and all

