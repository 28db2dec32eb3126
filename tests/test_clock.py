"""England's dates: every today, deadline and expiry is a date in Europe/London, and times are shown in England's time.

British Summer Time starts at 01:00 UTC on the last Sunday of March (29 March 2026) and ends at 01:00 UTC on
the last Sunday of October (25 October 2026). The tests freeze brokerage.clock either side of midnight and of
both changes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import Role
from brokerage.clusters import governance
from brokerage.clusters.membership import settle_leavers
from brokerage.accounts.system import system_actor
from brokerage.clusters.models import Membership, MembershipStatus, Proposal
from brokerage.formatting import date_time, long_date, week_of, weeks_for_people
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import post_entry
from brokerage.matching.services import build_instance
from brokerage.providers import services as providers
from brokerage.providers.models import VettingKind
from brokerage.errors import Conflict
from tests import factories as f


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


# 00:30 BST on 15 June is still 14 June in UTC.
HALF_PAST_MIDNIGHT_BST_15_JUNE = utc(2026, 6, 14, 23, 30)
HALF_PAST_ELEVEN_BST_14_JUNE = utc(2026, 6, 14, 22, 30)


@pytest.mark.parametrize(
    ("moment", "today"),
    [
        (HALF_PAST_MIDNIGHT_BST_15_JUNE, date(2026, 6, 15)),
        (HALF_PAST_ELEVEN_BST_14_JUNE, date(2026, 6, 14)),
        (utc(2026, 1, 14, 23, 30), date(2026, 1, 14)),  # winter: England is on UTC
        (utc(2026, 3, 28, 23, 30), date(2026, 3, 28)),  # the night before summer time starts: still GMT
        (utc(2026, 3, 29, 0, 59), date(2026, 3, 29)),
        (utc(2026, 3, 29, 23, 30), date(2026, 3, 30)),  # first night of summer time
        (utc(2026, 10, 24, 23, 30), date(2026, 10, 25)),  # the night before summer time ends: still BST
        (utc(2026, 10, 25, 23, 30), date(2026, 10, 25)),  # first night back on GMT
    ],
)
def test_today_is_the_date_in_england(freeze_clock, moment, today):
    freeze_clock(moment)
    assert clock.today() == today


def test_a_day_in_england_starts_and_ends_at_local_midnight_across_both_changes():
    assert clock.start_of_day(date(2026, 6, 15)) == utc(2026, 6, 14, 23)
    assert clock.start_of_day(date(2026, 1, 15)) == utc(2026, 1, 15)
    # 29 March has 23 hours and 25 October has 25.
    assert clock.end_of_day(date(2026, 3, 29)) - clock.start_of_day(date(2026, 3, 29)) == timedelta(hours=23)
    assert clock.end_of_day(date(2026, 10, 25)) - clock.start_of_day(date(2026, 10, 25)) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (HALF_PAST_MIDNIGHT_BST_15_JUNE, "15 June 2026 at 12:30am"),
        (utc(2026, 11, 22, 17, 5), "22 November 2026 at 5:05pm"),
        (utc(2026, 3, 29, 0, 30), "29 March 2026 at 12:30am"),  # GMT until 01:00 UTC
        (utc(2026, 3, 29, 1, 30), "29 March 2026 at 2:30am"),  # BST from then
        (utc(2026, 10, 25, 0, 30), "25 October 2026 at 1:30am"),  # the first 1:30am (BST)
        (utc(2026, 10, 25, 1, 30), "25 October 2026 at 1:30am"),  # the second 1:30am (GMT)
        (utc(2026, 7, 1, 11), "1 July 2026 at midday"),
        (utc(2026, 12, 1, 0), "1 December 2026 at midnight"),
        (utc(2026, 12, 1, 15), "1 December 2026 at 3pm"),  # a whole hour has no ":00"
        (utc(2026, 6, 1, 8), "1 June 2026 at 9am"),
    ],
)
def test_times_are_shown_in_england(moment, shown):
    assert date_time(moment) == shown


def test_a_stored_moment_is_shown_on_its_date_in_england():
    assert long_date(HALF_PAST_MIDNIGHT_BST_15_JUNE) == "15 June 2026"
    assert long_date(date(2026, 6, 14)) == "14 June 2026"


def test_weeks_are_shown_to_people_by_their_monday():
    assert week_of("2026-W49") == "week of 30 November 2026"
    assert week_of("2027-W01") == "week of 4 January 2027"
    assert weeks_for_people("Pledge to Elders for 2026-W49") == "Pledge to Elders for the week of 30 November 2026"
    assert weeks_for_people("Care from Hooyo for Elders, 2026-W49") == "Care from Hooyo for Elders, week of 30 November 2026"
    # Only the canonical ASCII form is a week; anything else is left as it was written.
    assert weeks_for_people("Direct payment for ２０２６-W49") == "Direct payment for ２０２６-W49"
    assert week_of("2026-W60") == "2026-W60"


def _insurance_runs_out_on_14_june(session, world):
    provider = world.records["a"]["provider"]
    f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, kind=VettingKind.dbs,
                     expires_on=date(2027, 6, 14))
    f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, kind=VettingKind.insurance,
                     expires_on=date(2026, 6, 14))
    session.commit()
    return provider


def _vetted_suppliers(session, provider):
    return [s["id"] for s in build_instance(session=session, actor=system_actor(session=session, council_id=provider.council_id), council_id=provider.council_id)["supply"] if s["vetted"]]


def test_insurance_running_out_on_14_june_is_valid_until_the_end_of_14_june_in_england(client, auth, world, session, freeze_clock):
    provider = _insurance_runs_out_on_14_june(session, world)

    freeze_clock(HALF_PAST_ELEVEN_BST_14_JUNE)
    auth.sign_in(world.users["a"][Role.broker].email)
    assert f"s-{provider.id}" in _vetted_suppliers(session, provider)
    assert "Expired" not in client.get(f"/providers/{provider.id}").text

    freeze_clock(HALF_PAST_MIDNIGHT_BST_15_JUNE)
    auth.sign_in(world.users["a"][Role.broker].email)  # an hour idle ends the first session
    assert f"s-{provider.id}" not in _vetted_suppliers(session, provider)
    assert "Expired" in client.get(f"/providers/{provider.id}").text
    assert providers.vetting_summary(session=session, council_id=provider.council_id, today=clock.today())[provider.id].expired == ("insurance",)


def test_evidence_that_ran_out_yesterday_in_england_cannot_be_verified(world, session, freeze_clock):
    provider = world.records["a"]["provider"]
    item = f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, kind=VettingKind.insurance,
                            expires_on=date(2026, 6, 14), verified_at=None)
    freeze_clock(HALF_PAST_MIDNIGHT_BST_15_JUNE)
    with pytest.raises(Conflict):
        providers.verify_vetting(session=session, actor=world.users["a"][Role.broker], item_id=item.id)


def test_evidence_running_out_today_in_england_cannot_be_added(world, session, freeze_clock):
    provider = world.records["a"]["provider"]
    freeze_clock(HALF_PAST_MIDNIGHT_BST_15_JUNE)
    from brokerage.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        providers.add_vetting(session=session, actor=world.users["a"][Role.broker], provider_id=provider.id, kind="dbs",
                              reference="DBS-1", expires_on=date(2026, 6, 15))


def test_settlement_runs_on_the_date_in_england(world, session, freeze_clock):
    # The member gets no care here: a contract's unsent timesheets would hold the share (tests/timesheets/test_leavers.py).
    for record in ("visit", "timesheet", "contract"):
        session.delete(world.records["a"][record])
        session.flush()
    membership = world.records["a"]["membership"]
    membership.status = MembershipStatus.leaving
    membership.leaves_on = date(2026, 6, 14)
    session.add(membership)
    session.flush()
    council_id = membership.council_id

    freeze_clock(HALF_PAST_ELEVEN_BST_14_JUNE)
    assert settle_leavers(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id).done == []

    freeze_clock(HALF_PAST_MIDNIGHT_BST_15_JUNE)
    assert [m.id for m, _ in settle_leavers(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id).done] == [membership.id]
    assert session.get(Membership, membership.id).status == MembershipStatus.left


def test_notice_ends_are_counted_from_the_date_in_england(world, session, freeze_clock):
    membership = world.records["a"]["membership"]
    freeze_clock(utc(2026, 10, 24, 23, 30))  # 00:30 BST on Sunday 25 October
    governance.give_notice(session=session, actor=world.users["a"][Role.holder], membership_id=membership.id)
    notice_weeks = session.get(type(world.councils["a"]), membership.council_id).notice_weeks
    assert membership.notice_date == date(2026, 10, 25)
    assert membership.leaves_on == date(2026, 10, 25) + timedelta(weeks=notice_weeks)


def test_a_proposal_deadline_is_shown_in_england(client, auth, world, session):
    proposal = world.records["a"]["proposal"]
    proposal.deadline = HALF_PAST_MIDNIGHT_BST_15_JUNE
    session.add(proposal)
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    for page in (f"/clusters/proposals/{proposal.id}", f"/clusters/{proposal.cluster_id}"):
        text = client.get(page).text
        assert "Voting closes 15 June 2026 at 12:30am" in text and "Open until" not in text, page
        assert "14 June 2026" not in text


def test_the_journal_filter_takes_days_in_england_and_shows_weeks_and_times_to_people(client, auth, world, session, freeze_clock):
    holder = world.records["a"]["holder"]
    freeze_clock(HALF_PAST_MIDNIGHT_BST_15_JUNE)
    entry = post_entry(session=session, actor=system_actor(session=session, council_id=holder.council_id), council_id=holder.council_id, kind="dp_issued", memo="Direct payment for 2026-W25",
                       postings=[(ledger_rules.funding_code(holder.council_id), -700), (ledger_rules.wallet_code(holder.id), 700)],
                       idempotency_key="dp:test:2026-W25")
    session.commit()
    assert session.get(JournalEntry, entry.id).created_at == HALF_PAST_MIDNIGHT_BST_15_JUNE
    auth.sign_in(world.users["a"][Role.council_officer].email)
    on_15_june = client.get("/ledger/", query_string={"start": "2026-06-15", "end": "2026-06-15"}).text
    on_14_june = client.get("/ledger/", query_string={"start": "2026-06-14", "end": "2026-06-14"}).text
    assert f"/ledger/entries/{entry.id}\"" in on_15_june and "week of 15 June 2026" in on_15_june
    assert f"/ledger/entries/{entry.id}\"" not in on_14_june
    page = client.get(f"/ledger/entries/{entry.id}").text
    # The idempotency key keeps the canonical week for machines; the memo is shown to people.
    assert "15 June 2026 at 12:30am" in page and "Direct payment for the week of 15 June 2026" in page and "Direct payment for 2026-W25" not in page
    statement = client.get(f"/holders/{holder.id}/statement").text
    assert "week of 15 June 2026" in statement and "2026-W25" not in statement


def test_a_holders_own_data_download_gives_times_in_england(client, auth, world, session, freeze_clock):
    holder = world.records["a"]["holder"]
    freeze_clock(HALF_PAST_MIDNIGHT_BST_15_JUNE)
    post_entry(session=session, actor=system_actor(session=session, council_id=holder.council_id), council_id=holder.council_id, kind="dp_issued", memo="Direct payment for 2026-W25",
               postings=[(ledger_rules.funding_code(holder.council_id), -700), (ledger_rules.wallet_code(holder.id), 700)],
               idempotency_key="dp:test:2026-W25")
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    data = json.loads(client.get(f"/holders/{holder.id}/data.json").data)
    assert data["exported_at"] == "2026-06-15T00:30:00+01:00"
    [wallet] = [account for account in data["ledger"] if account["kind"] == "wallet"]
    [latest] = [line for line in wallet["postings"] if line["kind"] == "dp_issued" and line["at"].startswith("2026-06")]
    assert latest["at"] == "2026-06-15T00:30:00+01:00" and latest["memo"] == "Direct payment for the week of 15 June 2026"
    assert "2026-06-15T00:30:00+01:00" in client.get(f"/holders/{holder.id}/data.csv").text


def test_proposals_past_their_deadline_are_closed_by_the_moment_not_the_date(world, session, freeze_clock):
    proposal = world.records["a"]["proposal"]
    proposal.deadline = utc(2026, 10, 25, 1, 30)  # the second 1:30am of 25 October (GMT)
    session.add(proposal)
    session.flush()
    freeze_clock(utc(2026, 10, 25, 0, 45))  # 1:45am BST: the deadline is 45 minutes away
    assert proposal not in governance.close_due_proposals(session=session, actor=system_actor(session=session, council_id=proposal.council_id), council_id=proposal.council_id).done
    freeze_clock(utc(2026, 10, 25, 1, 31))
    assert [p.id for p in governance.close_due_proposals(session=session, actor=system_actor(session=session, council_id=proposal.council_id), council_id=proposal.council_id).done] == [proposal.id]
    assert session.exec(select(Proposal.status).where(Proposal.id == proposal.id)).one().value != "open"
