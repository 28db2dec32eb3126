"""Surplus pages for council officers: open flags and clawbacks waiting, a flag with the form to propose a clawback,
approving, rejecting or withdrawing one, and the council's rule."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, keep_changes_when_refused, noting_changes, writes_when_reading
from brokerage.errors import BrokerageError
from brokerage.formatting import pounds
from brokerage.forms import refuse, refuse_in_flash
from brokerage.surplus import queries, services, settings
from brokerage.surplus.schemas import RULE_HINTS, ProposeForm, RejectForm, SettingsForm

blueprint = Blueprint("surplus", __name__, url_prefix="/surplus")


@blueprint.route("")
@writes_when_reading  # an officer's read of the members' money it lists goes to the access log
@roles_required(Role.council_officer)
def index():
    """Show the council's open surplus flags per member and the clawbacks waiting for a second officer."""
    return render_template("surplus/index.html", page=queries.surplus_page(session=get_session(), actor=current_user))


@blueprint.route("/flags/<int:flag_id>", methods=["GET", "POST"])
@writes_when_reading  # an officer's read of one member's share goes to the access log
@roles_required(Role.council_officer)
def flag(flag_id: int):
    """Show a flag, and propose taking back its unspent money once the clawback notice given to the member has ended."""
    page = queries.flag_page(session=get_session(), actor=current_user, flag_id=flag_id)
    form = ProposeForm()
    if not form.is_submitted():
        form.amount.data = f"{page.flag.amount_pence / 100:.2f}"
        return render_template("surplus/flag.html", page=page, form=form)
    status = 422
    if form.validate_on_submit():
        try:
            clawback = services.propose_clawback(session=get_session(), actor=current_user, flag_id=flag_id,
                                                 amount_pence=form.amount.pence, reason=form.reason.data or "")
        except BrokerageError as error:
            status = refuse(form, error)
            # The refusal undid the request's changes, this read's access-log line with them: read the page again.
            page = queries.flag_page(session=get_session(), actor=current_user, flag_id=flag_id)
        else:
            flash(f"The clawback of {pounds(clawback.amount_pence)} from {page.holder.name}'s share is proposed. "
                  "Another council officer must check and approve it before anything is taken back.", "success")
            return redirect(url_for("surplus.index"))
    keep_changes_when_refused()  # the read of the member's record stays in the access log
    return render_template("surplus/flag.html", page=page, form=form), status


@blueprint.route("/clawbacks/<int:clawback_id>/approve", methods=["POST"])
@roles_required(Role.council_officer)
def approve(clawback_id: int):
    """Approve a clawback another officer proposed: the money moves from the share to the council's funding."""
    try:
        clawback = services.approve_clawback(session=get_session(), actor=current_user, clawback_id=clawback_id)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("surplus.index"))
    flash(f"Approved. {pounds(clawback.amount_pence)} was taken back to the council's funding.", "success")
    return redirect(url_for("surplus.index"))


@blueprint.route("/clawbacks/<int:clawback_id>/reject", methods=["POST"])
@roles_required(Role.council_officer)
def reject(clawback_id: int):
    """Reject a clawback another officer proposed; nothing is taken back."""
    form = RejectForm()
    if not form.validate_on_submit():
        refuse_in_flash(BrokerageError(" ".join(message for messages in form.errors.values() for message in messages)))
        return redirect(url_for("surplus.index"))
    try:
        services.reject_clawback(session=get_session(), actor=current_user, clawback_id=clawback_id, note=form.note.data or "")
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("surplus.index"))
    flash("Rejected. Nothing was taken back.", "success")
    return redirect(url_for("surplus.index"))


@blueprint.route("/clawbacks/<int:clawback_id>/withdraw", methods=["POST"])
@roles_required(Role.council_officer)
def withdraw(clawback_id: int):
    """Withdraw a clawback you proposed, before another officer decides it."""
    try:
        services.withdraw_clawback(session=get_session(), actor=current_user, clawback_id=clawback_id)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("surplus.index"))
    flash("Withdrawn. Nothing was taken back.", "success")
    return redirect(url_for("surplus.index"))


@blueprint.route("/settings", methods=["GET", "POST"], endpoint="settings")
@roles_required(Role.council_officer)
def rule_settings():
    """Set the council's surplus rule: which rule, its numbers, and the days of clawback notice."""
    current = settings.council_rule(session=get_session(), actor=current_user)
    form = SettingsForm()
    status = 200
    if not form.is_submitted():
        form.fill(current)
    elif form.validate_on_submit():
        try:
            with noting_changes(get_session()) as changes:
                saved = settings.set_rule(session=get_session(), actor=current_user, kind=form.kind.data, weeks=form.weeks.data,
                                          multiple=form.multiple.data, notice_days=form.notice_days.data)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            if changes.none:
                flash(f"Nothing was changed: the surplus rule is as it was. {saved.describe()}", "info")
            else:
                flash(f"The surplus rule is saved. {saved.describe()} The next daily review uses it.", "success")
            return redirect(url_for("surplus.index"))
    else:
        status = 422
    return render_template("surplus/settings.html", form=form, current=current, hints=RULE_HINTS), status
