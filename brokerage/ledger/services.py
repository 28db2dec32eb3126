"""The ledger's service API: post, reverse, read balances and statements. Services flush, never commit.

Every money feature posts through `post_entry` (or `post_entries` for runs). The rules enforced
here are enforced again by the database (see the 0002 migration): balanced entries, append-only
rows, and non-negative accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from brokerage.access import same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters.models import Cluster
from brokerage.formatting import pounds
from brokerage.holders.models import Holder
from brokerage.ledger import rules
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.errors import AlreadyReversed, IdempotencyConflict, Overdraft, Unbalanced, UnknownAccount
from brokerage.ledger.models import EntryClose, JournalEntry, LedgerAccount, Posting
from brokerage.ledger.rules import AccountType, Leg
from brokerage.providers.models import Provider
from brokerage.types import utcnow


@dataclass(frozen=True)
class EntrySpec:
    """One entry for `post_entries`."""

    kind: str
    postings: Sequence[Leg | tuple[str, int]]
    idempotency_key: str
    memo: str = ""
    reverses_id: int | None = None


@dataclass
class StatementLine:
    """One posting on a statement, with the balance after it."""

    entry_id: int
    at: datetime
    kind: str
    memo: str
    amount: int
    balance: int


@dataclass
class Statement:
    """An account's postings over a period, with opening and closing balances."""

    account: LedgerAccount
    opening: int
    closing: int
    lines: list[StatementLine] = field(default_factory=list)


def _legs(postings: Iterable[Leg | tuple[str, int]]) -> list[Leg]:
    legs = [p if isinstance(p, Leg) else Leg(p[0], p[1]) for p in postings]
    try:
        rules.check_balanced(legs)
    except ValueError as error:
        raise Unbalanced(f"The entry does not balance: {error}.", field="postings") from None
    return legs


def _check_scope(actor: User | None, council_id: int) -> None:
    # actor None is the system itself (a scheduled run or a webhook), acting for the council.
    if actor is not None:
        same_council(actor, council_id, what="account")


def _owner_ids(session: Session, council_id: int, code: str) -> dict:
    """Check the owner named by an account code exists in the council, and return its ids."""
    try:
        kind = rules.type_of_code(code)
    except ValueError:
        raise UnknownAccount(f"{code!r} is not an account code.", field="postings") from None
    parts = code.split(":")

    def owned(model, record_id: int, what: str):
        record = session.get(model, record_id)
        if record is None or record.council_id != council_id:
            raise UnknownAccount(f"There is no {what} {record_id} in this council (account {code}).", field="postings")
        return record_id

    if kind == AccountType.funding:
        if int(parts[1]) != council_id:
            raise UnknownAccount(f"{code} is another council's funding account.", field="postings")
        return {}
    if kind == AccountType.wallet:
        return {"holder_id": owned(Holder, int(parts[1]), "holder")}
    if kind == AccountType.pool:
        return {"cluster_id": owned(Cluster, int(parts[1]), "cluster"), "holder_id": owned(Holder, int(parts[2]), "holder")}
    if kind in (AccountType.payable, AccountType.paid):
        return {"provider_id": owned(Provider, int(parts[1]), "provider")}
    return {}


def get_or_create_account(*, session: Session, council_id: int, code: str) -> LedgerAccount:
    """Return the council's account with this code, creating it on first use."""
    account = session.execute(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
    ).scalars().first()
    if account is not None:
        return account
    kind = rules.type_of_code(code) if code else None
    owners = _owner_ids(session, council_id, code)
    account = LedgerAccount(
        council_id=council_id, code=code, account_type=kind, non_negative=not rules.may_go_negative(kind), **owners
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        # Another writer created it first; use theirs.
        account = session.execute(
            select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
        ).scalars().one()
    return account


def _fetch_and_lock(session: Session, council_id: int, codes: list[str]) -> dict[str, tuple[int, int, bool]]:
    query = (
        select(LedgerAccount.id, LedgerAccount.balance_pence, LedgerAccount.non_negative, LedgerAccount.code)
        .where(LedgerAccount.council_id == council_id, LedgerAccount.code.in_(codes))
        .order_by(LedgerAccount.id)
    )
    # Row locks in id order, so writers never deadlock. SQLite needs none: every transaction there
    # holds the write lock (BEGIN IMMEDIATE).
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.code: (row.id, row.balance_pence, row.non_negative) for row in session.execute(query)}


def lock_accounts(*, session: Session, council_id: int, codes: Iterable[str]) -> dict[str, tuple[int, int, bool]]:
    """Lock the council's accounts with these codes, creating missing ones; return code -> (id, balance, non_negative)."""
    codes = sorted(set(codes))
    locked = _fetch_and_lock(session, council_id, codes)
    if len(locked) < len(codes):
        for code in codes:
            if code not in locked:
                get_or_create_account(session=session, council_id=council_id, code=code)
        locked = _fetch_and_lock(session, council_id, codes)
    return locked


def _find_existing(session: Session, council_id: int, key: str) -> JournalEntry | None:
    return session.execute(
        select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key == key)
    ).scalars().first()


def _same_request(existing: JournalEntry, fingerprint: str, key: str) -> JournalEntry:
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"The idempotency key {key!r} was already used for a different entry ({existing.id}).", field="idempotency_key"
        )
    return existing


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise Unbalanced("Every entry needs an idempotency key of 1 to 200 characters.", field="idempotency_key")
    return key


def post_entry(
    *,
    session: Session,
    actor: User | None,
    council_id: int,
    kind: str,
    postings: Sequence[Leg | tuple[str, int]],
    idempotency_key: str,
    memo: str = "",
    reverses_id: int | None = None,
) -> JournalEntry:
    """Post one balanced entry; the same key with the same content returns the first entry."""
    entries = post_entries(
        session=session,
        actor=actor,
        council_id=council_id,
        entries=[EntrySpec(kind=kind, postings=postings, idempotency_key=idempotency_key, memo=memo, reverses_id=reverses_id)],
    )
    return entries[0]


def post_entries(*, session: Session, actor: User | None, council_id: int, entries: Sequence[EntrySpec]) -> list[JournalEntry]:
    """Post many entries in the caller's transaction, with the same checks as post_entry, all or nothing."""
    _check_scope(actor, council_id)
    if not entries:
        return []
    prepared = []
    for spec in entries:
        key = _check_key(spec.idempotency_key)
        if not spec.kind or len(spec.kind) > 40:
            raise Unbalanced("An entry needs a kind of 1 to 40 characters.", field="kind")
        legs = _legs(spec.postings)
        memo = (spec.memo or "")[:500]
        fingerprint = rules.request_fingerprint(kind=spec.kind, memo=memo, legs=legs, reverses_id=spec.reverses_id)
        prepared.append((spec, key, legs, memo, fingerprint))

    # Repeats of a key, in this batch or from before, return the first entry.
    keys = [key for _, key, _, _, _ in prepared]
    existing = {
        e.idempotency_key: e
        for e in session.execute(
            select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_(set(keys)))
        ).scalars()
    }
    results: list[JournalEntry | None] = []
    fresh = []
    seen: dict[str, tuple[str, int]] = {}
    for spec, key, legs, memo, fingerprint in prepared:
        if key in existing:
            results.append(_same_request(existing[key], fingerprint, key))
        elif key in seen:
            if seen[key][0] != fingerprint:
                raise IdempotencyConflict(f"The idempotency key {key!r} is used twice in this batch for different entries.", field="idempotency_key")
            results.append(None)  # filled from its first occurrence below
        else:
            seen[key] = (fingerprint, len(fresh))
            fresh.append((spec, key, legs, memo, fingerprint))
            results.append(None)
    if not fresh:
        return [r if r is not None else existing[k] for r, k in zip(results, keys)]
    for spec, *_ in fresh:
        if spec.reverses_id is not None:
            _check_reversible(session, council_id, spec.reverses_id)

    locked = lock_accounts(session=session, council_id=council_id, codes=(leg.account for _, _, legs, _, _ in fresh for leg in legs))
    account_ids = {code: row[0] for code, row in locked.items()}
    balances = {row[0]: (row[1], row[2]) for row in locked.values()}

    # Run the balances forward entry by entry, so a batch cannot overdraw midway either.
    running = {account_id: balance for account_id, (balance, _) in balances.items()}
    for spec, key, legs, memo, _ in fresh:
        for code, delta in sorted(rules.net_by_account(legs).items()):
            account_id = account_ids[code]
            running[account_id] += delta
            if balances[account_id][1] and running[account_id] < 0:
                raise Overdraft(
                    f"Not enough money in {code}: it has {pounds(running[account_id] - delta)} "
                    f"and this needs {pounds(-delta)}.",
                    field="postings",
                )

    now = utcnow()
    actor_id = actor.id if actor is not None else None
    entry_rows = []
    posting_sets = []
    for spec, key, legs, memo, fingerprint in fresh:
        # Postings are written in account-id order: the balance trigger then locks rows in that order too.
        ordered = sorted(legs, key=lambda leg: (account_ids[leg.account], leg.amount))
        content = rules.entry_content(
            council_id=council_id, entry_id=0, kind=getattr(spec.kind, "value", spec.kind), memo=memo, actor_id=actor_id, idempotency_key=key,
            created_at=now, reverses_id=spec.reverses_id, postings=[(leg.account, leg.amount) for leg in ordered],
        )
        entry_rows.append({
            "council_id": council_id, "kind": spec.kind, "memo": memo, "actor_id": actor_id, "idempotency_key": key,
            "fingerprint": fingerprint, "created_at": now, "reverses_id": spec.reverses_id,
            "content_hash": rules.content_hash(content),
        })
        posting_sets.append(ordered)

    try:
        with session.begin_nested():
            # Core inserts on the session's connection: the ORM's bulk path costs more than the database work.
            connection = session.connection()
            entry_table = JournalEntry.__table__
            ids = [
                row.id
                for row in connection.execute(entry_table.insert().returning(entry_table.c.id, sort_by_parameter_order=True), entry_rows)
            ]
            posting_rows = [
                {"council_id": council_id, "entry_id": entry_id, "leg": index, "account_id": account_ids[leg.account], "amount_pence": leg.amount}
                for entry_id, ordered in zip(ids, posting_sets)
                for index, leg in enumerate(ordered, start=1)
            ]
            connection.execute(Posting.__table__.insert(), posting_rows)
            connection.execute(
                EntryClose.__table__.insert(),
                [{"entry_id": entry_id, "council_id": council_id, "leg_count": len(ordered)} for entry_id, ordered in zip(ids, posting_sets)],
            )
    except IntegrityError as error:
        return _after_conflict(session, council_id, fresh, error, keys, results, existing)

    # The balance trigger changed these rows behind the ORM's back.
    touched = set(account_ids.values())
    for obj in list(session.identity_map.values()):
        if isinstance(obj, LedgerAccount) and obj.id in touched:
            session.expire(obj, ["balance_pence"])
    created = {e.id: e for e in session.execute(select(JournalEntry).where(JournalEntry.id.in_(ids))).scalars()}
    by_key = {created[i].idempotency_key: created[i] for i in ids}
    return [r if r is not None else (existing.get(k) or by_key[k]) for r, k in zip(results, keys)]


def _after_conflict(session, council_id, fresh, error, keys, results, existing):
    """A concurrent writer used one of our keys first: return its entries if they match ours."""
    found = {
        e.idempotency_key: e
        for e in session.execute(
            select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_([k for _, k, *_ in fresh]))
        ).scalars()
    }
    if len(found) != len(fresh):
        message = str(getattr(error, "orig", error)).splitlines()[0]
        if "append-only" in message or "reverses" in message or "uq_journal_entry_reverses" in message:
            raise AlreadyReversed("That entry has already been reversed.") from None
        if "non_negative" in message or "ck_ledger_account" in message:
            raise Overdraft("Not enough money in an account for this entry.", field="postings") from None
        raise
    for spec, key, _, _, fingerprint in fresh:
        _same_request(found[key], fingerprint, key)
    return [r if r is not None else (existing.get(k) or found[k]) for r, k in zip(results, keys)]


def _check_reversible(session: Session, council_id: int, entry_id: int) -> None:
    original = session.get(JournalEntry, entry_id)
    if original is None or original.council_id != council_id:
        raise UnknownAccount("There is no such entry to reverse.", field="entry")
    if session.execute(select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id)).first() is not None:
        raise AlreadyReversed(f"Entry {entry_id} has already been reversed.", field="entry")


def entry_postings(*, session: Session, entry_id: int) -> list[tuple[str, int]]:
    """Return an entry's postings as (account code, amount) in leg order."""
    rows = session.execute(
        select(LedgerAccount.code, Posting.amount_pence)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.entry_id == entry_id)
        .order_by(Posting.leg)
    )
    return [(code, amount) for code, amount in rows]


def reverse_entry(
    *, session: Session, actor: User | None, entry_id: int, idempotency_key: str, memo: str = ""
) -> JournalEntry:
    """Post an entry that undoes another, pointing at it; an entry can be reversed once."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise UnknownAccount("There is no such entry.", field="entry")
    _check_scope(actor, original.council_id)
    if original.reverses_id is not None:
        raise AlreadyReversed("A reversal cannot itself be reversed; post a new entry instead.", field="entry")
    legs = [Leg(code, -amount) for code, amount in entry_postings(session=session, entry_id=entry_id)]
    return post_entry(
        session=session, actor=actor, council_id=original.council_id, kind=EntryKind.reversal, postings=legs,
        idempotency_key=idempotency_key, memo=memo or f"Reverses entry {entry_id}: {original.memo}"[:500], reverses_id=entry_id,
    )


def find_account(*, session: Session, actor: User | None, council_id: int, code: str) -> LedgerAccount:
    """Return an existing account of the council by code."""
    _check_scope(actor, council_id)
    account = session.execute(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
    ).scalars().first()
    if account is None:
        raise UnknownAccount(f"There is no account {code} in this council.", field="account")
    return account


def balance(*, session: Session, actor: User | None, council_id: int, code: str, as_of: datetime | None = None) -> int:
    """Return an account's balance now (cached) or at a past moment (summed from postings)."""
    account = session.execute(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.code == code)
    ).scalars().first()
    _check_scope(actor, council_id)
    if account is None:
        return 0
    if as_of is None:
        session.refresh(account, ["balance_pence"])
        return account.balance_pence
    return balance_as_of(session=session, account_id=account.id, as_of=as_of)


def balance_as_of(*, session: Session, account_id: int, as_of: datetime) -> int:
    """Sum an account's postings made at or before `as_of`."""
    total = session.execute(
        select(func.coalesce(func.sum(Posting.amount_pence), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account_id, JournalEntry.created_at <= as_of)
    ).scalar_one()
    return int(total)


def statement(
    *, session: Session, actor: User | None, council_id: int, code: str, start: datetime | None = None, end: datetime | None = None
) -> Statement:
    """Return an account's postings between two moments, with running balances."""
    account = find_account(session=session, actor=actor, council_id=council_id, code=code)
    opening = balance_as_of(session=session, account_id=account.id, as_of=start) if start else 0
    query = (
        select(JournalEntry.id, JournalEntry.created_at, JournalEntry.kind, JournalEntry.memo, Posting.amount_pence)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == account.id)
        .order_by(JournalEntry.created_at, JournalEntry.id, Posting.leg)
    )
    if start:
        query = query.where(JournalEntry.created_at > start)
    if end:
        query = query.where(JournalEntry.created_at <= end)
    running = opening
    lines = []
    for entry_id, at, kind, memo, amount in session.execute(query):
        running += amount
        lines.append(StatementLine(entry_id=entry_id, at=at, kind=kind, memo=memo, amount=amount, balance=running))
    return Statement(account=account, opening=opening, closing=running, lines=lines)


def trial_balance(*, session: Session, actor: User | None, council_id: int) -> tuple[list[LedgerAccount], int]:
    """Return every account of the council with its balance, and their total (always zero)."""
    _check_scope(actor, council_id)
    accounts = list(
        session.execute(select(LedgerAccount).where(LedgerAccount.council_id == council_id).order_by(LedgerAccount.code)).scalars()
    )
    for account in accounts:
        session.refresh(account, ["balance_pence"])
    return accounts, sum(a.balance_pence for a in accounts)


def holder_accounts(*, session: Session, actor: User, holder_id: int) -> list[LedgerAccount]:
    """Return a holder's wallet and pool-share accounts, for the holder, their representative or staff."""
    from brokerage.holders.services import get_holder

    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    return list(
        session.execute(
            select(LedgerAccount)
            .where(LedgerAccount.council_id == holder.council_id, LedgerAccount.holder_id == holder.id)
            .order_by(LedgerAccount.account_type.desc(), LedgerAccount.code)
        ).scalars()
    )


def councils_with_ledgers(*, session: Session) -> list[Council]:
    """Return the councils that have any ledger entries."""
    ids = select(JournalEntry.council_id).distinct()
    return list(session.execute(select(Council).where(Council.id.in_(ids)).order_by(Council.id)).scalars())


def lock_council(session: Session, council_id: int) -> None:
    """Serialise sealers of one council (PostgreSQL advisory lock; SQLite already has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7301, :council)"), {"council": council_id})


@dataclass
class EntryPage:
    """One page of a council's journal, newest first."""

    rows: list[tuple[JournalEntry, int | None, list[tuple[str, int]]]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def list_entries(
    *,
    session: Session,
    actor: User,
    council_id: int,
    kind: str | None = None,
    account: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> EntryPage:
    """Return a filtered page of the council's entries with their postings and sequence numbers."""
    from brokerage.ledger.models import EntrySequence

    if actor.role not in (Role.broker, Role.council_officer):
        from brokerage.errors import NotAllowed

        raise NotAllowed("Only brokers and council officers can read the council's journal.")
    _check_scope(actor, council_id)
    query = select(JournalEntry.id).where(JournalEntry.council_id == council_id)
    if kind:
        query = query.where(JournalEntry.kind == kind)
    if start:
        query = query.where(JournalEntry.created_at >= start)
    if end:
        query = query.where(JournalEntry.created_at < end)
    if account:
        query = query.where(
            JournalEntry.id.in_(
                select(Posting.entry_id)
                .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
                .where(LedgerAccount.council_id == council_id, LedgerAccount.code.contains(account))
            )
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ids = list(session.execute(query.order_by(JournalEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)).scalars())
    entries = {e.id: e for e in session.execute(select(JournalEntry).where(JournalEntry.id.in_(ids))).scalars()}
    seqs = dict(session.execute(select(EntrySequence.entry_id, EntrySequence.seq).where(EntrySequence.entry_id.in_(ids))).all())
    postings: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    for entry_id, code, amount in session.execute(
        select(Posting.entry_id, LedgerAccount.code, Posting.amount_pence)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.entry_id.in_(ids))
        .order_by(Posting.entry_id, Posting.leg)
    ):
        postings[entry_id].append((code, amount))
    rows = [(entries[i], seqs.get(i), postings[i]) for i in ids]
    return EntryPage(rows=rows, total=total, page=page, per_page=per_page)


def entry_kinds(*, session: Session, actor: User, council_id: int) -> list[str]:
    """Return the kinds of entry the council's journal holds, for filters."""
    _check_scope(actor, council_id)
    return list(session.execute(select(JournalEntry.kind).where(JournalEntry.council_id == council_id).distinct().order_by(JournalEntry.kind)).scalars())


def get_entry(*, session: Session, actor: User, entry_id: int) -> tuple[JournalEntry, int | None, list[tuple[str, int]], JournalEntry | None]:
    """Return an entry for staff of its council, with its sequence number, postings and any reversal of it."""
    from brokerage.errors import NotFound
    from brokerage.ledger.models import EntrySequence

    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound()
    _check_scope(actor, entry.council_id)
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound()
    seq = session.execute(select(EntrySequence.seq).where(EntrySequence.entry_id == entry_id)).scalar_one_or_none()
    reversal = session.execute(select(JournalEntry).where(JournalEntry.reverses_id == entry_id)).scalar_one_or_none()
    return entry, seq, entry_postings(session=session, entry_id=entry_id), reversal


def holder_statements(*, session: Session, actor: User, holder_id: int) -> tuple[Holder, list[Statement], dict[int, str]]:
    """Return a holder's wallet and pool-share statements, for the holder, their representative or staff."""
    from brokerage.holders.services import get_holder

    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    if actor.role in (Role.broker, Role.council_officer):
        from brokerage.audit import log_access

        log_access(session=session, actor=actor, holder_id=holder.id, what="money statement")
    accounts = holder_accounts(session=session, actor=actor, holder_id=holder_id)
    cluster_ids = [a.cluster_id for a in accounts if a.cluster_id]
    names = dict(session.execute(select(Cluster.id, Cluster.name).where(Cluster.id.in_(cluster_ids))).all()) if cluster_ids else {}
    return holder, [statement(session=session, actor=None, council_id=holder.council_id, code=a.code) for a in accounts], names
