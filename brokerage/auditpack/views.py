"""Council audit pages: vetting and compliance for staff, and officers' auditor packs (ask, list, download)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from brokerage import jobs
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.auditpack import packs, services
from brokerage.auditpack.jobs import BUILD, pack_folder
from brokerage.auditpack.schemas import PackForm
from brokerage.db import get_session, writes_when_reading
from brokerage.errors import BrokerageError
from brokerage.forms import refuse, refuse_in_flash
from brokerage.providers.schemas import VETTING_NAMES

blueprint = Blueprint("auditpack", __name__)


@blueprint.route("/compliance")
@roles_required(Role.broker, Role.council_officer)
def compliance():
    """Show vetting that has run out or runs out within 30 days, and live contracts with providers not vetted now."""
    page = services.compliance_page(session=get_session(), actor=current_user)
    return render_template("auditpack/compliance.html", page=page, evidence=VETTING_NAMES)


def _packs(form: PackForm | None = None, status: int = 200):
    page = packs.packs_page(session=get_session(), actor=current_user)
    if form is None:
        form = PackForm(formdata=None)
    form.set_choices(page.quarters)
    return render_template("auditpack/packs.html", page=page, form=form), status


@blueprint.route("/audit-pack")
@roles_required(Role.council_officer)
def index():
    """List the council's auditor packs, with the form to ask for one."""
    return _packs()


@blueprint.route("/audit-pack", methods=["POST"])
@roles_required(Role.council_officer)
def ask():
    """Record a request for a quarter's pack, and build it once the request is saved (a job)."""
    form = PackForm()
    form.set_choices(packs.quarters_to_choose())
    if not form.validate_on_submit():
        return _packs(form, 422)
    try:
        record = packs.request_pack(session=get_session(), actor=current_user, quarter=form.chosen)
    except BrokerageError as error:
        return _packs(form, refuse(form, error))
    jobs.enqueue_after_commit(BUILD, council_id=record.council_id, request_id=record.id)
    flash(f"The pack of {form.chosen.label} is being made. It appears below, ready to download, when it is finished.", "success")
    return redirect(url_for("auditpack.index"))


@blueprint.route("/audit-pack/<int:audit_pack_id>/download")
@writes_when_reading  # the download logs a read of each holder's statement in the pack
@roles_required(Role.council_officer)
def download(audit_pack_id: int):
    """Download a ready pack, checked against the SHA-256 recorded when it was made."""
    try:
        path, name = packs.pack_for_download(session=get_session(), actor=current_user, request_id=audit_pack_id, folder=pack_folder())
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(url_for("auditpack.index"))
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name, conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"
    return response
