"""The spend reports' SQL: sums over the pool summary (`ledger_pool_month`) and the pool shares' cached balances.

Nothing here reads postings. Every figure is summed and grouped in the database; Python only names
and pages what comes back. What is unspent at the end of a period is what the pool shares hold now
(`ledger_account.balance_pence`, kept by the ledger's trigger) less what moved after the period, so a
past period costs no more than the months since it. Amounts come back as integer pence, cast to
BIGINT because PostgreSQL sums a BIGINT into a NUMERIC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import BigInteger, Select, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.holders.models import Holder
from brokerage.ledger.models import LedgerAccount, PoolMonth
from brokerage.ledger.rules import AccountType
from brokerage.providers.models import Provider
from brokerage.spending.rules import POOLED_IN, RETURNED_TO_COUNCIL, RETURNED_TO_MEMBERS, SPENT, Dimension, Period

PM = PoolMonth.__table__.c
MONEY = ("pooled_in", "spent", "returned_members", "returned_council", "other")


@dataclass(frozen=True)
class Scope:
    """Whose money a report covers: a council, and at most one group, member and provider within it (ids already checked)."""

    council_id: int
    cluster_id: int | None = None
    holder_id: int | None = None
    provider_id: int | None = None

    @property
    def has_pooling(self) -> bool:
        """Tell whether money in and unspent belong to the scope (a provider is only ever paid, so not with one)."""
        return self.provider_id is None


def pence(expression) -> ColumnElement:
    """Return a sum as integer pence on both databases (0 for no rows)."""
    return cast(func.coalesce(expression, 0), BigInteger)


def money_columns(kind: ColumnElement = PM.kind, amount: ColumnElement = PM.amount_pence) -> list[ColumnElement]:
    """Return the summed figures of summary rows: pooled in, spent, returned to members and to the council, other, net (pence).

    "Other" (an adjustment by hand) is what the net leaves over, not a sum of its own: the database
    computes each distinct sum once, so that saves a pass over the kinds of every row.
    """
    pooled, spent, members, council = (func.coalesce(func.sum(case((kind.in_(kinds), amount))), 0)
                                       for kinds in (POOLED_IN, SPENT, RETURNED_TO_MEMBERS, RETURNED_TO_COUNCIL))
    net = func.sum(amount)
    return [
        pence(pooled).label("pooled_in"),
        pence(-spent).label("spent"),
        pence(-members).label("returned_members"),
        pence(-council).label("returned_council"),
        pence(net - pooled - spent - members - council).label("other"),
        pence(net).label("net"),
    ]


def spend_columns() -> list[ColumnElement]:
    """Return the figures of care-cost rows alone: what was spent, and nothing pooled or returned (pence)."""
    nothing = cast(literal(0), BigInteger)
    return [nothing.label("pooled_in"), pence(-func.sum(PM.amount_pence)).label("spent"), nothing.label("returned_members"),
            nothing.label("returned_council"), nothing.label("other"), pence(func.sum(PM.amount_pence)).label("net")]


def grouped(key: ColumnElement, conditions: list[ColumnElement], *, spend_only: bool = False, by_kind: bool = True, joins=()) -> Select:
    """Sum the summary rows that meet `conditions` by `key` into the figures (money_columns), one row per key.

    Few keys (groups, months): sum by key and kind first, then sort the kinds into figures, which is
    cheaper than sorting every row (`by_kind`). Care costs alone need no sorting at all (`spend_only`).
    """
    source = PoolMonth.__table__
    for table, condition in joins:
        source = source.outerjoin(table, condition)
    if spend_only:
        return select(key.label("key"), *spend_columns()).select_from(source).where(*conditions, PM.kind.in_(SPENT)).group_by(key)
    if not by_kind:
        return select(key.label("key"), *money_columns()).select_from(source).where(*conditions).group_by(key)
    kinds = (
        select(key.label("key"), PM.kind.label("kind"), func.sum(PM.amount_pence).label("amount"))
        .select_from(source).where(*conditions).group_by(key, PM.kind).subquery("by_kind")
    )
    return select(kinds.c.key, *money_columns(kinds.c.kind, kinds.c.amount)).group_by(kinds.c.key)


def summary_where(scope: Scope, *, start: date | None = None, end: date | None = None, after: date | None = None) -> list[ColumnElement]:
    """Return the conditions that pick a scope's summary rows within months [start, end], or after a month (a provider's: care costs only)."""
    conditions = [PM.council_id == scope.council_id]
    if start is not None:
        conditions.append(PM.month >= start)
    if end is not None:
        conditions.append(PM.month <= end)
    if after is not None:
        conditions.append(PM.month > after)
    if scope.cluster_id is not None:
        conditions.append(PM.cluster_id == scope.cluster_id)
    if scope.holder_id is not None:
        conditions.append(PM.holder_id == scope.holder_id)
    if scope.provider_id is not None:
        conditions.append(PM.provider_id == scope.provider_id)
    if scope.provider_id is not None:
        conditions.append(PM.kind.in_(SPENT))
    return conditions


def share_where(scope: Scope) -> list[ColumnElement]:
    """Return the conditions that pick a scope's pool shares in `ledger_account`."""
    conditions = [LedgerAccount.council_id == scope.council_id, LedgerAccount.account_type == AccountType.pool]
    if scope.cluster_id is not None:
        conditions.append(LedgerAccount.cluster_id == scope.cluster_id)
    if scope.holder_id is not None:
        conditions.append(LedgerAccount.holder_id == scope.holder_id)
    return conditions


# --- totals ---------------------------------------------------------------------------------------


def moved_before(session: Session, scope: Scope, month: date) -> int:
    """Return what the scope's pool shares gained before a month: what they held when it began, in pence."""
    return session.execute(select(pence(func.sum(PM.amount_pence))).where(*summary_where(scope), PM.month < month)).scalar_one()


def months_with_money(session: Session, council_id: int) -> tuple[date | None, date | None]:
    """Return the first and last months any pool share of the council moved (None, None if none has)."""
    first, last = session.execute(select(func.min(PM.month), func.max(PM.month)).where(PM.council_id == council_id)).one()
    return first, last


def figures_by_month(session: Session, scope: Scope, *, start: date, end: date | None = None) -> dict[date, dict[str, int]]:
    """Return the scope's figures for each month from `start` (to `end`, or every later month) that has any, in pence."""
    query = grouped(PM.month, summary_where(scope, start=start, end=end))
    return {row.key: _month_figures(row) for row in session.execute(query)}


def figures_since_and_unspent_now(session: Session, scope: Scope, *, start: date) -> tuple[dict[date, dict[str, int]], int]:
    """Return the scope's figures for each month from `start` on that has any, and what its pool shares hold now (pence).

    One statement, so a posting committed meanwhile is in both or in neither: the report works back from
    what the shares hold now to what they held at the end of each month.
    """
    held = select(pence(func.sum(LedgerAccount.balance_pence)).label("held")).where(*share_where(scope)).subquery("held")
    months = grouped(PM.month, summary_where(scope, start=start)).subquery("months")
    rows = session.execute(select(held.c.held, months).select_from(held.outerjoin(months, true()))).all()
    return {row.key: _month_figures(row) for row in rows if row.key is not None}, int(rows[0].held)


def _month_figures(row) -> dict[str, int]:
    return {name: row._mapping[name] for name in (*MONEY, "net")}


# --- breakdowns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Which rows of a breakdown to fetch: ordered by spend or by what is unspent, and how many from where (None: all)."""

    order: str = "spent"
    limit: int | None = None
    offset: int = 0
    # How to reckon what was unspent at the end: by adding up the months until then (cheaper for an early
    # period), or by taking the months since off what the shares hold now (cheaper for a recent one).
    from_start: bool = False


def _spend(scope: Scope, period: Period, key: ColumnElement, *, spend_only: bool, by_kind: bool = True, joins=()):
    where = summary_where(scope, start=period.start, end=period.end)
    return grouped(key, where, spend_only=spend_only or not scope.has_pooling, by_kind=by_kind, joins=joins).subquery("spend")


def _moved(scope: Scope, period: Period, key: ColumnElement, *, until_end: bool):
    """Sum each key's rows up to the period's end (`until_end`) or after it."""
    where = summary_where(scope, end=period.end) if until_end else summary_where(scope, after=period.end)
    return select(key.label("key"), pence(func.sum(PM.amount_pence)).label("moved")).where(*where).group_by(key).subquery("moved")


def _finish(query: Select, spend, names: list[ColumnElement], unspent: ColumnElement | None, window: Slice) -> Select:
    """Add the figures, their totals over every row (a window, so a page still knows the whole), the order and the page."""
    figures = [func.coalesce(spend.c[name], 0).label(name) for name in MONEY]
    unspent_column = (unspent if unspent is not None else literal(None, BigInteger)).label("unspent")
    totals = [pence(func.sum(func.coalesce(spend.c[name], 0)).over()).label(f"total_{name}") for name in MONEY]
    total_unspent = (pence(func.sum(unspent).over()) if unspent is not None else literal(None, BigInteger)).label("total_unspent")
    query = query.add_columns(*figures, unspent_column, *totals, total_unspent, func.count().over().label("row_count"))
    first = unspent if (window.order == "unspent" and unspent is not None) else func.coalesce(spend.c.spent, 0)
    query = query.order_by(first.desc(), *names)
    if window.limit is not None:
        query = query.limit(window.limit).offset(window.offset)
    return query


def group_rows(scope: Scope, period: Period, window: Slice) -> Select:
    """Select each group's figures in the period and what its shares held at the end of it."""
    spend = _spend(scope, period, PM.cluster_id, spend_only=False)
    query = select(Cluster.id.label("key"), Cluster.name.label("name"), literal("").label("detail"))
    if not scope.has_pooling:
        query = query.select_from(spend).join(Cluster, Cluster.id == spend.c.key)
        return _finish(query, spend, [Cluster.name, Cluster.id], None, window)
    moved = _moved(scope, period, PM.cluster_id, until_end=window.from_start)
    query = query.select_from(Cluster).outerjoin(spend, spend.c.key == Cluster.id).outerjoin(moved, moved.c.key == Cluster.id)
    if window.from_start:
        unspent = func.coalesce(moved.c.moved, 0)
    else:
        now = (
            select(LedgerAccount.cluster_id.label("key"), pence(func.sum(LedgerAccount.balance_pence)).label("now"))
            .where(*share_where(scope)).group_by(LedgerAccount.cluster_id).subquery("now")
        )
        query = query.outerjoin(now, now.c.key == Cluster.id)
        unspent = func.coalesce(now.c.now, 0) - func.coalesce(moved.c.moved, 0)
    query = query.where(Cluster.council_id == scope.council_id, or_(spend.c.key.is_not(None), unspent != 0))
    if scope.cluster_id is not None:
        query = query.where(Cluster.id == scope.cluster_id)
    return _finish(query, spend, [Cluster.name, Cluster.id], unspent, window)


def holder_rows(scope: Scope, period: Period, window: Slice) -> Select:
    """Select each member's pool share: its figures in the period and what it held at the end of it."""
    spend = _spend(scope, period, PM.account_id, spend_only=False, by_kind=False)
    query = select(LedgerAccount.id.label("key"), Holder.name.label("name"), Cluster.name.label("detail"),
                   LedgerAccount.holder_id.label("holder_id"), LedgerAccount.cluster_id.label("cluster_id"))
    if not scope.has_pooling:
        query = query.select_from(spend).join(LedgerAccount, LedgerAccount.id == spend.c.key)
        unspent = None
    else:
        moved = _moved(scope, period, PM.account_id, until_end=window.from_start)
        moved_pence = func.coalesce(moved.c.moved, 0)
        unspent = moved_pence if window.from_start else LedgerAccount.balance_pence - moved_pence
        query = (
            query.select_from(LedgerAccount).outerjoin(spend, spend.c.key == LedgerAccount.id).outerjoin(moved, moved.c.key == LedgerAccount.id)
            .where(*share_where(scope), or_(spend.c.key.is_not(None), unspent != 0))
        )
    query = query.join(Holder, Holder.id == LedgerAccount.holder_id).join(Cluster, Cluster.id == LedgerAccount.cluster_id)
    return _finish(query, spend, [Holder.name, Cluster.name, LedgerAccount.id], unspent, window)


def provider_rows(scope: Scope, period: Period, window: Slice) -> Select:
    """Select what the pools were charged for each provider's care in the period (care costs, net of reversals; paid out yet or not)."""
    spend = _spend(scope, period, PM.provider_id, spend_only=True)
    query = (
        select(spend.c.key, Provider.name.label("name"), Provider.kind.label("detail"))
        .select_from(spend).outerjoin(Provider, and_(Provider.id == spend.c.key, Provider.council_id == scope.council_id))
    )
    return _finish(query, spend, [Provider.name, spend.c.key], None, window)


def service_rows(scope: Scope, period: Period, window: Slice) -> Select:
    """Select what was spent on each service in the period (the service of the contract each care cost was for)."""
    joins = [(Contract, and_(Contract.id == PM.contract_id, Contract.council_id == scope.council_id))]
    spend = _spend(scope, period, Contract.service, spend_only=True, joins=joins)
    query = select(spend.c.key, spend.c.key.label("name"), literal("").label("detail")).select_from(spend)
    return _finish(query, spend, [spend.c.key], None, window)


def ownership_rows(scope: Scope, period: Period, window: Slice) -> Select:
    """Select what was spent with each kind of provider (its ownership model) in the period."""
    joins = [(Provider, and_(Provider.id == PM.provider_id, Provider.council_id == scope.council_id))]
    spend = _spend(scope, period, Provider.kind, spend_only=True, joins=joins)
    query = select(spend.c.key, spend.c.key.label("name"), literal("").label("detail")).select_from(spend)
    return _finish(query, spend, [spend.c.key], None, window)


ROWS = {
    Dimension.group: group_rows,
    Dimension.holder: holder_rows,
    Dimension.provider: provider_rows,
    Dimension.service: service_rows,
    Dimension.ownership: ownership_rows,
}


# --- the officer's dashboard ------------------------------------------------------------------------


def unspent_by_group(session: Session, council_id: int, *, limit: int) -> tuple[list[tuple[int, str, int]], int, int]:
    """Return the groups whose shares hold most now (id, name, pence), the whole council's unspent pence, and how many groups hold any."""
    held = pence(func.sum(LedgerAccount.balance_pence))
    by_group = (
        select(LedgerAccount.cluster_id.label("key"), held.label("held"))
        .where(*share_where(Scope(council_id))).group_by(LedgerAccount.cluster_id).subquery("held")
    )
    rows = session.execute(
        select(Cluster.id, Cluster.name, by_group.c.held, pence(func.sum(by_group.c.held).over()), func.count().over())
        .select_from(by_group).join(Cluster, Cluster.id == by_group.c.key).where(by_group.c.held > 0)
        .order_by(by_group.c.held.desc(), Cluster.name, Cluster.id).limit(limit)
    ).all()
    if not rows:
        return [], 0, 0
    return [(row[0], row[1], row[2]) for row in rows], rows[0][3], rows[0][4]
