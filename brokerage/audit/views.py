"""Audit pages for council officers."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.audit import services
from brokerage.db import get_session

blueprint = Blueprint("audit", __name__, url_prefix="/audit")


@blueprint.route("/access-log")
@roles_required(Role.council_officer)
def access_log():
    """Show who viewed which holder's record."""
    rows = services.access_log(session=get_session(), actor=current_user)
    return render_template("audit/access_log.html", rows=rows)
