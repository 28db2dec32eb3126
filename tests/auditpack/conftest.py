"""A quarter of council A's money, with entries on both sides of England's midnights, for the pack and its pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.auditpack.rules import Quarter
from brokerage.ledger import rules
from brokerage.ledger.integrity import seal
from brokerage.ledger.services import post_entry, reverse_entry
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus

Q3 = Quarter(2026, 3)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@dataclass
class QuarterWorld:
    """Council A of the world with a quarter (2026Q3) of money, care and seals."""

    world: object
    council: object
    holder: object
    neighbour: object
    cluster: object
    provider: object
    contract: object
    entries: dict
    sheets: dict


@pytest.fixture()
def q3(world, session, freeze_clock):
    """Post council A's money around 2026Q3 (entries just inside and just outside England's quarter), approve a week of care, seal."""
    records = world.records["a"]
    council = world.councils["a"]
    holder, neighbour, cluster, provider = records["holder"], records["other_holder"], records["cluster"], records["provider"]
    job = system_actor(session=session, council_id=council.id)
    funding, wallet, pool = rules.funding_code(council.id), rules.wallet_code(holder.id), rules.pool_code(cluster.id, holder.id)
    payable = rules.payable_code(provider.id)

    def post(moment, kind, postings, key, memo=""):
        freeze_clock(moment)
        return post_entry(session=session, actor=job, council_id=council.id, kind=kind, postings=postings, idempotency_key=key, memo=memo)

    entries = {
        "june_dp": post(utc(2026, 6, 15, 10), "dp_issued", [(funding, -300_00), (wallet, 300_00)], "q3:dp:june", "Direct payment 2026-W25"),
        # 23:30 UTC on 30 June is 00:30 on 1 July in England: inside the quarter.
        "pledge": post(utc(2026, 6, 30, 23, 30), "pledge_collected", [(wallet, -100_00), (pool, 100_00)], "q3:pledge", "Pledge 2026-W27"),
        "care": post(utc(2026, 7, 20, 12), "care_cost", [(pool, -44_00), (payable, 44_00)], "q3:care", "Care 2026-W29"),
        "mistake": post(utc(2026, 8, 3, 9), "adjustment", [(rules.TOPUPS_CODE, -5_00), (wallet, 5_00)], "q3:mistake"),
        # 22:30 UTC on 30 September is 23:30 in England: the last hour of the quarter.
        "late_dp": post(utc(2026, 9, 30, 22, 30), "dp_issued", [(funding, -50_00), (rules.wallet_code(neighbour.id), 50_00)], "q3:dp:late"),
        # 23:30 UTC on 30 September is 00:30 on 1 October in England: the next quarter.
        "october_dp": post(utc(2026, 9, 30, 23, 30), "dp_issued", [(funding, -10_00), (wallet, 10_00)], "q3:dp:october"),
    }
    freeze_clock(utc(2026, 8, 4, 9))
    entries["reversal"] = reverse_entry(session=session, actor=job, entry_id=entries["mistake"].id, idempotency_key="q3:mistake:undo")
    approver = world.users["a"][Role.broker]
    approved = Timesheet(council_id=council.id, contract_id=records["contract"].id, provider_id=provider.id, cluster_id=cluster.id, week="2026-W29",
                         status=TimesheetStatus.approved, submitted_at=utc(2026, 7, 19, 18), decided_at=utc(2026, 7, 20, 12), decided_by_id=approver.id,
                         total_pence=44_00, rate_pence=2200, hours_per_week=10, parts={str(holder.id): 44_00}, care_entry_id=entries["care"].id)
    # Week 27 began on Monday 29 June (the last quarter), but was sent back in this one.
    sent_back = Timesheet(council_id=council.id, contract_id=records["contract"].id, provider_id=provider.id, cluster_id=cluster.id, week="2026-W27",
                          status=TimesheetStatus.rejected, submitted_at=utc(2026, 7, 1, 9), decided_at=utc(2026, 7, 2, 9), decided_by_id=approver.id,
                          rejection_reason="Wrong day")
    # Week 40 began on Monday 28 September (this quarter) and is still a draft.
    draft = Timesheet(council_id=council.id, contract_id=records["contract"].id, provider_id=provider.id, cluster_id=cluster.id, week="2026-W40")
    session.add_all([approved, sent_back, draft])
    session.flush()
    session.add_all([
        Visit(council_id=council.id, timesheet_id=approved.id, holder_id=holder.id, visit_date=date(2026, 7, 13), start_time=time(9), minutes=60),
        Visit(council_id=council.id, timesheet_id=approved.id, holder_id=holder.id, visit_date=date(2026, 7, 15), start_time=time(9), minutes=90,
              travel_minutes=20),
        Visit(council_id=council.id, timesheet_id=sent_back.id, holder_id=holder.id, visit_date=date(2026, 6, 30), start_time=time(14), minutes=60),
    ])
    freeze_clock(utc(2026, 10, 5, 9))
    seal(session=session, actor=job, council_id=council.id)
    session.commit()
    return QuarterWorld(world=world, council=council, holder=holder, neighbour=neighbour, cluster=cluster, provider=provider,
                        contract=records["contract"], entries=entries, sheets={"approved": approved, "sent_back": sent_back, "draft": draft})
