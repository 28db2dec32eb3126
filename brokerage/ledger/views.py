"""Ledger pages: the council's journal, the seals and the check of the whole ledger, one entry and its proof.

A holder's money statement is the holders package's page (brokerage.holders.statements); its old
address here still shows it.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user
from rq.exceptions import NoSuchJobError

from brokerage import jobs
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.audit.rules import LEDGER_PAGE, LEDGER_SEARCH
from brokerage.audit.services import log_accesses
from brokerage.db import get_session, only_jobs_write, writes_when_reading
from brokerage.formatting import plural
from brokerage.holders import views as holder_views
from brokerage.ledger import pages
from brokerage.ledger.kinds import kind_label
from brokerage.ledger.names import TYPE_LABELS
from brokerage.ledger.schemas import load_account_filters, load_filters
from brokerage.pages import seals as seal_pages
from brokerage.validation import page_number

blueprint = Blueprint("ledger", __name__, url_prefix="/ledger")
blueprint.add_app_template_filter(kind_label, "kind_label")


def _log_reads(filters: dict, page) -> None:
    # Every person whose money the page names is read, once: as a search when the page searched for accounts.
    searched = bool(filters.get("account"))
    log_accesses(session=get_session(), actor=current_user, council_id=current_user.council_id,
                 holder_ids=[*page.searched_holders, *page.shown_holders], what=LEDGER_SEARCH if searched else LEDGER_PAGE)


@blueprint.route("/")
@writes_when_reading  # the money of each person the page names, or a search finds, goes to the access log
@roles_required(Role.broker, Role.council_officer)
def index():
    """Show the council's journal with filters, and the seal status."""
    filters, errors = load_filters(request.args)
    # A filter that cannot be read lists nothing, rather than every entry as if it had matched.
    journal = pages.journal_page(session=get_session(), actor=current_user, council_id=current_user.council_id, refused=bool(errors), **filters)
    _log_reads(filters, journal)
    return render_template(
        "ledger/index.html", page=journal.page, status=journal.status, errors=errors, args=request.args, kinds=journal.kinds,
        types=journal.types, type_labels=TYPE_LABELS, total=journal.total, names=journal.names,
    ), (422 if errors else 200)


@blueprint.route("/accounts")
@writes_when_reading  # the money of each person the page names, or a search finds, goes to the access log
@roles_required(Role.broker, Role.council_officer)
def accounts():
    """Show a page of the council's accounts by name with their balances, of one type or all, biggest first."""
    filters, errors = load_account_filters(request.args)
    view = pages.accounts_page(session=get_session(), actor=current_user, council_id=current_user.council_id, refused=bool(errors), **filters)
    _log_reads(filters, view)
    return render_template(
        "ledger/accounts.html", view=view, errors=errors, args=request.args, type_labels=TYPE_LABELS,
    ), (422 if errors else 200)


@blueprint.route("/seals")
@roles_required(Role.broker, Role.council_officer)
def seals():
    """Show the council's seals with their roots, what waits for the next seal, and the check of the whole ledger."""
    seal_page = seal_pages.seals_page(
        session=get_session(), actor=current_user, council_id=current_user.council_id, page=page_number(request.args),
        every_minutes=current_app.config["SEAL_EVERY_MINUTES"],
    )
    return render_template("ledger/seals.html", page=seal_page, check=_check_status())


def check_message(result: dict) -> tuple[str, str]:
    """Say in plain words what a check of the whole ledger found, and how to show it (success or error)."""
    if result["ok"]:
        return f"The ledger checks out: {plural(result['entries'], 'entry', 'entries')}, {plural(result['seals'], 'seal')}, no problems.", "success"
    more = "" if result["problems"] == 1 else f" ({plural(result['problems'], 'problem')} in all)"
    return f"The ledger check FAILED. The first problem: {result['first_problem']}{more}.", "error"


def _check_status() -> tuple[str, str] | None:
    """Say how the check this browser started on the worker is going: while it runs, and once when it has finished."""
    job_id = cookie.get("ledger_check_job")
    if not job_id or not current_app.config.get("REDIS_URL"):
        return None
    try:
        handle = jobs.fetch(job_id)
    except NoSuchJobError:  # the job expired from Redis: nothing to show
        cookie.pop("ledger_check_job", None)
        return None
    if handle.status in ("finished", "failed"):
        cookie.pop("ledger_check_job", None)
    if handle.status == "finished":
        return check_message(handle.result)
    if handle.status == "failed":
        return "The check could not run. Try again, or ask your administrator.", "error"
    return "The check is still running. Refresh this page in a minute to see its result.", "info"


@blueprint.route("/verify", methods=["POST"])
@only_jobs_write  # the check runs as a job, in its own session
@roles_required(Role.council_officer)
def verify():
    """Recompute the council's ledger now, and show the result on the seals page."""
    handle = jobs.enqueue("ledger.verify", council_id=current_user.council_id)
    if handle.status == "finished":
        flash(*check_message(handle.result))
    elif handle.status == "failed":
        flash("The check could not run. Try again, or ask your administrator.", "error")
    else:
        cookie["ledger_check_job"] = handle.id
        flash("The check is running in the background. This page shows its result when it has finished.", "info")
    return redirect(url_for("ledger.seals"))


@blueprint.route("/entries/<int:entry_id>")
@roles_required(Role.broker, Role.council_officer)
def entry(entry_id: int):
    """Show one entry with its postings, hash and seal."""
    view = pages.entry_page(session=get_session(), actor=current_user, entry_id=entry_id)
    return render_template("ledger/entry.html", entry=view.entry, seq=view.seq, postings=view.postings, reversal=view.reversal, names=view.names)


@blueprint.route("/entries/<int:entry_id>/proof")
@roles_required(Role.broker, Role.council_officer)
def proof_page(entry_id: int):
    """Show the proof that an entry is included in its seal, checked, with how to check it offline."""
    page = seal_pages.proof_page(session=get_session(), actor=current_user, entry_id=entry_id, every_minutes=current_app.config["SEAL_EVERY_MINUTES"])
    return render_template("ledger/proof.html", page=page)


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
