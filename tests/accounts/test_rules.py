"""Pure sign-in rules, without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
