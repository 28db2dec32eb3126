"""Holder pages."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, keep_changes_when_refused, noting_changes, writes_when_reading
from brokerage.errors import BrokerageError
from brokerage.forms import refuse, undone_if_sent
from brokerage.clusters.membership import set_allocation
from brokerage.holders import registration, services
from brokerage.holders.listing import find_holders
from brokerage.holders.models import Power, SensitiveItem
from brokerage.holders.schemas import (
    VISIBILITY_HINTS, AddHolderForm, AllocationForm, BrokerForm, PostcodeForm, PowersForm, ProfileForm, export_csv, export_json,
    load_holder_filters, their_visibility_hints,
)
from brokerage.holders.statements import holder_statements
from brokerage.pages import holders as pages
from brokerage.surplus.queries import open_flags_of_holder
from brokerage.validation import page_number

blueprint = Blueprint("holders", __name__, url_prefix="/holders")


@blueprint.route("/")
@writes_when_reading  # staff reads of each holder's weekly allocation go to the access log
@roles_required(Role.broker, Role.council_officer)
def index():
    """Find the council's budget holders by part of a name or postcode district, 50 a page."""
    filters, errors = load_holder_filters(request.args)
    page = find_holders(session=get_session(), actor=current_user, errors=errors, **filters)
    return render_template("holders/index.html", page=page, args=request.args), (422 if page.errors else 200)


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(Role.broker)
def new():
    """Add a budget holder to the council; inviting them comes next."""
    form = AddHolderForm()
    form.set_choices()
    status = 422
    if form.validate_on_submit():
        try:
            holder = registration.add_holder(
                session=get_session(), actor=current_user, name=form.name.data, weekly_allocation_pence=form.allocation.pence,
                postcode=form.postcode.data, languages=form.languages.data or [], care_needs=form.care_needs.data or [],
                email=form.email.data or None, phone=form.phone.data or None,
            )
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            flash(f"{holder.name} has been added. The next step is to invite them, so they can sign in and choose their own password.", "success")
            return redirect(url_for("holders.show", holder_id=holder.id))
    failed = bool(form.errors or form.form_errors)
    return render_template("holders/new.html", form=form), (status if failed else 200)


@blueprint.route("/<int:holder_id>")
@writes_when_reading  # staff reads go to the access log
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def show(holder_id: int):
    """Show one holder's record."""
    return _show(holder_id)


def _show(holder_id: int, *, powers_form=None, allocation_form=None, postcode_form=None, broker_form=None, status: int = 200):
    # A staff read goes to the access log, committed with the answer.
    record = pages.holder_record(session=get_session(), actor=current_user, holder_id=holder_id)
    if status >= 400:
        # The page again after a refused form: the refused change is already undone (forms.refuse),
        # and the access-log line of this staff read is kept.
        keep_changes_when_refused()
    if allocation_form is None:
        allocation_form = AllocationForm(formdata=None)
        allocation_form.allocation.data = f"{record.holder.weekly_allocation_pence / 100:.2f}"
    if postcode_form is None:
        postcode_form = PostcodeForm(formdata=None, prefix="home")
        postcode_form.postcode.data = record.holder.postcode
    if broker_form is None:
        broker_form = BrokerForm(formdata=None, data={"broker_id": str(record.holder.broker_id or "")})
    broker_form.broker_id.choices = [("", "Nobody yet")] + [(str(b.id), b.name) for b in record.brokers]
    return render_template(
        "holders/show.html", holder=record.holder, memberships=record.memberships, record=record,
        item_labels=services.ITEM_LABELS, representatives=record.representatives,
        visibility_labels=services.VISIBILITY_LABELS if current_user.holder_id == record.holder.id else services.THEIR_VISIBILITY_LABELS,
        powers_form=powers_form, allocation_form=allocation_form, postcode_form=postcode_form, broker_form=broker_form, power_choices=list(Power), powers=Power,
    ), status


@blueprint.route("/<int:holder_id>/profile", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative)
def profile(holder_id: int):
    """Change a holder's languages, care needs, goals, and the culture, faith and heritage they choose to share."""
    session = get_session()
    holder, details = services.get_profile(session=session, actor=current_user, holder_id=holder_id,
                                           undone=undone_if_sent("their profile was not changed"))
    form = ProfileForm()
    form.set_choices(languages=holder.languages, care_needs=holder.care_needs)
    status = 422
    if form.validate_on_submit():
        try:
            with noting_changes(session) as changes:
                services.update_profile(
                    session=session, actor=current_user, holder_id=holder.id, languages=form.languages.data or [],
                    care_needs=form.care_needs.data or [], goals=form.goals.data or "", sensitive=form.sensitive(),
                )
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            if changes.none:
                flash("Nothing was changed: the profile is as it was.", "info")
            else:
                flash("Your changes were saved." if current_user.holder_id == holder.id else f"The changes to {holder.name}'s profile were saved.", "success")
            return redirect(url_for("holders.show", holder_id=holder.id))
    elif not form.is_submitted():
        form.fill(holder, details)
    failed = bool(form.errors or form.form_errors)
    own = current_user.holder_id == holder.id
    if not own:
        form.about(holder.name)
    hints = VISIBILITY_HINTS if own else their_visibility_hints(holder.name)
    return render_template(
        "holders/profile.html", form=form, holder=holder, items=list(SensitiveItem),
        visibility_hints={v.value: hint for v, hint in hints.items()}, own=own,
    ), (status if failed else 200)


def _download(body: str, *, mimetype: str, filename: str) -> Response:
    return Response(
        body, mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "no-store"},
    )


@blueprint.route("/<int:holder_id>/data.json")
@roles_required(Role.holder, Role.representative)
def data_json(holder_id: int):
    """Download everything carepool holds about a holder, as JSON."""
    data = pages.subject_access_export(session=get_session(), actor=current_user, holder_id=holder_id)
    return _download(export_json(data), mimetype="application/json", filename=f"carepool-data-{holder_id}.json")


@blueprint.route("/<int:holder_id>/data.csv")
@roles_required(Role.holder, Role.representative)
def data_csv(holder_id: int):
    """Download everything carepool holds about a holder, as a spreadsheet (CSV)."""
    data = pages.subject_access_export(session=get_session(), actor=current_user, holder_id=holder_id)
    return _download(export_csv(data), mimetype="text/csv", filename=f"carepool-data-{holder_id}.csv")


@blueprint.route("/<int:holder_id>/record-views")
@roles_required(Role.holder, Role.representative)
def record_views(holder_id: int):
    """Show the holder who on the staff looked at their record, what and when (their own and their representative's reads are not listed)."""
    holder, reads = pages.record_views(session=get_session(), actor=current_user, holder_id=holder_id, page=page_number(request.args))
    return render_template("audit/record_views.html", holder=holder, log=reads, own=current_user.holder_id == holder.id)


@blueprint.route("/<int:holder_id>/representatives/<int:representation_id>/powers", methods=["POST"])
@roles_required(Role.holder)
def change_powers(holder_id: int, representation_id: int):
    """Change what someone acting for me may do."""
    form = PowersForm()
    status = 422
    if form.validate_on_submit():
        try:
            with noting_changes(get_session()) as changes:
                services.change_powers(session=get_session(), actor=current_user, holder_id=holder_id, representation_id=representation_id,
                                       powers=form.powers.data)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            if changes.none:
                flash("Nothing was changed: they can already do just that for you.", "info")
            else:
                flash("What they can do for you has been changed.", "success")
            return redirect(url_for("holders.show", holder_id=holder_id))
    return _show(holder_id, powers_form=(representation_id, form), status=status)


@blueprint.route("/<int:holder_id>/representatives/<int:representation_id>/revoke", methods=["POST"])
@roles_required(Role.holder)
def revoke_representative(holder_id: int, representation_id: int):
    """Stop someone acting for me."""
    services.revoke_representative(session=get_session(), actor=current_user, holder_id=holder_id, representation_id=representation_id)
    flash("They can no longer act for you.", "success")
    return redirect(url_for("holders.show", holder_id=holder_id))


@blueprint.route("/<int:holder_id>/allocation", methods=["POST"])
@roles_required(Role.broker)
def allocation(holder_id: int):
    """Set a holder's weekly direct payment."""
    form = AllocationForm()
    if form.validate_on_submit():
        try:
            with noting_changes(get_session()) as changes:
                set_allocation(session=get_session(), actor=current_user, holder_id=holder_id, weekly_allocation_pence=form.allocation.pence)
        except BrokerageError as error:
            refuse(form, error)
        else:
            if changes.none:
                flash("Nothing was changed: the weekly budget is already that amount.", "info")
            else:
                flash("The weekly budget was changed. It applies from the next direct payment.", "success")
            return redirect(url_for("holders.show", holder_id=holder_id))
    return _show(holder_id, allocation_form=form, status=422)


@blueprint.route("/<int:holder_id>/broker", methods=["POST"])
@roles_required(Role.broker)
def broker(holder_id: int):
    """Name the broker who looks after a holder (shown on their dashboard with how to reach them)."""
    form = BrokerForm()
    if form.validate_on_submit():
        try:
            with noting_changes(get_session()) as changes:
                services.set_broker(session=get_session(), actor=current_user, holder_id=holder_id, broker_id=form.chosen_id)
        except BrokerageError as error:
            refuse(form, error)
        else:
            if changes.none:
                flash("Nothing was changed: that is already their broker.", "info")
            else:
                flash("Their broker was saved. It shows on their dashboard.", "success")
            return redirect(url_for("holders.show", holder_id=holder_id))
    return _show(holder_id, broker_form=form, status=422)


@blueprint.route("/<int:holder_id>/postcode", methods=["POST"])
@roles_required(Role.broker)
def postcode(holder_id: int):
    """Change where a holder lives, by their postcode."""
    form = PostcodeForm(prefix="home")
    if form.validate_on_submit():
        try:
            with noting_changes(get_session()) as changes:
                registration.move_holder(session=get_session(), actor=current_user, holder_id=holder_id, postcode=form.postcode.data)
        except BrokerageError as error:
            refuse(form, error)
        else:
            if changes.none:
                flash("Nothing was changed: that is already their postcode.", "info")
            else:
                flash("Where they live was changed. Groups near them are now found from the new postcode.", "success")
            return redirect(url_for("holders.show", holder_id=holder_id))
    return _show(holder_id, postcode_form=form, status=422)


@blueprint.route("/<int:holder_id>/statement")
@writes_when_reading  # staff reads go to the access log
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def statement(holder_id: int):
    """Show a holder's wallet and pool shares with running balances."""
    # A staff read goes to the access log, committed with the answer.
    pages = {}
    for name, value in request.args.items():
        # page-<account id>=<n>: which page of that account's statement; anything else shows the latest page.
        if name.startswith("page-") and name[5:].isdigit() and value.isdigit():
            pages[int(name[5:])] = int(value)
    holder, statements, cluster_names = holder_statements(session=get_session(), actor=current_user, holder_id=holder_id, pages=pages)
    surplus_flags = open_flags_of_holder(session=get_session(), actor=current_user, holder_id=holder.id)
    return render_template("holders/statement.html", holder=holder, statements=statements, cluster_names=cluster_names,
                           surplus_flags=surplus_flags)
