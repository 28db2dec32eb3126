"""One dashboard per role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from brokerage import clock
from brokerage.accounts.models import Role
from brokerage.dashboard import services
from brokerage.db import get_session, writes_when_reading
from brokerage.spending.services import officer_overview

blueprint = Blueprint("dashboard", __name__)


@blueprint.route("/dashboard")
@writes_when_reading  # the officer's dashboard names members with clawbacks waiting: the reads go to the access log
@login_required
def index():
    """Show the signed-in user's dashboard."""
    if current_user.role == Role.council_officer:
        # The officer's dashboard is brokerage.spending's: it sits beside the dashboard package, so only a view joins them.
        return render_template("dashboard/council_officer.html", overview=officer_overview(session=get_session(), actor=current_user, today=clock.today()))
    data = services.dashboard_for(session=get_session(), actor=current_user)
    return render_template(f"dashboard/{current_user.role.value}.html", **data)
