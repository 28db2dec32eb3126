"""The surplus pages: officers only, names and England dates never codes, forms that refuse beside the field, and the
holder who sees their own flag first."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage.accounts.models import Council, Role
from brokerage.audit.models import AccessLog
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import JournalEntry
from brokerage.surplus.models import Clawback, SurplusFlag, SurplusRule
from brokerage.surplus.review import review_council
from brokerage.surplus.rules import ClawbackStatus
from brokerage.surplus.services import SAME_PERSON, propose_clawback
from tests import factories as f
from tests.surplus.support import TODAY, at, make_world, twelve_weeks

NOTICE_ENDS = TODAY + timedelta(days=28)


@pytest.fixture()
def flagged(session, freeze_clock):
    """A committed world whose member's share is flagged for £80 on 2 March 2026; the clock at 9am on 30 March."""
    sw = make_world(session)
    twelve_weeks(session, sw, freeze_clock)
    freeze_clock(at(TODAY, 12))
    review_council(session=session, actor=sw.job, council_id=sw.council.id)
    session.commit()
    freeze_clock(at(NOTICE_ENDS, 9))
    sw.flag = session.exec(select(SurplusFlag).where(SurplusFlag.council_id == sw.council.id)).one()
    return sw


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.mark.parametrize("role", ["broker", "holder_user", "representative"])
def test_only_council_officers_open_the_surplus_pages(client, auth, flagged, role):
    auth.sign_in(getattr(flagged, role).email)
    for url in ("/surplus", "/surplus/settings", f"/surplus/flags/{flagged.flag.id}"):
        assert client.get(url).status_code == 403, url


def test_an_officer_sees_each_flagged_member_by_name_with_amounts_and_dates_in_england(client, auth, flagged):
    auth.sign_in(flagged.officer.email)
    body = _text(client.get("/surplus"))
    assert "Amina Hassan" in body and "Somali elders of Whitechapel" in body
    assert "£80.00" in body and "2 March 2026" in body and "30 March 2026" in body
    assert "pool:" not in body and "council:" not in body
    assert "No clawback is waiting." in body


def test_another_councils_flag_is_a_404_exactly_like_a_missing_one(client, auth, flagged):
    auth.sign_in(flagged.other_officer.email)
    foreign, missing = client.get(f"/surplus/flags/{flagged.flag.id}"), client.get("/surplus/flags/987654321")
    assert foreign.status_code == missing.status_code == 404
    # Alike but for the sign-out form's CSRF token, which carries the second it was made.
    def page(response):
        return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.get_data(as_text=True))

    assert page(foreign) == page(missing)
    assert "Amina Hassan" not in _text(client.get("/surplus"))


def test_a_flags_page_says_whose_share_how_much_why_and_from_when(client, auth, flagged):
    auth.sign_in(flagged.officer.email)
    body = _text(client.get(f"/surplus/flags/{flagged.flag.id}"))
    assert "Amina Hassan's share of Somali elders of Whitechapel" in body
    for key, value in (("Could be taken back", "£80.00"), ("In the share now", "£240.00"), ("Flagged on", "2 March 2026"),
                       ("Could be taken back from", "30 March 2026"), ("Why", "£80.00 of this share came in more than 8 weeks ago")):
        assert re.search(rf"<dt[^>]*>{re.escape(key)}</dt> <dd[^>]*>{re.escape(value)}", body), key
    assert 'value="80.00"' in body and "Propose the clawback" in body


def test_opening_a_flag_is_recorded_in_the_access_log(client, auth, flagged, session):
    auth.sign_in(flagged.officer.email)
    assert client.get(f"/surplus/flags/{flagged.flag.id}").status_code == 200
    assert session.exec(select(AccessLog.what).where(AccessLog.holder_id == flagged.holder.id)).all() == ["surplus flag"]


def test_a_refused_proposal_shows_the_error_beside_the_field_and_saves_nothing(client, auth, flagged, session):
    auth.sign_in(flagged.officer.email)
    response = client.post(f"/surplus/flags/{flagged.flag.id}", data={"amount": "80.01", "reason": ""})
    assert response.status_code == 422
    body = _text(response)
    assert re.search(r'id="amount-error-1" class="govuk-error-message">.*Enter no more than the unspent amount, £80.00', body)
    assert re.search(r'id="reason-error-1" class="govuk-error-message">.*Say why the council is taking this money back', body)
    assert body.count("<title>Error: ") == 1
    assert session.exec(select(Clawback)).all() == []
    # The officer's read of the member's record is still logged, once.
    assert session.exec(select(AccessLog.what).where(AccessLog.holder_id == flagged.holder.id)).all() == ["surplus flag"]


def test_proposing_before_the_notice_ends_is_refused_and_the_page_says_when(client, auth, flagged, freeze_clock, session):
    freeze_clock(at(NOTICE_ENDS - timedelta(days=1), 9))
    auth.sign_in(flagged.officer.email)
    page = _text(client.get(f"/surplus/flags/{flagged.flag.id}"))
    assert "The council can take money back from 30 March 2026, not before." in page and "Propose the clawback" not in page
    response = client.post(f"/surplus/flags/{flagged.flag.id}", data={"amount": "10", "reason": "Unspent"})
    assert response.status_code == 422 and "not before" in _text(response)
    assert session.exec(select(Clawback)).all() == []
    assert len(session.exec(select(AccessLog).where(AccessLog.holder_id == flagged.holder.id)).all()) == 2  # the page, then the refused post


def test_one_officer_proposes_and_another_approves_through_the_pages(client, auth, flagged, session):
    auth.sign_in(flagged.officer.email)
    response = client.post(f"/surplus/flags/{flagged.flag.id}", data={"amount": "50", "reason": "Unspent since December"})
    assert response.status_code == 302
    clawback = session.exec(select(Clawback)).one()
    assert (clawback.amount_pence, clawback.proposed_by_id) == (5_000, flagged.officer.id)

    # The proposer is told plainly that someone else must decide, and nothing changes.
    page = _text(client.get("/surplus"))
    assert "You proposed this, so another council officer must approve or reject it." in page
    refused = client.post(f"/surplus/clawbacks/{clawback.id}/approve", follow_redirects=True)
    assert SAME_PERSON in _text(refused)
    session.refresh(clawback)
    assert clawback.status == ClawbackStatus.proposed

    auth.sign_out()
    auth.sign_in(flagged.second_officer.email)
    assert "Approve and take back £50.00" in _text(client.get("/surplus"))
    done = client.post(f"/surplus/clawbacks/{clawback.id}/approve", follow_redirects=True)
    assert "£50.00 was taken back to the council's funding" in _text(done)
    session.refresh(clawback)
    assert clawback.status == ClawbackStatus.approved
    assert session.exec(select(JournalEntry).where(JournalEntry.kind == EntryKind.clawback.value)).one().id == clawback.entry_id


def test_a_second_officer_rejects_with_a_note(client, auth, flagged, session):
    clawback = propose_clawback(session=session, actor=flagged.officer, flag_id=flagged.flag.id, amount_pence=1_000, reason="Unspent")
    session.commit()
    auth.sign_in(flagged.second_officer.email)
    response = client.post(f"/surplus/clawbacks/{clawback.id}/reject", data={"note": "Ask the group first"}, follow_redirects=True)
    assert "Rejected. Nothing was taken back." in _text(response)
    session.refresh(clawback)
    assert (clawback.status, clawback.note) == (ClawbackStatus.rejected, "Ask the group first")


def test_the_proposer_withdraws_through_the_page(client, auth, flagged, session):
    clawback = propose_clawback(session=session, actor=flagged.officer, flag_id=flagged.flag.id, amount_pence=1_000, reason="Unspent")
    session.commit()
    auth.sign_in(flagged.officer.email)
    assert "Withdrawn. Nothing was taken back." in _text(client.post(f"/surplus/clawbacks/{clawback.id}/withdraw", follow_redirects=True))
    session.refresh(clawback)
    assert clawback.status == ClawbackStatus.cancelled


def test_an_officer_sets_the_councils_rule(client, auth, flagged, session):
    auth.sign_in(flagged.officer.email)
    page = client.get("/surplus/settings")
    assert page.status_code == 200 and 'value="8"' in page.get_data(as_text=True)
    response = client.post("/surplus/settings", data={"kind": "above_pledges", "weeks": "10", "multiple": "6", "notice_days": "42"})
    assert response.status_code == 302
    rule = session.get(SurplusRule, flagged.council.id)
    assert (rule.kind.value, rule.multiple, rule.notice_days, rule.updated_by_id) == ("above_pledges", 6, 42, flagged.officer.id)
    session.refresh(flagged.council)
    assert flagged.council.surplus_weeks == 10
    assert "The surplus rule is saved." in _text(client.get(response.headers["Location"]))
    # The same rule again changes nothing and records no change (it said "saved" and stamped the officer and time).
    stamped = rule.updated_at
    again = client.post("/surplus/settings", data={"kind": "above_pledges", "weeks": "10", "multiple": "6", "notice_days": "42"})
    assert "Nothing was changed: the surplus rule is as it was." in _text(client.get(again.headers["Location"]))
    session.refresh(rule)
    assert rule.updated_at == stamped


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"kind": "sometimes", "weeks": "8", "multiple": "8", "notice_days": "28"}, "kind", "Choose which rule the council uses"),
    ({"kind": "unspent_weeks", "weeks": "0", "multiple": "8", "notice_days": "28"}, "weeks", "Enter the number of weeks between 1 and 52"),
    ({"kind": "unspent_weeks", "weeks": "8", "multiple": "eight", "notice_days": "28"}, "multiple", "as a whole number"),
    ({"kind": "unspent_weeks", "weeks": "8", "multiple": "8", "notice_days": "3"}, "notice_days", "Enter the days of clawback notice between 7 and 365"),
    ({"kind": "unspent_weeks", "weeks": "8", "multiple": "8", "notice_days": ""}, "notice_days", "Enter the days of clawback notice"),
])
def test_refused_settings_show_the_error_beside_the_field_and_change_nothing(client, auth, flagged, session, form, field, message):
    auth.sign_in(flagged.officer.email)
    response = client.post("/surplus/settings", data=form)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error-1" class="govuk-error-message">[^<]*<span[^>]*>Error:</span> [^<]*{message}', _text(response))
    assert session.get(SurplusRule, flagged.council.id) is None
    assert session.get(Council, flagged.council.id).surplus_weeks == 8


@pytest.mark.parametrize(("chosen", "emptied", "kept"), [("unspent_weeks", "multiple", "multiple"), ("above_pledges", "weeks", "weeks")])
def test_the_other_rules_empty_box_is_not_needed_and_its_stored_number_stays(client, auth, flagged, session, chosen, emptied, kept):
    # An officer choosing one rule and emptying the other rule's box was told "Enter the number of weeks of pledges".
    auth.sign_in(flagged.officer.email)
    assert client.post("/surplus/settings", data={"kind": "above_pledges", "weeks": "10", "multiple": "6", "notice_days": "42"}).status_code == 302
    form = {"kind": chosen, "weeks": "12", "multiple": "5", "notice_days": "30", emptied: ""}
    response = client.post("/surplus/settings", data=form)
    assert response.status_code == 302, _text(response)
    session.expire_all()
    rule = session.get(SurplusRule, flagged.council.id)
    saved = {"weeks": session.get(Council, flagged.council.id).surplus_weeks, "multiple": rule.multiple}
    assert (rule.kind.value, rule.notice_days) == (chosen, 30)
    assert saved == {"weeks": 12, "multiple": 5, kept: {"weeks": 10, "multiple": 6}[kept]}
    # The settings page then shows the number kept, ready for the day the council changes rule.
    assert f'value="{ {"weeks": 10, "multiple": 6}[kept] }"' in _text(client.get("/surplus/settings"))


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"kind": "unspent_weeks", "weeks": "", "multiple": "8", "notice_days": "28"}, "weeks", "Enter the number of weeks"),
    ({"kind": "above_pledges", "weeks": "8", "multiple": "", "notice_days": "28"}, "multiple", "Enter the number of weeks of pledges"),
    ({"kind": "unspent_weeks", "weeks": "8", "multiple": "60", "notice_days": "28"}, "multiple", "between 1 and 52"),
])
def test_the_chosen_rules_box_is_needed_and_a_number_typed_in_the_other_is_still_checked(client, auth, flagged, session, form, field, message):
    auth.sign_in(flagged.officer.email)
    response = client.post("/surplus/settings", data=form)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error-1" class="govuk-error-message">[^<]*<span[^>]*>Error:</span> [^<]*{message}', _text(response))
    assert len(re.findall(r'class="govuk-error-message"', _text(response))) == 1
    assert session.get(SurplusRule, flagged.council.id) is None


def test_the_holder_sees_their_flag_with_the_amount_the_reason_and_the_date_on_their_own_pages(client, auth, flagged):
    auth.sign_in(flagged.holder_user.email)
    for url in ("/dashboard", f"/holders/{flagged.holder.id}/statement"):
        body = _text(client.get(url))
        assert "Some of your share of Somali elders of Whitechapel's pool has not been spent." in body, url
        assert "The council could take back up to <strong>£80.00</strong> from <strong>30 March 2026</strong>." in body
        assert "£80.00 of this share came in more than 8 weeks ago and has not been spent on care." in body


def test_a_member_on_notice_is_no_longer_told_the_council_could_take_money_back(client, auth, flagged, session):
    # Notice ends the flag (the review closes it); the member's pages still said "The council could take back up to".
    _leaving(session, flagged, NOTICE_ENDS + timedelta(days=14))
    auth.sign_in(flagged.holder_user.email)
    for url in ("/dashboard", f"/holders/{flagged.holder.id}/statement"):
        body = _text(client.get(url))
        assert "could take back" not in body and "has not been spent" not in body, url


def test_the_representative_sees_the_flag_of_the_person_they_act_for(client, auth, flagged):
    auth.sign_in(flagged.representative.email)
    body = _text(client.get("/dashboard"))
    assert "Some of Amina Hassan's share of Somali elders of Whitechapel's pool has not been spent." in body


def test_the_holder_is_told_when_an_officer_proposes_a_clawback(client, auth, flagged, session):
    propose_clawback(session=session, actor=flagged.officer, flag_id=flagged.flag.id, amount_pence=5_000, reason="Unspent")
    session.commit()
    auth.sign_in(flagged.holder_user.email)
    assert "A council officer has proposed taking back £50.00. A second officer must agree" in _text(client.get("/dashboard"))


def test_another_member_sees_no_flag(client, auth, flagged, session):
    neighbour_user = f.UserFactory(session=session, role=Role.holder, council_id=flagged.council.id, holder_id=flagged.neighbour.id)
    session.commit()
    auth.sign_in(neighbour_user.email)
    assert "Unspent money" not in _text(client.get("/dashboard"))
    assert "Unspent money" not in _text(client.get(f"/holders/{flagged.neighbour.id}/statement"))


def test_the_officers_dashboard_answers_whether_money_sat_unspent_and_lists_the_clawback_for_the_other_officer(client, auth, flagged, session):
    auth.sign_in(flagged.officer.email)
    page = _text(client.get("/dashboard"))
    assert "Unspent for longer than the council's rule" in page
    assert "Yes: £80.00 in 1 member's share could be taken back" in re.sub(r"<[^>]+>", "", page)
    client.post(f"/surplus/flags/{flagged.flag.id}", data={"amount": "50", "reason": "Unspent since December"})
    # The proposer is not asked to approve their own clawback; the second officer is, by name and amount.
    assert "Clawback of £50.00 to approve" not in _text(client.get("/dashboard"))
    auth.sign_out()
    auth.sign_in(flagged.second_officer.email)
    page = _text(client.get("/dashboard"))
    assert "Clawback of £50.00 to approve or reject" in page and f"proposed by {flagged.officer.name}" in page


def _leaving(session, flagged, leaves_on):
    from brokerage.clusters.models import Membership, MembershipStatus

    membership = session.get(Membership, flagged.membership.id)
    membership.status, membership.notice_date, membership.leaves_on = MembershipStatus.leaving, TODAY, leaves_on
    session.add(membership)
    session.commit()


def test_the_notice_the_pages_speak_of_is_the_clawback_notice_not_a_notice_to_leave(client, auth, flagged, freeze_clock):
    # "Now: Notice running" and "The member's notice has not ended" read as the member's notice to leave the group.
    freeze_clock(at(NOTICE_ENDS - timedelta(days=1), 9))
    auth.sign_in(flagged.officer.email)
    listed = _text(client.get("/surplus"))
    assert "Clawback notice running" in listed and "Notice running" not in listed.replace("Clawback notice running", "")
    page = _text(client.get(f"/surplus/flags/{flagged.flag.id}"))
    assert "The clawback notice given to the member is still running. The council can take money back from 30 March 2026, not before." in page
    assert "member's notice" not in page and "Leaving the group" not in listed and "given notice to leave" not in page
    freeze_clock(at(NOTICE_ENDS, 9))
    auth.sign_in(flagged.officer.email)  # a day later: signed out for being away
    assert "Clawback notice over" in _text(client.get("/surplus"))


@pytest.mark.parametrize("leaves_on", [NOTICE_ENDS - timedelta(days=7), NOTICE_ENDS + timedelta(days=14)])
def test_a_flagged_member_who_is_leaving_is_said_to_and_nothing_can_be_taken_back_whichever_comes_first(
    client, auth, flagged, freeze_clock, session, leaves_on,
):
    # The officer's page said the review closes the flag, then "The council can take money back from 30 March 2026";
    # the member was told the council could take it back. The review closes it: one answer, to everyone.
    _leaving(session, flagged, leaves_on)
    freeze_clock(at(NOTICE_ENDS + timedelta(days=1), 9))
    auth.sign_in(flagged.officer.email)
    day = f"{leaves_on.day} {leaves_on:%B %Y}"
    listed = _text(client.get("/surplus"))
    assert f"Leaving the group on {day}: nothing can be taken back, and the next review closes this flag." in listed
    page = _text(client.get(f"/surplus/flags/{flagged.flag.id}"))
    assert (f"Amina Hassan has given notice to leave Somali elders of Whitechapel and leaves on {day}. A leaving member's share goes "
            "back to them, so nothing can be taken back under this flag: the next daily review closes it.") in page
    assert "Propose the clawback" not in page and "The council can take money back from" not in page
    assert "Nothing can be taken back under this flag: Amina Hassan has given notice to leave the group." in page
    refused = client.post(f"/surplus/flags/{flagged.flag.id}", data={"amount": "10", "reason": "Unspent for months"}, follow_redirects=True)
    assert "Nothing can be taken back under this flag; the next daily review closes it." in _text(refused)
    assert session.exec(select(Clawback).where(Clawback.flag_id == flagged.flag.id)).all() == []


def test_the_surplus_overview_logs_a_read_of_each_named_member_once_per_view(client, auth, flagged, session):
    from brokerage.audit.rules import SURPLUS_LIST

    def log():
        session.expire_all()
        return session.exec(select(AccessLog.actor_id, AccessLog.holder_id, AccessLog.what).order_by(AccessLog.id)).all()

    auth.sign_in(flagged.officer.email)
    propose_clawback(session=session, actor=flagged.officer, flag_id=flagged.flag.id, amount_pence=5_000, reason="Unspent")
    session.commit()
    auth.sign_out()
    auth.sign_in(flagged.second_officer.email)
    # Amina's flag and the clawback waiting under it both name her: one read of her money per view of the page.
    page = _text(client.get("/surplus"))
    assert "Amina Hassan" in page
    assert log() == [(flagged.second_officer.id, flagged.holder.id, SURPLUS_LIST)]
    client.get("/surplus")
    assert log() == [(flagged.second_officer.id, flagged.holder.id, SURPLUS_LIST)] * 2
    auth.sign_out()
    # Amina sees who looked, in plain words, on her own page of record views.
    auth.sign_in(flagged.holder_user.email)
    views = _text(client.get(f"/holders/{flagged.holder.id}/record-views"))
    assert "Sam Second, council officer" in views and "Unspent money the council could take back, in its list for council officers" in views


def test_the_surplus_overview_with_no_flags_logs_nothing(client, auth, session, freeze_clock):
    sw = make_world(session)
    session.commit()
    auth.sign_in(sw.officer.email)
    assert client.get("/surplus").status_code == 200
    assert session.exec(select(AccessLog)).all() == []


def test_the_officers_dashboard_logs_a_read_of_each_member_with_a_clawback_waiting(client, auth, flagged, session):
    from brokerage.audit.rules import SURPLUS_LIST

    auth.sign_in(flagged.second_officer.email)
    assert client.get("/dashboard").status_code == 200
    assert session.exec(select(AccessLog)).all() == []  # no clawback waiting: nobody named
    propose_clawback(session=session, actor=flagged.officer, flag_id=flagged.flag.id, amount_pence=5_000, reason="Unspent")
    session.commit()
    assert "Amina Hassan" in _text(client.get("/dashboard"))
    session.expire_all()
    assert session.exec(select(AccessLog.actor_id, AccessLog.holder_id, AccessLog.what)).all() == [
        (flagged.second_officer.id, flagged.holder.id, SURPLUS_LIST)]
