"""Sign-in, sign-out and account administration pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_required, logout_user
from wtforms.fields.choices import SelectChoice

from brokerage.access import roles_required
from brokerage.accounts import admin, services, sessions
from brokerage.accounts.errors import AccountLocked, SignInFailed
from brokerage.accounts.models import Role
from brokerage.types import PERSON_ROLES
from brokerage.accounts.rules import is_safe_next
from brokerage.accounts.schemas import ChangePasswordForm, CouncilForm, ResetPasswordForm, RoleForm, SignInForm, UserForm, load_account_filters
from brokerage.db import get_session
from brokerage.errors import BrokerageError
from brokerage.extensions import login_manager, rate_limit
from brokerage.forms import refuse, refuse_in_flash
from brokerage.transparency.services import published_councils

blueprint = Blueprint("accounts", __name__)


@login_manager.user_loader
def _load_user(user_id: str):
    return sessions.load(get_session(), user_id)


def _retry_after(error: AccountLocked) -> dict:
    """Return a Retry-After header for a lockout answer."""
    return {"Retry-After": str(error.retry_after)} if isinstance(error, AccountLocked) and error.retry_after else {}


@blueprint.route("/")
def home():
    """Show the welcome page, or the dashboard when signed in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("accounts/home.html", reports=published_councils(session=get_session()))


@blueprint.route("/accessibility")
def accessibility():
    """Show the accessibility statement (Public Sector Bodies Accessibility Regulations 2018), to anyone."""
    return render_template("accounts/accessibility.html")


@blueprint.route("/privacy")
def privacy():
    """Show how carepool uses people's information (UK GDPR Articles 13 and 14) and its one cookie, to anyone."""
    return render_template("accounts/privacy.html")


@blueprint.route("/sign-in", methods=["GET", "POST"])
@rate_limit("SIGN_IN_RATE_LIMIT")
def sign_in():
    """Sign in with email and password."""
    form = SignInForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                session=get_session(),
                email=form.email.data,
                password=form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except (SignInFailed, AccountLocked) as error:
            # The failure count is part of the record: keep it even though sign-in failed.
            refuse(form, error, keep_changes=True)
            return render_template("accounts/sign_in.html", form=form), error.status, _retry_after(error)
        # A fresh session on sign-in: nothing from before (messages, a previous user's state) carries over.
        sessions.begin(user)
        return redirect(next_url if is_safe_next(next_url) else url_for("dashboard.index"))
    status = 422 if form.errors else 200
    return render_template("accounts/sign_in.html", form=form), status


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    """Sign out on every device: a copy of this session's cookie stops working too."""
    services.sign_out(session=get_session(), actor=current_user)
    logout_user()
    cookie.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("accounts.sign_in"))


@blueprint.route("/admin/councils", methods=["GET", "POST"])
@roles_required(Role.admin)
def councils():
    """List councils and add a new one."""
    session = get_session()
    form = CouncilForm()
    if form.validate_on_submit():
        try:
            council = services.create_council(
                session=session, actor=current_user, slug=form.slug.data, name=form.name.data, area_districts=form.area_districts.data or ""
            )
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash(f"{council.name} was added.", "success")
            return redirect(url_for("accounts.councils"))
    rows = services.list_councils(session=session, actor=current_user)
    return render_template("accounts/councils.html", form=form, councils=rows), (422 if form.errors or form.form_errors else 200)


@blueprint.route("/admin/users", methods=["GET", "POST"])
@roles_required(Role.admin)
def users():
    """Find accounts by name or email, role and council, 50 a page; and add a new one."""
    filters, errors = load_account_filters(request.args)
    page = admin.find_accounts(session=get_session(), actor=current_user, errors=errors, **filters)
    form = UserForm()
    form.council_id.choices = [SelectChoice("0", "No council (administrators only)")] + [SelectChoice(str(c.id), c.name) for c in page.councils]
    if form.validate_on_submit():
        try:
            user = services.create_user(
                session=get_session(),
                actor=current_user,
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                password=form.password.data,
                council_id=form.council_id.data or None,
            )
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash(f"An account for {user.name} was added.", "success")
            return redirect(url_for("accounts.account", user_id=user.id))
    failed = form.errors or form.form_errors or page.errors
    return render_template("accounts/users.html", form=form, page=page, args=request.args, roles=ROLE_CHOICES), (422 if failed else 200)


ROLE_CHOICES = [(r.value, r.label) for r in PERSON_ROLES]


def _account(user_id: int, *, role_form: RoleForm | None = None, reset_form: ResetPasswordForm | None = None, status: int = 200):
    page = admin.account_page(session=get_session(), actor=current_user, user_id=user_id)
    role_form = role_form or RoleForm(formdata=None)
    return render_template("accounts/account.html", page=page, user=page.user, role_form=role_form,
                           reset_form=reset_form or ResetPasswordForm(formdata=None)), status


@blueprint.route("/admin/users/<int:user_id>")
@roles_required(Role.admin)
def account(user_id: int):
    """Show one account: reset its password, deactivate or reactivate it, change its role."""
    return _account(user_id)


@blueprint.route("/admin/users/<int:user_id>/role", methods=["POST"])
@roles_required(Role.admin)
def change_role(user_id: int):
    """Ask to confirm a new role for an account, then give it; refused beside the field while it owns records of its old role."""
    form = RoleForm()
    if not form.validate_on_submit():
        return _account(user_id, role_form=form, status=422)
    try:
        if not form.confirmed:
            change = admin.check_role_change(session=get_session(), actor=current_user, user_id=user_id, role=form.role.data)
            return render_template("accounts/confirm_role.html", change=change, form=form)
        change = admin.change_role(session=get_session(), actor=current_user, user_id=user_id, role=form.role.data)
    except BrokerageError as error:
        status = refuse(form, error)
        return _account(user_id, role_form=form, status=status)
    flash(f"{change.user.name} is now a {change.new.label.lower()}, and has been signed out everywhere.", "success")
    return redirect(url_for("accounts.account", user_id=user_id))


@blueprint.route("/admin/users/<int:user_id>/password", methods=["POST"])
@roles_required(Role.admin)
def reset_password(user_id: int):
    """Set a temporary password for someone, and unlock their account."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(session=get_session(), actor=current_user, user_id=user_id, password=form.password.data)
        except BrokerageError as error:
            # No such account is the same 404 as any missing record, never a message on the page.
            status = refuse(form, error)
            return _account(user_id, reset_form=form, status=status)
        flash(f"{user.name} has a new temporary password and can sign in again.", "success")
        return redirect(url_for("accounts.account", user_id=user_id))
    return _account(user_id, reset_form=form, status=422)


@blueprint.route("/admin/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.admin)
def set_active(user_id: int):
    """Deactivate or reactivate someone's account; either way their sessions end."""
    active = request.form.get("active")
    if active not in ("yes", "no"):
        flash("Nothing was changed: choose to deactivate or reactivate the account.", "error")
        return redirect(url_for("accounts.account", user_id=user_id))
    try:
        user = services.set_account_active(session=get_session(), actor=current_user, user_id=user_id, active=active == "yes")
    except BrokerageError as error:
        # No such account is the same 404 as any missing record, never a message on the page.
        refuse_in_flash(error, f"Nothing was changed: {error.message}")
    else:
        if user.is_active_account:
            flash(f"{user.name} can sign in again.", "success")
        else:
            flash(f"{user.name} can no longer sign in, and has been signed out everywhere.", "success")
    return redirect(url_for("accounts.account", user_id=user_id))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
@rate_limit("PASSWORD_RATE_LIMIT")
def change_password():
    """Change my own password; this session stays signed in and every other one ends."""
    form = ChangePasswordForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            user = services.change_own_password(
                session=get_session(),
                actor=current_user,
                current=form.current.data,
                new=form.new.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except BrokerageError as error:
            # A wrong current password is counted like a failed sign-in; nothing else was written.
            refuse(form, error, keep_changes=True)
            status, headers = error.status, _retry_after(error)
        else:
            sessions.reissue(user)
            flash("Your password has been changed. You have been signed out on any other devices.", "success")
            return redirect(url_for("dashboard.index"))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return render_template("accounts/password.html", form=form), status, headers
