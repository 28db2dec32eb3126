"""Cluster pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.clusters import services
from brokerage.db import get_session

blueprint = Blueprint("clusters", __name__, url_prefix="/clusters")


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's clusters."""
    rows = services.list_clusters(session=get_session(), actor=current_user)
    return render_template("clusters/index.html", clusters=rows)


@blueprint.route("/<int:cluster_id>")
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def show(cluster_id: int):
    """Show one cluster and its members."""
    session = get_session()
    cluster = services.get_cluster(session=session, actor=current_user, cluster_id=cluster_id)
    members = services.cluster_members(session=session, actor=current_user, cluster=cluster)
    return render_template("clusters/show.html", cluster=cluster, members=members)
