"""Brokers review the Ethical Care Charter ticks no broker has confirmed, those from before the days were recorded among them."""

from __future__ import annotations

import re
from datetime import date

import pytest

from brokerage.accounts.models import Role
from brokerage.errors import NotFound
from brokerage.providers import charter
from brokerage.timesheets import approval, pages, sheets
from brokerage.timesheets.models import Timesheet
from tests import factories as f
from tests.timesheets.helpers import MONDAY, NOW, WEEK, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def sign_in(client, user):
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": user.email, "password": f.PASSWORD}).status_code == 302


def charter_section(text: str) -> str:
    """Return the list of charters waiting for a broker on the providers page, or '' when there is none."""
    found = re.search(r'<h2 class="govuk-heading-m" id="charters">(.*?)</table>', text, re.S)
    return " ".join(found.group(1).split()) if found else ""


def test_brokers_see_every_charter_no_broker_has_confirmed_with_a_confirm_button_and_officers_see_the_list(client, session):
    care = make_care(session, charter=True)  # ticked before the days were recorded: no day agreed, none confirmed
    council = care.council
    waiting = f.ProviderFactory(session=session, council_id=council.id, name="Waiting Carers", ethical_care_charter=True,
                                charter_since=MONDAY)
    f.ProviderFactory(session=session, council_id=council.id, name="Checked Carers", ethical_care_charter=True, charter_since=MONDAY,
                      charter_confirmed_on=MONDAY, charter_confirmed_by_id=care.broker.id)
    f.ProviderFactory(session=session, council_id=council.id, name="No Charter Carers", ethical_care_charter=False)
    assert [p.name for p in charter.unconfirmed_charters(session=session, actor=care.broker)] == ["Bridge Care Co-op", "Waiting Carers"]
    session.commit()
    sign_in(client, care.broker)
    shown = charter_section(client.get("/providers/").text)
    assert "Bridge Care Co-op" in shown and "Waiting Carers" in shown
    assert "Checked Carers" not in shown and "No Charter Carers" not in shown
    assert "Before these dates were recorded" in shown and "Paid for every visit, as before." in shown
    assert "Monday 30 November 2026" in shown and "Not paid until a broker confirms it" in shown
    for provider in (care.provider, waiting):
        assert f'action="/providers/{provider.id}/charter/confirm"' in shown
    assert shown.count(">Confirm<") == 2
    # On a phone the rows stack and each cell shows its heading: the Confirm button's column has none to show.
    assert 'data-label="Ticked"' in shown and "data-label=\"Action\"" not in shown
    sign_in(client, care.officer)
    shown = charter_section(client.get("/providers/").text)
    assert "Bridge Care Co-op" in shown and ">Confirm<" not in shown


def test_a_legacy_charter_shows_on_its_own_page_as_unconfirmed_with_the_confirm_button(client, session):
    care = make_care(session, charter=True)
    session.commit()
    sign_in(client, care.broker)
    shown = " ".join(client.get(f"/providers/{care.provider.id}").text.split())
    assert "Yes, ticked before these dates were recorded: no broker has confirmed it yet." in shown
    assert "Confirm the Ethical Care Charter" in shown and "Confirming it changes no pay" in shown


def test_a_broker_of_another_council_neither_sees_nor_confirms_them(client, session):
    care = make_care(session, charter=True)
    other = make_care(session, charter=False)
    session.commit()
    sign_in(client, other.broker)
    assert "Bridge Care Co-op" not in charter_section(client.get("/providers/").text)
    assert client.post(f"/providers/{care.provider.id}/charter/confirm", data={"back": "list"}).status_code == 404
    session.expire_all()
    assert care.provider.charter_confirmed_on is None
    assert charter.unconfirmed_charters(session=session, actor=other.broker) == []
    assert [p.id for p in charter.unconfirmed_charters(session=session, actor=care.broker)] == [care.provider.id]
    assert care.users[0].role == Role.holder
    with pytest.raises(NotFound):
        charter.unconfirmed_charters(session=session, actor=care.users[0])


def test_confirming_a_legacy_charter_from_the_list_changes_no_pay_past_or_waiting(client, session):
    care = make_care(session, charter=True)
    approved = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=approved.id, **visit(care.holders[0], 0, minutes=120, travel=45))
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=approved.id)
    approval.approve(session=session, actor=care.broker, timesheet_id=approved.id)
    # The next week's Monday, before the day a broker confirms the charter (Wednesday 9 December).
    draft = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week="2026-W50")
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=draft.id, **visit(care.holders[0], 7, minutes=120, travel=45))
    # 120 care + 45 travel minutes at £21.50 = £59.13, travel £16.13: every visit's travel is paid, as before the days were kept.
    assert (approved.total_pence, approved.travel_pence) == (5913, 1613)
    before = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=draft.id)
    assert (before.pay.total_pence, before.pay.travel_pence) == (5913, 1613)
    session.commit()
    sign_in(client, care.broker)
    confirmed = client.post(f"/providers/{care.provider.id}/charter/confirm", data={"back": "list"})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/providers/#charters")
    listed = client.get("/providers/").text
    assert "so their travel time stays paid for every visit, as before." in listed and charter_section(listed) == ""
    session.expire_all()
    assert care.provider.charter_confirmed_on == NOW.date() and care.provider.charter_since is None
    kept = session.get(Timesheet, approved.id)
    assert (kept.total_pence, kept.travel_pence) == (5913, 1613)
    after = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=draft.id)
    assert (after.pay.total_pence, after.pay.travel_pence) == (5913, 1613) and after.visits[0].travel_paid
    assert after.travel.startswith("Travel time is paid because you have signed the Ethical Care Charter: 45 minutes of travel")


def test_pressing_confirm_again_says_it_was_already_confirmed_and_keeps_the_day(client, session):
    care = make_care(session, charter=True)
    care.provider.charter_since, care.provider.charter_confirmed_on = date(2026, 5, 1), date(2026, 5, 4)
    care.provider.charter_confirmed_by_id = care.broker.id
    session.add(care.provider)
    session.commit()
    sign_in(client, care.broker)
    # A stale tab, or a second click: the Confirm form is sent again.
    again = client.post(f"/providers/{care.provider.id}/charter/confirm", data={"back": "list"}, follow_redirects=True)
    shown = " ".join(again.text.split())
    assert "Bridge Care Co-op&#39;s Ethical Care Charter was already confirmed on Monday 4 May 2026; nothing has changed." in shown
    assert "Confirmed:" not in shown and "from today" not in shown
    session.expire_all()
    assert care.provider.charter_confirmed_on == date(2026, 5, 4)
