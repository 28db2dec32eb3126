"""Balance snapshots at seals: written by `seal`, read by balances at a past moment, checked by `verify`.

A snapshot row (seal S, account A) holds the sum of A's postings whose entries have seq <= S.last_seq.
`seal` writes one for every account its entries post to, so A's balance at seal S is its row at the
latest seal at or before S (0 when there is none).
"""

from __future__ import annotations

from bisect import bisect_right

from sqlalchemy import func, select
from sqlmodel import Session

from brokerage.ledger.models import BalanceSnapshot, EntrySequence, LedgerAccount, LedgerSeal, Posting


def write(session: Session, council_id: int, record: LedgerSeal, *, previous_complete: bool) -> None:
    """Write the balance at this seal of every account the seal's entries post to: the last snapshot plus what moved."""
    moved = dict(
        session.execute(
            select(Posting.account_id, func.sum(Posting.amount_pence))
            .join(EntrySequence, EntrySequence.entry_id == Posting.entry_id)
            .where(EntrySequence.council_id == council_id, EntrySequence.seq.between(record.first_seq, record.last_seq))
            .group_by(Posting.account_id)
        ).all()
    )
    if not moved:
        return
    if previous_complete:
        base = balances_before(session=session, council_id=council_id, before_seq=record.first_seq)
    else:  # seals made before snapshots existed: sum everything they cover, once
        base = dict(
            session.execute(
                select(Posting.account_id, func.sum(Posting.amount_pence))
                .join(EntrySequence, EntrySequence.entry_id == Posting.entry_id)
                .where(EntrySequence.council_id == council_id, EntrySequence.seq < record.first_seq)
                .group_by(Posting.account_id)
            ).all()
        )
    session.connection().execute(
        BalanceSnapshot.__table__.insert(),
        [
            {"seal_id": record.id, "account_id": account_id, "council_id": council_id, "last_seq": record.last_seq,
             "balance_pence": int(base.get(account_id) or 0) + int(delta)}
            for account_id, delta in sorted(moved.items())
        ],
    )


def balances_before(*, session: Session, council_id: int, before_seq: int) -> dict[int, int]:
    """Return each account's balance in pence at its latest snapshot covering only seqs below `before_seq` (accounts with one)."""
    latest = (
        select(BalanceSnapshot.balance_pence)
        .where(BalanceSnapshot.account_id == LedgerAccount.id, BalanceSnapshot.last_seq < before_seq)
        .order_by(BalanceSnapshot.last_seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(select(LedgerAccount.id, latest).where(LedgerAccount.council_id == council_id))
    return {account_id: int(balance) for account_id, balance in rows if balance is not None}


def differences(session: Session, council_id: int, seals: list[LedgerSeal], moved: dict[tuple[int, int], int]) -> list[str]:
    """Check every balance snapshot equals its account's postings up to its seal, and none is missing."""
    problems = []
    index_of = {record.id: index for index, record in enumerate(seals)}
    codes = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code).where(LedgerAccount.council_id == council_id)).all())
    # Per account: the seal indexes that moved it, ascending, and its balance after each.
    by_account: dict[int, tuple[list[int], list[int]]] = {}
    for account_id, index in sorted(moved):
        indexes, balances = by_account.setdefault(account_id, ([], []))
        indexes.append(index)
        balances.append((balances[-1] if balances else 0) + moved[(account_id, index)])

    def balance_through(account_id: int, index: int) -> int:
        indexes, balances = by_account.get(account_id, ([], []))
        position = bisect_right(indexes, index)
        return balances[position - 1] if position else 0

    seen = set()
    for seal_id, account_id, last_seq, balance in session.connection().execute(
        select(BalanceSnapshot.seal_id, BalanceSnapshot.account_id, BalanceSnapshot.last_seq, BalanceSnapshot.balance_pence)
        .where(BalanceSnapshot.council_id == council_id)
        .order_by(BalanceSnapshot.account_id, BalanceSnapshot.last_seq),
        execution_options={"yield_per": 5000},
    ):
        index = index_of.get(seal_id)
        label = f"the balance snapshot of {codes.get(account_id, account_id)} at seal {seal_id}"
        if index is None or seals[index].last_seq != last_seq:
            problems.append(f"{label} does not match its seal's range")
            continue
        seen.add((account_id, index))
        expected = balance_through(account_id, index)
        if balance != expected:
            problems.append(f"{label} says {balance}p but the postings sum to {expected}p")
    for account_id, index in sorted(moved):
        if seals[index].through_created_at is not None and (account_id, index) not in seen:
            problems.append(f"seal {seals[index].id} has no balance snapshot of {codes.get(account_id, account_id)}")
    return problems
