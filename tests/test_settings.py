"""Configuration from the environment, and refusing unsafe production settings."""

from __future__ import annotations

import pytest

from brokerage import create_app
from brokerage.errors import ConfigError


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("CAREPOOL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_the_development_placeholder(monkeypatch):
    from brokerage.settings import DEVELOPMENT_SECRET

    monkeypatch.setenv("CAREPOOL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", DEVELOPMENT_SECRET)
    with pytest.raises(ConfigError):
        create_app()


def test_database_url_defaults_to_sqlite_under_instance(monkeypatch):
    monkeypatch.setenv("CAREPOOL_ENV", "development")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("instance/carepool.sqlite")


def test_an_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv("CAREPOOL_ENV", "staging")
    with pytest.raises(ConfigError):
        create_app()


def test_the_cli_lists_the_command_groups():
    from click.testing import CliRunner

    from brokerage.cli import main

    result = CliRunner().invoke(main, ["--help"], env={"CAREPOOL_ENV": "development"})
    assert result.exit_code == 0
    for group in ("db", "accounts", "demo", "worker", "bench"):
        assert group in result.output


def test_the_stripe_publishable_key_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CAREPOOL_ENV", "development")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_51Abc")
    assert create_app().config["STRIPE_PUBLISHABLE_KEY"] == "pk_test_51Abc"
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "")
    assert create_app().config["STRIPE_PUBLISHABLE_KEY"] is None


@pytest.mark.parametrize("key", ["sk_live_51Abc", "rk_test_51Abc", "pk_test_51Abc\"><script>", "whsec_1"])
def test_a_secret_or_strange_key_is_refused_as_the_publishable_key(monkeypatch, key):
    # The publishable key is written into pages for every holder's browser.
    monkeypatch.setenv("CAREPOOL_ENV", "development")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", key)
    with pytest.raises(ConfigError, match="STRIPE_PUBLISHABLE_KEY"):
        create_app()
