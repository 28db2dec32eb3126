"""Provider pages: the list, a provider's profile and vetting evidence, registering and updating."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user

from brokerage.access import STAFF, roles_required
from brokerage.accounts import sessions
from brokerage.accounts.models import Role
from brokerage.db import get_session, noting_changes
from brokerage.errors import BrokerageError, ValidationFailed
from brokerage.extensions import per_typed_email, rate_limit, sent_on
from brokerage.formatting import plural
from brokerage.forms import refuse, refuse_in_flash
from brokerage.handlers import wants_json
from brokerage.invitations import queries as invitations
from brokerage.matching.rules import whose_care_words
from brokerage.matching.snapshot import committed_beyond_offer, committed_beyond_week
from brokerage.providers import applications, charter, pending, services
from brokerage.providers.errors import SameChecker
from brokerage.providers.rules import MICRO_STAFF
from brokerage.providers.schemas import (
    VETTING_HINTS, VETTING_NAMES, ApplicationForm, BrokerProfileForm, ConfirmForm, ProfileForm, RefuseForm, RegisterForm, VettingForm,
)

blueprint = Blueprint("providers", __name__, url_prefix="/providers")
# The public "offer care" form: anyone may apply, signed out.
public = Blueprint("offer_care", __name__)


def _failed(form) -> bool:
    return bool(form.errors or form.form_errors)


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's providers with their vetting state."""
    page = services.providers_page(session=get_session(), actor=current_user)
    sign_in = invitations.providers_sign_in(session=get_session(), actor=current_user, providers=page.providers)
    return render_template("providers/index.html", providers=page.providers, states=page.states, applications_waiting=page.applications_waiting,
                           unconfirmed=page.unconfirmed, sign_in=sign_in)


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(Role.broker)
def new():
    """Register a new provider or personal assistant."""
    form = RegisterForm()
    form.set_choices()
    if form.validate_on_submit():
        try:
            provider = services.register_provider(session=get_session(), actor=current_user, **form.profile())
        except ValidationFailed as error:
            refuse(form, error)
        else:
            flash(f"{provider.name} is registered. Add their evidence and verify it before they can be matched.", "success")
            return redirect(url_for("providers.show", provider_id=provider.id))
    return render_template("providers/new.html", form=form), (422 if _failed(form) else 200)


def _show(provider_id: int, *, vetting_form: VettingForm | None = None, refuse_form: RefuseForm | None = None, status: int = 200):
    page = services.provider_page(session=get_session(), actor=current_user, provider_id=provider_id)
    # Staff see whether the provider can sign in; the provider's own page needs no telling.
    staff = current_user.role in STAFF
    sign_in = invitations.provider_sign_in(session=get_session(), actor=current_user, provider_id=provider_id) if staff else None
    same_name = applications.same_names(session=get_session(), actor=current_user, providers=[page.provider]) if staff else {}
    return render_template(
        "providers/show.html", provider=page.provider, items=page.items, state=page.state, today=page.today, may_change=page.may_change,
        steps=page.steps, reviewer=page.reviewer, refuse_form=refuse_form or RefuseForm(formdata=None),
        checkers=page.checkers, vetting_form=vetting_form or VettingForm(formdata=None), vetting_names=VETTING_NAMES, vetting_words=services.VETTING_WORDS,
        vetting_hints=VETTING_HINTS, micro_staff=MICRO_STAFF, sign_in=sign_in, same_name=same_name.get(provider_id, []),
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
            with noting_changes(session) as changes:
                services.update_profile(session=session, actor=current_user, provider_id=provider.id, **form.profile())
        except ValidationFailed as error:
            refuse(form, error)
        else:
            own = current_user.provider_id == provider.id
            if changes.none:
                flash("Nothing was changed: the profile is as it was.", "info")
            else:
                flash("Your profile was updated." if own else f"{provider.name}'s profile was updated.", "success")
                beyond = committed_beyond_offer(session, provider)
                if beyond:
                    whose = whose_care_words([(care.group, care.service, care.slot_hours) for care in beyond])
                    flash(f"{'You have' if own else f'{provider.name} has'} care already agreed or out to a group's vote at times no longer offered: "
                          f"{whose}. That care goes on as agreed; only new work stops at those times."
                          + (" To change it, ask your broker." if own else ""), "warning")
                over = committed_beyond_week(session, provider)
                if over:
                    flash(f"{'You have' if own else f'{provider.name} has'} {plural(over[0], 'hour')} a week of care already agreed or out to "
                          f"a group's vote, more than the {plural(over[1], 'hour')} a week {'you now take' if own else 'it now takes'}. That care goes on as agreed; no new work is offered until it is below the limit."
                          + (" To change it, ask your broker." if own else ""), "warning")
            return redirect(url_for("providers.show", provider_id=provider.id))
    elif not form.is_submitted():
        form.fill(provider)
    own = current_user.provider_id == provider.id
    return render_template("providers/edit.html", form=form, provider=provider, own=own), (422 if _failed(form) else 200)


@blueprint.route("/<int:provider_id>/vetting", methods=["POST"])
@roles_required(Role.provider, Role.broker)
def add_vetting(provider_id: int):
    """Add a piece of vetting evidence, waiting for a broker to verify it."""
    form = VettingForm()
    if form.validate_on_submit():
        try:
            item = services.add_vetting(session=get_session(), actor=current_user, provider_id=provider_id, kind=form.kind.data,
                                        reference=form.reference.data, expires_on=form.expires_on.data)
        except ValidationFailed as error:
            refuse(form, error)
        else:
            flash(f"The {services.VETTING_WORDS[item.kind.value]} was added. It counts once a broker has verified it.", "success")
            return redirect(url_for("providers.show", provider_id=provider_id, _anchor="vetting"))
    return _show(provider_id, vetting_form=form, status=422)


@blueprint.route("/vetting/<int:item_id>/verify", methods=["POST"])
@roles_required(Role.broker)
def verify_vetting(item_id: int):
    """Verify a piece of vetting evidence after checking it."""
    try:
        item = services.verify_vetting(session=get_session(), actor=current_user, item_id=item_id)
    except SameChecker as error:
        if wants_json():
            raise
        refuse_in_flash(error)
        return redirect(url_for("providers.show", provider_id=error.provider_id, _anchor="vetting"))
    flash(f"{VETTING_NAMES[item.kind.value]} {item.reference} is verified.", "success")
    return redirect(url_for("providers.show", provider_id=item.provider_id, _anchor="vetting"))


@blueprint.route("/<int:provider_id>/charter/confirm", methods=["POST"])
@roles_required(Role.broker)
def confirm_charter(provider_id: int):
    """Confirm, after checking, that the provider keeps the Ethical Care Charter (a dated tick's travel is paid from today)."""
    provider, already_on = charter.confirm_charter(session=get_session(), actor=current_user, provider_id=provider_id)
    flash(charter.confirmed_words(provider, already_on=already_on), "info" if already_on else "success")
    # Confirmed from the providers list, the broker goes back to the list to review the next one.
    if request.form.get("back") == "list":
        return redirect(url_for("providers.index", _anchor="charters"))
    return redirect(url_for("providers.show", provider_id=provider_id))


@public.route("/offer-care", methods=["GET", "POST"])
# So many applications an hour from one connection, and so many a day to one address typed (each send mails it: a link,
# or "you already have an account"), whoever sends them. Only a send that went (a redirect) counts, so someone putting
# their own form right is never held back, nor are others on the same connection (tester R6-5).
@rate_limit("APPLY_RATE_LIMIT", counts=sent_on)
@rate_limit("APPLY_EMAIL_RATE_LIMIT", per=per_typed_email("apply-email"), counts=sent_on)
def apply():
    """Apply to offer care as a micro-provider or personal assistant; the answer is "check your email" whether or not the address has an account."""
    form = ApplicationForm()
    form.set_choices()
    if form.validate_on_submit():
        try:
            pending.apply(session=get_session(), **form.application())
        except BrokerageError as error:
            refuse(form, error)
        else:
            # The "check your email" page shows the address, so a typing mistake can be seen (tester R7-25); the
            # applicant's own address, just typed, kept in their own signed cookie until that page is shown.
            cookie["applied_email"] = form.email.data
            return redirect(url_for("offer_care.sent"))
    elif form.is_submitted() and not form.form_errors:
        # Every problem on the first send: what only the service can tell (the postcode's council) beside the form's own.
        _add_problems(form, pending.problems(session=get_session(), **form.answers()))
    return render_template("providers/apply.html", form=form), (422 if _failed(form) else 200)


def _add_problems(form, problems: dict[str, str]) -> None:
    for name, message in problems.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors") and not field.errors:
            field.errors = [message]


@public.route("/offer-care/sent")
def sent():
    """Say that an email is on its way, in the same words whether or not the address has an account."""
    return render_template("providers/apply_sent.html", hours=pending.link_hours(), email=cookie.pop("applied_email", None))


@public.route("/offer-care/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Send an application through the link emailed to its address (a page with a button, so that opening the link alone does nothing)."""
    session = get_session()
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        applied = pending.confirm(session=session, token=token)
        sessions.begin(applied.user)
        flash("Thank you. Your application has been sent to the council's brokers. Below is what happens next.", "success")
        return redirect(url_for("providers.show", provider_id=applied.provider.id))
    waiting = pending.usable(session=session, token=token)
    return render_template("providers/confirm.html", form=form, application=waiting)


@blueprint.route("/applications")
@roles_required(Role.broker, Role.council_officer)
def queue():
    """List the council's applications to offer care that wait for a broker's review, oldest first."""
    found = applications.queue(session=get_session(), actor=current_user)
    return render_template("providers/applications.html", queue=found, vetting_words=services.VETTING_WORDS)


@blueprint.route("/<int:provider_id>/approve", methods=["POST"])
@roles_required(Role.broker)
def approve(provider_id: int):
    """Approve an application; the provider is matched once its evidence is verified too."""
    try:
        progress = applications.approve(session=get_session(), actor=current_user, provider_id=provider_id)
    except BrokerageError as error:
        if wants_json():
            raise
        refuse_in_flash(error)
    else:
        name = progress.provider.name
        flash(f"{name} is approved. They can be matched with groups now." if progress.matchable else
              f"{name} is approved. Before they can be matched: {' '.join(progress.steps)}", "success")
    return redirect(url_for("providers.show", provider_id=provider_id))


@blueprint.route("/<int:provider_id>/ask-again", methods=["POST"])
@roles_required(Role.provider)
def ask_again(provider_id: int):
    """Send one's own refused application back to the brokers for another look."""
    try:
        applications.ask_again(session=get_session(), actor=current_user, provider_id=provider_id)
    except BrokerageError as error:
        if wants_json():
            raise
        refuse_in_flash(error)
    else:
        flash("Your application is with the council's brokers again. They can see what you have changed since.", "success")
    return redirect(url_for("providers.show", provider_id=provider_id))


@blueprint.route("/<int:provider_id>/refuse", methods=["POST"])
@roles_required(Role.broker)
def refuse_application(provider_id: int):
    """Refuse an application, saying why; the applicant reads the reason."""
    form = RefuseForm()
    if form.validate_on_submit():
        try:
            provider = applications.refuse(session=get_session(), actor=current_user, provider_id=provider_id, reason=form.reason.data)
        except ValidationFailed as error:
            return _show(provider_id, refuse_form=form, status=refuse(form, error))
        except BrokerageError as error:
            if wants_json():
                raise
            refuse_in_flash(error)
            return redirect(url_for("providers.show", provider_id=provider_id))
        flash(f"{provider.name}'s application is refused. They can read your reason when they sign in.", "success")
        return redirect(url_for("providers.queue"))
    return _show(provider_id, refuse_form=form, status=422)
