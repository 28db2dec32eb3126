"""Ledger pages: the council's journal and seal status, and one entry; the ledger's jobs (verify, seal).

A holder's money statement is the holders package's page (brokerage.holders.statements); its old
address here still shows it.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from brokerage import jobs
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, only_jobs_write
from brokerage.holders import views as holder_views
from brokerage.ledger import pages, services
from brokerage.ledger.kinds import kind_label
from brokerage.ledger.schemas import load_filters

blueprint = Blueprint("ledger", __name__, url_prefix="/ledger")
blueprint.add_app_template_filter(kind_label, "kind_label")


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """Show the council's journal with filters, and the seal status."""
    filters, errors = load_filters(request.args)
    # A filter that cannot be read lists nothing, rather than every entry as if it had matched.
    journal = pages.journal_page(session=get_session(), actor=current_user, council_id=current_user.council_id, refused=bool(errors), **filters)
    return render_template(
        "ledger/index.html", page=journal.page, status=journal.status, errors=errors, args=request.args, kinds=journal.kinds,
        accounts=journal.accounts, total=journal.total,
    ), (422 if errors else 200)


@blueprint.route("/verify", methods=["POST"])
@only_jobs_write  # the check runs as a job, in its own session
@roles_required(Role.council_officer)
def verify():
    """Recompute the council's ledger now and show the result."""
    handle = jobs.enqueue("ledger.verify", council_id=current_user.council_id)
    if handle.status == "finished":
        result = handle.result
        if result["ok"]:
            seals = "1 seal" if result["seals"] == 1 else f"{result['seals']} seals"
            flash(f"The ledger checks out: {result['entries']} entries, {seals}, no problems.", "success")
        else:
            flash(f"The ledger check FAILED: {result['first_problem']} ({result['problems']} problems in all).", "error")
    elif handle.status == "failed":
        flash("The check could not run. Try again, or ask your administrator.", "error")
    else:
        flash("The check is running in the background. Refresh this page in a minute.", "info")
    return redirect(url_for("ledger.index"))


@blueprint.route("/entries/<int:entry_id>")
@roles_required(Role.broker, Role.council_officer)
def entry(entry_id: int):
    """Show one entry with its postings, hash and seal."""
    record, seq, postings, reversal = services.get_entry(session=get_session(), actor=current_user, entry_id=entry_id)
    return render_template("ledger/entry.html", entry=record, seq=seq, postings=postings, reversal=reversal)


@blueprint.route("/entries/<int:entry_id>/proof.json")
@roles_required(Role.broker, Role.council_officer)
def proof(entry_id: int):
    """Download an inclusion proof of a sealed entry."""
    body = pages.entry_proof(session=get_session(), actor=current_user, entry_id=entry_id)
    return Response(
        json.dumps(body, indent=2), mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=carepool-proof-entry-{entry_id}.json"},
    )


# A holder's money statement is the holders section's page; its old address here still shows it (the same
# view, checks and access log), so saved links and bookmarks keep working.
blueprint.add_url_rule("/holders/<int:holder_id>", endpoint="holder_statement", view_func=holder_views.statement)
