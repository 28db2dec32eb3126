"""The demo's care: what the groups ask for, one match a group voted through, and a run for the broker to review.

Demand is recorded, matched, sent and contracted through the matching services: the contract comes
from the accepted match's own action when the group's vote passes, as in the product.
"""

from __future__ import annotations

from sqlmodel import Session

from brokerage.clusters.proposals import open_proposals
from brokerage.clusters.rules import ProposalKind, ProposalStatus
from brokerage.contracts.services import contracts_of_cluster
from brokerage.demo import data
from brokerage.demo.groups import BENGALI, vote_yes
from brokerage.demo.story import Cast, StoryClock, StoryError
from brokerage.accounts.system import system_actor
from brokerage.matching import services as matching
from brokerage.matching.models import MatchRun


def _ask(*, session: Session, cast: Cast, wish: tuple) -> None:
    name, service, hours, slots, languages, required, gender, cap = wish
    matching.add_demand_line(
        session=session, actor=cast.user(data.BROKER[0]), cluster_id=cast.clusters[name].id, service=service, hours=hours, slots=slots,
        languages=languages, language_required=required, carer_gender=gender, max_rate_pence=cap,
    )


def ask_for_domestic_help(*, session: Session, cast: Cast) -> None:
    """The Bengali circle asks for domestic help in Bengali from a woman carer."""
    _ask(session=session, cast=cast, wish=data.CONTRACTED)


def match_and_send(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """The broker runs matching, which finds the help, and sends it to the circle to vote on."""
    broker = cast.user(data.BROKER[0])
    run = matching.run_matching(session=session, actor=broker, council_id=cast.council.id)
    if run.covered_hours != run.demanded_hours:
        raise StoryError(f"the Bengali circle's help was meant to be matched in full ({run.covered_hours} of {run.demanded_hours} hours)")
    story.later(minutes=30)
    matching.send_to_clusters(session=session, actor=broker, run_id=run.id)


def vote_on_the_match(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """The circle's members vote the match through, which makes the contract."""
    cluster = cast.clusters[BENGALI]
    (proposal,) = open_proposals(session=session, cluster_id=cluster.id, kind=ProposalKind.accept_match)
    proposal = vote_yes(session=session, cast=cast, proposal=proposal, between=lambda: story.later(hours=9))
    contracts = contracts_of_cluster(session=session, actor=cast.user(data.BROKER[0]), cluster=cluster)
    if proposal.status != ProposalStatus.passed or len(contracts) != 1:
        raise StoryError(f"the Bengali circle was meant to accept its match and have one contract: {proposal.outcome}")


def record_demand(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """The active groups tell the broker what care they need."""
    for wish in data.DEMAND:
        story.later(minutes=20)
        _ask(session=session, cast=cast, wish=wish)


def run_for_review(*, session: Session, cast: Cast) -> MatchRun:
    """Run matching now, as the nightly matching job does, for the broker to review."""
    return matching.run_matching(session=session, actor=system_actor(session=session, council_id=cast.council.id), council_id=cast.council.id)
