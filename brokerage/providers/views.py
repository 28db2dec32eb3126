"""Provider pages: the list, a provider's profile and vetting evidence, registering and updating."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session
from brokerage.errors import ValidationFailed
from brokerage.handlers import wants_json
from brokerage.forms import attach_error
from brokerage.providers import rules, services
from brokerage.providers.errors import SameChecker
from brokerage.providers.schemas import SLOT_CHOICES, VETTING_HINTS, VETTING_NAMES, BrokerProfileForm, ProfileForm, RegisterForm, VettingForm
from brokerage import clock

blueprint = Blueprint("providers", __name__, url_prefix="/providers")


def _failed(form) -> bool:
    return bool(form.errors or form.form_errors)


def _may_change(provider) -> bool:
    return current_user.role == Role.broker or (current_user.role == Role.provider and current_user.provider_id == provider.id)


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's providers with their vetting state."""
    session = get_session()
    rows = services.list_providers(session=session, actor=current_user)
    states = services.vetting_summary(session=session, council_id=current_user.council_id, today=clock.today())
    return render_template("providers/index.html", providers=rows, states=states)


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(Role.broker)
def new():
    """Register a new provider or personal assistant."""
    session = get_session()
    form = RegisterForm()
    form.set_choices()
    if form.validate_on_submit():
        try:
            provider = services.register_provider(session=session, actor=current_user, **form.profile())
        except ValidationFailed as error:
            session.rollback()
            attach_error(form, error)
        else:
            session.commit()
            flash(f"{provider.name} is registered. Add their evidence and verify it before they can be matched.", "success")
            return redirect(url_for("providers.show", provider_id=provider.id))
    return render_template("providers/new.html", form=form), (422 if _failed(form) else 200)


def _show(provider_id: int, *, vetting_form: VettingForm | None = None, status: int = 200):
    session = get_session()
    provider = services.get_provider(session=session, actor=current_user, provider_id=provider_id)
    items = services.vetting_of(session=session, actor=current_user, provider=provider)
    today = clock.today()
    state = rules.vetting_state([(i.kind.value, i.expires_on, i.verified_at is not None) for i in items], regulated="personal_care" in provider.services, today=today)
    return render_template(
        "providers/show.html", provider=provider, items=items, state=state, today=today, may_change=_may_change(provider),
        checkers=services.vetting_people(session=session, items=items),
        vetting_form=vetting_form or VettingForm(formdata=None), vetting_names=VETTING_NAMES, vetting_words=services.VETTING_WORDS,
        vetting_hints=VETTING_HINTS, slot_names={c.value: c.label for c in SLOT_CHOICES},
    ), status


@blueprint.route("/<int:provider_id>")
@roles_required(Role.provider, Role.broker, Role.council_officer)
def show(provider_id: int):
    """Show one provider's profile and vetting evidence."""
    return _show(provider_id)


@blueprint.route("/<int:provider_id>/edit", methods=["GET", "POST"])
@roles_required(Role.provider, Role.broker)
def edit(provider_id: int):
    """Change a provider's profile: the provider themselves, or a broker."""
    session = get_session()
    provider = services.get_provider(session=session, actor=current_user, provider_id=provider_id)
    form = BrokerProfileForm() if current_user.role == Role.broker else ProfileForm()
    form.set_choices(provider)
    if form.validate_on_submit():
        try:
            services.update_profile(session=session, actor=current_user, provider_id=provider.id, **form.profile())
        except ValidationFailed as error:
            session.rollback()
            attach_error(form, error)
        else:
            session.commit()
            flash("Your profile was updated." if current_user.provider_id == provider.id else f"{provider.name}'s profile was updated.", "success")
            return redirect(url_for("providers.show", provider_id=provider.id))
    elif not form.is_submitted():
        form.fill(provider)
    own = current_user.provider_id == provider.id
    return render_template("providers/edit.html", form=form, provider=provider, own=own), (422 if _failed(form) else 200)


@blueprint.route("/<int:provider_id>/vetting", methods=["POST"])
@roles_required(Role.provider, Role.broker)
def add_vetting(provider_id: int):
    """Add a piece of vetting evidence, waiting for a broker to verify it."""
    session = get_session()
    form = VettingForm()
    if form.validate_on_submit():
        try:
            item = services.add_vetting(session=session, actor=current_user, provider_id=provider_id, kind=form.kind.data,
                                        reference=form.reference.data, expires_on=form.expires_on.data)
        except ValidationFailed as error:
            session.rollback()
            attach_error(form, error)
        else:
            session.commit()
            flash(f"The {services.VETTING_WORDS[item.kind.value]} was added. It counts once a broker has verified it.", "success")
            return redirect(url_for("providers.show", provider_id=provider_id, _anchor="vetting"))
    return _show(provider_id, vetting_form=form, status=422)


@blueprint.route("/vetting/<int:item_id>/verify", methods=["POST"])
@roles_required(Role.broker)
def verify_vetting(item_id: int):
    """Verify a piece of vetting evidence after checking it."""
    session = get_session()
    try:
        item = services.verify_vetting(session=session, actor=current_user, item_id=item_id)
    except SameChecker as error:
        if wants_json():
            raise
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("providers.show", provider_id=error.provider_id, _anchor="vetting"))
    session.commit()
    flash(f"{VETTING_NAMES[item.kind.value]} {item.reference} is verified.", "success")
    return redirect(url_for("providers.show", provider_id=item.provider_id, _anchor="vetting"))
