"""What `brokerage bench audit` times: the audit pages' queries, each a (name, callable(session, actor, council)).

Add a query by adding a `Timed` to `QUERIES` (its JSON key is `{name}_ms`); the pack is `PACK`
(`pack_s`). Each callable reads as the council's officer (`actor`), in a session of its own, with
`brokerage.clock` frozen at the moment the history ends, so "this quarter" is the history's own.

Until the officer's dashboard and the pack land (brokerage.spending, brokerage.transparency,
brokerage.auditpack, brokerage.surplus), the dashboard's figures are timed here as the aggregate
queries over the pool summary (`ledger_pool_month`) and the accounts that such a dashboard runs,
and the pack as `ledger export` of one quarter to CSV and Beancount.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import case, func, select
from sqlmodel import Session

from brokerage import clock
from brokerage.access import same_council
from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster, Membership, MembershipStatus
from brokerage.contracts.models import Contract
from brokerage.holders.models import Holder
from brokerage.ledger import export
from brokerage.ledger.integrity import seal_status
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import LedgerAccount, PoolMonth
from brokerage.ledger.pages import journal_page
from brokerage.ledger.queries import balance, statement, trial_balance
from brokerage.ledger.rules import AccountType, funding_code, pool_code
from brokerage.providers.models import Provider, ProviderKind, VettingItem

MONEY_IN = (EntryKind.pledge_collected.value, EntryKind.topup.value)
CARE = EntryKind.care_cost.value


@dataclass(frozen=True)
class Timed:
    """One thing to time: `run(session, actor, council)` does what a page or download does."""

    name: str
    run: Callable[[Session, User, Council], object]


def quarter(day: date, back: int = 0) -> tuple[date, date]:
    """Return the first day of the calendar quarter `back` quarters before the one `day` is in, and the first day after it."""
    index = day.year * 4 + (day.month - 1) // 3 - back
    start = date(index // 4, index % 4 * 3 + 1, 1)
    end_index = index + 1
    return start, date(end_index // 4, end_index % 4 * 3 + 1, 1)


def _month(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _summary(council: Council, start: date, end: date, *conditions):
    return (PoolMonth.council_id == council.id, PoolMonth.month >= start, PoolMonth.month < end, *conditions)


def pooled_and_spent(session: Session, actor: User, council: Council) -> dict:
    """The overview's first figures: money pooled and care spent this month and this quarter."""
    same_council(actor, council.id)
    today = clock.today()
    figures = {}
    for label, (start, end) in (("month", (_month(today), _month(today, -1))), ("quarter", quarter(today))):
        rows = session.execute(
            select(PoolMonth.kind, func.sum(PoolMonth.amount_pence))
            .where(*_summary(council, start, end, PoolMonth.kind.in_(MONEY_IN + (CARE,))))
            .group_by(PoolMonth.kind)
        ).all()
        figures[label] = {
            "pooled": sum(int(total) for kind, total in rows if kind in MONEY_IN),
            "spent": -sum(int(total) for kind, total in rows if kind == CARE),
        }
    return figures


def spend_by_month_and_kind(session: Session, actor: User, council: Council) -> list:
    """Care spend by month over two years, by the providers' kind (the ownership chart)."""
    same_council(actor, council.id)
    start = _month(clock.today(), 23)
    return session.execute(
        select(PoolMonth.month, Provider.kind, -func.sum(PoolMonth.amount_pence))
        .join(Provider, Provider.id == PoolMonth.provider_id)
        .where(*_summary(council, start, date.max, PoolMonth.kind == CARE))
        .group_by(PoolMonth.month, Provider.kind)
        .order_by(PoolMonth.month, Provider.kind)
    ).all()


def _spend_by(session: Session, council: Council, table, key, name) -> list:
    """Last quarter's care spend by a record of `table` (joined on `key` of the summary), with its `name`, biggest first."""
    start, end = quarter(clock.today(), 1)
    spent = func.sum(PoolMonth.amount_pence)
    return session.execute(
        select(name, -spent)
        .join(table, table.id == key)
        .where(*_summary(council, start, end, PoolMonth.kind == CARE))
        .group_by(table.id, name)
        .order_by(spent)
    ).all()


def spend_by_group(session: Session, actor: User, council: Council) -> list:
    """Last quarter's spend by group, with the groups' names."""
    same_council(actor, council.id)
    return _spend_by(session, council, Cluster, PoolMonth.cluster_id, Cluster.name)


def spend_by_holder(session: Session, actor: User, council: Council) -> list:
    """Last quarter's spend by holder, with their names (the CSV lists every holder)."""
    same_council(actor, council.id)
    return _spend_by(session, council, Holder, PoolMonth.holder_id, Holder.name)


def spend_by_provider(session: Session, actor: User, council: Council) -> list:
    """Last quarter's spend by provider, with their names."""
    same_council(actor, council.id)
    return _spend_by(session, council, Provider, PoolMonth.provider_id, Provider.name)


def spend_by_service(session: Session, actor: User, council: Council) -> list:
    """Last quarter's spend by service, through the contracts the care was bought under."""
    same_council(actor, council.id)
    start, end = quarter(clock.today(), 1)
    spent = func.sum(PoolMonth.amount_pence)
    return session.execute(
        select(Contract.service, -spent)
        .join(Contract, Contract.id == PoolMonth.contract_id)
        .where(*_summary(council, start, end, PoolMonth.kind == CARE))
        .group_by(Contract.service)
        .order_by(spent)
    ).all()


def unspent_by_group(session: Session, actor: User, council: Council) -> list:
    """What sits unspent in each group's pool now, from the pool shares' balances, biggest first."""
    same_council(actor, council.id)
    total = func.sum(LedgerAccount.balance_pence)
    return session.execute(
        select(Cluster.name, total)
        .join(Cluster, Cluster.id == LedgerAccount.cluster_id)
        .where(LedgerAccount.council_id == council.id, LedgerAccount.account_type == AccountType.pool)
        .group_by(Cluster.id, Cluster.name)
        .order_by(total.desc())
    ).all()


def wealth_trend(session: Session, actor: User, council: Council) -> list:
    """Community wealth by month over two years: care spend in all, and with local, co-operative, Living Wage and Charter providers."""
    same_council(actor, council.id)
    start = _month(clock.today(), 23)
    spent = -PoolMonth.amount_pence
    community = Provider.kind.in_([ProviderKind.coop, ProviderKind.cic, ProviderKind.charity, ProviderKind.micro_provider])
    return session.execute(
        select(
            PoolMonth.month, func.sum(spent),
            *(func.sum(case((flag, spent), else_=0)) for flag in (Provider.is_local, community, Provider.living_wage, Provider.ethical_care_charter)),
        )
        .join(Provider, Provider.id == PoolMonth.provider_id)
        .where(*_summary(council, start, date.max, PoolMonth.kind == CARE))
        .group_by(PoolMonth.month)
        .order_by(PoolMonth.month)
    ).all()


def surplus_candidates(session: Session, actor: User, council: Council) -> list:
    """Pool shares holding more than the council's surplus weeks of their member's pledge (the clawback rule's first look)."""
    same_council(actor, council.id)
    return session.execute(
        select(LedgerAccount.holder_id, LedgerAccount.cluster_id, LedgerAccount.balance_pence, Membership.weekly_pledge_pence)
        .join(Membership, (Membership.cluster_id == LedgerAccount.cluster_id) & (Membership.holder_id == LedgerAccount.holder_id))
        .where(
            LedgerAccount.council_id == council.id, LedgerAccount.account_type == AccountType.pool,
            Membership.status != MembershipStatus.left,
            LedgerAccount.balance_pence > Membership.weekly_pledge_pence * council.surplus_weeks,
        )
        .order_by(LedgerAccount.balance_pence.desc())
    ).all()


def vetting_expiring(session: Session, actor: User, council: Council) -> list:
    """Providers whose evidence has run out or runs out within 30 days, soonest first."""
    same_council(actor, council.id)
    return session.execute(
        select(Provider.name, VettingItem.kind, VettingItem.expires_on)
        .join(Provider, Provider.id == VettingItem.provider_id)
        .where(VettingItem.council_id == council.id, VettingItem.expires_on <= clock.today() + timedelta(days=30))
        .order_by(VettingItem.expires_on)
    ).all()


def _first_share(session: Session, council: Council) -> str:
    account = session.execute(
        select(LedgerAccount.cluster_id, LedgerAccount.holder_id)
        .where(LedgerAccount.council_id == council.id, LedgerAccount.account_type == AccountType.pool)
        .order_by(LedgerAccount.id).limit(1)
    ).one()
    return pool_code(account.cluster_id, account.holder_id)


def share_statement(session: Session, actor: User, council: Council) -> object:
    """A holder's statement of their pool share for last quarter, with the opening balance and running balances."""
    start, end = quarter(clock.today(), 1)
    return statement(
        session=session, actor=actor, council_id=council.id, code=_first_share(session, council),
        start=clock.start_of_day(start), end=clock.start_of_day(end),
    )


def funding_balance_as_of(session: Session, actor: User, council: Council) -> int:
    """The council's funding account (the busiest account) as it stood at the start of last quarter."""
    start, _ = quarter(clock.today(), 1)
    return balance(session=session, actor=actor, council_id=council.id, code=funding_code(council.id), as_of=clock.start_of_day(start))


QUERIES: list[Timed] = [
    Timed("pooled_spent", pooled_and_spent),
    Timed("spend_by_month_kind", spend_by_month_and_kind),
    Timed("spend_by_group", spend_by_group),
    Timed("spend_by_holder", spend_by_holder),
    Timed("spend_by_provider", spend_by_provider),
    Timed("spend_by_service", spend_by_service),
    Timed("unspent_by_group", unspent_by_group),
    Timed("wealth_trend", wealth_trend),
    Timed("surplus_candidates", surplus_candidates),
    Timed("vetting_expiring", vetting_expiring),
    Timed("trial_balance", lambda session, actor, council: trial_balance(session=session, actor=actor, council_id=council.id)),
    Timed("statement", share_statement),
    Timed("balance_as_of", funding_balance_as_of),
    Timed("journal_page", lambda session, actor, council: journal_page(session=session, actor=actor, council_id=council.id)),
    Timed("seal_status", lambda session, actor, council: seal_status(session=session, actor=actor, council_id=council.id)),
]


def export_quarter(session: Session, actor: User, council: Council) -> tuple:
    """Export last quarter of the council's ledger to CSV and to Beancount (files deleted afterwards)."""
    same_council(actor, council.id)
    start, end = quarter(clock.today(), 1)
    last_day = date.fromordinal(end.toordinal() - 1)
    summaries = []
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        for name, writer in (("ledger.csv", export.export_csv), ("ledger.beancount", export.export_beancount)):
            with open(os.path.join(folder, name), "w", newline="" if name.endswith(".csv") else None, encoding="utf-8") as out:
                summaries.append(writer(session=session, council_id=council.id, start=start, end=last_day, out=out))
    return tuple(summaries)


# The quarterly pack, timed once; until brokerage.auditpack lands, the ledger's own exports of a quarter.
PACK = Timed("pack", export_quarter)
