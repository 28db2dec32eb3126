"""Provider pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session
from brokerage.providers import rules, services
from brokerage.types import utcnow

blueprint = Blueprint("providers", __name__, url_prefix="/providers")


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's providers with their vetting state."""
    session = get_session()
    rows = services.list_providers(session=session, actor=current_user)
    states = services.vetting_summary(session=session, council_id=current_user.council_id, today=utcnow().date())
    return render_template("providers/index.html", providers=rows, states=states)


@blueprint.route("/<int:provider_id>")
@roles_required(Role.provider, Role.broker, Role.council_officer)
def show(provider_id: int):
    """Show one provider's profile and vetting evidence."""
    session = get_session()
    provider = services.get_provider(session=session, actor=current_user, provider_id=provider_id)
    items = services.vetting_of(session=session, actor=current_user, provider=provider)
    today = utcnow().date()
    state = rules.vetting_state([(i.kind.value, i.expires_on, i.verified_at is not None) for i in items], regulated="personal_care" in provider.services, today=today)
    return render_template("providers/show.html", provider=provider, items=items, state=state, today=today)
