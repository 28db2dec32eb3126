"""Carepool brokerage: pooled direct payments for adult social care."""

from __future__ import annotations

from flask import Flask


def create_app(config: dict | None = None, *, serving: bool = True) -> Flask:
    """Build and configure the Flask application; `serving=False` for commands that serve no web request."""
    from pathlib import Path

    from brokerage import settings

    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=str(root / "instance"),
        template_folder=str(root / "templates"),
    )
    app.config.from_mapping(settings.from_environment(instance_path=app.instance_path))
    if config:
        app.config.update(config)
    settings.check(app.config, serving=serving)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_converters(app)
    register_extensions(app)
    register_database(app)
    register_blueprints(app)
    register_errors(app)
    register_security(app)
    register_template_helpers(app)
    register_commands(app)
    from brokerage.wiring import connect_domains  # the factory imports what it wires, as every register_* does

    connect_domains()
    return app


def register_converters(app: Flask) -> None:
    """Bound <int:...> URL parts to database ids in ASCII digits, so a huge number or another script's digit is a 404."""
    from werkzeug.routing import IntegerConverter

    class IdConverter(IntegerConverter):
        # werkzeug's \d+ matches every script's digits ("/holders/١" would be holder 1): ASCII only.
        regex = r"[0-9]+"

        def __init__(self, url_map, *args, **kwargs):
            kwargs.setdefault("min", 1)
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = IdConverter


def register_extensions(app: Flask) -> None:
    """Bind the login manager, CSRF protection and the per-address rate limiter to the app."""
    from brokerage.extensions import csrf, init_limiter, login_manager

    csrf.init_app(app)
    login_manager.init_app(app)
    init_limiter(app)


def register_database(app: Flask) -> None:
    """Create the engine and the per-request session."""
    from brokerage import db

    db.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Attach every domain's blueprint."""
    from brokerage.accounts.views import blueprint as accounts
    from brokerage.audit.views import blueprint as audit
    from brokerage.clusters.views import blueprint as clusters
    from brokerage.dashboard.views import blueprint as dashboard
    from brokerage.holders.views import blueprint as holders
    from brokerage.ledger.views import blueprint as ledger
    from brokerage.matching.views import blueprint as matching
    from brokerage.providers.views import blueprint as providers

    for blueprint in (accounts, dashboard, holders, clusters, providers, ledger, audit, matching):
        app.register_blueprint(blueprint)


def register_errors(app: Flask) -> None:
    """Turn domain errors and HTTP errors into pages or JSON."""
    from brokerage import errors

    errors.init_app(app)


def register_security(app: Flask) -> None:
    """Add security headers to every response."""
    from brokerage import security

    security.init_app(app)


def register_template_helpers(app: Flask) -> None:
    """Make money formatting and role names available in templates."""
    from brokerage import formatting

    formatting.init_app(app)


def register_commands(app: Flask) -> None:
    """Register the CLI subcommand groups."""
    from brokerage.cli import register

    register(app)
