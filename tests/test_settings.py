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


PRODUCTION = {"CAREPOOL_ENV": "production", "SECRET_KEY": "a-real-random-secret-value-123456", "STRIPE_WEBHOOK_SECRET": "whsec_real",
              "DATABASE_URL": "sqlite://", "MAIL_SERVER": "smtp.council.example", "MAIL_DEFAULT_SENDER": "carepool <carepool@council.example>",
              "PUBLIC_URL": "https://carepool.council.example/"}


def _environment(monkeypatch, **values):
    for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_DEFAULT_SENDER", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_the_mail_settings_are_read_from_the_environment(monkeypatch):
    _environment(monkeypatch, **PRODUCTION, MAIL_PORT="587", MAIL_USERNAME="carepool", MAIL_PASSWORD="secret", MAIL_USE_TLS="1")
    config = create_app().config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == ("smtp.council.example", 587, "carepool", "secret")
    assert config["MAIL_USE_TLS"] is True and config["MAIL_USE_SSL"] is False
    assert config["PUBLIC_URL"] == "https://carepool.council.example"
    assert (config["INVITATION_DAYS"], config["RESET_LINK_MINUTES"]) == (7, 60)


@pytest.mark.parametrize(("missing", "named"), [("MAIL_SERVER", "MAIL_SERVER"), ("PUBLIC_URL", "PUBLIC_URL"), ("MAIL_DEFAULT_SENDER", "MAIL_DEFAULT_SENDER")])
def test_production_refuses_to_serve_without_a_mail_server_a_sender_or_its_public_address(monkeypatch, missing, named):
    _environment(monkeypatch, **{**PRODUCTION, missing: None})
    with pytest.raises(ConfigError, match=named):
        create_app()
    # Commands serve no web request and send no link: they still start.
    if missing != "MAIL_DEFAULT_SENDER":
        assert create_app(serving=False).config["ENV_MODE"] == "production"


def test_production_links_must_be_https(monkeypatch):
    _environment(monkeypatch, **{**PRODUCTION, "PUBLIC_URL": "http://carepool.council.example"})
    with pytest.raises(ConfigError, match="https://"):
        create_app()


@pytest.mark.parametrize(("values", "named"), [
    ({"MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"}, "not both"),
    ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS must be 1 or 0"),
    ({"PUBLIC_URL": "carepool.example"}, "PUBLIC_URL"),
    ({"MAIL_SERVER": "localhost"}, "MAIL_DEFAULT_SENDER"),
    ({"INVITATION_DAYS": "0"}, "INVITATION_DAYS"),
    ({"RESET_RATE_LIMIT": "lots"}, "RESET_RATE_LIMIT"),
    ({"APPLY_EMAIL_RATE_LIMIT": "a few"}, "APPLY_EMAIL_RATE_LIMIT"),
])
def test_mail_settings_that_cannot_work_are_refused_at_start(monkeypatch, values, named):
    _environment(monkeypatch, CAREPOOL_ENV="development", **values)
    with pytest.raises(ConfigError, match=named):
        create_app()


def test_without_a_mail_server_development_keeps_mail_in_the_outbox(monkeypatch):
    _environment(monkeypatch, CAREPOOL_ENV="development")
    app = create_app()
    with app.app_context():
        from brokerage.mail.services import uses_outbox

        assert uses_outbox() and app.config["MAIL_BACKEND"] == "smtp"


@pytest.mark.parametrize(("values", "named"), [
    ({"MAIL_PORT": "9" * 5000}, "MAIL_PORT must be a whole number of at least 1, not '999"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must be a Redis address"),
    ({"REDIS_URL": "unix:///run/redis.sock"}, "set RATELIMIT_STORAGE_URI too"),
    ({"RATELIMIT_STORAGE_URI": "bogus"}, "RATELIMIT_STORAGE_URI must be a store Flask-Limiter knows"),
])
def test_settings_int_redis_or_the_limiter_would_refuse_with_their_own_traceback_are_refused_at_start(monkeypatch, values, named):
    # Each crashed every command before: ValueError (int of 5,000 digits), redis's ValueError, limits' ConfigurationError.
    _environment(monkeypatch, CAREPOOL_ENV="development", **values)
    with pytest.raises(ConfigError, match=named):
        create_app(serving=False)


def test_a_unix_socket_redis_url_works_with_its_own_rate_limit_store(monkeypatch):
    _environment(monkeypatch, CAREPOOL_ENV="development", REDIS_URL="unix:///run/redis.sock", RATELIMIT_STORAGE_URI="memory://")
    assert create_app(serving=False).config["REDIS_URL"] == "unix:///run/redis.sock"


@pytest.mark.parametrize("name", ["CAREPOOL_ENV", "MAIL_USE_TLS", "RESET_RATE_LIMIT", "PUBLIC_URL", "INVITATION_DAYS"])
def test_a_refused_setting_is_quoted_short_and_on_one_line(monkeypatch, name):
    _environment(monkeypatch, **{"CAREPOOL_ENV": "development", name: "bad\nvalue " * 10_000})
    with pytest.raises(ConfigError) as refused:
        create_app(serving=False)
    assert name in refused.value.message and "\n" not in refused.value.message and len(refused.value.message) < 300
