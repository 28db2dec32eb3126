"""Pure vetting rules, without a database: what counts, when it runs out, and what to chase."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage import clock
from brokerage.providers import rules
from brokerage.providers.rules import SOON, ProviderStatus, VettingState, is_matchable, still_to_do, vetting_state

TODAY = date(2026, 11, 22)
LATER = date(2027, 11, 22)


def state(*items, regulated=False, today=TODAY) -> VettingState:
    return vetting_state(list(items), regulated=regulated, today=today)


def test_verified_in_date_dbs_and_insurance_are_valid_and_cqc_is_needed_only_for_regulated_care():
    assert state(("dbs", LATER, True), ("insurance", LATER, True)) == VettingState(
        valid=True, missing=(), expired=(), expiring_soon=(), unverified=())
    assert state(("dbs", LATER, True), ("insurance", LATER, True), regulated=True) == VettingState(
        valid=False, missing=("cqc",), expired=(), expiring_soon=(), unverified=())
    assert state(("dbs", LATER, True), ("insurance", LATER, True), ("cqc", LATER, True), regulated=True).valid


def test_unverified_or_expired_vetting_is_not_valid():
    waiting = state(("dbs", LATER, False), ("insurance", LATER, True))
    assert not waiting.valid and waiting.unverified == ("dbs",) and waiting.missing == ()
    lapsed = state(("dbs", TODAY - timedelta(days=1), True), ("insurance", LATER, True))
    assert not lapsed.valid and lapsed.expired == ("dbs",)


def test_nothing_at_all_is_missing_not_waiting_for_a_broker():
    assert state() == VettingState(valid=False, missing=("dbs", "insurance"), expired=(), expiring_soon=(), unverified=())


def test_evidence_given_without_a_verified_flag_counts_as_verified():
    assert state(("dbs", LATER), ("insurance", LATER)).valid


def test_an_unverified_document_hides_no_other_evidence():
    # Waiting evidence comes first here; the verified documents after it must still count.
    result = state(("dbs", LATER, False), ("insurance", LATER, False), ("dbs", LATER, True), ("insurance", LATER, True))
    assert result == VettingState(valid=True, missing=(), expired=(), expiring_soon=(), unverified=())


def test_the_latest_verified_evidence_of_each_kind_counts_whatever_the_order():
    old, new = TODAY - timedelta(days=400), LATER
    for items in ([("dbs", old, True), ("dbs", new, True)], [("dbs", new, True), ("dbs", old, True)]):
        assert state(*items, ("insurance", LATER, True)).valid
    # A newer document still waiting for a broker does not replace the verified one that ran out.
    assert state(("dbs", old, True), ("dbs", new, False), ("insurance", LATER, True)).expired == ("dbs",)


# Decision: evidence is valid ON its expiry date, and runs out when that date is over in England
# (clock.today() is England's date), so insurance expiring 14 June is valid all of 14 June.


def test_evidence_is_valid_on_its_expiry_date_and_expired_the_day_after():
    on_the_day = state(("dbs", TODAY, True), ("insurance", LATER, True))
    assert on_the_day.valid and on_the_day.expired == () and on_the_day.expiring_soon == ("dbs",)
    day_after = state(("dbs", TODAY, True), ("insurance", LATER, True), today=TODAY + timedelta(days=1))
    assert not day_after.valid and day_after.expired == ("dbs",) and day_after.expiring_soon == ()


def test_the_expiry_day_is_englands_date_not_utcs(freeze_clock):
    from datetime import datetime, timezone

    items = [("dbs", LATER, True), ("insurance", date(2026, 6, 14), True)]
    freeze_clock(datetime(2026, 6, 14, 22, 30, tzinfo=timezone.utc))  # 11:30pm on 14 June in England
    assert vetting_state(items, regulated=False, today=clock.today()).valid
    freeze_clock(datetime(2026, 6, 14, 23, 30, tzinfo=timezone.utc))  # 12:30am on 15 June in England, still 14 June in UTC
    assert vetting_state(items, regulated=False, today=clock.today()).expired == ("insurance",)


def test_evidence_is_expiring_soon_from_30_days_before_its_expiry_date_to_the_day_itself():
    assert SOON == timedelta(days=30)

    def soon(expires):
        return state(("dbs", expires, True), ("insurance", LATER, True)).expiring_soon

    assert soon(TODAY) == soon(TODAY + timedelta(days=29)) == ("dbs",)
    assert soon(TODAY + timedelta(days=30)) == ()
    assert soon(TODAY - timedelta(days=1)) == ()  # expired, not expiring


def test_expiring_soon_is_still_valid_and_lists_every_kind_in_order():
    result = state(("insurance", TODAY + timedelta(days=3), True), ("dbs", TODAY + timedelta(days=10), True),
                   ("cqc", TODAY + timedelta(days=1), True), regulated=True)
    assert result == VettingState(valid=True, missing=(), expired=(), expiring_soon=("dbs", "insurance", "cqc"), unverified=())


kinds = st.sampled_from(["dbs", "insurance", "cqc"])
expiries = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 1, 1))
evidence = st.lists(st.tuples(kinds, expiries, st.booleans()), max_size=8)


@given(evidence, st.booleans())
def test_each_required_kind_is_in_exactly_one_state_and_valid_means_none_is_wrong(items, regulated):
    result = vetting_state(items, regulated=regulated, today=TODAY)
    required = ("dbs", "insurance") + (("cqc",) if regulated else ())
    for kind in required:
        verified = [expires for k, expires, ok in items if k == kind and ok]
        newest = max(verified, default=None)
        assert (kind in result.missing) == (not verified and all(k != kind for k, _, _ in items))
        assert (kind in result.unverified) == (not verified and any(k == kind for k, _, _ in items))
        assert (kind in result.expired) == (newest is not None and newest < TODAY)
        assert (kind in result.expiring_soon) == (newest is not None and TODAY <= newest < TODAY + SOON)
    assert result.valid == (not result.missing and not result.unverified and not result.expired)


# --- applications: status, what is still to do, and who may be matched ------------------------------------

WORDS = {"dbs": "DBS check", "insurance": "insurance", "cqc": "CQC registration"}


def _state(items, regulated=False):
    return vetting_state(items, regulated=regulated, today=date(2026, 12, 1))


def test_only_an_approved_provider_with_valid_vetting_is_matchable():
    valid = _state([("dbs", date(2027, 6, 1), True), ("insurance", date(2027, 6, 1), True)])
    unverified = _state([("dbs", date(2027, 6, 1), False), ("insurance", date(2027, 6, 1), True)])
    assert valid.valid and not unverified.valid
    assert is_matchable(ProviderStatus.approved, valid) and is_matchable("approved", valid)
    assert not is_matchable(ProviderStatus.approved, unverified)
    assert not is_matchable(ProviderStatus.pending_review, valid)
    assert not is_matchable(ProviderStatus.refused, valid)


def test_what_is_still_to_do_speaks_to_the_provider_or_about_them():
    state = _state([("dbs", date(2027, 6, 1), False), ("insurance", date(2026, 11, 1), True)], regulated=True)
    assert still_to_do(ProviderStatus.pending_review, state, WORDS) == [
        "A broker has to review your application.",
        "Add your CQC registration.",
        "A broker has to check and verify your DBS check.",
        "Add your new insurance: the last one has run out.",
    ]
    assert still_to_do("pending_review", state, WORDS, own=False)[:2] == ["A broker has to review their application.", "They add their CQC registration."]
    done = _state([("dbs", date(2027, 6, 1), True), ("insurance", date(2027, 6, 1), True)])
    assert still_to_do(ProviderStatus.approved, done, WORDS) == []
    # A refused application has nothing left to do: it is not matched whatever its evidence.
    assert still_to_do(ProviderStatus.refused, state, WORDS) == []


def test_personal_care_needs_a_cqc_registration_unless_a_personal_assistant_gives_it():
    from brokerage.providers.rules import regulated

    assert regulated("micro_provider", ["personal_care"]) and regulated("coop", ["home_care", "personal_care"])
    assert not regulated("pa", ["personal_care", "companionship"])
    assert not regulated("micro_provider", ["home_care", "companionship"])


@pytest.mark.parametrize("kind, staff, field, expected", [
    ("pa", 1, "kind", {}),
    ("pa", 2, "kind", {"kind": "A personal assistant works alone, so the number of staff is 1, not 2: choose another kind, or change the number of staff"}),
    ("micro_provider", 5, "kind", {}),
    ("micro_provider", 6, "kind", {"kind": "A micro-provider has 5 staff or fewer, not 6: choose another kind, or change the number of staff"}),
    ("micro_provider", 1200, "staff_count", {"staff_count": "You are registered as a micro-provider, which has 5 staff or fewer: enter 5 or fewer. "
                                                          "If more people now work with you, ask the broker to change how you are registered"}),
    ("coop", 1, "kind", {}), ("private", 40, "kind", {}),
    # A count or a kind that is not valid is left to its own check.
    ("pa", 0, "kind", {}), ("pa", "many", "kind", {}), ("pa", None, "kind", {}), ("pa", True, "kind", {}), ("wizard", 40, "kind", {}),
])
def test_a_kind_agrees_with_its_staff_count(kind, staff, field, expected):
    assert rules.kind_staff_errors(kind, staff, field=field) == expected
