"""The timesheet pages: a provider records a week and sends it, the broker sends it back and approves it; errors beside the field, access and 404s."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlmodel import select

from brokerage.clusters.rules import ProposalKind
from brokerage.clusters.models import Proposal
from brokerage.contracts.rules import AllocationRule
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import entry_postings
from brokerage.timesheets import approval, sheets
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus
from tests import factories as f
from tests.timesheets.helpers import NOW, WEEK, care_entries, make_care, visit


@pytest.fixture(autouse=True)
def _now(freeze_clock):
    freeze_clock(NOW)


def sign_in(client, user):
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": user.email, "password": f.PASSWORD}).status_code == 302


def visit_form(holder, day="2026-11-30", start="9:30am", minutes="90", travel=""):
    return {"visit-holder_id": str(holder.id), "visit-visit_date": day, "visit-start": start, "visit-minutes": minutes, "visit-travel_minutes": travel}


def start_week(client, care, session):
    response = client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": WEEK})
    assert response.status_code == 302, response.data
    return session.exec(select(Timesheet).where(Timesheet.contract_id == care.contract.id)).one()


def week_with_a_visit(client, session):
    """Return (care, sheet): the provider, signed in, has started the week and recorded one visit to the first member."""
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0])).status_code == 302
    return care, sheet


def test_a_provider_records_a_week_the_broker_sends_it_back_then_approves_it(client, session):
    care = make_care(session, charter=True)
    session.commit()
    sign_in(client, care.provider_user)
    weeks = client.get("/timesheets/").data.decode()
    assert "Week of 30 November 2026" in weeks and "Riverside neighbours" in weeks
    sheet = start_week(client, care, session)
    empty = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "None recorded yet: " in empty and "0 minutes of" not in empty
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], travel="45")).status_code == 302
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[1], day="2026-12-01", start="14:00", minutes="60")).status_code == 302
    page = client.get(f"/timesheets/{sheet.id}").data.decode()
    for words in ("Amina Hassan", "Monday 30 November 2026", "Tuesday 1 December 2026", "9:30am", "2pm", "1 hour 30 minutes",
                  "Travel time is paid because you have signed the Ethical Care Charter: 45 minutes of travel at £21.50 an hour = £16.13."):
        assert words in page, words
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302

    sign_in(client, care.broker)
    dashboard = client.get("/dashboard").data.decode()
    assert "Timesheets waiting for approval (1)" in dashboard
    assert "Week of 30 November 2026" in client.get("/timesheets/waiting").data.decode()
    refused = client.post(f"/timesheets/{sheet.id}/reject", data={"reject-reason": ""})
    assert refused.status_code == 422
    assert re.search(r'id="reject-reason-error-1" class="govuk-error-message">.*Say why you are sending the timesheet back', refused.data.decode())
    assert client.post(f"/timesheets/{sheet.id}/reject", data={"reject-reason": "The Tuesday visit was 90 minutes"}).status_code == 302

    sign_in(client, care.provider_user)
    # The dashboard says so first thing, with the reason and the way to the sheet.
    dashboard = client.get("/dashboard").data.decode().replace("&#34;", '"')
    assert "Weeks not sent yet" in dashboard
    assert (f'<a class="govuk-link" href="/timesheets/{sheet.id}">The week of 30 November 2026 for Riverside neighbours</a> was sent back to you: '
            '“<span class="app-user-text">The Tuesday visit was 90 minutes</span>”. Correct it and send it again.') in dashboard
    page = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "The Tuesday visit was 90 minutes" in page and "Send the corrected timesheet" in page
    tuesday = session.exec(select(Visit).where(Visit.holder_id == care.holders[1].id)).one()
    changed = client.post(f"/timesheets/visits/{tuesday.id}/edit", data={
        "holder_id": str(care.holders[1].id), "visit_date": "2026-12-01", "start": "14:00", "minutes": "90", "travel_minutes": "0"})
    assert changed.status_code == 302
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302
    # The provider reads about what they did; the approver reads about the provider (it once told the provider
    # "The provider has corrected it and sent it again").
    resent = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "You corrected it and sent it again." in resent and "The provider has corrected it" not in resent
    # A visit's page says why it cannot change, as the sheet is now.
    waiting = client.get(f"/timesheets/visits/{tuesday.id}/edit").data.decode()
    assert "This timesheet has been sent for approval: it can change only if it is sent back to you." in waiting
    assert "Save the visit" not in waiting

    sign_in(client, care.broker)
    to_approve = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "The provider has corrected it and sent it again." in to_approve and "You corrected it" not in to_approve
    assert "because Bridge Care Co-op has signed the Ethical Care Charter" in to_approve
    approved = client.post(f"/timesheets/{sheet.id}/approve", follow_redirects=True).data.decode()
    # 180 care + 45 travel minutes at £21.50 = £80.625 → £80.63
    assert "The timesheet is approved: £80.63" in approved
    # Approving does not pay the provider: a payment run does, later.
    assert "moved from the members&#39; shares of the pool. The provider is paid in the council&#39;s next payment run." in approved
    session.expire_all()
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.approved
    assert len(care_entries(session, care.council.id)) == 1
    # The Tuesday visit had no travel: its row says so in words.
    shown = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert 'data-label="Travel">No travel</td>' in shown and ">None<" not in shown

    sign_in(client, care.provider_user)
    fixed = client.get(f"/timesheets/visits/{tuesday.id}/edit").data.decode()
    # Approved is not paid to the provider: that waits for a payment run (it once said "approved and paid").
    assert "This timesheet is approved, so it cannot change. Its payment to you is shown on the timesheet." in fixed
    assert "paid" not in fixed.split("<h1", 1)[1].split("Back to the timesheet")[0]
    assert "sent for approval" not in fixed and "Save the visit" not in fixed


def test_a_short_visit_is_refused_beside_its_field_and_nothing_is_saved(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    response = client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], minutes="15"))
    assert response.status_code == 422
    body = response.data.decode()
    assert re.search(r'id="visit-minutes-error-1" class="govuk-error-message">.*at least 1 hour', body)
    assert "<title>Error: " in body
    response = client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], start="half nine", minutes="an hour"))
    body = response.data.decode()
    assert response.status_code == 422
    assert re.search(r'id="visit-start-error-1" class="govuk-error-message">.*Enter a start time like 9:30am', body)
    assert re.search(r'id="visit-minutes-error-1" class="govuk-error-message">.*Enter the length in whole minutes', body)
    # What was typed stays in each box, so the person sees what to correct (a number box was emptied).
    assert 'id="visit-minutes" name="visit-minutes" type="text" value="an hour"' in body
    assert 'id="visit-start" name="visit-start" type="text" value="half nine"' in body
    # A start time too long to be one broke two checks, and the page said the same thing twice.
    body = client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], start="99999999999999999999")).data.decode()
    assert body.count("Enter a start time like 9:30am or 14:00") == 2  # once in the summary, once beside the box
    assert 'id="visit-start-error-2"' not in body
    assert session.exec(select(Visit)).all() == []


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("minutes", "9" * 20, "Enter a length from 1 to 1440 minutes"),
    ("minutes", "-" + "9" * 20, "Enter a length from 1 to 1440 minutes"),
    ("travel", "9" * 20, "Travel to one visit can be at most 60 minutes"),
])
def test_a_number_too_long_to_read_gets_the_range_message_once(client, session, field, typed, message):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    response = client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], **{field: typed}))
    body = response.data.decode()
    assert response.status_code == 422
    field_id = {"minutes": "minutes", "travel": "travel_minutes"}[field]
    assert re.search(rf'id="visit-{field_id}-error-1" class="govuk-error-message">.*{message}', body)
    assert "whole minutes" not in body and body.count(message) == 2  # beside the box and in the summary, once each
    assert session.exec(select(Visit)).all() == []


def test_a_visit_for_someone_the_contract_does_not_serve_is_refused(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    lone = session.get(type(care.holders[0]), care.outsider.holder_id)
    response = client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(lone))
    assert response.status_code == 422 and "Choose a member this contract serves" in response.data.decode()
    assert session.exec(select(Visit)).all() == []


def test_a_share_that_cannot_pay_is_flashed_by_name_and_nothing_is_posted(client, session):
    care = make_care(session, fund=(1200, 50_000, 50_000))
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0], minutes="120"))
    client.post(f"/timesheets/{sheet.id}/submit")
    sign_in(client, care.broker)
    page = client.post(f"/timesheets/{sheet.id}/approve", follow_redirects=True).data.decode()
    assert "Amina Hassan&#39;s share of the pool has £12.00; their part is £43.00." in page
    assert care_entries(session, care.council.id) == []
    session.expire_all()
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.submitted


def test_members_read_the_sheet_without_buttons_and_strangers_get_404(client, session):
    care = make_care(session)
    other = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0]))
    client.post(f"/timesheets/{sheet.id}/submit")
    sign_in(client, care.users[1])
    page = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "Amina Hassan" in page and "Approve the timesheet" not in page
    assert client.post(f"/timesheets/{sheet.id}/approve").status_code == 403
    for stranger in (care.outsider, care.other_provider_user, other.broker, other.provider_user):
        sign_in(client, stranger)
        assert client.get(f"/timesheets/{sheet.id}").status_code == 404, stranger.role
    sign_in(client, other.broker)
    assert client.post(f"/timesheets/{sheet.id}/approve").status_code == 404
    assert client.post(f"/timesheets/{sheet.id}/reject", data={"reject-reason": "No"}).status_code == 404
    assert care_entries(session, care.council.id) == []


def test_a_member_puts_the_choice_of_approver_to_the_vote_from_the_group_page(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.users[0])
    group = client.get(f"/clusters/{care.cluster.id}").data.decode()
    assert f"/timesheets/groups/{care.cluster.id}/approver" in group
    page = client.get(f"/timesheets/groups/{care.cluster.id}/approver").data.decode()
    # Nobody is chosen for the member: the list starts on "Choose a member", and sending that puts nothing to the vote
    # (it used to start on the first member, and "Put it to the vote" proposed them).
    assert '<option value="" selected>Choose a member</option>' in page
    nobody = client.post(f"/timesheets/groups/{care.cluster.id}/approver", data={"holder_id": ""})
    assert nobody.status_code == 422 and re.search(r'class="govuk-error-message">.*Choose a member</p>', nobody.data.decode())
    assert session.exec(select(Proposal).where(Proposal.kind == ProposalKind.choose_approver)).all() == []
    refused = client.post(f"/timesheets/groups/{care.cluster.id}/approver", data={"holder_id": str(care.outsider.holder_id)})
    assert refused.status_code == 422 and "Choose a member of this group" in refused.data.decode()
    response = client.post(f"/timesheets/groups/{care.cluster.id}/approver", data={"holder_id": str(care.holders[1].id)})
    assert response.status_code == 302
    proposal = session.exec(select(Proposal).where(Proposal.kind == ProposalKind.choose_approver)).one()
    assert response.headers["Location"].endswith(f"/clusters/proposals/{proposal.id}")
    assert proposal.payload == {"holder_id": care.holders[1].id}


def test_a_week_not_yet_begun_cannot_be_started(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    page = client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": "2026-W52"}, follow_redirects=True).data.decode()
    assert "The week of 21 December 2026 has not begun yet" in page
    assert session.exec(select(Timesheet)).all() == []


# --- review findings: what the provider sees, the one split rule, odd input ------------------------

ODD = ["", "-1", "0", "abc", "9" * 30, "1e9", "١٢", "99999999", "2.5", " ", "\x00", "-0"]


def test_the_provider_never_sees_what_each_member_pays_on_the_sheet(client, session):
    care = make_care(session)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0]))
    session.commit()
    sign_in(client, care.provider_user)
    assert "What each person pays a week" not in client.get(f"/contracts/{care.contract.id}").data.decode()
    for status in ("draft", "submitted", "approved"):
        if status == "submitted":
            sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
            session.commit()
        if status == "approved":
            approval.approve(session=session, actor=care.broker, timesheet_id=sheet.id)
            session.commit()
        page = client.get(f"/timesheets/{sheet.id}").data.decode()
        assert "Who pays what" not in page and "Amina Hassan" in page, status  # the visit's member, but not the parts
        assert "£21.50" in page  # the week's pay is the provider's business
    sign_in(client, care.broker)
    assert "Who pays what" in client.get(f"/timesheets/{sheet.id}").data.decode()


def test_by_pledge_with_no_pledges_is_shared_equally_on_the_pages_and_at_approval(client, session):
    care = make_care(session, rule=AllocationRule.by_pledge, pledges=(0, 0, 0))
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0]))
    sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    session.commit()
    sign_in(client, care.users[0])
    assert "everyone pays the same" in client.get(f"/contracts/{care.contract.id}").data.decode()
    sign_in(client, care.broker)
    response = client.post(f"/timesheets/{sheet.id}/approve", follow_redirects=True)
    session.expire_all()
    assert session.get(Timesheet, sheet.id).status == TimesheetStatus.approved, response.data.decode()[:2000]
    (entry,) = care_entries(session, care.council.id)
    postings = dict(entry_postings(session=session, entry_id=entry.id))
    assert sorted(-postings[ledger_rules.pool_code(care.cluster.id, h.id)] for h in care.holders) == [716, 717, 717]


def test_odd_weeks_and_visit_values_never_give_a_server_error(client, session):
    care = make_care(session)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    v = sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0]))
    session.commit()
    bad = []
    sign_in(client, care.provider_user)
    for value in ODD + ["2026-W53", "2026-W99", "0000-W01", "9999-W52", "9999-W01", "2020-W53", "2026-w49", "2026-W4９"]:
        r = client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": value})
        if r.status_code >= 500:
            bad.append(("start", value, r.status_code))
    for field in ("visit-holder_id", "visit-visit_date", "visit-start", "visit-minutes", "visit-travel_minutes"):
        for value in ODD + ["0000-01-01", "9999-12-31", "2026-02-30", "25:00", "12:60", "13pm", "0am"]:
            data = visit_form(care.holders[0], day="2026-12-01", start="10:00", minutes="60")
            data[field] = value
            r = client.post(f"/timesheets/{sheet.id}/visits", data=data)
            if r.status_code >= 500:
                bad.append(("visit", field, value, r.status_code))
            r = client.post(f"/timesheets/visits/{v.id}/edit", data={k.replace("visit-", ""): val for k, val in data.items()})
            if r.status_code >= 500:
                bad.append(("edit", field, value, r.status_code))
    assert not bad, bad
    session.expire_all()
    assert len(session.exec(select(Timesheet).where(Timesheet.contract_id == care.contract.id)).all()) == 1  # no odd week started one


def test_a_week_past_the_calendars_end_is_refused_plainly(client, session):
    care = make_care(session)
    session.commit()
    sign_in(client, care.provider_user)
    response = client.post(f"/timesheets/contracts/{care.contract.id}/start", data={"week": "9999-W52"}, follow_redirects=True)
    assert response.status_code == 200 and "Choose a week from the list" in response.data.decode()


def test_a_visit_outside_the_agreed_days_and_times_is_pointed_out_to_the_approver_and_the_provider(client, session):
    # The contract is for Tuesday and Thursday mornings and Saturday afternoons; a visit late on Monday night was paid
    # with nothing said.
    care = make_care(session)
    care.contract.slot_hours = {"tue_am": 4, "thu_am": 4, "sat_pm": 2}
    session.add(care.contract)
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id,
                     **{**visit(care.holders[0]), "visit_date": date(2026, 12, 1), "start": time(9, 30)})
    session.commit()
    sign_in(client, care.broker)
    assert 'id="outside-agreed-times"' not in client.get(f"/timesheets/{sheet.id}").data.decode()
    sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id,
                     **{**visit(care.holders[1]), "visit_date": date(2026, 11, 30), "start": time(23, 30)})
    session.commit()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/timesheets/{sheet.id}").data.decode()))
    assert ("1 visit starts outside the days and times agreed for this care (Tuesday and Thursday mornings, 4 hours each; Saturday afternoon, 2 hours): "
            "Bob Jones on Monday 30 November 2026 at 11:30pm. Check with the provider and the member before approving.") in text
    sign_in(client, care.provider_user)
    assert "Whoever approves the timesheet may ask you about it." in client.get(f"/timesheets/{sheet.id}").data.decode()


def test_a_providers_dashboard_lists_a_week_that_is_over_and_not_sent_but_not_one_still_going(client, session, freeze_clock):
    from datetime import datetime, timezone

    care = make_care(session)
    session.commit()
    freeze_clock(datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc))  # Saturday: the week is still going
    sign_in(client, care.provider_user)
    sheet = start_week(client, care, session)
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[0])).status_code == 302
    assert "Weeks not sent yet" not in client.get("/dashboard").data.decode()
    page = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert "You can send this timesheet from Monday 7 December 2026, once the week is over." in page and "Send for approval</button>" not in page
    refused = client.post(f"/timesheets/{sheet.id}/submit", follow_redirects=True).data.decode()
    assert "You can send this timesheet from Monday 7 December 2026" in refused
    freeze_clock(NOW)
    sign_in(client, care.provider_user)  # days later: the old session has timed out
    dashboard = client.get("/dashboard").data.decode()
    assert "The week of 30 November 2026 for Riverside neighbours</a> is over: check its visits and send it for approval." in dashboard
    assert "Send for approval</button>" in client.get(f"/timesheets/{sheet.id}").data.decode()


def test_removing_a_visit_asks_first_and_going_back_keeps_it(client, session):
    # "Remove" beside each visit deleted it at once, with no question and no way back.
    care, sheet = week_with_a_visit(client, session)
    (recorded,) = session.exec(select(Visit)).all()
    listed = client.get(f"/timesheets/{sheet.id}").data.decode()
    assert f'href="/timesheets/visits/{recorded.id}/remove">Remove' in listed and "govuk-button--warning" not in listed
    question = client.get(f"/timesheets/visits/{recorded.id}/remove").data.decode()
    assert "Remove this visit?" in question and "Monday 30 November 2026 at 9:30am, 1 hour 30 minutes" in question
    assert "Yes, remove the visit" in question and f'href="/timesheets/{sheet.id}#visits">No, go back</a>' in question
    session.expire_all()
    assert len(session.exec(select(Visit)).all()) == 1  # asking changed nothing
    assert client.post(f"/timesheets/visits/{recorded.id}/remove").status_code == 302
    session.expire_all()
    assert session.exec(select(Visit)).all() == []


def test_a_groups_page_lists_its_timesheets_so_an_approved_one_can_be_found_again(client, session):
    # Once approved, a timesheet left the approver's dashboard and no page linked to it.
    care, sheet = week_with_a_visit(client, session)
    sign_in(client, care.users[0])
    assert f'href="/timesheets/{sheet.id}"' not in client.get(f"/clusters/{care.cluster.id}").data.decode()  # a draft is the provider's
    sign_in(client, care.provider_user)
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302
    sign_in(client, care.broker)
    assert client.post(f"/timesheets/{sheet.id}/approve").status_code == 302
    session.refresh(sheet)
    assert sheet.status == TimesheetStatus.approved and sheet.total_pence > 0
    for reader in (care.users[1], care.broker, care.officer):
        sign_in(client, reader)
        page = client.get(f"/clusters/{care.cluster.id}").data.decode()
        row = page.split('id="timesheets-caption"', 1)[1].split("</table>", 1)[0]
        assert f'href="/timesheets/{sheet.id}">Week of 30 November 2026' in row and "Approved" in row
        assert f"£{sheet.total_pence / 100:,.2f}" in row
    # Someone outside the group sees no list (and the group page's members are hidden from them anyway).
    sign_in(client, care.outsider)
    assert f'href="/timesheets/{sheet.id}"' not in client.get(f"/clusters/{care.cluster.id}").data.decode()


def _list_pay(client, sheet) -> list[str]:
    """Return the words of the Pay cell of the sheet's week in the provider's list of timesheets, tags stripped."""
    weeks = client.get("/timesheets/").data.decode()
    row = weeks.split(f'href="/timesheets/{sheet.id}"')[0].rsplit("<tr", 1)[1]
    return re.sub(r"<[^>]+>", " ", re.search(r'data-label="Pay">(.*?)</td>', row, re.S).group(1)).split()


def test_the_providers_list_shows_the_pay_of_a_week_not_sent_yet_as_its_page_does(client, session):
    # Before, a week not sent yet showed Pay "–" in the list while its page said "Total for the week £32.25".
    care, sheet = week_with_a_visit(client, session)  # 1 hour 30 minutes at £21.50
    assert "Total for the week</dt>\n  <dd class=\"govuk-summary-list__value\">£32.25" in client.get(f"/timesheets/{sheet.id}").data.decode()
    assert " ".join(_list_pay(client, sheet)) == "£32.25 so far, not sent yet"
    assert client.post(f"/timesheets/{sheet.id}/submit").status_code == 302
    assert _list_pay(client, sheet) == ["£32.25"]
    sign_in(client, care.broker)
    assert client.post(f"/timesheets/{sheet.id}/reject", data={"reject-reason": "Add the Tuesday visit"}).status_code == 302
    sign_in(client, care.provider_user)
    assert client.post(f"/timesheets/{sheet.id}/visits", data=visit_form(care.holders[1], day="2026-12-01", minutes="60")).status_code == 302
    # Sent back and corrected: the list shows the corrected week, as its page does, not what was sent before.
    assert " ".join(_list_pay(client, sheet)) == "£53.75 so far, not sent again yet"
