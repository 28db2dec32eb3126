"""Contract pages: read a contract, propose a change to the group, give notice."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.contracts import changes, services
from brokerage.contracts.queries import contract_page
from brokerage.contracts.schemas import ChangeForm, NoticeForm
from brokerage.db import get_session, writes_when_reading
from brokerage.errors import BrokerageError
from brokerage.formatting import long_date
from brokerage.forms import refuse

blueprint = Blueprint("contracts", __name__, url_prefix="/contracts")
READERS = (Role.holder, Role.representative, Role.broker, Role.council_officer, Role.provider)


@blueprint.route("/<int:contract_id>")
@writes_when_reading  # staff reads of who the care is for go to the access log
@roles_required(*READERS)
def show(contract_id: int):
    """Show a contract: the care, its cost and each member's part, its dates and its history."""
    page = contract_page(session=get_session(), actor=current_user, contract_id=contract_id)
    return render_template("contracts/show.html", page=page, contract=page.contract)


@blueprint.route("/<int:contract_id>/change", methods=["GET", "POST"])
@roles_required(Role.broker)
def change(contract_id: int):
    """Propose a change of hours, days and times, rate, end date or how the cost is shared; the group votes on it."""
    page = contract_page(session=get_session(), actor=current_user, contract_id=contract_id)
    form = ChangeForm()
    form.limit_times(page.contract)
    if not form.is_submitted():
        form.hours_per_week.data = page.contract.hours_per_week
        form.slot_hours.process(None, page.contract.slot_hours)
        form.hourly_rate.data = f"{page.contract.rate_pence / 100:.2f}"
        form.allocation_rule.data = page.contract.allocation_rule.value
    status = 200
    if form.validate_on_submit():
        try:
            proposal = changes.propose_change(
                session=get_session(), actor=current_user, contract_id=contract_id, hours_per_week=form.hours_per_week.data,
                rate_pence=form.hourly_rate.pence, end_date=form.end_date.data, allocation_rule=form.allocation_rule.data or None,
                slot_hours=form.slot_hours.data,
            )
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            flash("The change has been put to the group. It is made if they agree.", "success")
            return redirect(url_for("clusters.proposal", proposal_id=proposal.id))
    elif form.is_submitted():
        status = 422
    return render_template("contracts/change.html", page=page, contract=page.contract, form=form), status


@blueprint.route("/<int:contract_id>/notice", methods=["GET", "POST"])
@roles_required(Role.broker)
def notice(contract_id: int):
    """Give notice to end a contract, at least the council's notice period from today."""
    page = contract_page(session=get_session(), actor=current_user, contract_id=contract_id)
    form = NoticeForm()
    status = 200
    if form.validate_on_submit():
        try:
            contract = services.give_notice(session=get_session(), actor=current_user, contract_id=contract_id, end_date=form.end_date.data)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            flash(f"Notice is given. The care ends on {long_date(contract.end_date)}.", "success")
            return redirect(url_for("contracts.show", contract_id=contract_id))
    elif form.is_submitted():
        status = 422
    return render_template("contracts/notice.html", page=page, contract=page.contract, form=form), status
