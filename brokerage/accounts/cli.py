"""`brokerage accounts`: create councils and users from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from brokerage.accounts import services
from brokerage.accounts.models import Role
from brokerage.accounts.schemas import CouncilSchema, NewUserSchema, load_or_refuse
from brokerage.commands import CommandGroup, PromptAtTerminal
from brokerage.db import session_scope
from brokerage.errors import BrokerageError, ValidationFailed
from brokerage.types import PERSON_ROLES
from brokerage.validation import CONTROL_MESSAGE, has_control_characters


@click.group("accounts", cls=CommandGroup)
def accounts_group() -> None:
    """Councils and user accounts."""


@accounts_group.command("create-council")
@click.option("--slug", required=True, help="Short name, e.g. tower-hamlets.")
@click.option("--name", required=True, help="The council's full name.")
@click.option("--districts", default="", help="Postcode districts, space separated.")
@with_appcontext
def create_council_command(slug: str, name: str, districts: str) -> None:
    """Add a council (checked by the same rules as the form)."""
    data = load_or_refuse(CouncilSchema(), {"slug": slug, "name": name, "area_districts": districts})
    with session_scope() as session:
        council = services.create_council(session=session, actor=None, **data)
        click.echo(f"Council {council.slug} created with id {council.id}.")


@accounts_group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in PERSON_ROLES]))
@click.option("--council", "council_slug", default=None, help="The council's short name (not for admins).")
@click.option("--password", cls=PromptAtTerminal, prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 12 characters and not easy to guess (asked for when left out, at a terminal only).")
@with_appcontext
def create_user_command(email: str, name: str, role: str, council_slug: str | None, password: str) -> None:
    """Add a user account (checked by the same rules as the form)."""
    data = load_or_refuse(NewUserSchema(), {"email": email, "name": name, "role": role})
    if has_control_characters(password):
        raise ValidationFailed({"password": CONTROL_MESSAGE})
    if council_slug is not None and role == Role.admin.value:
        raise ValidationFailed({"council": "Administrators belong to no council: leave out --council"})
    if council_slug is not None:
        council_slug = load_or_refuse(CouncilSchema(only=("slug",)), {"slug": council_slug})["slug"]
    with session_scope() as session:
        council_id = None
        if council_slug:
            council = services.find_council(session=session, slug=council_slug)
            if council is None:
                raise BrokerageError(f"there is no council called {council_slug!r}", field="council")
            council_id = council.id
        user = services.create_user(session=session, actor=None, password=password, council_id=council_id, **data)
        click.echo(f"Account {user.email} created with id {user.id}.")
