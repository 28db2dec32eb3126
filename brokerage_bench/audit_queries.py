"""What `brokerage bench audit` times: the audit pages' queries, each a (name, callable(session, actor, council)).

Add a query by adding a `Timed` to `QUERIES` (its JSON key is `{name}_ms`); the pack is `PACK`
(`pack_s`). Each callable reads as the council's officer (`actor`), in a session of its own, with
`brokerage.clock` frozen at the moment the history ends, so "this quarter" is the history's own.

The pages' own service functions are timed (brokerage.spending, brokerage.transparency,
brokerage.surplus, brokerage.auditpack, brokerage.audit, brokerage.ledger), and the pack is the
auditor pack of last quarter (`brokerage audit pack`), written to a temporary file.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, func, select
from sqlmodel import Session

from brokerage import clock
from brokerage.access import same_council
from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster
from brokerage.holders.models import Holder
from brokerage.audit.services import access_log_page
from brokerage.auditpack.pack import write_pack_file
from brokerage.auditpack.rules import quarter_of
from brokerage.auditpack.services import compliance_page
from brokerage.ledger.integrity import seal_status
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import LedgerAccount, PoolMonth
from brokerage.ledger.pages import accounts_page, journal_page, seal_history
from brokerage.ledger.queries import balance, statement, trial_balance_by_type
from brokerage.ledger.rules import AccountType, funding_code, pool_code
from brokerage.providers.models import Provider
from brokerage.spending.export import report_csv
from brokerage.spending.services import officer_overview, spend_by
from brokerage.surplus.queries import surplus_page
from brokerage.transparency.models import PublishedQuarter
from brokerage.transparency.services import public_report, wealth_trend

MONEY_IN = (EntryKind.pledge_collected.value, EntryKind.topup.value)
CARE = EntryKind.care_cost.value


@dataclass(frozen=True)
class Timed:
    """One thing to time: `run(session, actor, council)` does what a page or download does.

    `prepare(session, actor, council)`, when given, runs first in the same session, untimed: it puts the
    database in the state the timed visit meets (it is rolled back with the rest).
    """

    name: str
    run: Callable[[Session, User, Council], object]
    prepare: Callable[[Session, User, Council], object] | None = None


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


def _last_quarter(day: date):
    start, end = quarter(day, 1)
    return start, date.fromordinal(end.toordinal() - 1).replace(day=1)


def _last_12_months(day: date):
    return _month(day, 11), _month(day)


def _spend(dimension: str, period: Callable[[date], tuple[date, date]]) -> Callable[[Session, User, Council], object]:
    def run(session: Session, actor: User, council: Council) -> object:
        start, end = period(clock.today())
        return spend_by(session=session, actor=actor, dimension=dimension, start=start, end=end)
    return run


def _every_share_csv(session: Session, actor: User, council: Council) -> str:
    """The CSV of every member's share over the last 12 months (5,000 holders: every row)."""
    start, end = _last_12_months(clock.today())
    return report_csv(spend_by(session=session, actor=actor, dimension="holder", start=start, end=end, page=None))


def _public_report(session: Session, actor: User, council: Council) -> object:
    return public_report(session=session, slug=council.slug, today=clock.today())


def _unpublished(session: Session, actor: User, council: Council) -> None:
    """Forget the council's published quarters (in this session only), so the report is worked out from the ledger."""
    session.execute(delete(PublishedQuarter).where(PublishedQuarter.council_id == council.id))


def _published(session: Session, actor: User, council: Council) -> None:
    """Show the report once (in this session only), as its first reader each quarter does: its quarters are then published."""
    _unpublished(session, actor, council)
    _public_report(session, actor, council)


def _journal_by_name(session: Session, actor: User, council: Council) -> object:
    """The journal filtered by part of a person's name (the first holder's), as staff look someone up."""
    name = session.execute(select(Holder.name).where(Holder.council_id == council.id).order_by(Holder.id).limit(1)).scalar_one()
    return journal_page(session=session, actor=actor, council_id=council.id, account=name.split()[-1])


def _wealth(session: Session, actor: User, council: Council) -> object:
    start, end = _last_12_months(clock.today())
    return wealth_trend(session=session, actor=actor, start=start, end=end)


QUERIES: list[Timed] = [
    # The officer's dashboard, and the pages one click from it.
    Timed("officer_dashboard", lambda session, actor, council: officer_overview(session=session, actor=actor, today=clock.today())),
    Timed("spend_by_month", _spend("month", _last_12_months)),
    Timed("spend_by_group", _spend("group", _last_12_months)),
    Timed("spend_by_holder", _spend("holder", _last_12_months)),
    Timed("spend_by_provider", _spend("provider", _last_12_months)),
    Timed("spend_by_service", _spend("service", _last_12_months)),
    Timed("spend_by_ownership_last_quarter", _spend("ownership", _last_quarter)),
    Timed("every_share_csv", _every_share_csv),
    Timed("community_wealth", _wealth),
    # The first reader of each quarter works its figures out from the ledger and publishes them; every later
    # reader gets the published figures back.
    Timed("public_report_first_view", _public_report, prepare=_unpublished),
    Timed("public_report", _public_report, prepare=_published),
    Timed("surplus_page", lambda session, actor, council: surplus_page(session=session, actor=actor)),
    Timed("compliance_page", lambda session, actor, council: compliance_page(session=session, actor=actor, today=clock.today())),
    Timed("access_log_page", lambda session, actor, council: access_log_page(session=session, actor=actor)),
    Timed("seal_history", lambda session, actor, council: seal_history(session=session, actor=actor, council_id=council.id)),
    # The ledger's own pages and reads.
    Timed("trial_balance", lambda session, actor, council: trial_balance_by_type(session=session, actor=actor, council_id=council.id)),
    Timed("accounts_page", lambda session, actor, council: accounts_page(session=session, actor=actor, council_id=council.id)),
    Timed("pool_shares_page_40", lambda session, actor, council: accounts_page(
        session=session, actor=actor, council_id=council.id, account_type=AccountType.pool, page=40)),
    Timed("statement", share_statement),
    Timed("balance_as_of", funding_balance_as_of),
    Timed("journal_page", lambda session, actor, council: journal_page(session=session, actor=actor, council_id=council.id)),
    Timed("journal_by_name", _journal_by_name),
    Timed("seal_status", lambda session, actor, council: seal_status(session=session, actor=actor, council_id=council.id)),
    # The same figures as plain aggregates over the pool summary, for comparison with the pages above.
    Timed("raw_pooled_spent", pooled_and_spent),
    Timed("raw_spend_by_month_kind", spend_by_month_and_kind),
    Timed("raw_unspent_by_group", unspent_by_group),
]


def pack_last_quarter(session: Session, actor: User, council: Council) -> object:
    """Write the auditor pack of last quarter to a temporary file (deleted afterwards), as `brokerage audit pack` does."""
    same_council(actor, council.id)
    wanted = quarter_of(quarter(clock.today(), 1)[0])
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        return write_pack_file(session=session, council_id=council.id, quarter=wanted, target=Path(folder) / "pack.zip")


# The quarterly pack, timed once.
PACK = Timed("pack", pack_last_quarter)
