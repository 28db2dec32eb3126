"""The demo's groups, played through the clusters services: founding, asking to join, votes, pledges, notice, closing.

Every member joins by asking and being voted in (the admit proposal's action lets them in), every
decision is a proposal the members vote on, and a group closes only when its dissolve vote passes.
"""

from __future__ import annotations

from typing import Callable

from sqlmodel import Session

from brokerage.accounts.models import User
from brokerage.clusters import governance, membership, queries
from brokerage.clusters.errors import AlreadyVoted
from brokerage.clusters.members import eligible_voters
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus, Proposal
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.demo import data
from brokerage.demo.story import Cast, StoryClock, StoryError
from brokerage.holders.models import Holder
from brokerage.timesheets import approvers

SOMALI, BENGALI, STRATFORD, LUNCH_CLUB, URDU = (
    "Somali elders of Whitechapel", "Bengali women's care circle", "Stratford Turkish families", "Bethnal Green lunch club",
    "Urdu speakers' home help",
)


def plan_members(cast: Cast) -> None:
    """Choose each group's members from the holders who share its language, founder first."""
    for name, _, _, lang, stage, _ in data.CLUSTERS:
        pool = cast.holders_speaking(lang)
        # A forming group has its founder and one person asking to join.
        cast.members[name] = pool[:5] if stage != ClusterStatus.forming else (pool[5:7] or pool[:2])


def holder_ids_with_logins(cast: Cast) -> set[int]:
    """Return the holders who act for themselves in the story: in each group that has been active, those who vote.

    The first four members of a group of five (or two of a group of four) vote the others in, and the
    larger groups' care match or closing through; everyone else asks the broker to act for them.
    """
    voters = set()
    for name, _, _, _, stage, _ in data.CLUSTERS:
        if stage != ClusterStatus.forming:
            members = cast.members[name]
            voters.update(h.id for h in members[: 4 if len(members) == 5 else 2])
    return voters


def _actor(cast: Cast, holder: Holder) -> User:
    """Return the holder's own login, or the broker's for someone who asked the broker to act for them."""
    return cast.accounts.get(holder.id) or cast.user(data.BROKER[0])


def pledge_for(holder: Holder) -> int:
    """Return a holder's weekly pledge: a third of their budget in whole pounds, so two groups never take it all."""
    return holder.weekly_allocation_pence // 3 // 100 * 100


def vote_yes(*, session: Session, cast: Cast, proposal: Proposal, between: Callable[[], None] | None = None) -> Proposal:
    """Members who have their own login vote yes, one after another, until the proposal is decided."""
    cluster = session.get(Cluster, proposal.cluster_id)
    for holder_id in eligible_voters(session, cluster):
        if proposal.status != ProposalStatus.open:
            break
        if holder_id not in cast.accounts:
            continue
        if between is not None:
            between()
        try:
            proposal = governance.cast_vote(session=session, actor=cast.accounts[holder_id], proposal_id=proposal.id, holder_id=holder_id, choice=Choice.yes)
        except AlreadyVoted:
            continue
    if proposal.status == ProposalStatus.open:
        raise StoryError(f"the members' votes did not decide {proposal.title!r}")
    return proposal


def _require(proposal: Proposal, status: ProposalStatus) -> Proposal:
    if proposal.status != status:
        raise StoryError(f"{proposal.title!r} was meant to be {status.value}, and is {proposal.status.value}: {proposal.outcome}")
    return proposal


def _membership(session: Session, cast: Cast, cluster: Cluster, holder: Holder) -> Membership:
    rows = queries.memberships_of(session=session, actor=_actor(cast, holder), holder_ids=[holder.id])
    return next(m for m, c in rows if c.id == cluster.id and m.status != MembershipStatus.left)


def form_group(*, session: Session, story: StoryClock, cast: Cast, spec: tuple) -> Cluster:
    """Found one group and let its members in one by one, each voted in by those already there."""
    name, kinds, district, _, stage, description = spec
    members = cast.members[name]
    founder = members[0]
    smallest, largest = data.GROUP_SIZE
    cluster = membership.create_cluster(
        session=session, actor=_actor(cast, founder), name=name, description=description, kinds=kinds,
        districts=[district], min_size=smallest, max_size=largest, founder_holder_id=founder.id, founder_pledge=pledge_for(founder),
    )
    cast.clusters[name] = cluster
    if stage == ClusterStatus.forming:
        return cluster  # the second person asks to join near the end of the story
    for holder in members[1:]:
        story.later(hours=3)
        proposal = governance.request_to_join(
            session=session, actor=_actor(cast, holder), cluster_id=cluster.id, holder_id=holder.id, pledge=pledge_for(holder)
        )
        story.later(hours=2)
        _require(vote_yes(session=session, cast=cast, proposal=proposal, between=lambda: story.later(minutes=40)), ProposalStatus.passed)
    if cluster.status != ClusterStatus.active:
        raise StoryError(f"{name} was meant to be active once its members were in")
    return cluster


def choose_an_approver(*, session: Session, story: StoryClock, cast: Cast) -> Proposal:
    """The Somali elders choose Amina to approve their care co-operative's timesheets, as the broker can (she knows the visits best)."""
    amina = cast.members[SOMALI][0]
    proposal = approvers.propose_approver(session=session, actor=cast.accounts[amina.id], cluster_id=cast.clusters[SOMALI].id, holder_id=amina.id)
    return _require(vote_yes(session=session, cast=cast, proposal=proposal, between=lambda: story.later(hours=2)), ProposalStatus.passed)


def raise_a_pledge(*, session: Session, cast: Cast) -> None:
    """An Urdu-speaking member puts £10 a week more into the pool."""
    cluster, holder = cast.clusters[URDU], cast.members[URDU][1]
    membership.set_pledge(
        session=session, actor=cast.accounts[holder.id], membership_id=_membership(session, cast, cluster, holder).id,
        pledge=pledge_for(holder) + 1000,
    )


def close_the_lunch_club(*, session: Session, story: StoryClock, cast: Cast) -> Proposal:
    """The lunch club votes to close: the group closes and each pool share goes back to its member."""
    cluster, proposer = cast.clusters[LUNCH_CLUB], cast.members[LUNCH_CLUB][0]
    proposal = governance.propose(
        session=session, actor=cast.accounts[proposer.id], cluster_id=cluster.id, kind=ProposalKind.dissolve,
        title="Close the lunch club", description="The lunch club has done what we set it up for, and most of us now meet with the Bow group.",
    )
    story.later(hours=4)
    proposal = _require(vote_yes(session=session, cast=cast, proposal=proposal, between=lambda: story.later(minutes=50)), ProposalStatus.passed)
    if session.get(Cluster, cluster.id).status != ClusterStatus.closed:
        raise StoryError("the lunch club was meant to be closed by its vote")
    return proposal


def give_notice(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """In each active group of five, the fifth member gives notice to leave."""
    for name, *_ in data.CLUSTERS:
        cluster, members = cast.clusters[name], cast.members[name]
        if cluster.status == ClusterStatus.active and len(members) == 5:
            story.later(hours=1)
            leaver = members[4]
            governance.give_notice(session=session, actor=_actor(cast, leaver), membership_id=_membership(session, cast, cluster, leaver).id)


def ask_to_join_forming_groups(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """The second person in each forming group asks to join (with the broker's help); the founder has not voted yet."""
    broker = cast.user(data.BROKER[0])
    for name, _, _, _, stage, _ in data.CLUSTERS:
        if stage == ClusterStatus.forming:
            story.later(hours=5)
            holder = cast.members[name][1]
            governance.request_to_join(session=session, actor=broker, cluster_id=cast.clusters[name].id, holder_id=holder.id, pledge=pledge_for(holder))


def start_closing_vote(*, session: Session, cast: Cast) -> Proposal:
    """The Turkish families propose to close their group, and the proposer votes for it; the others have not voted yet."""
    cluster, proposer = cast.clusters[STRATFORD], cast.members[STRATFORD][0]
    proposal = governance.propose(
        session=session, actor=cast.accounts[proposer.id], cluster_id=cluster.id, kind=ProposalKind.dissolve,
        title="Close the group", description="Most of our families are moving to the new Turkish community scheme in Leyton.",
    )
    governance.cast_vote(session=session, actor=cast.accounts[proposer.id], proposal_id=proposal.id, holder_id=proposer.id, choice=Choice.yes)
    return _require(proposal, ProposalStatus.open)


def somali_decisions(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """A newcomer asks to join the Somali elders, Hodan's daughter votes for her, and Amina proposes a change of visits."""
    cluster = cast.clusters[SOMALI]
    members = cast.members[SOMALI]
    newcomer = next(h for h in cast.holders_speaking("so") if h not in members)
    request = governance.request_to_join(
        session=session, actor=cast.user(data.BROKER[0]), cluster_id=cluster.id, holder_id=newcomer.id,
        pledge=newcomer.weekly_allocation_pence // 4 // 100 * 100,
    )
    story.later(hours=8)
    hodan = members[1]
    governance.cast_vote(session=session, actor=cast.user(data.REPRESENTATIVE[0]), proposal_id=request.id, holder_id=hodan.id, choice=Choice.yes)
    _require(request, ProposalStatus.open)
    story.later(hours=15)
    amina = members[0]
    governance.propose(
        session=session, actor=cast.accounts[amina.id], cluster_id=cluster.id, kind=ProposalKind.free_text,
        title="Move Friday visits to the afternoon", description="So that everyone can go to Friday prayers in the morning.",
    )
