"""Pure cluster rules: counting votes, pledge limits, status moves, periods and suggestions."""

from __future__ import annotations

import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage.clusters import rules
from brokerage.clusters.errors import BadTransition
from brokerage.clusters.models import ClusterStatus
from brokerage.clusters.rules import ProposalKind
from brokerage.geo import haversine_km

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


def test_amounts_in_pounds_take_only_ascii_digits():
    from brokerage.formatting import parse_pounds

    assert parse_pounds("£12.50") == 1_250
    for other in ("１２", "١٢", "12.٥0", "²"):
        with pytest.raises(ValueError):
            parse_pounds(other)


def test_an_amount_too_big_to_be_money_here_is_called_too_big_not_badly_written():
    from brokerage.formatting import parse_pounds

    assert parse_pounds("9999999.99") == 999_999_999
    for big in ("99999999", "£12,345,678.50"):
        with pytest.raises(ValueError, match=r"Enter an amount of £9,999,999.99 or less"):
            parse_pounds(big)
    for bad in ("12.345", "1e9", "twenty", "-", "5-"):
        with pytest.raises(ValueError, match="like 25 or 25.50"):
            parse_pounds(bad)
    # A negative amount is said to be one, not to be badly written.
    for negative in ("-5", "-£5", "£-5.50", "−5", "-1,000"):
        with pytest.raises(ValueError, match="^Enter an amount of £0 or more, without a minus sign$"):
            parse_pounds(negative)


def test_a_comma_is_read_only_between_thousands_and_a_space_never_inside_an_amount():
    # "12,50" (a decimal comma) and "12 50" were read as £1,250: a top-up of a hundred times what was meant.
    from brokerage.formatting import parse_pounds

    for typed, pence in (("1,250", 125_000), ("£1,250.50", 125_050), ("1,000,000", 100_000_000), ("£ 12", 1_200), (" 12.5 ", 1_250)):
        assert parse_pounds(typed) == pence, typed
    for decimal_comma in ("12,50", "12,5", "0,50", "£1,25"):
        with pytest.raises(ValueError, match="^Use a full stop for pence, like 12.50$"):
            parse_pounds(decimal_comma)
    for misplaced in ("1,2345", "12,500,0", ",125", "1,,250", "1,250,"):
        with pytest.raises(ValueError, match="^Use commas only between thousands, like 1,250.50$"):
            parse_pounds(misplaced)
    for spaced in ("12 50", "1 250", "12 .50"):
        with pytest.raises(ValueError, match="like 25 or 25.50"):
            parse_pounds(spaced)


# Vote counting: the cases at the edges of each rule.


def test_each_council_setting_reaches_the_rule_for_its_kind_of_proposal():
    settings = dict(quorum_percent=40, majority_percent=60, dissolve_numerator=3, dissolve_denominator=4)
    assert rules.voting_rule(kind=ProposalKind.dissolve, **settings) == rules.VotingRule(Fraction(2, 5), Fraction(3, 4), True)
    for kind in set(ProposalKind) - {ProposalKind.dissolve}:
        assert rules.voting_rule(kind=kind, **settings) == rules.VotingRule(Fraction(2, 5), Fraction(3, 5), False), kind


def test_an_all_abstain_proposal_never_passes():
    for rule in (SIMPLE, DISSOLVE, rules.VotingRule(Fraction(0), Fraction(1, 2), True)):
        result = rules.tally(eligible=3, yes=0, no=0, abstain=3, rule=rule)
        assert result == rules.Tally(eligible=3, yes=0, no=0, abstain=3, quorate=True, carried=False, decided=True, passed=False)


def test_a_vote_is_decided_once_every_member_has_voted_abstentions_included():
    result = rules.tally(eligible=4, yes=1, no=1, abstain=2, rule=SIMPLE)
    assert result.decided and not result.passed
    passing = rules.tally(eligible=4, yes=2, no=1, abstain=1, rule=SIMPLE)
    assert passing.decided and passing.passed


def test_every_vote_cast_counts_towards_the_quorum_of_an_early_decision():
    # Two yes and two abstentions of five: a no from the last member would still leave 2 to 1.
    result = rules.tally(eligible=5, yes=2, no=0, abstain=2, rule=SIMPLE)
    assert result.decided and result.passed
    # Three yes and one no of five: the last member cannot make it a tie.
    result = rules.tally(eligible=5, yes=3, no=1, abstain=0, rule=SIMPLE)
    assert result.decided and result.passed


def test_an_undecided_tally_has_not_passed():
    result = rules.tally(eligible=5, yes=2, no=1, abstain=0, rule=SIMPLE)
    assert result == rules.Tally(eligible=5, yes=2, no=1, abstain=0, quorate=True, carried=True, decided=False, passed=False)


@given(counts, rules_strategy)
def test_a_tally_passes_only_when_decided(c, rule):
    eligible, yes, no, abstain = c
    result = rules.tally(eligible=eligible, yes=yes, no=no, abstain=abstain, rule=rule)
    assert result.decided or not result.passed


def test_a_dissolve_vote_at_exactly_half_turnout_is_not_quorate():
    at_half = rules.tally(eligible=6, yes=3, no=0, abstain=0, rule=DISSOLVE, closed=True)
    assert not at_half.quorate and at_half.decided and not at_half.passed
    one_more = rules.tally(eligible=6, yes=3, no=0, abstain=1, rule=DISSOLVE, closed=True)
    assert one_more.quorate and one_more.passed


def test_a_supermajority_is_reached_at_exactly_its_fraction_and_a_simple_majority_is_not():
    at_least_half = rules.VotingRule(Fraction(1, 2), Fraction(1, 2), True)
    assert rules.tally(eligible=4, yes=2, no=2, abstain=0, rule=at_least_half).passed
    assert not rules.tally(eligible=4, yes=2, no=2, abstain=0, rule=SIMPLE).passed
    assert rules.tally(eligible=3, yes=2, no=1, abstain=0, rule=DISSOLVE, closed=True).passed


def test_a_sole_member_decides_alone_and_a_group_with_no_members_passes_nothing():
    assert rules.tally(eligible=1, yes=1, no=0, abstain=0, rule=SIMPLE).passed
    empty = rules.tally(eligible=0, yes=0, no=0, abstain=0, rule=SIMPLE)
    assert empty.decided and not empty.passed and not empty.quorate


@pytest.mark.parametrize("eligible, yes, no, abstain", [
    (-1, 0, 0, 0), (3, -1, 0, 0), (3, 0, -1, 0), (3, 0, 0, -1), (2, 1, 1, 1), (2, 3, 0, 0),
])
def test_negative_counts_or_more_votes_than_members_are_refused(eligible, yes, no, abstain):
    with pytest.raises(ValueError, match="^vote counts must be non-negative and no more than the eligible members$"):
        rules.tally(eligible=eligible, yes=yes, no=no, abstain=abstain, rule=SIMPLE)


# Pledges.


def test_a_pledge_of_nothing_is_within_the_allocation_but_a_chosen_pledge_must_be_more_than_zero():
    rules.check_pledge(allocation=10_000, other_pledges=[10_000], pledge=0)
    rules.check_pledge_above_zero(1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=f"^{rules.PLEDGE_ABOVE_ZERO}$"):
            rules.check_pledge_above_zero(bad)
        # Only a member changing their pledge is told how to stop paying in: someone joining or starting a group is in none.
        with pytest.raises(ValueError, match="^Enter a weekly pledge of more than £0. To stop paying in, give notice to leave the group$"):
            rules.check_pledge_above_zero(bad, member=True)


def test_a_refused_pledge_says_why_and_what_is_left_never_less_than_nothing():
    with pytest.raises(ValueError, match="^a pledge is a whole number of pence$"):
        rules.check_pledge(allocation=10_000, other_pledges=[], pledge=1.5)
    with pytest.raises(ValueError, match="^a pledge cannot be negative$"):
        rules.check_pledge(allocation=10_000, other_pledges=[], pledge=-1)
    with pytest.raises(ValueError, match=r"\(2000p a week\)"):
        rules.check_pledge(allocation=10_000, other_pledges=[8_000], pledge=2_001)
    with pytest.raises(ValueError, match=r"\(0p a week\)"):
        rules.check_pledge(allocation=10_000, other_pledges=[12_000], pledge=1)


# Status moves.


def test_a_proposal_is_decided_once():
    for target in ("passed", "rejected", "lapsed"):
        assert rules.move_proposal("open", target) == target
        for later in ("open", "passed", "rejected", "lapsed"):
            with pytest.raises(BadTransition, match=f"A proposal that is {target} cannot become {later}."):
                rules.move_proposal(target, later)


def test_a_move_from_an_unknown_status_is_a_bad_transition_that_names_both():
    with pytest.raises(BadTransition, match="A membership that is lost cannot become active."):
        rules.move_membership("lost", "active")
    with pytest.raises(BadTransition, match="A group that is lost cannot become active."):
        rules.move_cluster("lost", "active")
    with pytest.raises(BadTransition, match="A proposal that is lost cannot become passed."):
        rules.move_proposal("lost", "passed")


# Weeks and notice.


def test_notice_ends_whole_weeks_after_it_is_given():
    assert rules.notice_end(date(2026, 11, 25), 4) == date(2026, 12, 23)
    assert rules.notice_end(date(2026, 12, 30), 1) == date(2027, 1, 6)


def test_a_bad_period_is_refused_with_a_short_quote_of_what_was_typed():
    for not_text in (None, 202648, b"2026-W48"):
        with pytest.raises(ValueError, match="is not an ISO week like 2026-W48"):
            rules.parse_period(not_text)
    with pytest.raises(ValueError, match=r"^'2026-W60' is not an ISO week like 2026-W48$"):
        rules.parse_period("2026-W60")
    with pytest.raises(ValueError, match=r"^'2026-W48 and then so' is not"):
        rules.parse_period("2026-W48 and then some more words")


def test_a_run_may_post_from_eight_weeks_back_to_one_week_ahead():
    today = date(2026, 11, 25)  # a Wednesday in 2026-W48
    assert rules.run_period("2026-W48", today=today) == (date(2026, 11, 23), date(2026, 11, 29))
    assert rules.run_period("2026-W40", today=today) == (date(2026, 9, 28), date(2026, 10, 4))
    assert rules.run_period("2026-W49", today=today) == (date(2026, 11, 30), date(2026, 12, 6))
    for outside in ("2026-W39", "2026-W50"):
        with pytest.raises(ValueError, match=rf"^{outside} is outside the weeks a run may use: from 2026-W40 to 2026-W49 \(8 weeks back to 1 ahead\)$"):
            rules.run_period(outside, today=today)
    # Sunday is still in its week; the next Monday starts a new one.
    assert rules.run_period("2026-W49", today=date(2026, 11, 29))
    with pytest.raises(ValueError):
        rules.run_period("2026-W40", today=date(2026, 11, 30))


def test_a_membership_covers_a_week_if_any_day_of_it_is_inside_its_dates():
    monday, sunday = date(2026, 11, 23), date(2026, 11, 29)

    def covers(start, end):
        return rules.covers_week(start=start, end=end, monday=monday, sunday=sunday)

    assert covers(sunday, None) and covers(None, monday) and covers(None, None)
    assert covers(date(2026, 11, 1), date(2026, 12, 31)) and covers(monday, sunday)
    assert not covers(sunday + timedelta(days=1), None)
    assert not covers(None, monday - timedelta(days=1))
    assert not covers(date(2026, 11, 1), date(2026, 11, 22))


# Distance.

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


def test_one_degree_along_a_meridian_or_the_equator_is_the_mean_radius_times_pi_over_180():
    one_degree = EARTH_RADIUS_KM * math.pi / 180
    assert haversine_km(0, 0, 1, 0) == pytest.approx(one_degree, abs=1e-6)
    assert haversine_km(51, -1, 52, -1) == pytest.approx(one_degree, abs=1e-6)
    assert haversine_km(0, 0, 0, 1) == pytest.approx(one_degree, abs=1e-6)
    assert haversine_km(51.5, 0.1, 51.5, 0.1) == 0


def test_antipodes_are_half_the_circumference_apart_even_when_rounding_overshoots():
    # For this pair the haversine term rounds to 1.0000000000000002, a hair above its true maximum of 1.
    assert haversine_km(-11.056008330198168, -1.4992175852974583, 11.056008330198168, 178.5007824147025) == pytest.approx(
        math.pi * EARTH_RADIUS_KM, abs=1e-6)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM, abs=1e-6)


latitudes = st.floats(min_value=-89, max_value=89)
longitudes = st.floats(min_value=-180, max_value=180)


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_agrees_with_the_spherical_law_of_cosines(lat1, lon1, lat2, lon2):
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    expected = EARTH_RADIUS_KM * math.acos(max(-1.0, min(1.0, cosine)))
    assert haversine_km(lat1, lon1, lat2, lon2) == pytest.approx(expected, abs=1e-3)
    assert haversine_km(lat2, lon2, lat1, lon1) == pytest.approx(haversine_km(lat1, lon1, lat2, lon2), abs=1e-9)


# Suggestions: 3 points per member sharing a language other than English (1 for English), for at
# most 5 members; 2 per shared need; up to 5 for nearness (5 minus the km); full groups are skipped.

HOME = (51.5, -0.1)


def group(cluster_id, **changes):
    """Return a cluster as suggest() takes it: open, at the holder's home, sharing nothing."""
    cluster = {"id": cluster_id, "lat": None, "lon": None, "kinds": [], "members": 3, "max_size": 8,
               "member_languages": [], "member_needs": []}
    cluster.update(changes)
    return cluster


def suggest(clusters, languages=("so", "en"), needs=("home_care",), **kwargs):
    names = {"so": "Somali", "en": "English", "bn": "Bengali"}
    return rules.suggest(holder_languages=list(languages), holder_needs=list(needs), holder_location=HOME, clusters=clusters,
                         language_name=names.get, service_name=lambda s: s.replace("_", " "), **kwargs)


def test_a_shared_language_scores_three_a_member_and_english_one_for_at_most_five_members():
    ranked = suggest([
        group(1, member_languages=["so", "so", "bn"]),
        group(2, member_languages=["en", "en"]),
        group(3, member_languages=["so"] * 7, members=7),
        group(4, member_languages=["so"]),
    ])
    assert [(s.cluster_id, s.score, s.reason) for s in ranked] == [
        (3, 15.0, "7 members speak Somali"),
        (1, 6.0, "2 members speak Somali"),
        (4, 3.0, "1 member speaks Somali"),
        (2, 2.0, "2 members speak English"),
    ]


def test_when_as_many_members_speak_english_as_another_shared_language_the_other_is_named():
    [only] = suggest([group(1, member_languages=["en", "so"])], languages=("en", "so"))
    assert (only.score, only.reason) == (3.0, "1 member speaks Somali")


def test_shared_needs_score_two_each_and_the_reason_names_the_first_two():
    ranked = suggest([
        group(1, member_needs=["respite", "home_care", "day_care", "meals"]),
        group(2, member_needs=["respite"]),
    ], languages=(), needs=("respite", "home_care", "meals"))
    assert [(s.cluster_id, s.score, s.reason) for s in ranked] == [
        (1, 6.0, "shares your need for home care and meals"),
        (2, 2.0, "shares your need for respite"),
    ]


def test_language_need_and_nearness_scores_add_up():
    [only] = suggest([group(1, lat=HOME[0], lon=HOME[1], member_languages=["so", "so"], member_needs=["home_care"])])
    assert (only.score, only.reason) == (3 * 2 + 2 + 5, "2 members speak Somali; shares your need for home care; less than 0.1 km away")


def test_nearness_scores_five_minus_the_distance_and_a_group_without_a_place_scores_none():
    near = (HOME[0] + 0.01, HOME[1])
    km = haversine_km(*HOME, *near)
    ranked = suggest([
        group(1, lat=near[0], lon=near[1]),
        group(2, lat=HOME[0], lon=HOME[1], member_languages=["en"]),
        group(3, lat=HOME[0] + 1, lon=HOME[1]),
        group(4, member_languages=["en"]),
    ], languages=("en",))
    assert [(s.cluster_id, s.score, s.reason) for s in ranked] == [
        (2, 6.0, "1 member speaks English; less than 0.1 km away"),
        (1, round(5 - km, 6), f"{km:.1f} km away"),
        (4, 1.0, "1 member speaks English"),
    ]
    assert ranked[1].score != round(5 - km, 5)  # scores keep six decimals


def test_a_group_with_nothing_in_common_is_not_suggested_even_when_just_starting():
    assert suggest([group(1, members=1, member_languages=["bn"], member_needs=["meals"])]) == []
    [starting] = suggest([group(1, members=1, member_languages=["so"])])
    assert starting.reason == "1 member speaks Somali; just starting"
    [two] = suggest([group(1, members=2, member_languages=["so", "so"])])
    assert two.reason == "2 members speak Somali"


def test_full_groups_are_skipped_and_the_rest_are_ranked_by_score_then_id_up_to_the_limit():
    clusters = [group(1, members=8, member_languages=["so"])] + [group(i, member_languages=["so"]) for i in (9, 3, 7, 5, 8, 4)]
    clusters.append(group(2, member_languages=["so", "so"]))
    assert [s.cluster_id for s in suggest(clusters)] == [2, 3, 4, 5, 7]
    assert [s.cluster_id for s in suggest(clusters, limit=2)] == [2, 3]


def test_a_suggestion_read_by_someone_acting_for_the_holder_names_them():
    ranked = suggest([group(1, member_needs=["home_care"])], whose="Amina Hassan's")
    assert "shares Amina Hassan's need for home care" in ranked[0].reason and "your" not in ranked[0].reason


def test_a_group_that_has_not_started_asks_no_notice_of_a_member_leaving():
    assert rules.notice_weeks_of("forming", 4) == 0
    assert rules.notice_weeks_of(ClusterStatus.active, 4) == 4
    assert rules.notice_weeks_of("closing", 6) == 6


# --- who shares a cost from now on ----------------------------------------------------------------

TODAY = date(2026, 12, 1)


def test_a_member_on_notice_shares_a_cost_only_until_their_last_day_and_one_gone_not_at_all():
    live = {1: None, 2: date(2026, 12, 29), 3: None, 5: date(2026, 11, 30)}
    sharing = rules.who_shares([3, 1, 2, 4, 5], live, TODAY)
    # 4 is in the group no longer; 5's last day was yesterday (their share not yet settled).
    assert sharing == rules.Sharing(staying=(1, 3), leaving=((2, date(2026, 12, 29)),), gone=(4, 5))
    assert rules.who_shares([2], {2: TODAY}, TODAY).leaving == ((2, TODAY),)


@pytest.mark.parametrize(("live", "said"), [
    ({1: None, 2: None}, "shared by 2 members"),
    ({1: None, 2: date(2027, 1, 12)}, "shared by 1 member (and 1 leaving the group on 12 January 2027, who pays until then)"),
    ({1: date(2027, 1, 12), 2: date(2027, 1, 12), 3: None},
     "shared by 1 member (and 2 leaving the group on 12 January 2027, who pay until then)"),
    ({1: date(2027, 1, 19), 2: date(2027, 1, 12), 3: None},
     "shared by 1 member (and 2 leaving the group on 12 January 2027 and 19 January 2027, who pay until then)"),
    ({1: date(2027, 1, 12), 2: date(2027, 1, 12)}, "for 2 members leaving the group on 12 January 2027, who pay until then; nobody shares it after that"),
    ({1: None}, "shared by 1 member; 1 member it was for has left the group"),
    ({}, "shared by nobody in the group now; 2 members it was for have left the group"),
])
def test_who_shares_a_cost_is_said_in_plain_words(live, said):
    assert rules.sharing_words(rules.who_shares([1, 2, 3] if 3 in live else [1, 2], live, TODAY)) == said
