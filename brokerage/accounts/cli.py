"""`brokerage accounts`: create councils and users from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from brokerage.accounts.models import Role
from brokerage.errors import BrokerageError


@click.group("accounts")
def accounts_group() -> None:
    """Councils and user accounts."""


@accounts_group.command("create-council")
@click.option("--slug", required=True, help="Short name, e.g. tower-hamlets.")
@click.option("--name", required=True, help="The council's full name.")
@click.option("--districts", default="", help="Postcode districts, space separated.")
@with_appcontext
def create_council_command(slug: str, name: str, districts: str) -> None:
    """Add a council."""
    from brokerage.accounts import services
    from brokerage.db import session_scope

    try:
        with session_scope() as session:
            council = services.create_council(session=session, actor=None, slug=slug, name=name, area_districts=districts)
            click.echo(f"Council {council.slug} created with id {council.id}.")
    except BrokerageError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(2)


@accounts_group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--council", "council_slug", default=None, help="The council's short name (not for admins).")
@click.password_option("--password", help="At least 12 characters.")
@with_appcontext
def create_user_command(email: str, name: str, role: str, council_slug: str | None, password: str) -> None:
    """Add a user account."""
    from sqlmodel import select

    from brokerage.accounts import services
    from brokerage.accounts.models import Council
    from brokerage.db import session_scope

    try:
        with session_scope() as session:
            council_id = None
            if council_slug:
                council = session.exec(select(Council).where(Council.slug == council_slug)).first()
                if council is None:
                    raise BrokerageError(f"there is no council called {council_slug!r}", field="council")
                council_id = council.id
            user = services.create_user(
                session=session, actor=None, email=email, name=name, role=Role(role), password=password, council_id=council_id
            )
            click.echo(f"Account {user.email} created with id {user.id}.")
    except BrokerageError as error:
        detail = error.message
        if hasattr(error, "errors"):
            detail = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in error.errors.items())
        click.echo(f"error: {detail}", err=True)
        sys.exit(2)
