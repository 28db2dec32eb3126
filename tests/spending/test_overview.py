"""The council officer's dashboard: the month and quarter at a glance, unspent money and where, and what waits for them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from brokerage.errors import NotAllowed
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.providers.models import VettingKind
from brokerage.spending.services import officer_overview
from brokerage.spending.services import Figures
from tests import factories as f

TODAY = date(2026, 5, 20)


def overview(session, books):
    return officer_overview(session=session, actor=books.officer, today=TODAY)


def test_this_month_and_this_quarter_are_englands(session, books):
    got = overview(session, books)
    assert got.month.label == "May 2026" and got.quarter.label == "April to June 2026"
    assert got.month_figures == Figures(returned_to_members_pence=7_000)
    # The PA's care posted at 00:30 on 1 April (summer time) is this quarter's, not last quarter's.
    assert got.quarter_figures == Figures(pooled_in_pence=5_000, spent_pence=3_000, returned_to_members_pence=7_000)
    assert got.last_quarter.label == "January to March 2026"


def test_unspent_money_is_what_the_shares_hold_now_and_where(session, books):
    got = overview(session, books)
    assert got.unspent_pence == 43_000 and got.groups_holding == 1
    assert got.top_groups == [(books.elders.id, "Somali elders of Whitechapel", 43_000)]


def _run(session, books, preparer):
    run = PaymentRun(council_id=books.council.id, prepared_by_id=preparer.id, total_pence=12_000)
    session.add(run)
    session.flush()
    session.add(PaymentLine(council_id=books.council.id, run_id=run.id, provider_id=books.coop.id, amount_pence=12_000))
    session.flush()
    return run


def test_a_run_another_person_prepared_waits_for_the_officer(session, books):
    run = _run(session, books, books.broker)
    got = overview(session, books)
    assert [(r.run_id, r.total_pence, r.prepared_by, r.providers) for r in got.runs_to_release] == [(run.id, 12_000, "Bea Broker", 1)]
    assert got.waiting_count == 1


def test_a_run_the_officer_prepared_waits_for_another_officer(session, books):
    run = _run(session, books, books.officer)
    got = overview(session, books)
    assert got.runs_to_release == [] and got.waiting_count == 0
    assert [r.run_id for r in got.runs if r.mine] == [run.id]


def test_vetting_that_runs_out_within_30_days_or_has_run_out_is_listed_with_its_dates(session, books):
    council = books.council.id
    soon, gone = TODAY + timedelta(days=10), TODAY - timedelta(days=3)
    f.VettingFactory(session=session, council_id=council, provider_id=books.coop.id, kind=VettingKind.dbs, expires_on=soon)
    f.VettingFactory(session=session, council_id=council, provider_id=books.coop.id, kind=VettingKind.insurance, expires_on=TODAY + timedelta(days=300))
    f.VettingFactory(session=session, council_id=council, provider_id=books.pa.id, kind=VettingKind.dbs, expires_on=TODAY + timedelta(days=300))
    f.VettingFactory(session=session, council_id=council, provider_id=books.pa.id, kind=VettingKind.insurance, expires_on=gone)
    fine = f.ProviderFactory(session=session, council_id=council, name="All in date", services=["companionship"])
    for kind in (VettingKind.dbs, VettingKind.insurance):
        f.VettingFactory(session=session, council_id=council, provider_id=fine.id, kind=kind, expires_on=TODAY + timedelta(days=300))
    got = {item.name: item for item in overview(session, books).vetting}
    assert list(got) == ["Nasima Khatun", "Sunrise Care Co-op"]  # the expired one first
    assert got["Nasima Khatun"].state.expired == ("insurance",) and got["Nasima Khatun"].expires["insurance"] == gone
    assert got["Sunrise Care Co-op"].state.expiring_soon == ("dbs",) and got["Sunrise Care Co-op"].expires["dbs"] == soon


def test_only_a_council_officer_has_this_dashboard(session, books):
    with pytest.raises(NotAllowed):
        officer_overview(session=session, actor=books.broker, today=TODAY)


def test_the_dashboard_page_shows_the_run_to_release_and_links_to_the_spend_pages(client, auth, session, books):
    run = _run(session, books, books.broker)
    session.commit()
    auth.sign_in("officer@th.example")
    body = client.get("/dashboard").get_data(as_text=True)
    assert f"Payment run {run.id} to check and release" in body and "prepared by Bea Broker on 20 May 2026 at" in body
    assert "£430.00" in body and "Somali elders of Whitechapel" in body
    for path in ("/spending/groups?", "/spending/providers?", "/spending/services?", "/spending/members?", "/spending/kinds-of-provider?"):
        assert path in body
