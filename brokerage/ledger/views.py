"""Ledger pages: the council's journal and seal status, and one entry; the ledger's jobs (verify, seal).

A holder's money statement is the holders package's page (brokerage.holders.statements); its old
address here still shows it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from brokerage import clock, jobs
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.db import get_session, session_scope
from brokerage.holders import views as holder_views
from brokerage.ledger import integrity, services
from brokerage.ledger.kinds import kind_label
from brokerage.ledger.schemas import load_filters

blueprint = Blueprint("ledger", __name__, url_prefix="/ledger")
blueprint.add_app_template_filter(kind_label, "kind_label")


def _day_start(day) -> datetime | None:
    # People type days as they live them: a day in England, not a UTC day.
    return clock.start_of_day(day) if day else None


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """Show the council's journal with filters, and the seal status."""
    session = get_session()
    filters, errors = load_filters(request.args)
    end = _day_start(filters["end"] + timedelta(days=1)) if filters["end"] else None
    page = services.list_entries(
        session=session, actor=current_user, council_id=current_user.council_id, kind=filters["kind"], account=filters["account"],
        start=_day_start(filters["start"]), end=end, page=filters["page"],
    )
    status = integrity.seal_status(session=session, actor=current_user, council_id=current_user.council_id)
    accounts, total = services.trial_balance(session=session, actor=current_user, council_id=current_user.council_id)
    kinds = services.entry_kinds(session=session, actor=current_user, council_id=current_user.council_id)
    return render_template(
        "ledger/index.html", page=page, status=status, errors=errors, args=request.args, kinds=kinds,
        accounts=accounts, total=total,
    ), (422 if errors else 200)


@blueprint.route("/verify", methods=["POST"])
@roles_required(Role.council_officer)
def verify():
    """Recompute the council's ledger now and show the result."""
    council_id = current_user.council_id
    # The job uses its own session; end ours first (SQLite has one writer at a time).
    get_session().commit()
    handle = jobs.enqueue("ledger.verify", council_id=council_id)
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
    session = get_session()
    services.get_entry(session=session, actor=current_user, entry_id=entry_id)
    body = integrity.prove(session=session, actor=current_user, entry_id=entry_id)
    return Response(
        json.dumps(body, indent=2), mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=carepool-proof-entry-{entry_id}.json"},
    )


# A holder's money statement is the holders section's page; its old address here still shows it (the same
# view, checks and access log), so saved links and bookmarks keep working.
blueprint.add_url_rule("/holders/<int:holder_id>", endpoint="holder_statement", view_func=holder_views.statement)


def verify_job(*, council_id: int) -> dict:
    """Run verification for one council as its system user (a job, so it can go to a worker)."""
    with session_scope() as session:
        report = integrity.verify(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id)
    return {
        "ok": report.ok, "entries": report.entries, "seals": report.seals, "problems": len(report.problems),
        "first_problem": str(report.problems[0]) if report.problems else None,
    }


def seal_job(*, council_id: int | None = None) -> dict:
    """Seal new entries for one council or every council with entries, each as its system user (a periodic job)."""
    sealed = {}
    with session_scope() as session:
        ids = [council_id] if council_id else services.council_ids_with_entries(session=session)
        for cid in ids:
            record = integrity.seal(session=session, actor=system_actor(session=session, council_id=cid), council_id=cid)
            sealed[cid] = None if record is None else [record.first_seq, record.last_seq]
    return sealed

