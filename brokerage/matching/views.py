"""The broker's matching pages: demand, runs, review and adjust, send to groups, and the gap report."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user
from rq.exceptions import NoSuchJobError
from wtforms.fields.choices import SelectChoice

from brokerage import jobs
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, noting_changes, only_jobs_write
from brokerage.errors import BrokerageError
from brokerage.forms import refuse, refuse_in_flash, undone_if_sent
from brokerage.formatting import plural, words_list
from brokerage.matching import demand, parts, services
from brokerage.matching.errors import MatchingError
from brokerage.matching.schemas import AdjustForm, ClusterDemandForm, DemandLineForm, PartTimesForm, TimeLimitForm, WithdrawDemandForm

blueprint = Blueprint("matching", __name__, url_prefix="/matching")


@blueprint.app_errorhandler(MatchingError)
def answer_matching_error(error: MatchingError):
    """Answer an engine error raised in any request like any domain error (the engine itself imports no Flask)."""
    return current_app.handle_user_exception(BrokerageError(error.message, field=error.field, status=error.status))


def _demand_form(clusters, form=None) -> DemandLineForm:
    form = form or DemandLineForm(formdata=None)
    form.cluster_id.choices = [SelectChoice(str(c.id), c.name) for c in clusters]
    return form


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """Show the open demand, past runs, and the button to run matching."""
    data = demand.matching_page(session=get_session(), actor=current_user)
    job = _job_status()
    return render_template("matching/index.html", form=_demand_form(data.pop("clusters")), limit_form=_limit_form(data), job=job, **data)


def _limit_form(data: dict) -> TimeLimitForm:
    """The council's improvement time, as it stands, in its form."""
    return TimeLimitForm(formdata=None, time_limit=data["time_limit"])


def _job_status():
    """Return the status of the matching job this browser started, while it is queued or running."""
    job_id = cookie.get("matching_job")
    if not job_id or not current_app.config.get("REDIS_URL"):
        return None
    try:
        handle = jobs.fetch(job_id)
    except NoSuchJobError:  # the job expired from Redis: nothing to show
        cookie.pop("matching_job", None)
        return None
    if handle.status in ("finished", "failed"):
        cookie.pop("matching_job", None)
    return handle


@blueprint.route("/demand", methods=["POST"])
@roles_required(Role.broker)
def add_demand():
    """Add a demand line for a group."""
    session = get_session()
    data = demand.matching_page(session=session, actor=current_user)
    form = _demand_form(data.pop("clusters"), DemandLineForm())
    if form.validate_on_submit():
        try:
            services.add_demand_line(
                session=session, actor=current_user, cluster_id=form.cluster_id.data, service=form.service.data, slot_hours=form.slot_hours.data,
                languages=form.languages.data or [], language_required=form.language_required.data,
                carer_gender=form.carer_gender.data or None, max_rate_pence=form.max_rate.pence,
            )
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash("The request for care was added. Run matching to find care for it.", "success")
            return redirect(url_for("matching.index"))
    data = demand.matching_page(session=session, actor=current_user)
    data.pop("clusters")
    return render_template("matching/index.html", form=form, limit_form=_limit_form(data), **data), 422


@blueprint.route("/settings", methods=["POST"])
@roles_required(Role.broker)
def settings():
    """Set how long the council's matching runs improve their first answer."""
    session = get_session()
    form = TimeLimitForm()
    if form.validate_on_submit():
        try:
            services.set_match_time_limit(session=session, actor=current_user, council_id=current_user.council_id, seconds=form.time_limit.data)
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash(f"Matching runs now improve their answer for up to {plural(form.time_limit.data, 'second')}." if form.time_limit.data
                  else "Matching runs now give their first answer at once, with no time spent improving it.", "success")
            return redirect(url_for("matching.index"))
    data = demand.matching_page(session=session, actor=current_user)
    return render_template("matching/index.html", form=_demand_form(data.pop("clusters")), limit_form=form, **data), 422


@blueprint.route("/runs", methods=["POST"])
@only_jobs_write  # the run is a job, in its own session
@roles_required(Role.broker)
def run():
    """Run matching for the council (a job: inline, or on the worker with Redis)."""
    handle = jobs.enqueue("matching.run", council_id=current_user.council_id)
    if handle.status == "finished":
        flash(f"Matching finished: {handle.result['covered_hours']} of {plural(handle.result['demanded_hours'], 'hour')} covered.", "success")
        return redirect(url_for("matching.review", run_id=handle.result["run_id"]))
    if handle.status == "failed":
        flash("Matching could not run. Nothing was changed.", "error")
    else:
        cookie["matching_job"] = handle.id
        flash("Matching is running in the background. This page shows its progress.", "info")
    return redirect(url_for("matching.index"))


@blueprint.route("/runs/<int:run_id>")
@roles_required(Role.broker, Role.council_officer)
def review(run_id: int):
    """Review a run: what each group would get, from whom, and why; and what is missing."""
    data = services.review(session=get_session(), actor=current_user, run_id=run_id)
    return render_template("matching/review.html", forms={}, **data)


@blueprint.route("/assignments/<int:assignment_id>", methods=["POST"])
@roles_required(Role.broker)
def adjust(assignment_id: int):
    """Change a proposed assignment's hours by hand."""
    session = get_session()
    form = AdjustForm()
    run_id = services.assignment_run_id(session=session, actor=current_user, assignment_id=assignment_id)
    if form.validate_on_submit():
        try:
            with noting_changes(session) as changes:
                parts.adjust(session=session, actor=current_user, assignment_id=assignment_id, hours=form.hours.data)
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash("Nothing was changed: the hours are as they were." if changes.none else "The hours were changed.", "info" if changes.none else "success")
            return redirect(url_for("matching.review", run_id=run_id) + f"#assignment-{assignment_id}")
    data = services.review(session=session, actor=current_user, run_id=run_id)
    return render_template("matching/review.html", forms={assignment_id: form}, **data), 422


@blueprint.route("/assignments/<int:assignment_id>/times", methods=["GET", "POST"])
@roles_required(Role.broker)
def change_times(assignment_id: int):
    """Change the hours a proposed part gives in each time of day, within what the group still needs and the provider can work then."""
    session = get_session()
    try:
        # A change is checked against the room judged here, under the locks it takes (the run is judged once).
        room = parts.part_room(session=session, actor=current_user, assignment_id=assignment_id, to_change=request.method == "POST")
    except BrokerageError as error:  # sent to its group, or of a replaced run (another council's part is a 404)
        refuse_in_flash(error)
        return redirect(url_for("matching.review", run_id=services.assignment_run_id(session=session, actor=current_user, assignment_id=assignment_id)))
    form = PartTimesForm()
    form.room = room
    if not form.is_submitted():
        form.slot_hours.process(None, room.assignment.slot_hours)
    status = 200
    if form.validate_on_submit():
        try:
            with noting_changes(session) as changes:
                parts.change_times(session=session, actor=current_user, assignment_id=assignment_id, slot_hours=form.slot_hours.data, room=room)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            flash("Nothing was changed: the times are as they were." if changes.none else "The times were changed.", "info" if changes.none else "success")
            return redirect(url_for("matching.review", run_id=room.assignment.run_id) + f"#assignment-{assignment_id}")
    elif form.is_submitted():
        status = 422
    # Why "send" would hold it back, as the run's page says it (parts.not_fitting), judged with the room.
    return render_template("matching/times.html", room=room, form=form, why=room.held_because), status


@blueprint.route("/runs/<int:run_id>/send", methods=["POST"])
@roles_required(Role.broker)
def send(run_id: int):
    """Put each group's part to its members' vote."""
    session = get_session()
    try:
        sent_run = services.send_to_clusters(session=session, actor=current_user, run_id=run_id)
    except BrokerageError as error:
        refuse_in_flash(error)  # another council's run, or none, is the same 404 as any missing record
        return redirect(url_for("matching.review", run_id=run_id))
    proposals = sent_run.proposals
    sent = f"Sent to {plural(len(proposals), 'group')} to vote on." if proposals else "Nothing was sent."
    if sent_run.held:
        sent += f" {_held_back_words(sent_run.held)}"
    elif not proposals:
        sent = "Nothing was sent: no part is ready to send. A part with 0 hours is not sent."
    flash(sent, "success" if proposals else "info")
    return redirect(url_for("matching.review", run_id=run_id))


def _held_back_words(held: dict[int, dict[str, str]]) -> str:
    """Say how many parts "send" held back, and why (`parts.not_fitting`)."""
    reasons = {why for whys in held.values() for why in whys}
    one = len(held) == 1
    said = {
        parts.CHANGED: "its group's request changed since the run" if one else "their groups' requests changed since the run",
        parts.NOT_NEEDED: "its group needs fewer of those hours" if one else "their groups need fewer of those hours",
        parts.NOT_FREE: "its provider no longer has those hours free" if one else "their providers no longer have those hours free",
    }
    because = words_list([said[why] for why in (parts.CHANGED, parts.NOT_NEEDED, parts.NOT_FREE) if why in reasons], "and" if one else "or")
    return f"{plural(len(held), 'part')} {'was' if one else 'were'} not sent: {because} (marked below)."


@blueprint.route("/gaps")
@roles_required(Role.broker, Role.council_officer)
def gaps():
    """Show unmet demand the council could commission new providers for."""
    return render_template("matching/gaps.html", **services.gap_report(session=get_session(), actor=current_user))


@blueprint.route("/clusters/<int:cluster_id>/demand", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker)
def cluster_demand(cluster_id: int):
    """Say what a group needs: the service, hours, times and carer wishes, and whom it is for."""
    session = get_session()
    page = demand.cluster_demand_page(session=session, actor=current_user, cluster_id=cluster_id, undone=undone_if_sent("nothing was asked for"))
    form = ClusterDemandForm()
    form.served.choices = [SelectChoice(str(h.id), h.name) for _, h in page.members]
    if request.method == "GET":
        form.served.data = [h.id for _, h in page.members]
    if form.validate_on_submit():
        try:
            services.add_demand_line(
                session=session, actor=current_user, cluster_id=cluster_id, service=form.service.data, slot_hours=form.slot_hours.data,
                languages=form.languages.data or [], language_required=form.language_required.data,
                carer_gender=form.carer_gender.data or None, max_rate_pence=form.max_rate.pence, served=form.served.data,
            )
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash("Thank you. The broker will look for care that fits." if current_user.role != Role.broker
                  else "The group's need is saved. It will be matched in the next run.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster_id))
    return render_template("matching/cluster_demand.html", form=form, page=page), (422 if form.errors or form.form_errors else 200)


def _edit_form(page: demand.DemandLinePage, form: ClusterDemandForm | None = None) -> ClusterDemandForm:
    """Return the edit form with whom the care may be for; a fresh one shows the line as it is."""
    if form is None:
        line = page.line
        form = ClusterDemandForm(formdata=None, data={
            "service": line.service, "slot_hours": page.asked, "languages": line.languages,
            "language_required": line.language_required, "carer_gender": line.carer_gender or "",
            "max_rate": f"{line.max_rate_pence // 100}.{line.max_rate_pence % 100:02d}", "served": [int(h) for h in line.shares],
        })
    form.served.choices = [SelectChoice(str(h.id), f"{h.name} ({page.notes[h.id]})" if h.id in page.notes else h.name) for h in page.people]
    return form


@blueprint.route("/demand/<int:line_id>/edit", methods=["GET", "POST"])
@roles_required(Role.broker)
def edit_demand(line_id: int):
    """Change what a group asks for: the service, hours, times, carer wishes, price or whom it is for."""
    session = get_session()
    page = demand.demand_line_page(session=session, actor=current_user, line_id=line_id)
    form = _edit_form(page, ClusterDemandForm() if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        changed_before = page.line.changed_at  # an edit that changes nothing leaves it as it was
        try:
            line = demand.edit_demand_line(
                session=session, actor=current_user, line_id=line_id, service=form.service.data, slot_hours=form.slot_hours.data,
                languages=form.languages.data or [], language_required=form.language_required.data,
                carer_gender=form.carer_gender.data or None, max_rate_pence=form.max_rate.pence, served=form.served.data,
            )
        except BrokerageError as error:
            status = refuse(form, error)
            page = demand.demand_line_page(session=session, actor=current_user, line_id=line_id)
            return render_template("matching/edit_demand.html", page=page, form=_edit_form(page, form), withdraw_form=WithdrawDemandForm(formdata=None)), status
        if line.changed_at == changed_before:
            flash("Nothing was changed: the request for care is as it was.", "info")
        else:
            flash("The request for care was changed. The next matching run uses it as it is now.", "success")
        return redirect(url_for("clusters.show", cluster_id=line.cluster_id) + "#what-the-group-asks-for")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("matching/edit_demand.html", page=page, form=form, withdraw_form=WithdrawDemandForm(formdata=None)), status


@blueprint.route("/demand/<int:line_id>/withdraw", methods=["POST"])
@roles_required(Role.broker)
def withdraw_demand(line_id: int):
    """Withdraw what a group asks for: it leaves matching and is kept for the record."""
    session = get_session()
    page = demand.demand_line_page(session=session, actor=current_user, line_id=line_id)
    form = WithdrawDemandForm()
    if form.validate_on_submit():
        try:
            demand.withdraw_demand_line(session=session, actor=current_user, line_id=line_id, reason=form.reason.data or "")
        except BrokerageError as error:
            status = refuse(form, error)
            page = demand.demand_line_page(session=session, actor=current_user, line_id=line_id)
            return render_template("matching/edit_demand.html", page=page, form=_edit_form(page), withdraw_form=form), status
        flash("The request for care was withdrawn. It will not be matched again.", "success")
        return redirect(url_for("clusters.show", cluster_id=page.cluster.id) + "#what-the-group-asks-for")
    return render_template("matching/edit_demand.html", page=page, form=_edit_form(page), withdraw_form=form), 422
