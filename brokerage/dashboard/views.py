"""One dashboard per role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from brokerage.dashboard import services
from brokerage.db import get_session

blueprint = Blueprint("dashboard", __name__)


@blueprint.route("/dashboard")
@login_required
def index():
    """Show the signed-in user's dashboard."""
    data = services.dashboard_for(session=get_session(), actor=current_user)
    return render_template(f"dashboard/{current_user.role.value}.html", **data)
