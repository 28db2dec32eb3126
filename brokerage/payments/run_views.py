"""Payment run pages: the runs list and preparing one, a run's page with release, restart and cancel, the
officer's reconciliation page, and a provider's payments with a remittance for each."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import stripe
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from brokerage import clock, jobs, validation
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, only_jobs_write, writes_when_reading
from brokerage.errors import BrokerageError, ConfigError, ValidationFailed
from brokerage.forms import refuse, refuse_in_flash
from brokerage.payments import gateway, line_checks, reconcile, remittance, runs
from brokerage.payments.schemas import CancelRunForm

blueprint = Blueprint("payruns", __name__, url_prefix="/payments")

EXECUTE = "payments.execute_run"
RECONCILE_DAYS = 30


@blueprint.route("/runs")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's payment runs, with the button to prepare one."""
    return render_template("payments/runs.html", page=runs.runs_page(session=get_session(), actor=current_user))


@blueprint.route("/runs", methods=["POST"])
@roles_required(Role.broker, Role.council_officer)
def prepare():
    """Prepare a payment run of everything payable now."""
    try:
        run = runs.prepare_run(session=get_session(), actor=current_user)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("payruns.index"))
    # A broker is no council officer: "another" would say they were one.
    checker = "Another council officer" if current_user.role == Role.council_officer else "A council officer"
    flash(f"Payment run {run.id} is prepared. {checker} must check and release it.", "success")
    return redirect(url_for("payruns.show", payment_run_id=run.id))


@blueprint.route("/runs/<int:payment_run_id>")
@roles_required(Role.broker, Role.council_officer)
def show(payment_run_id: int):
    """Show a run: its total and a line per provider, and the forms to release or cancel it."""
    return _show(payment_run_id, CancelRunForm(prefix="cancel"))


def _show(payment_run_id: int, cancel_form: CancelRunForm, status: int = 200):
    page = runs.run_page(session=get_session(), actor=current_user, run_id=payment_run_id)
    return render_template("payments/run.html", page=page, cancel_form=cancel_form), status


@blueprint.route("/runs/<int:payment_run_id>/release", methods=["POST"])
@roles_required(Role.council_officer)
def release(payment_run_id: int):
    """Release a run (maker-checker) and start paying it once the release is saved."""
    try:
        run = runs.release_run(session=get_session(), actor=current_user, run_id=payment_run_id)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("payruns.show", payment_run_id=payment_run_id))
    jobs.enqueue_after_commit(EXECUTE, council_id=run.council_id, run_id=run.id)
    flash(f"Payment run {run.id} is released. Payments are being sent.", "success")
    return redirect(url_for("payruns.show", payment_run_id=run.id))


@blueprint.route("/runs/<int:payment_run_id>/restart", methods=["POST"])
@only_jobs_write  # the payments are made by the job, in its own sessions
@roles_required(Role.council_officer)
def restart(payment_run_id: int):
    """Start a released run again after it stopped: lines already sent are never sent twice."""
    try:
        run = runs.check_restartable(session=get_session(), actor=current_user, run_id=payment_run_id)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("payruns.show", payment_run_id=payment_run_id))
    handle = jobs.enqueue(EXECUTE, council_id=run.council_id, run_id=run.id)
    # The job itself does nothing if another job has claimed the run since the check above.
    if handle.status == "failed":
        flash("The run could not be started again. Nothing more was sent. Try again later.", "error")
    else:
        flash(f"Payment run {run.id} was started again.", "success")
    return redirect(url_for("payruns.show", payment_run_id=run.id))


@blueprint.route("/lines/<int:payment_line_id>/check", methods=["POST"])
@roles_required(Role.council_officer)
def check_line(payment_line_id: int):
    """Ask Stripe whether a payment nobody is sure about was made, and settle it (sent, or money back in payable)."""
    session = get_session()
    line = line_checks.line_for_officer(session=session, actor=current_user, line_id=payment_line_id)
    back = url_for("payruns.show", payment_run_id=line.run_id, _anchor=f"line-{line.id}")
    try:
        message = line_checks.check_with_stripe(session=session, actor=current_user, line_id=line.id, client=gateway.client(current_app.config))
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(back)
    except stripe.StripeError as problem:
        refuse_in_flash(ConfigError(f"Stripe could not be asked just now ({type(problem).__name__}). Nothing was changed. Try again in a few minutes."))
        return redirect(back)
    flash(message, "success")
    return redirect(back)


@blueprint.route("/runs/<int:payment_run_id>/cancel", methods=["POST"])
@roles_required(Role.broker, Role.council_officer)
def cancel(payment_run_id: int):
    """Cancel a run that has not been released, saying why (beside the box when that is missing)."""
    form = CancelRunForm(prefix="cancel")
    status = 422
    if form.validate_on_submit():
        try:
            runs.cancel_run(session=get_session(), actor=current_user, run_id=payment_run_id, reason=form.reason.data)
        except ValidationFailed as error:
            status = refuse(form, error)
        except BrokerageError as error:
            refuse_in_flash(error)
            return redirect(url_for("payruns.show", payment_run_id=payment_run_id))
        else:
            flash(f"Payment run {payment_run_id} is cancelled. Nothing was paid.", "success")
            return redirect(url_for("payruns.index"))
    return _show(payment_run_id, form, status)


def _typed(day) -> str:
    """Return a day as an officer would type it into the box, e.g. 3/11/2026."""
    return f"{day.day}/{day.month}/{day.year}"


def _example() -> str:
    """Return a day to check from as an example, in both ways people in England write it: the first of last month (1/11/2026 or 1 November 2026)."""
    day = (clock.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    return f"{_typed(day)} or {day.day} {day:%B} {day.year}"


@blueprint.route("/reconcile")
@roles_required(Role.council_officer)
def reconciliation():
    """Compare Stripe with the ledger since a day (default: the last 30 days)."""
    text, example = request.args.get("since", "").strip(), _example()
    page = partial(render_template, "payments/reconcile.html", report=None, example=example)
    if "since" not in request.args:
        return page(since=_typed(clock.today() - timedelta(days=RECONCILE_DAYS)), error=None)
    try:
        if not text:
            raise ValueError(f"Enter the first day to check, for example {example}")
        since = validation.parse_typed_date(text)
        if since > clock.today():
            raise ValueError("Enter today or a day before it: Stripe has made no payments after today")
    except ValueError as problem:
        # The usual example is a day in the future, which this box refuses (tester R6-8): a past day instead.
        error = f"Enter a real date, for example {example}" if str(problem) == validation.TYPED_DATE_MESSAGE else str(problem)
        return page(since=text, error=error), 422
    try:
        report = reconcile.reconcile_for_officer(
            session=get_session(), actor=current_user, client=gateway.client(current_app.config), since=since,
        )
    except ConfigError as problem:
        return page(since=_typed(since), problem=problem.message), 503
    except stripe.StripeError as problem:
        message = f"Stripe could not be asked just now ({type(problem).__name__}). Nothing was changed. Try again in a few minutes."
        return page(since=_typed(since), problem=message), 503
    return page(report=report, since=_typed(since), error=None)


@blueprint.route("/mine")
@roles_required(Role.provider)
def mine():
    """Show the signed-in provider's payments."""
    return render_template("payments/mine.html", page=remittance.payments_page(session=get_session(), actor=current_user))


@blueprint.route("/lines/<int:payment_line_id>")
@writes_when_reading  # staff reads of members' care visits go to the access log
@roles_required(Role.provider, Role.broker, Role.council_officer)
def remittance_advice(payment_line_id: int):
    """Show what one payment is for: contracts, weeks and visits."""
    return render_template("payments/remittance.html", advice=remittance.remittance(session=get_session(), actor=current_user, line_id=payment_line_id))
