"""The pure rules of audits: quarters in England, urgency of vetting, and the pack's words and numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from brokerage.auditpack import rules
from brokerage.auditpack.rules import PackStatus, Problem, Quarter, parse_quarter
from brokerage.providers.rules import vetting_state

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize("text", ["2026Q3", "2026q3", " 2026Q3 "])
def test_a_quarter_is_read_from_its_year_and_number(text):
    assert parse_quarter(text) == Quarter(2026, 3)
    assert str(parse_quarter(text)) == "2026Q3"


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "26Q3", "2026-Q3", "Q3 2026", "2026Q", "", "1999Q1", "\uff12\uff10\uff12\uff16Q3", "2026Q3x"])
def test_anything_not_like_2026Q3_is_refused_with_a_plain_message(text):
    with pytest.raises(ValueError, match="like 2026Q3"):
        parse_quarter(text)


def test_a_quarter_runs_from_midnight_to_midnight_in_england_whatever_the_clocks_do():
    q3 = Quarter(2026, 3)
    assert (q3.first_day, q3.last_day, q3.label) == (date(2026, 7, 1), date(2026, 9, 30), "July to September 2026")
    assert q3.start_at == datetime(2026, 6, 30, 23, tzinfo=timezone.utc)  # midnight in summer time
    assert q3.end_before == datetime(2026, 9, 30, 23, tzinfo=timezone.utc)
    q1 = Quarter(2026, 1)
    assert q1.start_at == datetime(2026, 1, 1, tzinfo=timezone.utc)  # Greenwich time in winter
    assert q1.end_before == datetime(2026, 3, 31, 23, tzinfo=timezone.utc)  # the clocks went forward on 29 March
    q4 = Quarter(2026, 4)
    assert (q4.last_day, q4.end_before, q4.next()) == (date(2026, 12, 31), datetime(2027, 1, 1, tzinfo=timezone.utc), Quarter(2027, 1))
    assert Quarter(2026, 1).previous() == Quarter(2025, 4) and Quarter(2025, 4) < Quarter(2026, 1)


def test_every_week_belongs_to_the_one_quarter_its_monday_falls_in():
    quarters = [Quarter(2026, n) for n in (1, 2, 3, 4)] + [Quarter(2027, 1)]
    weeks = [w for q in quarters for w in q.weeks()]
    assert len(weeks) == len(set(weeks))
    assert Quarter(2026, 3).weeks()[0] == "2026-W28" and Quarter(2026, 3).weeks()[-1] == "2026-W40" and len(Quarter(2026, 3).weeks()) == 13
    mondays = {date.fromisocalendar(int(w[:4]), int(w[6:]), 1) for w in weeks}
    first = date(2026, 1, 5)
    assert mondays == {first + timedelta(weeks=i) for i in range(len(mondays))}
    assert "2026-W27" not in Quarter(2026, 3).weeks()  # Monday 29 June is in the second quarter


def test_the_quarters_offered_are_this_one_and_those_before_it():
    assert rules.recent_quarters(date(2026, 2, 1), count=3) == [Quarter(2026, 1), Quarter(2025, 4), Quarter(2025, 3)]
    assert rules.quarter_of(date(2026, 9, 30)) == Quarter(2026, 3) and rules.quarter_of(date(2026, 10, 1)) == Quarter(2026, 4)


@pytest.mark.parametrize("days, said", [(0, "Runs out today"), (1, "1 day left"), (12, "12 days left"), (-1, "1 day overdue"), (-30, "30 days overdue")])
def test_days_left_and_overdue_are_said_with_the_right_plural(days, said):
    assert rules.days_phrase(days) == said


def test_problems_come_expired_first_longest_overdue_then_missing_unchecked_and_the_soonest_to_run_out():
    state = vetting_state(
        [("dbs", TODAY - timedelta(days=3), True), ("insurance", TODAY + timedelta(days=10), True), ("cqc", TODAY + timedelta(days=400), False)],
        regulated=True, today=TODAY,
    )
    found = rules.problems_of(7, state, TODAY)
    assert [(p.kind, p.problem, p.days_left) for p in found] == [("dbs", Problem.expired, -3), ("cqc", Problem.unverified, None),
                                                                 ("insurance", Problem.expiring, 10)]
    assert [p.when for p in found] == ["3 days overdue", "Waiting for a broker to check it", "10 days left"]
    assert [p.stops_payment for p in found] == [True, True, False]
    assert found[0].expires_on == TODAY - timedelta(days=3)
    assert rules.why_unvetted([p for p in found if p.stops_payment], {"dbs": "DBS check", "cqc": "CQC registration"}) == (
        "DBS check ran out on 29 May 2026; CQC registration not yet checked by a broker.")
    missing = rules.problems_of(8, vetting_state([], regulated=False, today=TODAY), TODAY)
    assert [(p.kind, p.problem, p.when) for p in missing] == [("dbs", Problem.missing, "Never given"), ("insurance", Problem.missing, "Never given")]
    assert sorted(found + missing, key=rules.urgency)[0].problem == Problem.expired


def test_evidence_in_date_for_more_than_30_days_is_nothing_to_chase():
    state = vetting_state([("dbs", TODAY + timedelta(days=30), True), ("insurance", TODAY + timedelta(days=400), True)], regulated=False, today=TODAY)
    assert rules.problems_of(1, state, TODAY) == []
    assert state.expiry_of("dbs") == TODAY + timedelta(days=30) and state.expiry_of("cqc") is None


def test_the_latest_verified_evidence_gives_the_date_shown():
    state = vetting_state([("dbs", TODAY - timedelta(days=400), True), ("dbs", TODAY + timedelta(days=5), True), ("dbs", TODAY + timedelta(days=900), False),
                           ("insurance", TODAY + timedelta(days=90), True)], regulated=False, today=TODAY)
    assert [(p.kind, p.days_left) for p in rules.problems_of(1, state, TODAY)] == [("dbs", 5)]


def test_accounts_are_named_for_people():
    assert rules.account_name(holder_name="Amina Hassan", group_name=None) == "Amina Hassan's wallet"
    assert rules.account_name(holder_name="Amina Hassan", group_name="Somali elders of Whitechapel") == "Amina Hassan's share of Somali elders of Whitechapel"
    assert rules.statement_what("Pledge 2026-W49", "pledge_collected") == "Pledge week of 30 November 2026"
    assert rules.statement_what("", "care_cost") == "Care paid for from the pool"


def test_numbers_for_spreadsheets_are_exact():
    assert [rules.gbp(p) for p in (0, 5, -1234, 100_000_00)] == ["0.00", "0.05", "-12.34", "100000.00"]
    with pytest.raises(TypeError):
        rules.gbp(1.5)
    assert [rules.hours(m) for m in (0, 20, 30, 90, 61)] == ["0.00", "0.33", "0.50", "1.50", "1.02"]
    assert [rules.file_size(n) for n in (800, 1001, 12_000, 3_400_000)] == ["800 bytes", "2 KB", "12 KB", "3.4 MB"]
    assert rules.manifest_line("README.txt", "ab" * 32) == "ab" * 32 + "  README.txt\n"
    assert rules.pack_file_name(council_slug="riverside", quarter=Quarter(2026, 3)) == "carepool-audit-riverside-2026Q3.zip"
    summer = datetime(2026, 7, 1, 8, 15, tzinfo=timezone.utc)
    assert (rules.london_iso(summer), rules.utc_iso(summer), rules.london_iso(None)) == ("2026-07-01T09:15:00+01:00", "2026-07-01T08:15:00+00:00", "")


def test_a_pack_still_open_hours_after_it_was_asked_for_shows_as_failed():
    asked = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    assert rules.shown_status(PackStatus.building, asked, asked + timedelta(minutes=30)) == PackStatus.building
    assert rules.shown_status(PackStatus.queued, asked, asked + timedelta(hours=3)) == PackStatus.failed
    assert rules.shown_status(PackStatus.ready, asked, asked + timedelta(days=30)) == PackStatus.ready
    assert [s.label for s in PackStatus] == ["Waiting to start", "Being made", "Ready", "Failed"]
