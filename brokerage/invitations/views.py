"""Invitation and password reset pages: inviting (holders, providers, representatives, staff), the lists of invitations, accepting, and "Forgotten your password?"."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from brokerage.access import roles_required
from brokerage.accounts import sessions
from brokerage.db import get_session
from brokerage.errors import BrokerageError
from brokerage.extensions import per_typed_email, rate_limit, sent_on
from brokerage.forms import refuse, refuse_in_flash
from brokerage.invitations import accepting, queries, resets, rules, services
from brokerage.invitations.errors import LinkNotUsable
from brokerage.invitations.forms import (
    AcceptForm, ButtonForm, ForgottenPasswordForm, HolderInvitationForm, NewPasswordForm, RepresentativeInvitationForm, StaffInvitationForm,
)
from brokerage.types import Role

blueprint = Blueprint("invitations", __name__)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _signed_in():
    return current_user if current_user.is_authenticated else None


# --- brokers invite holders -----------------------------------------------------------------------


@blueprint.route("/invitations/")
@roles_required(Role.broker)
def index():
    """List the invitations to the council's holders that are waiting, with buttons to send again or cancel."""
    rows = queries.waiting_for_brokers(session=get_session(), actor=current_user)
    return render_template("invitations/index.html", rows=rows)


@blueprint.route("/holders/<int:holder_id>/invite", methods=["GET", "POST"])
@roles_required(Role.broker)
def invite_holder(holder_id: int):
    """Invite a holder to make their own account: by email, or by a link to pass on when only a phone number is known."""
    state = queries.sign_in_state(session=get_session(), actor=current_user, holder_id=holder_id)
    form = HolderInvitationForm()
    if request.method == "GET":
        # The broker gave these when adding the holder: they should not have to type them again.
        form.email.data = state.holder.email
        form.phone.data = None if state.holder.email else state.holder.phone
    status = 200
    if form.validate_on_submit():
        try:
            sent = services.invite_holder(session=get_session(), actor=current_user, holder_id=holder_id, email=form.email.data,
                                          phone=form.phone.data)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            return _after_sending(sent, url_for("holders.show", holder_id=holder_id))
    return render_template("invitations/invite_holder.html", form=form, state=state), (status if status != 200 else _status(form))


@blueprint.route("/providers/<int:provider_id>/invite", methods=["GET", "POST"])
@roles_required(Role.broker)
def invite_provider(provider_id: int):
    """Invite a registered provider or personal assistant to make the account that works for it, as a holder is invited."""
    state = queries.provider_sign_in(session=get_session(), actor=current_user, provider_id=provider_id)
    form = HolderInvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            sent = services.invite_provider(session=get_session(), actor=current_user, provider_id=provider_id, email=form.email.data,
                                            phone=form.phone.data)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            return _after_sending(sent, url_for("providers.show", provider_id=provider_id))
    return render_template("invitations/invite_provider.html", form=form, state=state), (status if status != 200 else _status(form))


def _after_sending(sent: services.Sent, back: str):
    """Show the link once when it must be passed on by hand; otherwise say it was emailed and go back."""
    invitation = sent.invitation
    if sent.link:
        # Shown in this answer only: never in a redirect's address or a flashed message, which the session cookie would carry.
        return render_template("invitations/link.html", invitation=invitation, link=sent.link, back=back,
                               texts_reach=rules.is_mobile(invitation.phone))
    flash(f"We have emailed {invitation.name} a link. It works for {services.invitation_days()} days.", "success")
    return redirect(back)


def _list_page(invitation=None) -> str:
    """Return where the actor's list of invitations is: the brokers' list, the administrators' page, or the holder's own page.

    An invitation to a provider is listed on the provider's page too, and the broker goes back there.
    """
    if invitation is not None and invitation.provider_id is not None:
        return url_for("providers.show", provider_id=invitation.provider_id)
    if current_user.role == Role.admin:
        return url_for("invitations.staff")
    if current_user.role == Role.holder:
        return url_for("holders.show", holder_id=current_user.holder_id)
    return url_for("invitations.index")


@blueprint.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@roles_required(Role.broker, Role.holder, Role.admin)
def resend(invitation_id: int):
    """Send an invitation again with a new link; the old link stops working."""
    form = ButtonForm()
    if not form.validate_on_submit():
        flash("Nothing was sent: the form had run out. Try again.", "error")
        return redirect(_list_page())
    try:
        sent = services.resend_invitation(session=get_session(), actor=current_user, invitation_id=invitation_id)
    except BrokerageError as error:
        refuse_in_flash(error, f"Nothing was sent: {error.message}")
        return redirect(_list_page())
    return _after_sending(sent, _list_page(sent.invitation))


@blueprint.route("/invitations/<int:invitation_id>/cancel", methods=["POST"])
@roles_required(Role.broker, Role.holder, Role.admin)
def cancel(invitation_id: int):
    """Cancel an invitation: its link stops working."""
    form = ButtonForm()
    if not form.validate_on_submit():
        flash("Nothing was cancelled: the form had run out. Try again.", "error")
        return redirect(_list_page())
    try:
        invitation = services.cancel_invitation(session=get_session(), actor=current_user, invitation_id=invitation_id)
    except BrokerageError as error:
        refuse_in_flash(error, f"Nothing was cancelled: {error.message}")
        return redirect(_list_page())
    flash(f"The invitation to {invitation.name} was cancelled. Its link no longer works.", "success")
    return redirect(_list_page(invitation))


# --- holders ask someone to act for them ----------------------------------------------------------


@blueprint.route("/holders/<int:holder_id>/representatives/invite", methods=["GET", "POST"])
@roles_required(Role.holder)
def invite_representative(holder_id: int):
    """Ask a family member or carer, by email, to act for me, and choose what they may do."""
    holder = queries.holder_to_invite_for(session=get_session(), actor=current_user, holder_id=holder_id)
    form = RepresentativeInvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            sent = services.invite_representative(
                session=get_session(), actor=current_user, holder_id=holder_id, name=form.name.data, email=form.email.data,
                relationship=form.relationship.data or "", powers=form.powers.data or [],
            )
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            return _after_sending(sent, url_for("holders.show", holder_id=holder_id))
    return render_template("invitations/invite_representative.html", form=form, holder=holder), (status if status != 200 else _status(form))


# --- administrators invite brokers and officers ---------------------------------------------------


@blueprint.route("/admin/invitations", methods=["GET", "POST"])
@roles_required(Role.admin)
def staff():
    """Invite a broker or a council officer, and list the invitations waiting."""
    page = queries.staff_invitations_page(session=get_session(), actor=current_user)
    form = StaffInvitationForm()
    form.council_id.choices = [SelectChoice(str(c.id), c.name) for c in page.councils]
    status = 200
    if form.validate_on_submit():
        try:
            sent = services.invite_staff(session=get_session(), actor=current_user, council_id=form.council_id.data, role=form.role.data,
                                         name=form.name.data, email=form.email.data)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            return _after_sending(sent, url_for("invitations.staff"))
    return render_template("invitations/staff.html", form=form, page=page), (
        status if status != 200 else _status(form)
    )


# --- accepting: public, the link is the key -------------------------------------------------------


@blueprint.route("/invitations/<token>", methods=["GET", "POST"])
def accept(token: str):
    """Accept an invitation: choose a password and sign in, or link the account you are signed in with."""
    session = get_session()
    form = AcceptForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = accepting.accept_invitation(session=session, actor=_signed_in(), token=token, name=form.name.data,
                                               email=form.email.data, password=form.password.data)
        except LinkNotUsable:
            raise
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            if not current_user.is_authenticated:
                sessions.begin(user)
                flash(f"Welcome to carepool, {user.name}. Your account is ready and you are signed in.", "success")
            else:
                # The banner's own heading already says "Done".
                flash("You can now act for them. Their page is listed on your dashboard.", "success")
            return redirect(url_for("dashboard.index"))
    page = accepting.accept_page(session=session, actor=_signed_in(), token=token)
    if request.method == "GET" and page.invitation.name and not form.name.data:
        form.name.data = page.invitation.name
    return render_template("invitations/accept.html", form=form, page=page, token=token), (status if status != 200 else _status(form))


# --- forgotten passwords: public ------------------------------------------------------------------


@blueprint.route("/forgotten-password", methods=["GET", "POST"])
# Each request that went may mail a link: counted per connection and per address typed; one sent back (no address) is not.
@rate_limit("RESET_RATE_LIMIT", counts=sent_on)
@rate_limit("RESET_EMAIL_RATE_LIMIT", per=per_typed_email("reset-email"), counts=sent_on)
def forgotten_password():
    """Ask for a link to choose a new password; the answer never says whether an account uses the address."""
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        resets.request_reset(session=get_session(), email=form.email.data)
        return redirect(url_for("invitations.forgotten_sent"))
    return render_template("invitations/forgotten.html", form=form), _status(form)


@blueprint.route("/forgotten-password/sent")
def forgotten_sent():
    """Say that a link was sent if an account uses the address, the same whether or not one does."""
    return render_template("invitations/forgotten_sent.html", minutes=resets.reset_minutes())


@blueprint.route("/reset-password/<token>", methods=["GET", "POST"])
@rate_limit("PASSWORD_RATE_LIMIT")
def reset_password(token: str):
    """Choose a new password through a reset link; every other session ends and this one is signed in."""
    form = NewPasswordForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = resets.reset_password(session=get_session(), token=token, password=form.password.data)
        except LinkNotUsable:
            raise
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            sessions.begin(user)
            flash("Your password has been changed, and you have been signed out everywhere else.", "success")
            return redirect(url_for("dashboard.index"))
    _, user = resets.usable_reset(session=get_session(), token=token)
    return render_template("invitations/reset.html", form=form, email=user.email), (status if status != 200 else _status(form))
