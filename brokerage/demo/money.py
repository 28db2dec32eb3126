"""The demo's money: each week's runs, as the scheduled jobs make them, and the seal after them.

Nothing is posted here directly: the weekly runs (`clusters.runs`) issue direct payments and collect
pledges with their own entry kinds and idempotency keys, acting as each council's system user as the
jobs do, and the ledger's integrity service seals what they posted. Leavers' and closed groups' refunds
come from the clusters services when the story's notices end and votes pass.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session

from brokerage import clock
from brokerage.accounts.models import Council
from brokerage.accounts.system import system_actor
from brokerage.clusters import runs
from brokerage.demo.story import StoryError
from brokerage.ledger.integrity import seal
from brokerage.surplus.review import review_council


RUN_TIME = time(6, 0)  # the weekly runs post on Monday morning, in England


def week_run_by_now(monday: date) -> bool:
    """Tell whether the weekly runs of the week starting `monday` are due by now (Monday 06:00 in England has passed)."""
    return clock.now() >= datetime.combine(monday, RUN_TIME, tzinfo=clock.LONDON)


def run_week(*, session: Session, councils: list[Council], period: str) -> None:
    """Run one week's direct payments and pledge collection for each council, then seal, as the jobs do."""
    for council in councils:
        job = system_actor(session=session, council_id=council.id)
        for run in (runs.issue_dp, runs.collect_pledges):
            report = run(session=session, actor=job, council_id=council.id, period=period)
            if report.failed or report.skipped:
                raise StoryError(f"{council.name}, {period}: {report.failed + report.skipped}")
        seal(session=session, actor=job, council_id=council.id)


def seal_all(*, session: Session, councils: list[Council]) -> None:
    """Seal whatever each council's ledger holds that is not sealed yet, as the ledger's seal job does."""
    for council in councils:
        seal(session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id)


def review_surplus(*, session: Session, councils: list[Council]) -> None:
    """Flag money unspent beyond each council's surplus rule, as the daily review job does."""
    for council in councils:
        review_council(session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id)
