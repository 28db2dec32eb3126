"""the pool summary

`ledger_pool_month`: each pool share's money in and out by month in England, kind of entry,
provider and contract, written by the posting path with the entries (brokerage.ledger.summary) and
checked by `ledger verify`. Entries already posted are summed into it here.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-10
"""

from datetime import datetime, timezone
from typing import Sequence, Union
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alembic import op


revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LONDON = ZoneInfo("Europe/London")


def upgrade() -> None:
    op.create_table(
        'ledger_pool_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('amount_pence', sa.BigInteger(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'month', 'kind', 'provider_id', 'contract_id', name='uq_ledger_pool_month'),
    )
    op.create_index('ix_ledger_pool_month_council_month', 'ledger_pool_month', ['council_id', 'month'], unique=False)
    _sum_existing_entries()


def _sum_existing_entries() -> None:
    """Sum every entry already posted, the way brokerage.ledger.summary does for new ones."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT e.id, e.council_id, e.kind, e.idempotency_key, e.created_at, o.kind, o.idempotency_key, a.code, a.id, p.amount_pence "
        "FROM journal_entry e JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
        "LEFT JOIN journal_entry o ON o.id = e.reverses_id "
        "WHERE e.id IN (SELECT p2.entry_id FROM posting p2 JOIN ledger_account a2 ON a2.id = p2.account_id WHERE a2.code LIKE 'pool:%') "
        "ORDER BY e.id, p.leg"
    )).all()
    by_entry: dict[int, list] = {}
    for row in rows:
        by_entry.setdefault(row[0], []).append(row)
    totals: dict[tuple, list] = {}
    for entry_rows in by_entry.values():
        _, council_id, kind, key, created_at, original_kind, original_key, *_ = entry_rows[0]
        if kind == "reversal" and original_kind is not None:
            kind, key = original_kind, original_key
        parts = key.split(":")
        contract = int(parts[1]) if kind == "care_cost" and len(parts) == 3 and parts[0] == "care" and parts[1].isdigit() else 0
        providers = {int(r[7].split(":")[1]) for r in entry_rows if r[7].startswith("provider:") and r[7].endswith(":payable")}
        provider = providers.pop() if len(providers) == 1 else 0
        if isinstance(created_at, str):  # SQLite hands back text
            created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=timezone.utc)
        month = created_at.astimezone(LONDON).date().replace(day=1)
        seen = set()
        for r in entry_rows:
            if not r[7].startswith("pool:"):
                continue
            _, cluster_id, holder_id = r[7].split(":")
            ident = (r[8], month, kind, provider, contract)
            total = totals.setdefault(ident, [council_id, int(cluster_id), int(holder_id), 0, 0])
            total[3] += r[9]
            if ident not in seen:
                total[4] += 1
                seen.add(ident)
    table = sa.table(
        'ledger_pool_month', *(sa.column(name) for name in (
            'council_id', 'account_id', 'cluster_id', 'holder_id', 'month', 'kind', 'provider_id', 'contract_id', 'amount_pence', 'entries'
        ))
    )
    values = [
        {"council_id": c, "account_id": a, "cluster_id": k, "holder_id": h, "month": m, "kind": kind, "provider_id": p,
         "contract_id": ct, "amount_pence": amount, "entries": n}
        for (a, m, kind, p, ct), (c, k, h, amount, n) in totals.items()
    ]
    if values:
        op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_index('ix_ledger_pool_month_council_month', table_name='ledger_pool_month')
    op.drop_table('ledger_pool_month')
