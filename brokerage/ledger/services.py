"""The ledger's service API in one import: posting (posting.py) and reading (queries.py). Services flush, never commit.

Other packages import `post_entry`, `post_entries`, `post_in_batches`, `EntrySpec`, `balance`,
`lock_accounts`, `lock_run_writer` and `statement` from here; the code lives in the two modules named above.
"""

from __future__ import annotations

from brokerage.ledger.posting import (
    EntrySpec,
    entry_postings,
    get_or_create_account,
    lock_accounts,
    lock_run_writer,
    post_entries,
    post_entry,
    post_in_batches,
    reverse_entry,
)
from brokerage.ledger.queries import (
    EntryPage,
    Statement,
    StatementLine,
    accounts_of_holder,
    balance,
    balance_as_of,
    council_ids_with_entries,
    council_of_entry,
    entry_kinds,
    find_account,
    get_entry,
    list_entries,
    statement,
    trial_balance,
)

__all__ = [
    "EntryPage",
    "EntrySpec",
    "Statement",
    "StatementLine",
    "accounts_of_holder",
    "balance",
    "balance_as_of",
    "council_ids_with_entries",
    "council_of_entry",
    "entry_kinds",
    "entry_postings",
    "find_account",
    "get_entry",
    "get_or_create_account",
    "list_entries",
    "lock_accounts",
    "lock_run_writer",
    "post_entries",
    "post_entry",
    "post_in_batches",
    "reverse_entry",
    "statement",
    "trial_balance",
]
