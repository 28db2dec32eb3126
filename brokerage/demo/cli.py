"""`brokerage demo`: load the demo councils and print the demo logins."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from rich.console import Console
from rich.table import Table

from brokerage.commands import fail
from brokerage.db import session_scope
from brokerage.errors import ConfigError
from brokerage.demo.services import load_demo
from brokerage.validation import control_character_problem

DEFAULT_DEMO_PASSWORD = "carepool-demo-2026"


@click.command("demo")
@click.option("--password", default=None, help="Password for every demo account (default: CAREPOOL_DEMO_PASSWORD or a fixed demo value).")
@with_appcontext
def demo_command(password: str | None) -> None:
    """Load a realistic demo council and print the demo sign-in details."""
    if current_app.config["ENV_MODE"] == "production":
        click.echo("error: refusing to load demo accounts in production (set CAREPOOL_ENV=development)", err=True)
        sys.exit(2)
    password = password or os.environ.get("CAREPOOL_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    if problem := control_character_problem(password):
        fail(f"--password (or CAREPOOL_DEMO_PASSWORD): {problem}")
    console = Console(stderr=False, width=max(Console().width, 110))
    try:
        with console.status("Loading the demo council…"), session_scope() as session:
            logins = load_demo(session=session, password=password, stripe_config=current_app.config)
    except ConfigError as error:  # no local Stripe server to pay the demo's providers through
        fail(error.message)
    table = Table(title="Demo sign-in details (password for all: " + password + ")")
    table.add_column("Role", no_wrap=True)
    table.add_column("Email", no_wrap=True)
    table.add_column("Name")
    table.add_column("Council")
    for login in logins:
        table.add_row(login.role, login.email, login.name, login.council)
    console.print(table)
