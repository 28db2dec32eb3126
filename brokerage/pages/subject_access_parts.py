"""The parts of a holder's data download that other domains hold: their top-ups, the care visits recorded about them,
what each week of care cost them, and the contracts that name them.

Read by `pages.holders.subject_access_export`, for the holder or a representative who may see their care and money.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from sqlmodel import Session, select

from brokerage import clock
from brokerage.clusters.members import live_members_by_group
from brokerage.clusters.models import Cluster, Membership
from brokerage.clusters.rules import Sharing, who_shares
from brokerage.contracts import rules as contract_rules
from brokerage.contracts.models import Contract
from brokerage.contracts.services import current_status, member_pledges
from brokerage.formatting import capitalize_first, pounds, week_of
from brokerage.holders.models import Holder
from brokerage.payments.models import TopUp
from brokerage.payments.rules import IN_WALLET_LABEL, METHODS, PAID_WITH, TopUpStatus
from brokerage.payments.topups import in_wallet, methods_used
from brokerage.providers.models import Provider
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus, week_monday
from brokerage.vocabulary import service_name


def when(value: datetime | date | None) -> str | None:
    """Return a moment in England's time to the second (a day as it is), as ISO 8601 with the offset so nothing is lost."""
    if isinstance(value, datetime):
        # Moments stored today carry microseconds and older ones do not: whole seconds read the same throughout.
        value = clock.london(value).replace(microsecond=0)
    return value.isoformat() if value is not None else None


def money(pence: int | None) -> dict | None:
    """Return an amount as pence and as pounds to read."""
    return None if pence is None else {"pence": pence, "pounds": pounds(pence)}


def _names(session: Session, model, ids: set[int]) -> dict[int, str]:
    return dict(session.exec(select(model.id, model.name).where(model.id.in_(sorted(ids)))).all()) if ids else {}


def top_ups(*, session: Session, holder: Holder, person: Callable[[int | None], str | None]) -> list[dict]:
    """Return every top-up made for the holder, in every state, oldest first: amount, group, where it is, how it was paid, Stripe's reason."""
    rows = list(session.exec(
        select(TopUp).where(TopUp.holder_id == holder.id, TopUp.council_id == holder.council_id).order_by(TopUp.created_at, TopUp.id)
    ))
    groups = _names(session, Cluster, {t.cluster_id for t in rows})
    used = methods_used(session=session, top_ups=rows)
    wallet = in_wallet(session=session, top_ups=rows)
    return [
        {
            "group": groups.get(t.cluster_id),
            "amount": money(t.amount_pence),
            "status": TopUpStatus(t.status).value,
            # Paid after notice began, the money went to the wallet, as the statement says; not "Added to the pool".
            "where_it_is": IN_WALLET_LABEL if t.id in wallet and t.status == TopUpStatus.succeeded else TopUpStatus(t.status).label,
            "could_be_paid_by": [METHODS.get(m, m) for m in t.methods],
            # How it was paid, or tried (a failed one), once Stripe's events said; None before.
            "method": PAID_WITH.get(used.get(t.id, ""), None),
            "failure_message": t.failure_message or None,
            "refunded": money(t.refunded_pence) if t.refunded_pence else None,
            "started_by": person(t.created_by_id),
            "started_at": when(t.created_at),
            # Cancelled before anyone paid it: when, and by whom (None when it was cancelled on Stripe's side).
            "cancelled_at": when(t.cancelled_at) if t.cancelled_at else None,
            "cancelled_by": person(t.cancelled_by_id),
            "last_changed_at": when(t.updated_at),
            "stripe_reference": t.payment_intent_id,
        }
        for t in rows
    ]


def _their_sheets(session: Session, holder: Holder) -> tuple[list[Timesheet], list[Visit]]:
    """Return the timesheets that record a visit to the holder or charge them a part, and their visits to the holder."""
    visits = list(session.exec(
        select(Visit).where(Visit.holder_id == holder.id, Visit.council_id == holder.council_id).order_by(Visit.visit_date, Visit.start_time, Visit.id)
    ))
    groups = select(Membership.cluster_id).where(Membership.holder_id == holder.id)
    sheets = {
        s.id: s for s in session.exec(
            select(Timesheet).where(Timesheet.council_id == holder.council_id, Timesheet.cluster_id.in_(groups)).order_by(Timesheet.week, Timesheet.id)
        )
    }
    with_visit = {v.timesheet_id for v in visits}
    theirs = [s for s in sheets.values() if s.id in with_visit or str(holder.id) in (s.parts or {})]
    return theirs, visits


def care(*, session: Session, holder: Holder) -> tuple[list[dict], list[dict]]:
    """Return the care visits recorded about the holder (who came, the day, the start, how long) and what each week of care cost them."""
    sheets, visits = _their_sheets(session, holder)
    by_id = {s.id: s for s in sheets}
    providers = _names(session, Provider, {s.provider_id for s in sheets})
    groups = _names(session, Cluster, {s.cluster_id for s in sheets})
    care_visits = [
        {
            "provider": providers.get(by_id[v.timesheet_id].provider_id),
            "group": groups.get(by_id[v.timesheet_id].cluster_id),
            "date": when(v.visit_date),
            "start_time": v.start_time.strftime("%H:%M"),
            "minutes": v.minutes,
            "travel_minutes": v.travel_minutes,
            "week": week_of(by_id[v.timesheet_id].week),
            "timesheet": TimesheetStatus(by_id[v.timesheet_id].status).label,
        }
        for v in visits
    ]
    care_costs = [
        {
            "provider": providers.get(s.provider_id),
            "group": groups.get(s.cluster_id),
            "week": week_of(s.week),
            "week_starts": when(week_monday(s.week)),
            "timesheet": TimesheetStatus(s.status).label,
            # Fixed on the sheet when the provider sends it; before then, nobody's part is known yet.
            "week_total": money(s.total_pence) if s.parts is not None else None,
            "your_share": money(int((s.parts or {}).get(str(holder.id), 0))) if s.parts is not None else None,
            "paid_from_pool": s.care_entry_id is not None,
        }
        for s in sheets
    ]
    return care_visits, care_costs


def contracts(*, session: Session, holder: Holder) -> list[dict]:
    """Return the contracts that name the holder among the members they serve: service, provider, hours, and their share."""
    groups = select(Membership.cluster_id).where(Membership.holder_id == holder.id)
    found = [
        c for c in session.exec(
            select(Contract).where(Contract.council_id == holder.council_id, Contract.cluster_id.in_(groups)).order_by(Contract.start_date, Contract.id)
        )
        if str(holder.id) in c.member_shares
    ]
    providers = _names(session, Provider, {c.provider_id for c in found})
    group_names = _names(session, Cluster, {c.cluster_id for c in found})
    live = live_members_by_group(session=session, cluster_ids={c.cluster_id for c in found})
    today = clock.today()
    rows = []
    for c in found:
        cost = contract_rules.weekly_cost(c.hours_per_week, c.rate_pence)
        parts, until, after = _your_part(c, cost, str(holder.id), member_pledges(session=session, contract=c),
                                         who_shares([int(m) for m in c.member_shares], live[c.cluster_id], today))
        rows.append({
            "service": capitalize_first(service_name(c.service)),
            "provider": providers.get(c.provider_id),
            "group": group_names.get(c.cluster_id),
            "status": current_status(c).label,
            "start_date": when(c.start_date),
            "end_date": when(c.end_date),
            "hours_per_week": c.hours_per_week,
            "your_share_of_the_hours": f"{c.member_shares[str(holder.id)]} of {sum(int(v) for v in c.member_shares.values())}",
            "hourly_rate": money(c.rate_pence),
            "weekly_cost": money(cost),
            "how_the_cost_is_shared": contract_rules.AllocationRule(c.allocation_rule).label,
            "your_weekly_part": money(parts.get(str(holder.id), 0)),
            "you_pay_until": when(until),
            "your_weekly_part_once_others_on_notice_have_left": money(after) if after is not None else None,
        })
    return rows


def _your_part(contract: Contract, cost: int, you: str, pledges: dict[str, int], sharing: Sharing) -> tuple[dict[str, int], date | None, int | None]:
    """Return the weekly parts of the members still in the group, your last day if you are on notice, and your part once the others on notice have gone.

    As each week's timesheet is shared: a member who has left pays nothing, one on notice pays until their last day.
    """
    gone = {str(m) for m in sharing.gone}
    paying = {m: share for m, share in contract.member_shares.items() if m not in gone}
    if not paying:
        return {}, None, None
    parts = contract_rules.weekly_parts(cost, contract.allocation_rule, paying, pledges)
    leaving = {str(m): day for m, day in sharing.leaving}
    staying = {m: share for m, share in paying.items() if m not in leaving}
    after = None
    if leaving and you in staying:
        after = contract_rules.weekly_parts(cost, contract.allocation_rule, staying, pledges)[you]
    return parts, leaving.get(you), after
