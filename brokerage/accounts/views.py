"""Sign-in, sign-out and account administration pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_required, logout_user
from wtforms.fields.choices import SelectChoice

from brokerage.access import roles_required
from brokerage.accounts import services, sessions
from brokerage.accounts.errors import AccountLocked, SignInFailed
from brokerage.accounts.models import Role
from brokerage.accounts.rules import is_safe_next
from brokerage.accounts.schemas import ChangePasswordForm, CouncilForm, ResetPasswordForm, SignInForm, UserForm
from brokerage.db import get_session
from brokerage.errors import BrokerageError
from brokerage.extensions import login_manager, rate_limit
from brokerage.forms import refuse, refuse_in_flash

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
    return render_template("accounts/home.html")


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
    """List accounts and add a new one."""
    page = services.users_page(session=get_session(), actor=current_user)
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
            return redirect(url_for("accounts.users"))
    return render_template("accounts/users.html", form=form, users=page.users, council_names=page.council_names), (
        422 if form.errors or form.form_errors else 200
    )


@blueprint.route("/admin/users/<int:user_id>/password", methods=["POST"])
@roles_required(Role.admin)
def reset_password(user_id: int):
    """Set a temporary password for someone, and unlock their account."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(session=get_session(), actor=current_user, user_id=user_id, password=form.password.data)
        except BrokerageError as error:
            # No such account is the same 404 as any missing record, never a message on the list.
            reason = error.errors.get("password", [error.message])[0] if hasattr(error, "errors") else error.message
            refuse_in_flash(error, f"The password was not changed: {reason.rstrip('.')}.")
        else:
            flash(f"{user.name} has a new temporary password and can sign in again.", "success")
    else:
        flash("The password was not changed: enter a temporary password.", "error")
    return redirect(url_for("accounts.users"))


@blueprint.route("/admin/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.admin)
def set_active(user_id: int):
    """Deactivate or reactivate someone's account; either way their sessions end."""
    active = request.form.get("active")
    if active not in ("yes", "no"):
        flash("Nothing was changed: choose to deactivate or reactivate the account.", "error")
        return redirect(url_for("accounts.users"))
    try:
        user = services.set_account_active(session=get_session(), actor=current_user, user_id=user_id, active=active == "yes")
    except BrokerageError as error:
        # No such account is the same 404 as any missing record, never a message on the list.
        refuse_in_flash(error, f"Nothing was changed: {error.message}")
    else:
        if user.is_active_account:
            flash(f"{user.name} can sign in again.", "success")
        else:
            flash(f"{user.name} can no longer sign in, and has been signed out everywhere.", "success")
    return redirect(url_for("accounts.users"))


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
