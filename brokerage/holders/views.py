"""Holder pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.audit import log_access
from brokerage.clusters import services as clusters
from brokerage.db import get_session
from brokerage.holders import services

blueprint = Blueprint("holders", __name__, url_prefix="/holders")


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's budget holders."""
    rows = services.list_holders(session=get_session(), actor=current_user)
    return render_template("holders/index.html", holders=rows)


@blueprint.route("/<int:holder_id>")
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def show(holder_id: int):
    """Show one holder's record."""
    session = get_session()
    holder = services.get_holder(session=session, actor=current_user, holder_id=holder_id)
    memberships = clusters.memberships_of(session=session, actor=current_user, holder_ids=[holder.id])
    if current_user.role in (Role.broker, Role.council_officer):
        log_access(session=session, actor=current_user, holder_id=holder.id, what="record")
        session.commit()
    return render_template("holders/show.html", holder=holder, memberships=memberships)
