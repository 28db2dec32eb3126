"""The outbox pages: the mail carepool kept instead of sending, for administrators."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.db import get_session
from brokerage.mail import services
from brokerage.mail.rules import split_links
from brokerage.types import Role
from brokerage.validation import page_number

blueprint = Blueprint("mail", __name__, url_prefix="/admin/outbox")


@blueprint.route("/")
@roles_required(Role.admin)
def outbox():
    """List the mail kept in the outbox, newest first."""
    page = services.outbox_page(session=get_session(), actor=current_user, page=page_number(request.args))
    return render_template("mail/outbox.html", page=page)


@blueprint.route("/<int:message_id>")
@roles_required(Role.admin)
def message(message_id: int):
    """Show one message of the outbox, with its links ready to follow."""
    message = services.outbox_message(session=get_session(), actor=current_user, message_id=message_id)
    return render_template("mail/message.html", message=message, pieces=split_links(message.body))
