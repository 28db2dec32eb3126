"""Pure cluster rules: counting votes, pledge limits, status moves, periods and suggestions."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage.clusters import rules
from brokerage.clusters.errors import BadTransition
from brokerage.clusters.rules import ProposalKind

SIMPLE = rules.voting_rule(kind=ProposalKind.free_text, quorum_percent=50, majority_percent=50, dissolve_numerator=2, dissolve_denominator=3)
DISSOLVE = rules.voting_rule(kind=ProposalKind.dissolve, quorum_percent=50, majority_percent=50, dissolve_numerator=2, dissolve_denominator=3)


def test_a_simple_majority_of_a_quorate_vote_passes():
    result = rules.tally(eligible=5, yes=2, no=1, abstain=0, rule=SIMPLE, closed=True)
    assert result.quorate and result.carried and result.passed


def test_a_tie_does_not_pass():
    assert not rules.tally(eligible=4, yes=2, no=2, abstain=0, rule=SIMPLE).passed


def test_without_quorum_nothing_passes_even_unanimous():
    result = rules.tally(eligible=6, yes=3, no=0, abstain=0, rule=SIMPLE, closed=True)
    assert not result.quorate and not result.passed and result.decided


def test_abstentions_count_towards_quorum_but_not_the_majority():
    result = rules.tally(eligible=5, yes=1, no=0, abstain=2, rule=SIMPLE, closed=True)
    assert result.quorate and result.passed


def test_dissolving_needs_two_thirds():
    assert rules.tally(eligible=3, yes=2, no=1, abstain=0, rule=DISSOLVE).passed
    assert not rules.tally(eligible=5, yes=3, no=2, abstain=0, rule=DISSOLVE).passed
    assert rules.tally(eligible=6, yes=4, no=2, abstain=0, rule=DISSOLVE).passed


def test_a_vote_is_decided_early_once_the_rest_cannot_change_it():
    early = rules.tally(eligible=5, yes=3, no=0, abstain=0, rule=SIMPLE)
    assert early.decided and early.passed
    hopeless = rules.tally(eligible=5, yes=0, no=3, abstain=0, rule=SIMPLE)
    assert hopeless.decided and not hopeless.passed
    open_question = rules.tally(eligible=5, yes=2, no=1, abstain=0, rule=SIMPLE)
    assert not open_question.decided


counts = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n)).flatmap(
        lambda t: st.tuples(st.just(t[0]), st.integers(0, t[1]), st.integers(0, t[1])).filter(lambda c: c[1] + c[2] <= c[0])
    ).flatmap(lambda c: st.tuples(st.just(c[0]), st.just(c[1]), st.just(c[2]), st.integers(0, c[0] - c[1] - c[2])))
)
rules_strategy = st.sampled_from([SIMPLE, DISSOLVE, rules.VotingRule(Fraction(2, 3), Fraction(1, 2), False), rules.VotingRule(Fraction(0), Fraction(3, 4), True)])


@given(counts, rules_strategy)
def test_a_passed_vote_is_quorate_and_carried_when_closed(c, rule):
    eligible, yes, no, abstain = c
    result = rules.tally(eligible=eligible, yes=yes, no=no, abstain=abstain, rule=rule, closed=True)
    assert result.decided
    assert result.passed == (result.quorate and result.carried)
    assert result.voted == yes + no + abstain


@given(counts, rules_strategy)
def test_an_early_decision_holds_whatever_the_remaining_members_do(c, rule):
    eligible, yes, no, abstain = c
    early = rules.tally(eligible=eligible, yes=yes, no=no, abstain=abstain, rule=rule)
    if not early.decided:
        return
    remaining = eligible - yes - no - abstain
    for more_yes in range(remaining + 1):
        for more_no in range(remaining - more_yes + 1):
            for more_abstain in range(remaining - more_yes - more_no + 1):
                final = rules.tally(eligible=eligible, yes=yes + more_yes, no=no + more_no, abstain=abstain + more_abstain, rule=rule, closed=True)
                assert final.passed == early.passed


@given(counts)
def test_more_yes_votes_never_turn_a_pass_into_a_fail(c):
    eligible, yes, no, abstain = c
    if yes + no + abstain >= eligible:
        return
    before = rules.tally(eligible=eligible, yes=yes, no=no, abstain=abstain, rule=SIMPLE, closed=True)
    after = rules.tally(eligible=eligible, yes=yes + 1, no=no, abstain=abstain, rule=SIMPLE, closed=True)
    assert after.passed or not before.passed


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        rules.tally(eligible=2, yes=2, no=1, abstain=0, rule=SIMPLE)


def test_pledges_may_not_exceed_the_allocation():
    rules.check_pledge(allocation=10_000, other_pledges=[3_000, 2_000], pledge=5_000)
    with pytest.raises(ValueError, match="more than you have left"):
        rules.check_pledge(allocation=10_000, other_pledges=[3_000, 2_000], pledge=5_001)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            rules.check_pledge(allocation=10_000, other_pledges=[], pledge=bad)


def test_memberships_and_clusters_move_only_forwards():
    assert rules.move_membership("requested", "admitted") == "admitted"
    assert rules.move_membership("active", "leaving") == "leaving"
    for current, target in [("left", "active"), ("leaving", "active"), ("requested", "active")]:
        with pytest.raises(BadTransition):
            rules.move_membership(current, target)
    assert rules.move_cluster("forming", "active") == "active"
    with pytest.raises(BadTransition):
        rules.move_cluster("closed", "active")


def test_periods_are_iso_weeks():
    assert rules.parse_period("2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))
    assert rules.period_of(date(2026, 11, 22)) == "2026-W47"
    for bad in ("2026-48", "2026-W60", "W48", "2026-W4", "", "02026-W48", "2026-W+8", " 2026-W48", "2026-W48 ", "2026-w48"):
        with pytest.raises(ValueError):
            rules.parse_period(bad)


def test_suggestions_rank_by_language_need_and_distance_with_a_reason():
    clusters = [
        {"id": 1, "lat": 51.52, "lon": -0.06, "kinds": ["culture"], "members": 3, "max_size": 8, "member_languages": ["so", "so", "so", "en"], "member_needs": ["home_care"]},
        {"id": 2, "lat": 51.60, "lon": -0.20, "kinds": ["goal"], "members": 2, "max_size": 8, "member_languages": ["en", "en"], "member_needs": ["respite"]},
        {"id": 3, "lat": 51.52, "lon": -0.06, "kinds": ["culture"], "members": 8, "max_size": 8, "member_languages": ["so"] * 8, "member_needs": []},
    ]
    names = {"so": "Somali", "en": "English"}
    ranked = rules.suggest(holder_languages=["so", "en"], holder_needs=["home_care"], holder_location=(51.5155, -0.0722),
                           clusters=clusters, language_name=names.get, service_name=lambda s: s.replace("_", " "))
    assert [s.cluster_id for s in ranked] == [1, 2]
    assert ranked[0].reason.startswith("3 members speak Somali; shares your need for home care; ")
    assert "km away" in ranked[0].reason


def test_unverified_or_expired_vetting_is_not_valid():
    from brokerage.providers.rules import vetting_state

    today = date(2026, 11, 22)
    later = date(2027, 11, 22)
    assert vetting_state([("dbs", later, True), ("insurance", later, True)], regulated=False, today=today).valid
    waiting = vetting_state([("dbs", later, False), ("insurance", later, True)], regulated=False, today=today)
    assert not waiting.valid and waiting.unverified == ("dbs",)
    lapsed = vetting_state([("dbs", date(2026, 11, 21), True), ("insurance", later, True)], regulated=False, today=today)
    assert not lapsed.valid and lapsed.expired == ("dbs",)
    needs_cqc = vetting_state([("dbs", later, True), ("insurance", later, True)], regulated=True, today=today)
    assert not needs_cqc.valid and needs_cqc.missing == ("cqc",)


def test_amounts_in_pounds_take_only_ascii_digits():
    from brokerage.formatting import parse_pounds

    assert parse_pounds("£12.50") == 1_250
    for other in ("１２", "١٢", "12.٥0", "²"):
        with pytest.raises(ValueError):
            parse_pounds(other)
