"""Audit pages for council officers: who looked at which holder's record, with filters and a CSV download."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from brokerage import clock
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.audit import services
from brokerage.audit.schemas import load_filters
from brokerage.db import get_session

blueprint = Blueprint("audit", __name__, url_prefix="/audit")

CSV_COLUMNS = ("when (Europe/London)", "who looked", "their role", "whose record", "what they looked at")
# A spreadsheet runs a cell that starts with one of these as a formula; names are typed by people.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


@blueprint.route("/access-log")
@roles_required(Role.council_officer)
def access_log():
    """Show who viewed which holder's record, newest first, with filters."""
    filters, errors = load_filters(request.args)
    log = services.access_log_page(session=get_session(), actor=current_user, errors=errors, **filters)
    return render_template("audit/access_log.html", log=log, args=request.args), (422 if log.errors else 200)


@blueprint.route("/access-log.csv")
@roles_required(Role.council_officer)
def access_log_csv():
    """Download the filtered access log as a spreadsheet (CSV), times in England; filters that cannot be read show the page."""
    filters, errors = load_filters(request.args)
    filters.pop("page", None)
    if errors:
        return access_log()
    reads, errors = services.access_log_download(session=get_session(), actor=current_user, **filters)
    if errors:
        return access_log()
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheets read names in any script
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for read in reads:
        when = clock.london(read.at).isoformat(timespec="seconds")
        writer.writerow([when, *(_cell(v) for v in (read.staff_name, read.role, read.holder_name, read.what_label))])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=carepool-access-log.csv", "Cache-Control": "no-store"})
