"""Vetting and compliance: evidence run out or running out, and live contracts with providers no longer vetted, for council staff."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from brokerage.accounts.models import Role
from brokerage.auditpack.services import compliance_page, compliance_summary
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import ContractStatus
from brokerage.providers.models import VettingKind
from tests import factories as f
from tests.auditpack.conftest import utc

TODAY = date(2026, 6, 1)


@pytest.fixture()
def vetting(world, session, freeze_clock):
    """Council A on 1 June 2026: a provider whose DBS check ran out 3 days ago, one whose runs out in 10 days, and contracts with both."""
    freeze_clock(utc(2026, 6, 1, 9))
    council = world.councils["a"]
    records = world.records["a"]
    expired = f.ProviderFactory(session=session, council_id=council.id, name="Lapsed co-op")
    soon = f.ProviderFactory(session=session, council_id=council.id, name="Soon care")
    f.VettingFactory(session=session, council_id=council.id, provider_id=expired.id, kind=VettingKind.dbs, expires_on=TODAY - timedelta(days=3))
    f.VettingFactory(session=session, council_id=council.id, provider_id=expired.id, kind=VettingKind.insurance, expires_on=TODAY + timedelta(days=200))
    f.VettingFactory(session=session, council_id=council.id, provider_id=soon.id, kind=VettingKind.dbs, expires_on=TODAY + timedelta(days=10))
    f.VettingFactory(session=session, council_id=council.id, provider_id=soon.id, kind=VettingKind.insurance, expires_on=TODAY + timedelta(days=200))
    terms = dict(council_id=council.id, cluster_id=records["cluster"].id, service="home_care", member_shares={str(records["holder"].id): 1},
                 hours_per_week=4, rate_pence=2000, start_date=date(2026, 2, 2))
    live = Contract(provider_id=expired.id, **terms)
    vetted = Contract(provider_id=soon.id, **terms)
    ended = Contract(provider_id=expired.id, status=ContractStatus.ended, end_date=date(2026, 4, 30), **terms)
    # Notice was given and the end date has passed: the daily run has not stored "ended" yet, but it is over.
    over = Contract(provider_id=expired.id, status=ContractStatus.ending, end_date=date(2026, 5, 31), **terms)
    ending = Contract(provider_id=expired.id, status=ContractStatus.ending, end_date=date(2026, 6, 30), **terms)
    session.add_all([live, vetted, ended, over, ending])
    # Council B's lapsed provider must never show in council A.
    other = f.ProviderFactory(session=session, council_id=world.councils["b"].id, name="Elsewhere care")
    f.VettingFactory(session=session, council_id=other.council_id, provider_id=other.id, kind=VettingKind.dbs, expires_on=TODAY - timedelta(days=1))
    session.commit()
    return {"expired": expired, "soon": soon, "live": live, "vetted": vetted, "ended": ended, "over": over, "ending": ending}


def test_the_page_lists_expired_and_expiring_evidence_most_urgent_first(vetting, world, session):
    page = compliance_page(session=session, actor=world.users["a"][Role.council_officer], today=TODAY)
    listed = [(row.provider.name, row.problem.kind, row.problem.when) for row in page.problems]
    assert listed == [
        ("Lapsed co-op", "dbs", "3 days overdue"),
        ("Co-op a", "dbs", "Never given"), ("Co-op a", "insurance", "Never given"),
        ("Other co-op a", "dbs", "Never given"), ("Other co-op a", "insurance", "Never given"),
        ("Soon care", "dbs", "10 days left"),
    ]


def test_live_contracts_with_providers_not_vetted_are_listed_and_ended_ones_are_not(vetting, world, session):
    page = compliance_page(session=session, actor=world.users["a"][Role.broker], today=TODAY)
    rows = {row.contract.id: row for row in page.contracts}
    records = world.records["a"]
    assert set(rows) == {vetting["live"].id, vetting["ending"].id, records["contract"].id, records["other_contract"].id}
    assert rows[vetting["live"].id].why == "DBS check ran out on 29 May 2026."
    assert rows[vetting["ending"].id].status == ContractStatus.ending
    assert rows[records["contract"].id].why == "DBS check never given; insurance never given."
    assert [row.provider.name for row in page.contracts][:2] == ["Lapsed co-op", "Lapsed co-op"]


def test_the_dashboard_counts_agree_with_the_page(vetting, world, session):
    summary = compliance_summary(session=session, actor=world.users["a"][Role.council_officer], today=TODAY)
    assert (summary.expired, summary.missing, summary.unverified, summary.expiring, summary.expiring_only) == (1, 2, 0, 1, 1)
    assert (summary.unvetted, summary.unvetted_contracts, summary.to_chase) == (3, 4, 4)


def test_only_council_staff_see_compliance(vetting, world, session):
    from brokerage.errors import NotAllowed

    for role in (Role.holder, Role.representative, Role.provider):
        with pytest.raises(NotAllowed):
            compliance_page(session=session, actor=world.users["a"][role], today=TODAY)


@pytest.mark.parametrize("role", [Role.council_officer, Role.broker], ids=lambda r: r.value)
def test_the_compliance_page_shows_dates_in_england_and_days_left(vetting, client, auth, world, role):
    auth.sign_in(world.users["a"][role].email)
    response = client.get("/compliance")
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    assert "Lapsed co-op DBS check 29 May 2026 3 days overdue" in text
    assert "Soon care DBS check 11 June 2026 10 days left" in text
    assert "Home care for Cluster a Lapsed co-op In place DBS check ran out on 29 May 2026." in text
    assert "3 providers are not vetted now" in text and "4 live contracts are with a provider that is not vetted" in text
    assert "Elsewhere care" not in text


@pytest.mark.parametrize("role", [Role.holder, Role.representative, Role.provider], ids=lambda r: r.value)
def test_people_who_are_not_staff_cannot_open_the_compliance_page(client, auth, world, role):
    auth.sign_in(world.users["a"][role].email)
    assert client.get("/compliance").status_code == 403


def test_an_officer_reaches_any_holders_statement_from_the_holders_list(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    holder = world.records["a"]["other_holder"]
    listing = client.get("/holders/").get_data(as_text=True)
    assert f'href="/holders/{holder.id}"' in listing
    assert f'href="/holders/{holder.id}/statement"' in client.get(f"/holders/{holder.id}").get_data(as_text=True)
    statement = client.get(f"/holders/{holder.id}/statement")
    assert statement.status_code == 200 and f"{holder.name}&#39;s money" in statement.get_data(as_text=True)
    assert client.get(f"/holders/{world.records['b']['holder'].id}/statement").status_code == 404


def test_applicants_waiting_for_review_and_refused_ones_are_never_on_a_list_of_vetting_to_chase(vetting, world, session):
    from brokerage.providers.rules import ProviderStatus
    from brokerage.spending.services import vetting_to_chase

    council = world.councils["a"]
    for status, name in ((ProviderStatus.refused, "Refused applicant"), (ProviderStatus.pending_review, "Waiting applicant")):
        refused = status == ProviderStatus.refused
        applicant = f.ProviderFactory(session=session, council_id=council.id, name=name, status=status,
                                      reviewed_at=utc(2026, 5, 30, 9) if refused else None, review_note="No references" if refused else "")
        f.VettingFactory(session=session, council_id=council.id, provider_id=applicant.id, kind=VettingKind.dbs, expires_on=TODAY - timedelta(days=1))
    session.commit()
    officer = world.users["a"][Role.council_officer]
    page = compliance_page(session=session, actor=officer, today=TODAY)
    assert not {"Refused applicant", "Waiting applicant"} & {row.provider.name for row in page.problems}
    assert compliance_summary(session=session, actor=officer, today=TODAY) == page.summary
    assert page.summary.expired == 1  # the lapsed co-op alone
    assert not {"Refused applicant", "Waiting applicant"} & {item.name for item in vetting_to_chase(session=session, council_id=council.id, today=TODAY)}
