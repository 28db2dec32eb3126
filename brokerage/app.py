"""The application factory: builds the app, its extensions, blueprints, error pages and commands.

The top layer: it imports every domain's views, so nothing below it may import this module.
`brokerage.create_app` loads it on first use.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from brokerage import cli, db, formatting, handlers, security, settings, wiring
from brokerage.accounts import views as accounts_views
from brokerage.audit import views as audit_views
from brokerage.auditpack import views as auditpack_views
from brokerage.clusters import views as clusters_views
from brokerage.contracts import views as contracts_views
from brokerage.dashboard import views as dashboard_views
from brokerage.extensions import csrf, init_limiter, login_manager
from brokerage.holders import views as holders_views
from brokerage.ledger import views as ledger_views
from brokerage.matching import views as matching_views
from brokerage.payments import run_views as payrun_views
from brokerage.payments import views as payments_views
from brokerage.providers import views as providers_views
from brokerage.surplus import views as surplus_views
from brokerage.spending import views as spending_views
from brokerage.timesheets import views as timesheets_views
from brokerage.transparency import views as transparency_views


class CarepoolFlask(Flask):
    """Flask with one commit point per request, as indico's request handler has (`db.finish_request`)."""

    def dispatch_request(self):
        """Run the view, then commit its work if the answer is a success and roll it back if not."""
        response = self.make_response(super().dispatch_request())
        db.finish_request(response.status_code)
        return response


def create_app(config: dict | None = None, *, serving: bool = True) -> Flask:
    """Build and configure the Flask application; `serving=False` for commands that serve no web request."""
    root = Path(__file__).resolve().parent.parent
    app = CarepoolFlask(
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
    wiring.connect_domains()
    return app


def register_converters(app: Flask) -> None:
    """Bound <int:...> URL parts to database ids in ASCII digits, so a huge number or another script's digit is a 404."""

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
    csrf.init_app(app)
    login_manager.init_app(app)
    init_limiter(app)


def register_database(app: Flask) -> None:
    """Create the engine and the per-request session."""
    db.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Attach every domain's blueprint."""
    for blueprint in (accounts_views.blueprint, dashboard_views.blueprint, holders_views.blueprint, clusters_views.blueprint,
                      providers_views.blueprint, providers_views.public, ledger_views.blueprint, audit_views.blueprint, matching_views.blueprint,
                      payments_views.blueprint, payrun_views.blueprint, timesheets_views.blueprint, contracts_views.blueprint,
                      surplus_views.blueprint, auditpack_views.blueprint, spending_views.blueprint, transparency_views.blueprint):
        app.register_blueprint(blueprint)


def register_errors(app: Flask) -> None:
    """Turn domain errors and HTTP errors into pages or JSON."""
    handlers.init_app(app)


def register_security(app: Flask) -> None:
    """Add security headers to every response."""
    security.init_app(app)


def register_template_helpers(app: Flask) -> None:
    """Make money formatting and role names available in templates."""
    formatting.init_app(app)


def register_commands(app: Flask) -> None:
    """Register the CLI subcommand groups."""
    cli.register(app)
