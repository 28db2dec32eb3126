"""Pure sign-in rules, without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from brokerage.accounts import rules

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def test_failures_below_the_limit_only_count():
    assert rules.after_failed_sign_in(2, NOW, max_failures=5, lock_minutes=15) == (3, None)


def test_reaching_the_limit_locks_for_the_configured_minutes_and_resets_the_count():
    assert rules.after_failed_sign_in(4, NOW, max_failures=5, lock_minutes=15) == (0, NOW + timedelta(minutes=15))


def test_a_lock_holds_until_its_expiry():
    assert rules.is_locked(NOW + timedelta(seconds=1), NOW)
    assert not rules.is_locked(NOW, NOW)
    assert not rules.is_locked(None, NOW)


def test_only_local_paths_are_safe_redirects():
    assert rules.is_safe_next("/dashboard")
    assert rules.is_safe_next("/clusters/3?tab=members")
    for unsafe in (None, "", "dashboard", "//evil.example", "https://evil.example", "/\\evil", "javascript:alert(1)", "/\x00x"):
        assert not rules.is_safe_next(unsafe), unsafe


def test_emails_are_compared_trimmed_and_lower_case():
    assert rules.normalise_email("  Bola@Example.ORG ") == "bola@example.org"


def test_a_path_with_three_slashes_or_a_control_character_is_not_a_safe_redirect_but_spaces_are_fine():
    for unsafe in ("//", "///evil.example", "/\tx", "/x\x1f", "/x\n"):
        assert not rules.is_safe_next(unsafe), unsafe
    assert rules.is_safe_next("/clusters?name=Tea and talk")


STRONG = "correct horse battery staple"


def test_a_password_needs_at_least_twelve_characters():
    assert rules.password_problem("Tr0ub4dor&3x") is None
    assert rules.password_problem("Tr0ub4dor&3") == "Use a password of at least 12 characters"


def test_a_password_needs_at_least_five_different_characters_whatever_their_case():
    hard = "Use a password that is harder to guess: more different letters, numbers or words"
    assert rules.password_problem("abcdABCDabcd") == hard
    assert rules.password_problem("aaaaaaaaaaaa") == hard
    assert rules.password_problem("abcdeABCDEab") is None


def test_a_password_may_not_contain_the_name_part_of_the_email_address_in_any_case():
    assert rules.password_problem("my-BOLA.ADE-password", email="bola.ade@example.org") == (
        "Do not use 'bola.ade', the first part of your email address, in your password")
    assert rules.password_problem(STRONG, email="horse@example.org") == (
        "Do not use 'horse', the first part of your email address, in your password")


def test_the_email_domain_and_names_shorter_than_four_letters_may_appear_in_a_password():
    assert rules.password_problem("example.org is my favourite", email="bola.ade@example.org") is None
    assert rules.password_problem(STRONG, email="bat@example.org") is None
    assert rules.password_problem(STRONG, email="") is None
    assert rules.password_problem(STRONG, email="batt@example.org") == (
        "Do not use 'batt', the first part of your email address, in your password")


def test_a_session_expires_at_its_maximum_age_and_ends_when_idle_for_the_idle_time():
    limits = dict(idle_minutes=30, max_hours=12)
    start = 1_000_000
    assert rules.session_end_reason(start, start + 29 * 60, start + 59 * 60 - 1, **limits) is None
    assert rules.session_end_reason(start, start + 29 * 60, start + 59 * 60, **limits) == "idle"
    assert rules.session_end_reason(start, start + 12 * 3600 - 1, start + 12 * 3600 - 1, **limits) is None
    assert rules.session_end_reason(start, start + 12 * 3600 - 1, start + 12 * 3600, **limits) == "expired"
    # Both at once: the maximum age is the reason given.
    assert rules.session_end_reason(start, start, start + 13 * 3600, **limits) == "expired"


def test_a_session_without_a_sign_in_or_last_seen_time_has_expired():
    assert rules.session_end_reason(None, 5, 10, idle_minutes=30, max_hours=12) == "expired"
    assert rules.session_end_reason(5, None, 10, idle_minutes=30, max_hours=12) == "expired"


def test_a_session_id_is_an_account_id_and_a_version_in_ascii_digits():
    assert rules.parse_session_id("12:3") == (12, 3)
    assert rules.parse_session_id("0:0") == (0, 0)
    assert rules.parse_session_id("1234567890:1234567890") == (1234567890, 1234567890)


def test_a_malformed_session_id_is_refused():
    for bad in (None, "", "12", "12:", ":3", "a:1", "1:b", "12:3:4", "-1:3", "1:+3", " 1:3", "١٢:3", "12:٣", "12345678901:1", "1:12345678901"):
        assert rules.parse_session_id(bad) is None, bad


@pytest.mark.parametrize(("password", "reason"), [
    ("password1234", "it is one of the passwords people use most often, or close to one"),
    ("Password1234!", "it is one of the passwords people use most often, or close to one"),
    ("qwertyuiop123", "it is one of the passwords people use most often, or close to one"),
    ("12345678901234", "it is one of the passwords people use most often, or close to one"),
    ("riverside2026", None),
    ("carepoolcarepool", "it repeats the same letters, numbers or words"),
])
def test_a_password_people_use_most_or_a_word_and_a_year_is_refused_with_its_reason(password, reason):
    expected = "This password is too easy to guess" + (f": {reason}" if reason else "") + ". Try three or four unusual words together"
    assert rules.password_problem(password) == expected


def test_a_password_may_not_hold_the_persons_full_name_however_it_is_spaced():
    assert rules.password_problem("Hodan Warsame 1", email="h.w@example.org") is None
    for password in ("Hodan Warsame 1", "hodan.warsame.1952", "HODANWARSAME!!"):
        assert rules.password_problem(password, email="h.w@example.org", name="Hodan Warsame") == "Do not use your name in your password"


def test_only_the_first_72_characters_are_weighed_so_a_long_password_is_quick(monkeypatch):
    weighed = []
    real = rules.zxcvbn
    monkeypatch.setattr(rules, "zxcvbn", lambda password, user_inputs: weighed.append(password) or real(password, user_inputs=user_inputs))
    assert rules.password_problem("correct horse battery staple " * 400) is None  # zxcvbn's time grows fast with length
    assert weighed == [("correct horse battery staple " * 4)[:72]]
