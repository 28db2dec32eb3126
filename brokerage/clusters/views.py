"""Cluster pages: find, start, join, pledge, propose, vote and leave."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.clusters import services
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.clusters.schemas import ClusterForm, FindForm, JoinForm, PledgeForm, ProposalForm, VoteForm
from brokerage.db import get_session, writes_when_reading
from brokerage.errors import BrokerageError
from brokerage.vocabulary import COMMON_LANGUAGE_NAMES, SERVICE_NAMES
from brokerage.forms import attach_error

blueprint = Blueprint("clusters", __name__, url_prefix="/clusters")
MEMBERS = (Role.holder, Role.representative)


def _people_choices(session) -> list[SelectChoice]:
    return [SelectChoice(str(h.id), h.name) for h in services.holders_actor_acts_for(session=session, actor=current_user)]


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's clusters."""
    rows = services.list_clusters(session=get_session(), actor=current_user)
    return render_template("clusters/index.html", clusters=rows)


@blueprint.route("/find")
@roles_required(Role.holder, Role.representative, Role.broker)
def find():
    """Search clusters, and suggest clusters for me."""
    session = get_session()
    form = FindForm(request.args)
    form.language.choices = [SelectChoice("", "Any language")] + [SelectChoice(code, name) for code, name in sorted(COMMON_LANGUAGE_NAMES.items(), key=lambda i: i[1])]
    form.need.choices = [SelectChoice("", "Any need")] + [SelectChoice(token, name.capitalize()) for token, name in SERVICE_NAMES.items()]
    people = services.holders_actor_acts_for(session=session, actor=current_user)
    searched = bool(request.args)
    results, status = [], 200
    if searched and not form.validate():
        status = 422
    elif searched:
        origin = (people[0].lat, people[0].lon) if people else None
        results = services.find_clusters(
            session=session, actor=current_user, kind=form.kind.data or None, language=form.language.data or None,
            need=form.need.data or None, within_km=form.within_km.data, origin=origin,
        )
    suggestions = [(person, services.suggestions_for(session=session, actor=current_user, holder_id=person.id)) for person in people]
    forming = services.forming_needing_members(session=session, actor=current_user) if current_user.role == Role.broker else []
    return render_template("clusters/find.html", form=form, results=results, searched=searched, suggestions=suggestions, forming=forming), status


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker)
def new():
    """Start a new cluster."""
    session = get_session()
    form = ClusterForm()
    people = _people_choices(session)
    if current_user.role == Role.broker:
        people = [SelectChoice("0", "Nobody yet – a broker is starting it")]
    form.holder_id.choices = people
    if request.method == "GET":
        council = current_user_council(session)
        form.min_size.data, form.max_size.data = council.cluster_min_size, council.cluster_max_size
    if form.validate_on_submit():
        try:
            cluster = services.create_cluster(
                session=session, actor=current_user, name=form.name.data, description=form.description.data or "", kinds=form.kinds.data,
                area=form.area.data or "", min_size=form.min_size.data, max_size=form.max_size.data,
                founder_holder_id=form.holder_id.data or None, founder_pledge=form.pledge.pence or 0,
            )
        except BrokerageError as error:
            attach_error(form, error)
        else:
            session.commit()
            flash(f"{cluster.name} has started. People can now find it under \"Find a group\" and ask to join.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster.id))
    return render_template("clusters/new.html", form=form), (422 if form.errors or form.form_errors else 200)


def current_user_council(session):
    """Return the signed-in user's council."""
    from brokerage.accounts.models import Council

    return session.get(Council, current_user.council_id)


def _show(cluster_id: int, *, join_form=None, pledge_forms=None, status: int = 200):
    session = get_session()
    page = services.cluster_page(session=session, actor=current_user, cluster_id=cluster_id)
    # Prefixes keep element ids unique when one page shows several of these forms.
    join_form = join_form or JoinForm(formdata=None, prefix="join")
    join_form.holder_id.choices = [SelectChoice(str(h.id), h.name) for h in page.can_join]
    pledge_forms = pledge_forms or {}
    for membership in page.my_memberships:
        if membership.id not in pledge_forms:
            form = PledgeForm(formdata=None, prefix=f"m{membership.id}")
            form.pledge.data = f"{membership.weekly_pledge_pence / 100:.2f}"
            pledge_forms[membership.id] = form
    details = {}
    if page.members:
        from brokerage.holders.services import details_visible_to, holder_ids_acted_for
        from brokerage.pages.holders import group_mate_ids  # TRANSITIONAL: clusters.membership.group_mate_ids at the merge

        context = "broker" if current_user.role in (Role.broker, Role.council_officer) else "cluster"
        mates = group_mate_ids(session=session, holder_ids=holder_ids_acted_for(session=session, actor=current_user))
        details = details_visible_to(session=session, actor=current_user, holder_ids=[h.id for _, h in page.members], group_mate_ids=mates, context=context)
        session.commit()  # keeps the access-log lines for staff reads
    contracts, demand = [], []
    if page.members:
        from brokerage.matching.services import contracts_of_cluster, demand_of_cluster

        contracts = contracts_of_cluster(session=session, actor=current_user, cluster=page.cluster)
        demand = demand_of_cluster(session=session, actor=current_user, cluster=page.cluster)
    return render_template("clusters/show.html", page=page, join_form=join_form, pledge_forms=pledge_forms, details=details, contracts=contracts, demand=demand), status


@blueprint.route("/<int:cluster_id>")
@writes_when_reading  # staff reads go to the access log
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def show(cluster_id: int):
    """Show a cluster: its members, pool, proposals, and what I can do."""
    return _show(cluster_id)


@blueprint.route("/<int:cluster_id>/join", methods=["POST"])
@roles_required(*MEMBERS)
def join(cluster_id: int):
    """Ask to join a cluster with a weekly pledge."""
    session = get_session()
    form = JoinForm(prefix="join")
    form.holder_id.choices = _people_choices(session)
    status = 422
    if form.validate_on_submit():
        try:
            proposal = services.request_to_join(session=session, actor=current_user, cluster_id=cluster_id, holder_id=form.holder_id.data, pledge=form.pledge.pence)
        except BrokerageError as error:
            session.rollback()
            status = attach_error(form, error)
        else:
            session.commit()
            if proposal.status.value == "passed":
                flash("You are the first member of this group.", "success")
            else:
                flash("Your request to join has been sent. The members will vote on it.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster_id))
    return _show(cluster_id, join_form=form, status=status)


@blueprint.route("/memberships/<int:membership_id>/pledge", methods=["POST"])
@roles_required(*MEMBERS)
def pledge(membership_id: int):
    """Change my weekly pledge."""
    session = get_session()
    form = PledgeForm(prefix=f"m{membership_id}")
    cluster_id = services.membership_cluster_id(session=session, actor=current_user, membership_id=membership_id)
    status = 422
    if form.validate_on_submit():
        try:
            services.set_pledge(session=session, actor=current_user, membership_id=membership_id, pledge=form.pledge.pence)
        except BrokerageError as error:
            session.rollback()
            status = attach_error(form, error)
        else:
            session.commit()
            flash("Your weekly pledge has been changed. It applies from the next collection.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster_id))
    return _show(cluster_id, pledge_forms={membership_id: form}, status=status)


@blueprint.route("/memberships/<int:membership_id>/leave", methods=["GET", "POST"])
@roles_required(*MEMBERS)
def leave(membership_id: int):
    """Give notice to leave a cluster, after saying plainly what will happen."""
    session = get_session()
    if request.method == "GET":
        preview = services.notice_preview(session=session, actor=current_user, membership_id=membership_id)
        return render_template("clusters/leave.html", **preview)
    membership = services.give_notice(session=session, actor=current_user, membership_id=membership_id)
    session.commit()
    if membership.leaves_on:
        flash(f"Your notice has started. Your share of the pool comes back to your wallet after {membership.leaves_on:%-d %B %Y}.", "success")
    else:
        flash("Your request to join has been withdrawn.", "success")
    return redirect(url_for("clusters.show", cluster_id=membership.cluster_id))


@blueprint.route("/<int:cluster_id>/propose", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker)
def propose(cluster_id: int):
    """Put a decision to the members."""
    session = get_session()
    page = services.cluster_page(session=session, actor=current_user, cluster_id=cluster_id)
    services.require_member_or_broker(session=session, actor=current_user, cluster=page.cluster)
    form = ProposalForm()
    form.membership_id.choices = [SelectChoice("0", "Choose a member")] + [SelectChoice(str(m.id), h.name) for m, h in page.members]
    if form.validate_on_submit():
        payload = {"membership_id": form.membership_id.data} if form.kind.data == "remove_member" else {}
        try:
            proposal = services.propose(session=session, actor=current_user, cluster_id=cluster_id, kind=ProposalKind(form.kind.data),
                                        title=form.title.data, description=form.description.data or "", payload=payload)
        except BrokerageError as error:
            session.rollback()
            attach_error(form, error)
        else:
            session.commit()
            flash("Your proposal has been put to the members.", "success")
            return redirect(url_for("clusters.proposal", proposal_id=proposal.id))
    return render_template("clusters/propose.html", form=form, page=page), (422 if form.errors or form.form_errors else 200)


@blueprint.route("/proposals/<int:proposal_id>", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def proposal(proposal_id: int):
    """Show a proposal and vote on it."""
    session = get_session()
    data = services.proposal_page(session=session, actor=current_user, proposal_id=proposal_id)
    form = VoteForm()
    form.holder_id.choices = [SelectChoice(str(h.id), h.name) for h in data["can_vote"]]
    if request.method == "POST":
        if current_user.role not in MEMBERS:
            from brokerage.errors import NotAllowed

            raise NotAllowed("Only members, or representatives they authorised, can vote.")
        status = 422
        if form.validate_on_submit():
            try:
                decided = services.cast_vote(session=session, actor=current_user, proposal_id=proposal_id, holder_id=form.holder_id.data, choice=Choice(form.choice.data))
            except BrokerageError as error:
                session.rollback()
                status = attach_error(form, error)
            else:
                session.commit()
                message = "Your vote has been counted."
                if decided.status.value != "open":
                    message += f" The vote is decided: {decided.outcome}"
                flash(message, "success")
                return redirect(url_for("clusters.proposal", proposal_id=proposal_id))
        data = services.proposal_page(session=session, actor=current_user, proposal_id=proposal_id)
        return render_template("clusters/proposal.html", form=form, **data), status
    return render_template("clusters/proposal.html", form=form, **data)
