"""What each role's dashboard shows."""

from __future__ import annotations

from sqlmodel import Session, func, select

from brokerage.accounts.models import Council, Role, User
from brokerage.accounts.services import active_broker
from brokerage.clusters import queries as clusters
from brokerage.clusters.models import Cluster, ClusterStatus
from brokerage.contracts.queries import contracts_for_provider_page
from brokerage.contracts.services import contracts_of_provider
from brokerage.holders import services as holders
from brokerage.holders.models import Holder, Power
from brokerage.payments import topups
from brokerage.providers import applications, charter
from brokerage.providers import services as providers
from brokerage.providers.models import Provider
from brokerage.providers.rules import ProviderStatus
from brokerage.surplus.queries import flags_for_member
from brokerage.timesheets import queries as timesheets
from brokerage import clock


def dashboard_for(*, session: Session, actor: User) -> dict:
    """Return the figures and lists for the actor's dashboard."""
    role = actor.role
    if role == Role.admin:
        return {
            "councils": list(session.exec(select(Council).order_by(Council.name))),
            "user_count": session.exec(select(func.count()).select_from(User).where(User.role != Role.system)).one(),
        }
    council = session.get(Council, actor.council_id)
    if role == Role.holder:
        holder = session.get(Holder, actor.holder_id) if actor.holder_id else None
        memberships = [
            (m, c) for m, c in clusters.memberships_of(session=session, actor=actor, holder_ids=[holder.id] if holder else [])
            if m.status.value != "left"
        ]
        # Requests count too: the pledge check reserves them, so the dashboard must agree.
        pledged = sum(m.weekly_pledge_pence for m, _ in memberships)
        return {"council": council, "holder": holder, "memberships": memberships, "pledged": pledged,
                "timesheets_waiting": timesheets.waiting_for_member(session=session, actor=actor),
                "top_ups": topups.top_ups_in_flight(session=session, actor=actor),
                "surplus_flags": flags_for_member(session=session, actor=actor),
                "decisions": clusters.decisions_waiting(session=session, actor=actor),
                "broker": holders.broker_of(session=session, holder=holder) if holder else None,
                "brokers": holders.council_brokers(session=session, council_id=actor.council_id)}
    if role == Role.representative:
        people = holders.holders_for_representative(session=session, actor=actor)
        group_ids = holders.represented_holder_ids(session=session, actor=actor, power=Power.groups)
        return {
            "council": council,
            "people": people,
            # Who stopped them acting for them, and when: why someone is no longer listed (or why nobody is).
            "stopped": holders.stopped_for_representative(session=session, actor=actor),
            # Whose money they may see (brokerage.holders.models.Power): the others' budgets and statements are not shown.
            "money_ids": set(holders.represented_holder_ids(session=session, actor=actor, power=Power.money)),
            # Groups of the people who let them help with groups only (Power.groups).
            "group_ids": group_ids,
            "memberships": [
                (m, c) for m, c in clusters.memberships_of(session=session, actor=actor, holder_ids=group_ids)
                if m.status.value != "left"
            ],
            "timesheets_waiting": timesheets.waiting_for_member(session=session, actor=actor),
            "top_ups": topups.top_ups_in_flight(session=session, actor=actor),
            "surplus_flags": flags_for_member(session=session, actor=actor),
            "decisions": clusters.decisions_waiting(session=session, actor=actor),
            "people_brokers": {h.id: holders.broker_of(session=session, holder=h) for h in people},
            "brokers": holders.council_brokers(session=session, council_id=actor.council_id),
        }
    if role == Role.provider:
        provider = session.get(Provider, actor.provider_id) if actor.provider_id else None
        state = None
        if provider is not None:
            state = providers.vetting_summary(session=session, council_id=actor.council_id, today=clock.today()).get(provider.id)
        contracts = contracts_for_provider_page(session=session, contracts=contracts_of_provider(session=session, actor=actor))
        return {"council": council, "provider": provider, "state": state, "contracts": contracts,
                "application": applications.own_progress(session=session, actor=actor),
                "sheets_to_do": timesheets.with_provider(session=session, actor=actor, today=clock.today()),
                "broker": _provider_broker(session=session, provider=provider) if provider else None,
                "brokers": holders.council_brokers(session=session, council_id=actor.council_id)}
    # Broker and council officer.
    today = clock.today()
    states = providers.vetting_summary(session=session, council_id=actor.council_id, today=today)
    forming = list(
        session.exec(
            select(Cluster).where(Cluster.council_id == actor.council_id, Cluster.status == ClusterStatus.forming).order_by(Cluster.name)
        )
    )
    provider_rows = {p.id: p for p in session.exec(select(Provider).where(Provider.council_id == actor.council_id))}
    allocation = session.exec(
        select(func.coalesce(func.sum(Holder.weekly_allocation_pence), 0)).where(Holder.council_id == actor.council_id)
    ).one()
    return {
        "council": council,
        "holder_count": session.exec(select(func.count()).select_from(Holder).where(Holder.council_id == actor.council_id)).one(),
        "weekly_allocation": int(allocation),
        "cluster_counts": clusters.status_counts(session=session, council_id=actor.council_id),
        "provider_kinds": providers.kind_counts(session=session, council_id=actor.council_id),
        "forming": forming,
        "areas": clusters.areas_of(session=session, cluster_ids=[c.id for c in forming]),
        "timesheets_waiting": len(timesheets.waiting_for_staff(session=session, actor=actor)),
        "applications": applications.queue(session=session, actor=actor, today=today).waiting,
        # Travel is paid only from the day a broker confirms a tick: each day one waits unseen costs the provider.
        "charters_waiting": charter.unconfirmed_charters(session=session, actor=actor),
        # Applications are listed apart, above, with the evidence they still need.
        "vetting_problems": sorted(
            ((provider_rows[pid], st) for pid, st in states.items()
             if (not st.valid or st.expiring_soon) and provider_rows[pid].status == ProviderStatus.approved),
            key=lambda row: row[0].name,
        ),
    }


def _provider_broker(*, session: Session, provider: Provider) -> User | None:
    """Return the broker who last decided the provider's application, while a broker of its council who can sign in; else None.

    A provider has no broker of its own on record: the one who approved (or refused) it knows it best. A provider
    a broker registered directly, or whose broker has left, is shown the council's brokers instead.
    """
    return active_broker(session=session, user_id=provider.reviewed_by_id, council_id=provider.council_id)
