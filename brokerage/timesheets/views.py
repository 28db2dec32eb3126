"""Timesheet pages: the provider's weeks, one sheet (record visits, submit, approve or send back), the approval list, choosing the approver."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, noting_changes, writes_when_reading
from brokerage.errors import BrokerageError, NotAllowed
from brokerage.formatting import pounds, week_of
from brokerage.forms import refuse, refuse_in_flash, undone_if_sent
from brokerage.timesheets import approval, approvers, pages, queries, rules, sheets
from brokerage.timesheets.schemas import ApproverForm, RejectForm, StartForm, VisitForm

blueprint = Blueprint("timesheets", __name__, url_prefix="/timesheets")
READERS = (Role.provider, Role.broker, Role.council_officer, Role.holder, Role.representative)
DECIDERS = (Role.broker, Role.holder, Role.representative)


@blueprint.app_template_global("pay_rule")
def pay_rule() -> str:
    """Return how a week's pay and its care and travel lines are worked out, for every page that shows them."""
    return rules.PAY_RULE


@blueprint.route("/")
@roles_required(Role.provider)
def index():
    """List the provider's contracts with their weeks and timesheets."""
    contracts = pages.provider_weeks(session=get_session(), actor=current_user)
    return render_template("timesheets/index.html", contracts=contracts, start_form=StartForm(formdata=None))


@blueprint.route("/contracts/<int:contract_id>/start", methods=["POST"])
@roles_required(Role.provider)
def start(contract_id: int):
    """Start (or open) a contract's timesheet for a week."""
    form = StartForm()
    try:
        sheet = sheets.start_sheet(session=get_session(), actor=current_user, contract_id=contract_id, week=form.week.data or "")
    except BrokerageError as error:
        refuse_in_flash(error, " ".join(m for ms in getattr(error, "errors", {}).values() for m in ms) or None)
        return redirect(url_for("timesheets.index"))
    return redirect(url_for("timesheets.show", timesheet_id=sheet.id))


@blueprint.route("/waiting")
@roles_required(Role.broker, Role.council_officer)
def waiting():
    """List the council's timesheets waiting for approval."""
    rows = queries.waiting_for_staff(session=get_session(), actor=current_user)
    return render_template("timesheets/waiting.html", rows=rows)


def _show(timesheet_id: int, *, visit_form: VisitForm | None = None, reject_form: RejectForm | None = None, status: int = 200):
    page = pages.sheet_page(session=get_session(), actor=current_user, timesheet_id=timesheet_id)
    visit_form = visit_form or VisitForm(formdata=None, prefix="visit")
    visit_form.set_choices(page.members, page.days)
    return render_template("timesheets/show.html", page=page, visit_form=visit_form,
                           reject_form=reject_form or RejectForm(formdata=None, prefix="reject")), status


@blueprint.route("/<int:timesheet_id>")
@writes_when_reading  # staff reads of members' care go to the access log
@roles_required(*READERS)
def show(timesheet_id: int):
    """Show a week's timesheet: its visits, pay, travel and who pays what."""
    return _show(timesheet_id)


@blueprint.route("/<int:timesheet_id>/visits", methods=["POST"])
@roles_required(Role.provider)
def add_visit(timesheet_id: int):
    """Record a visit on the sheet."""
    session = get_session()
    page = pages.sheet_page(session=session, actor=current_user, timesheet_id=timesheet_id)
    form = VisitForm(prefix="visit")
    form.set_choices(page.members, page.days)
    status = 422
    if form.validate_on_submit():
        try:
            sheets.add_visit(session=session, actor=current_user, timesheet_id=timesheet_id, **form.visit())
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            flash("The visit is recorded.", "success")
            return redirect(url_for("timesheets.show", timesheet_id=timesheet_id, _anchor="visits"))
    return _show(timesheet_id, visit_form=form, status=status)


@blueprint.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@roles_required(Role.provider)
def edit_visit(visit_id: int):
    """Change a visit on a sheet that is not sent yet, or was sent back."""
    session = get_session()
    visit, page = pages.visit_page(session=session, actor=current_user, visit_id=visit_id)
    form = VisitForm()
    form.set_choices(page.members, page.days)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                with noting_changes(session) as changes:
                    sheets.change_visit(session=session, actor=current_user, visit_id=visit_id, **form.visit())
            except BrokerageError as error:
                status = refuse(form, error)
            else:
                flash("Nothing was changed: the visit is as it was." if changes.none else "The visit is changed.", "info" if changes.none else "success")
                return redirect(url_for("timesheets.show", timesheet_id=page.sheet.id, _anchor="visits"))
    else:
        form.fill(visit)
        form.set_choices(page.members, page.days)
    return render_template("timesheets/edit_visit.html", form=form, page=page, visit=visit), status


@blueprint.route("/visits/<int:visit_id>/remove", methods=["GET", "POST"])
@roles_required(Role.provider)
def remove_visit(visit_id: int):
    """Remove a visit from a sheet that is not sent yet, or was sent back, once the provider has said yes to the question (GET)."""
    if request.method == "GET":
        visit, page = pages.visit_page(session=get_session(), actor=current_user, visit_id=visit_id)
        return render_template("timesheets/remove_visit.html", page=page, visit=visit, member=dict(page.members).get(visit.holder_id, "A member"))
    try:
        sheet = sheets.remove_visit(session=get_session(), actor=current_user, visit_id=visit_id)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("timesheets.index"))
    flash("The visit is removed.", "success")
    return redirect(url_for("timesheets.show", timesheet_id=sheet.id, _anchor="visits"))


@blueprint.route("/<int:timesheet_id>/submit", methods=["POST"])
@roles_required(Role.provider)
def submit(timesheet_id: int):
    """Send the sheet for approval."""
    try:
        sheet = sheets.submit(session=get_session(), actor=current_user, timesheet_id=timesheet_id)
    except BrokerageError as error:
        refuse_in_flash(error)
    else:
        flash(f"The timesheet for the {week_of(sheet.week)} is sent for approval.", "success")
    return redirect(url_for("timesheets.show", timesheet_id=timesheet_id))


@blueprint.route("/<int:timesheet_id>/approve", methods=["POST"])
@roles_required(*DECIDERS)
def approve(timesheet_id: int):
    """Approve the sheet: the week's care is paid from the members' pool shares to what the group owes the provider."""
    try:
        sheet = approval.approve(session=get_session(), actor=current_user, timesheet_id=timesheet_id)
    except NotAllowed:
        raise  # a member who is not the approver gets the 403 page: there is no button for them to press
    except BrokerageError as error:
        refuse_in_flash(error)
    else:
        flash(f"The timesheet is approved: {pounds(sheet.total_pence)} moved from the members' shares of the pool. The provider is paid in the council's next payment run.", "success")
    return redirect(url_for("timesheets.show", timesheet_id=timesheet_id))


@blueprint.route("/<int:timesheet_id>/reject", methods=["POST"])
@roles_required(*DECIDERS)
def reject(timesheet_id: int):
    """Send the sheet back to the provider with a reason."""
    form = RejectForm(prefix="reject")
    status = 422
    if form.validate_on_submit():
        try:
            approval.reject(session=get_session(), actor=current_user, timesheet_id=timesheet_id, reason=form.reason.data)
        except NotAllowed:
            raise  # not the approver: the 403 page, not a message beside the reason
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            flash("The timesheet is sent back to the provider with your reason.", "success")
            return redirect(url_for("timesheets.show", timesheet_id=timesheet_id))
    return _show(timesheet_id, reject_form=form, status=status)


@blueprint.route("/groups/<int:cluster_id>/approver", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker)
def choose_approver(cluster_id: int):
    """Put to the group's vote which member approves its timesheets."""
    session = get_session()
    cluster, members, current = approvers.choose_page(session=session, actor=current_user, cluster_id=cluster_id,
                                                      undone=undone_if_sent(approvers.CHOICE_NOT_PUT))
    form = ApproverForm()
    form.holder_id.choices = [SelectChoice(str(h.id), h.name) for h in members]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                proposal = approvers.propose_approver(session=session, actor=current_user, cluster_id=cluster_id, holder_id=form.holder_id.data)
            except BrokerageError as error:
                status = refuse(form, error)
            else:
                flash("Your proposal has been put to the members.", "success")
                return redirect(url_for("clusters.proposal", proposal_id=proposal.id))
    return render_template("timesheets/approver.html", form=form, cluster=cluster, current=current), status
