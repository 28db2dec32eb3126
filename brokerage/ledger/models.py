"""Ledger tables: accounts, journal entries, postings, and the rows that close, sequence and seal entries.

Everything except an account's cached balance is append-only, enforced by database triggers
(see the 0002 migration). The cached balance is maintained by a trigger on posting insert, so the
application cannot forget to update it, and a CHECK constraint stops non-negative accounts going
below zero.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerage.ledger.rules import AccountType
from brokerage.types import UTCDateTime, utcnow


class LedgerAccount(SQLModel, table=True):
    """A bucket of money in one council, identified by a code such as pool:{cluster}:{holder}."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        UniqueConstraint("council_id", "code", name="uq_ledger_account_code"),
        CheckConstraint("(NOT non_negative) OR balance_pence >= 0", name="ck_ledger_account_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    code: str = Field(sa_column=Column(String(80), nullable=False))
    account_type: AccountType = Field(
        sa_column=Column(Enum(AccountType, name="ledger_account_type", native_enum=False, length=12), nullable=False)
    )
    # The holder, cluster or provider the account belongs to, where there is one.
    holder_id: int | None = Field(default=None, foreign_key="holder.id", index=True, ondelete="RESTRICT")
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", index=True, ondelete="RESTRICT")
    provider_id: int | None = Field(default=None, foreign_key="provider.id", index=True, ondelete="RESTRICT")
    non_negative: bool = Field(sa_column=Column(Boolean, nullable=False))
    balance_pence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class JournalEntry(SQLModel, table=True):
    """One movement of money: two or more postings that sum to zero."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        UniqueConstraint("council_id", "idempotency_key", name="uq_journal_entry_idempotency"),
        UniqueConstraint("reverses_id", name="uq_journal_entry_reverses"),
        Index("ix_journal_entry_council_created", "council_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    memo: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False))
    # Digest of what was asked for, so a retry with the same key can be compared.
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    reverses_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), nullable=True))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))


class Posting(SQLModel, table=True):
    """One leg of an entry: a signed amount in pence to one account."""

    __tablename__ = "posting"
    __table_args__ = (
        UniqueConstraint("entry_id", "leg", name="uq_posting_leg"),
        CheckConstraint("amount_pence <> 0", name="ck_posting_non_zero"),
        Index("ix_posting_account_entry", "account_id", "entry_id"),
        # A balance at a past moment is an index-only sum (PostgreSQL carries the amount in the index).
        Index("ix_posting_account_created", "account_id", "created_at", postgresql_include=["amount_pence"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    entry_id: int = Field(foreign_key="journal_entry.id", ondelete="RESTRICT")
    leg: int = Field(sa_column=Column(Integer, nullable=False))
    account_id: int = Field(foreign_key="ledger_account.id", ondelete="RESTRICT")
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Its entry's created_at, copied so that balances at a past moment need no join.
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class EntryClose(SQLModel, table=True):
    """Closes an entry: its insert is refused unless the postings balance, and no posting may follow."""

    __tablename__ = "entry_close"

    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), primary_key=True))
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    leg_count: int = Field(sa_column=Column(Integer, nullable=False))


class EntrySequence(SQLModel, table=True):
    """The gap-free sequence number of an entry within its council, given when sealing."""

    __tablename__ = "entry_sequence"
    __table_args__ = (
        UniqueConstraint("council_id", "seq", name="uq_entry_sequence_seq"),
        CheckConstraint("seq >= 1", name="ck_entry_sequence_positive"),
    )

    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), primary_key=True))
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class LedgerSeal(SQLModel, table=True):
    """A Merkle root over a range of sequenced entries, chained to the previous seal."""

    __tablename__ = "ledger_seal"
    __table_args__ = (
        UniqueConstraint("council_id", "first_seq", name="uq_ledger_seal_first"),
        CheckConstraint("first_seq >= 1 AND first_seq <= last_seq", name="ck_ledger_seal_range"),
        # The nearest seal a balance at a past moment can start from (through_created_at grows with last_seq).
        Index("ix_ledger_seal_council_through", "council_id", "through_created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True, ondelete="RESTRICT")
    first_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    root: str = Field(sa_column=Column(String(64), nullable=False))
    previous_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    seal_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The earliest created_at of the entries this seal covers, and the latest of every entry sealed so far
    # (this seal and all before it). NULL on seals made before balance snapshots existed. Not in the seal hash.
    min_created_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    through_created_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class BalanceSnapshot(SQLModel, table=True):
    """An account's balance at a seal: the sum of its postings whose entries have seq <= the seal's last_seq.

    Written by `seal` for every account with a posting among the entries that seal covers, so an
    account's balance at seal S is its row at the latest seal at or before S (0 when there is none).
    Append-only; `ledger verify` recomputes every row from the postings.
    """

    __tablename__ = "ledger_balance_snapshot"
    __table_args__ = (
        Index("ix_ledger_balance_snapshot_account_seq", "account_id", "last_seq", postgresql_include=["balance_pence"]),
    )

    seal_id: int = Field(sa_column=Column(Integer, ForeignKey("ledger_seal.id", ondelete="RESTRICT"), primary_key=True))
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("ledger_account.id", ondelete="RESTRICT"), primary_key=True))
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_pence: int = Field(sa_column=Column(BigInteger, nullable=False))


class UnsealedEntry(SQLModel, table=True):
    """A closed entry no seal covers yet: a trigger adds it when the entry closes, `seal` removes it.

    Not a record of money but an index of work to do, so sealing and point-in-time balances never
    search the whole journal for what is unsealed. `ledger verify` checks it against the entries.
    """

    __tablename__ = "ledger_unsealed_entry"
    __table_args__ = (Index("ix_ledger_unsealed_entry_council_created", "council_id", "created_at"),)

    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("journal_entry.id", ondelete="RESTRICT"), primary_key=True))
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PoolMonth(SQLModel, table=True):
    """What moved in and out of one pool share in one month in England, by kind of entry, provider and contract.

    A summary kept exact by the posting path, in the same transaction as the entries it sums
    (brokerage.ledger.summary); `ledger verify` recomputes it from the postings. A reversal counts
    under the kind of the entry it reverses, in the month it was posted. `provider_id` is the
    provider whose payable the entry credited and `contract_id` the contract a care cost was for;
    0 where there is none (0, not NULL, so the unique key holds).
    """

    __tablename__ = "ledger_pool_month"
    __table_args__ = (
        UniqueConstraint("account_id", "month", "kind", "provider_id", "contract_id", name="uq_ledger_pool_month"),
        Index("ix_ledger_pool_month_council_month", "council_id", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="RESTRICT")
    account_id: int = Field(foreign_key="ledger_account.id", ondelete="RESTRICT")
    cluster_id: int = Field(sa_column=Column(Integer, nullable=False))
    holder_id: int = Field(sa_column=Column(Integer, nullable=False))
    month: date = Field(sa_column=Column(Date, nullable=False))
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    provider_id: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    contract_id: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    amount_pence: int = Field(sa_column=Column(BigInteger, nullable=False))
    entries: int = Field(sa_column=Column(Integer, nullable=False))
