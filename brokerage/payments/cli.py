"""`brokerage payments`: reconcile Stripe with the ledger, restart a payment run that stopped, catch up on
missed Stripe events, and run the local Stripe-compatible server for the demo.

`reconcile` exits 0 when Stripe and the ledger agree, 1 when it lists differences, 2 with one line on
stderr for bad input (a date that is not YYYY-MM-DD, an unknown council, no STRIPE_SECRET_KEY), and 3
when Stripe could not be asked (nothing was compared).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, time

import click
import stripe
from flask import current_app
from flask.cli import with_appcontext
from rich.console import Console
from rich.table import Table
from sqlmodel import select

from brokerage.accounts.models import Council
from brokerage.commands import COUNCIL_SLUG, DATE, ID, OUT_FILE, CommandGroup, fail
from brokerage.db import session_scope
from brokerage.formatting import plural, pounds
from brokerage.clock import LONDON
from brokerage.errors import ConfigError
from brokerage.payments import gateway, reconcile, transfers, webhooks
from brokerage.payments.reconcile_rules import CONFIRM_DAYS, exit_code
from brokerage.payments.run_models import PaymentRun
from brokerage.payments.runs import ensure_restartable

STRIPE_FAILED = 3


@click.group("payments", cls=CommandGroup)
def payments_group() -> None:
    """Payment runs and reconciliation with Stripe."""


def _councils(session, slug: str | None) -> list[int]:
    if slug:
        council = session.exec(select(Council).where(Council.slug == slug)).first()
        if council is None:
            fail(f"there is no council called {slug!r}")
        return [council.id]
    return list(session.exec(select(Council.id).order_by(Council.id)))


@payments_group.command("reconcile")
@click.option("--since", type=DATE, required=True, help="First day to compare, as YYYY-MM-DD (a day in England).")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@click.option("--confirm-days", type=click.IntRange(0, 90), default=CONFIRM_DAYS, show_default=True,
              help="List money waiting in clearing for longer than this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def reconcile_command(since, council_slug, confirm_days, as_json) -> None:
    """Compare Stripe's transfers and balance transactions with the ledger; exit 1 when anything differs."""
    client = gateway.client(current_app.config)
    try:
        with session_scope() as session:
            councils = _councils(session, council_slug)
            report = reconcile.reconcile(session=session, client=client, council_ids=councils, since=since,
                                         every_council=council_slug is None, confirm_days=confirm_days)
    except stripe.StripeError as error:
        fail(f"Stripe could not be asked, so nothing was compared: {' '.join(str(error).split()) or type(error).__name__}", STRIPE_FAILED)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_table(report)
    sys.exit(exit_code(report.differences))


def _print_table(report: reconcile.Report) -> None:
    # A terminal wraps the table to its width; a file or pipe gets long lines, one difference per row.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(f"Compared {report.payouts} payout entries with {report.transfers} Stripe transfers since {report.since.isoformat()}.")
    if not report.differences:
        console.print("No differences: Stripe and the ledger agree.")
        return
    table = Table(title=plural(len(report.differences), "difference"))
    for column in ("What", "Payment", "Amount", "Stripe", "Likely cause"):
        table.add_column(column, overflow="fold")
    for d in report.differences:
        table.add_row(d.kind.label, d.key, pounds(d.amount_pence), d.stripe_id or "–", d.cause)
    console.print(table)


@payments_group.command("restart-run")
@click.argument("run_id", type=ID)
@with_appcontext
def restart_run_command(run_id: int) -> None:
    """Start a released payment run again after it stopped; nobody is paid twice."""
    with session_scope() as session:
        run = session.get(PaymentRun, run_id)
        if run is None:
            fail(f"there is no payment run {run_id}")
        council_id = ensure_restartable(run).council_id
    result = transfers.execute_run(council_id=council_id, run_id=run_id)
    if result.busy and not (result.sent or result.failed or result.waiting or result.unsure):
        fail(f"payment run {run_id} is being paid by another job right now; nothing was sent")
    click.echo(f"run {run_id}: {result.run_status}; sent {len(result.sent)}, refused {len(result.failed)}, still waiting {len(result.waiting)}, "
               f"to check with Stripe {len(result.unsure)}")
    sys.exit(1 if result.waiting or result.unsure else 0)



@payments_group.command("catch-up")
@click.option("--since", type=DATE, default=None, help="Only events from this day (YYYY-MM-DD); default: all Stripe keeps (30 days).")
@with_appcontext
def catch_up_command(since) -> None:
    """Fetch Stripe events that never reached the webhook, store them and give them their effect once."""
    try:
        client = gateway.client(current_app.config)
    except ConfigError as error:
        fail(str(error))
    moment = datetime.combine(since, time.min, tzinfo=LONDON) if since else None
    try:
        with session_scope() as session:
            new = webhooks.catch_up(session=session, client=client, since=moment)
    except stripe.StripeError as error:
        # Stripe's own message runs over several lines: `fail` puts it on one, as `reconcile` does.
        fail(f"Stripe could not be asked: {error.user_message or error}", STRIPE_FAILED)
    for event_id in new:
        with session_scope() as session:
            outcome = webhooks.process_event(session=session, event_id=event_id)
        click.echo(f"{event_id}: {outcome}")
    click.echo(f"{plural(len(new), 'missed event')} stored and processed.")


@payments_group.command("local-stripe")
@click.option("--port", type=click.IntRange(1, 65535), default=8421, show_default=True)
@click.option("--keep", type=OUT_FILE, default=None, help="Keep the server's objects in this file across restarts.")
@click.option("--webhook", default=None, help="Deliver signed events to this local URL, e.g. http://127.0.0.1:5000/stripe/webhook.")
@click.option("--webhook-secret", envvar="STRIPE_WEBHOOK_SECRET", default=None, help="The secret to sign them with (default: STRIPE_WEBHOOK_SECRET).")
def local_stripe_command(port: int, keep: str | None, webhook: str | None, webhook_secret: str | None) -> None:
    """Run the local Stripe-compatible server on 127.0.0.1 for the demo, until stopped (never for real money)."""
    import signal  # only this command waits for a signal

    try:
        from brokerage.payments import local_stripe  # a dev dependency (localstripe), needed by this command only
    except ImportError:
        fail("the local Stripe server needs the dev dependencies: pip install -e '.[dev]'")
    if webhook and not webhook_secret:
        fail("--webhook needs --webhook-secret or STRIPE_WEBHOOK_SECRET")
    try:
        server = local_stripe.start(port, keep=keep)
    except OSError as error:
        fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}")
    if webhook:
        try:
            server.send_webhooks_to(webhook, webhook_secret)
        except ValueError as error:
            server.stop()
            fail(str(error))
    click.echo(f"Local Stripe server on {server.url}" + (f", sending events to {webhook}" if webhook else "") + " (Ctrl+C to stop)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
