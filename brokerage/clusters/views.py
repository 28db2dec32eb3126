"""Cluster pages: find, start, join, pledge, propose, vote and leave."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.clusters import governance, members, membership, queries
from brokerage.clusters.errors import SameDecisionOpen
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.clusters.schemas import ClusterForm, FindForm, JoinForm, PledgeForm, ProposalForm, VoteForm
from brokerage.db import get_session, noting_changes, writes_when_reading
from brokerage.errors import BrokerageError, NotAllowed
from brokerage.formatting import long_date
from brokerage.forms import refuse, undone_if_sent
from brokerage.vocabulary import COMMON_LANGUAGE_NAMES, SERVICE_NAMES
from brokerage.pages.clusters import cluster_show, leave_preview
from brokerage.pages.proposals import proposal_show

blueprint = Blueprint("clusters", __name__, url_prefix="/clusters")
MEMBERS = (Role.holder, Role.representative)


def _people_choices(people) -> list[SelectChoice]:
    return [SelectChoice(str(h.id), h.name) for h in people]


@blueprint.route("/")
@roles_required(Role.broker, Role.council_officer)
def index():
    """List the council's clusters."""
    page = queries.clusters_page(session=get_session(), actor=current_user)
    return render_template("clusters/index.html", clusters=page.clusters, areas=page.areas)


@blueprint.route("/find")
@roles_required(Role.holder, Role.representative, Role.broker)
def find():
    """Search clusters, and suggest clusters for me."""
    form = FindForm(request.args)
    if current_user.role == Role.broker:
        form.near.description = "For example E1 6AN."
    form.language.choices = [SelectChoice("", "Any language")] + [SelectChoice(code, name) for code, name in sorted(COMMON_LANGUAGE_NAMES.items(), key=lambda i: i[1])]
    form.need.choices = [SelectChoice("", "Any need")] + [SelectChoice(token, name.capitalize()) for token, name in SERVICE_NAMES.items()]
    searched = bool(request.args)
    search, status = None, 200
    if searched and not form.validate():
        status = 422
    elif searched:
        search = {"kind": form.kind.data or None, "language": form.language.data or None, "need": form.need.data or None, "within_km": form.within_km.data,
                  "district": form.district.data or None, "near": form.near.data or None}
    try:
        page = queries.find_page(session=get_session(), actor=current_user, search=search)
    except BrokerageError as error:  # a postcode carepool does not know, an area not the council's, a distance from nowhere
        status = refuse(form, error)
        page = queries.find_page(session=get_session(), actor=current_user, search=None)
    form.district.choices = [SelectChoice("", "Any area")] + [SelectChoice(d, d) for d in page.districts]
    return render_template("clusters/find.html", form=form, results=page.results, searched=searched, suggestions=page.suggestions, forming=page.forming,
                           areas=page.areas, measured_from=page.measured_from), status


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker)
def new():
    """Start a new cluster."""
    session = get_session()
    form = ClusterForm()
    page = queries.new_cluster_page(session=session, actor=current_user)
    people = _people_choices(page.people)
    if current_user.role == Role.broker:
        people = [SelectChoice("0", "Nobody yet – a broker is starting it")]
    # A sent form takes anyone the actor still acts for, as the join form does: one who has just lost "Vote and join
    # groups" hears why from the service (403); the page shown again lists only whom they may start a group for.
    form.holder_id.choices = people if current_user.role == Role.broker or request.method == "GET" else _people_choices(
        members.holders_actor_acts_for(session=session, actor=current_user, power=None))
    if current_user.role != Role.holder:  # the pledge comes from someone else's budget
        form.pledge.description = form.BROKER_PLEDGE if current_user.role == Role.broker else form.THEIR_PLEDGE
    form.districts.choices = [SelectChoice(d, d) for d in page.districts]
    if request.method == "GET":
        form.min_size.data, form.max_size.data = page.min_size, page.max_size
    if form.validate_on_submit():
        try:
            cluster = membership.create_cluster(
                session=session, actor=current_user, name=form.name.data, description=form.description.data or "", kinds=form.kinds.data,
                districts=form.districts.data or [], min_size=form.min_size.data, max_size=form.max_size.data,
                founder_holder_id=form.holder_id.data or None, founder_pledge=form.pledge.pence or 0,
            )
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash(f"{cluster.name} has started. People can now find it under \"Find a group\" and ask to join.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster.id))
    form.holder_id.choices = people
    return render_template("clusters/new.html", form=form), (422 if form.errors or form.form_errors else 200)


def _show(cluster_id: int, *, join_form=None, pledge_forms=None, status: int = 200):
    show = cluster_show(session=get_session(), actor=current_user, cluster_id=cluster_id)
    page = show.page
    # Prefixes keep element ids unique when one page shows several of these forms.
    join_form = join_form or JoinForm(formdata=None, prefix="join")
    join_form.holder_id.choices = [SelectChoice(str(h.id), h.name) for h in page.can_join]
    if current_user.role != Role.holder:
        join_form.pledge.description = join_form.THEIR_PLEDGE
    pledge_forms = pledge_forms or {}
    for mine in page.my_memberships:
        if mine.id not in pledge_forms:
            form = PledgeForm(formdata=None, prefix=f"m{mine.id}")
            form.pledge.data = f"{mine.weekly_pledge_pence / 100:.2f}"
            pledge_forms[mine.id] = form
    return render_template(
        "clusters/show.html", page=page, join_form=join_form, pledge_forms=pledge_forms, details=show.details, contracts=show.contracts,
        demand=show.demand, approver=show.approver, timesheets=show.timesheets, sees_care=show.sees_care,
        own_shares=show.own_shares,
    ), status


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
    # Anyone the actor still acts for, whatever their powers: one who has just lost "Vote and join groups" hears why
    # from the service (403), not "Choose a member". The page shown again lists only whom they may join for.
    people = members.holders_actor_acts_for(session=session, actor=current_user, power=None)
    form.holder_id.choices = _people_choices(people)
    status = 422
    if form.validate_on_submit():
        try:
            proposal = governance.request_to_join(session=session, actor=current_user, cluster_id=cluster_id, holder_id=form.holder_id.data, pledge=form.pledge.pence)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            # A representative reads whose request it was, not "your request".
            name = next((h.name for h in people if h.id == form.holder_id.data and h.id != current_user.holder_id), None)
            if proposal.status.value == "passed":
                flash(f"{name} is the first member of this group." if name else "You are the first member of this group.", "success")
            else:
                whose = f"{name}'s" if name else "Your"
                flash(f"{whose} request to join has been sent. The members will vote on it.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster_id))
    return _show(cluster_id, join_form=form, status=status)


@blueprint.route("/memberships/<int:membership_id>/pledge", methods=["POST"])
@roles_required(*MEMBERS)
def pledge(membership_id: int):
    """Change my weekly pledge."""
    session = get_session()
    form = PledgeForm(prefix=f"m{membership_id}")
    cluster_id = members.membership_cluster_id(session=session, actor=current_user, membership_id=membership_id, undone="the pledge was not changed")
    status = 422
    if form.validate_on_submit():
        try:
            with noting_changes(session) as changes:
                changed = membership.set_pledge(session=session, actor=current_user, membership_id=membership_id, pledge=form.pledge.pence)
        except BrokerageError as error:
            status = refuse(form, error)
        else:
            whose = "Your" if changed.holder_id == current_user.holder_id else "The"
            if changes.none:
                flash(f"Nothing was changed: {whose.lower()} weekly pledge is already that amount.", "info")
            else:
                flash(f"{whose} weekly pledge has been changed. It applies from the next collection.", "success")
            return redirect(url_for("clusters.show", cluster_id=cluster_id))
    return _show(cluster_id, pledge_forms={membership_id: form}, status=status)


@blueprint.route("/memberships/<int:membership_id>/leave", methods=["GET", "POST"])
@roles_required(*MEMBERS)
def leave(membership_id: int):
    """Give notice to leave a cluster, after saying plainly what will happen."""
    session = get_session()
    if request.method == "GET":
        return render_template("clusters/leave.html", **leave_preview(session=session, actor=current_user, membership_id=membership_id))
    ending = governance.give_notice(session=session, actor=current_user, membership_id=membership_id)
    own = current_user.holder_id == ending.holder_id
    if ending.status.value == "left" and ending.leaves_on:  # the last one out of a group that had not started: it closed
        flash(f"{'You have' if own else 'They have'} left the group. Nobody else was in it, so it has closed.", "success")
    elif ending.leaves_on and ending.leaves_on == ending.notice_date:  # a group that has not started: no notice
        flash(f"{'You have' if own else 'They have'} left the group. Any money {'you' if own else 'they'} added comes back "
              f"to {'your' if own else 'their'} wallet by tomorrow.", "success")
    elif ending.leaves_on:
        whose = "your" if own else "their"
        flash(f"{'Your notice' if own else 'Notice'} has started. {whose.capitalize()} share of the pool comes back to {whose} wallet after "
              f"{long_date(ending.leaves_on)}.", "success")
    else:
        flash(f"{'Your' if own else 'The'} request to join has been withdrawn.", "success")
    return redirect(url_for("clusters.show", cluster_id=ending.cluster_id))


@blueprint.route("/<int:cluster_id>/propose", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative, Role.broker)
def propose(cluster_id: int):
    """Put a decision to the members."""
    session = get_session()
    page = queries.propose_page(session=session, actor=current_user, cluster_id=cluster_id, undone=undone_if_sent("nothing was put to the members"))
    form = ProposalForm()
    form.membership_id.choices = [SelectChoice("0", "Choose a member")] + [SelectChoice(str(m.id), h.name) for m, h in page.removable]
    if form.validate_on_submit():
        payload = {"membership_id": form.membership_id.data} if form.kind.data == "remove_member" else {}
        try:
            proposal = governance.propose(session=session, actor=current_user, cluster_id=cluster_id, kind=ProposalKind(form.kind.data),
                                          title=form.title.data, description=form.description.data or "", payload=payload)
        except SameDecisionOpen as same:
            flash(same.message, "info")
            return redirect(url_for("clusters.proposal", proposal_id=same.proposal_id))
        except BrokerageError as error:
            refuse(form, error)
        else:
            flash("Your proposal has been put to the members.", "success")
            return redirect(url_for("clusters.proposal", proposal_id=proposal.id))
    return render_template("clusters/propose.html", form=form, page=page), (422 if form.errors or form.form_errors else 200)


@blueprint.route("/proposals/<int:proposal_id>", methods=["GET", "POST"])
@writes_when_reading  # staff reads of what each member would pay go to the access log
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def proposal(proposal_id: int):
    """Show a proposal and vote on it."""
    session = get_session()
    data = proposal_show(session=session, actor=current_user, proposal_id=proposal_id, undone=undone_if_sent("the vote was not recorded"))
    form = VoteForm()
    form.holder_id.choices = [SelectChoice(str(h.id), h.name) for h in data["can_vote"]]
    if current_user.role == Role.representative:
        form.choice.label.text = "Their vote"  # a representative casts someone else's vote
    if request.method == "POST":
        if current_user.role not in MEMBERS:
            raise NotAllowed("Only members, or representatives they authorised, can vote.")
        status = 422
        if form.validate_on_submit():
            try:
                decided = governance.cast_vote(session=session, actor=current_user, proposal_id=proposal_id, holder_id=form.holder_id.data, choice=Choice(form.choice.data))
            except BrokerageError as error:
                status = refuse(form, error)
            else:
                # A representative reads whose vote it was, not "your vote".
                voter = next((h.name for h in data["can_vote"] if h.id == form.holder_id.data), None)
                own = current_user.holder_id == form.holder_id.data or voter is None
                message = "Your vote has been counted." if own else f"{voter}'s vote has been counted."
                if decided.status.value != "open":
                    message += f" The vote is decided: {decided.outcome}"
                flash(message, "success")
                return redirect(url_for("clusters.proposal", proposal_id=proposal_id))
        data = proposal_show(session=session, actor=current_user, proposal_id=proposal_id)
        return render_template("clusters/proposal.html", form=form, **data), status
    return render_template("clusters/proposal.html", form=form, **data)
