"""The demo's care: what the groups ask for, the matches they voted through, and a run for the broker to review.

Demand is recorded, matched, sent and contracted through the matching services: each contract comes
from the accepted match's own action when the group's vote passes, as in the product. Every wish the
story contracts names a service, language or carer that only the provider it expects offers, and the
story checks that the matching found that provider for all of it.
"""

from __future__ import annotations

from sqlmodel import Session, select

from brokerage.accounts.system import system_actor
from brokerage.clusters.proposals import open_proposals
from brokerage.clusters.rules import ProposalKind, ProposalStatus
from brokerage.contracts.services import contracts_of_cluster
from brokerage.demo import data
from brokerage.demo.groups import BENGALI, vote_yes
from brokerage.demo.story import Care, Cast, StoryClock, StoryError
from brokerage.matching import services as matching
from brokerage.matching.models import MatchAssignment, MatchRun
from brokerage.providers.models import Provider


def ask(*, session: Session, cast: Cast, wish: tuple) -> None:
    """The broker records what a group asks for: (group, service, hours per time of day, languages, language required, carer gender, most per hour)."""
    name, service, slot_hours, languages, required, gender, cap = wish
    matching.add_demand_line(
        session=session, actor=cast.user(data.BROKER[0]), cluster_id=cast.clusters[name].id, service=service, slot_hours=slot_hours,
        languages=languages, language_required=required, carer_gender=gender, max_rate_pence=cap,
    )


def ask_for_domestic_help(*, session: Session, cast: Cast) -> None:
    """The Bengali circle asks for domestic help in Bengali from a woman carer."""
    ask(session=session, cast=cast, wish=data.CONTRACTED)


def match_and_send(*, session: Session, story: StoryClock, cast: Cast, expected: dict[str, str]) -> None:
    """The broker runs matching, which finds all the help asked for from the providers expected ({group: provider}), and sends it to the groups."""
    broker = cast.user(data.BROKER[0])
    run = matching.run_matching(session=session, actor=broker, council_id=cast.council.id)
    if run.covered_hours != run.demanded_hours:
        raise StoryError(f"the care {', '.join(expected)} asked for was meant to be matched in full ({run.covered_hours} of {run.demanded_hours} hours)")
    assignments = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id)).all()
    found = {(cast_name(cast, a.cluster_id), session.get(Provider, a.provider_id).name) for a in assignments}
    if found != set(expected.items()):
        raise StoryError(f"the matching was meant to find {sorted(expected.items())}, and found {sorted(found)}: steer it through the wish (service, language, rate)")
    story.later(minutes=30)
    matching.send_to_clusters(session=session, actor=broker, run_id=run.id)


def cast_name(cast: Cast, cluster_id: int) -> str:
    """Return the name of one of the story's groups."""
    return next(name for name, cluster in cast.clusters.items() if cluster.id == cluster_id)


def vote_on_the_match(*, session: Session, story: StoryClock, cast: Cast, group: str, provider: str, visits: list, every: int = 1,
                      hours_between: int = 9) -> Care:
    """The group's members vote the match through, which makes its contract with the provider; the story keeps it with the week's visits."""
    cluster = cast.clusters[group]
    (proposal,) = open_proposals(session=session, cluster_id=cluster.id, kind=ProposalKind.accept_match)
    proposal = vote_yes(session=session, cast=cast, proposal=proposal, between=lambda: story.later(hours=hours_between))
    made = [(c, p) for c, p in contracts_of_cluster(session=session, actor=cast.user(data.BROKER[0]), cluster=cluster)
            if c.proposal_id == proposal.id]
    if proposal.status != ProposalStatus.passed or [p.name for _, p in made] != [provider]:
        raise StoryError(f"{group} was meant to accept its match and have a contract with {provider}: {proposal.outcome}")
    contract, found = made[0]
    cast.care[provider] = Care(contract=contract, provider=found, visits=visits, every=every)
    return cast.care[provider]


def vote_on_domestic_help(*, session: Session, story: StoryClock, cast: Cast, visits: list) -> Care:
    """The Bengali circle votes its domestic help through: the contract with the personal assistant who has the printed login."""
    return vote_on_the_match(session=session, story=story, cast=cast, group=BENGALI, provider=data.PROVIDER_WITH_LOGIN, visits=visits)


def record_demand(*, session: Session, story: StoryClock, cast: Cast) -> None:
    """The active groups tell the broker what care they need."""
    for wish in data.DEMAND:
        story.later(minutes=20)
        ask(session=session, cast=cast, wish=wish)


def run_for_review(*, session: Session, cast: Cast) -> MatchRun:
    """Run matching now, as the nightly matching job does, for the broker to review."""
    return matching.run_matching(session=session, actor=system_actor(session=session, council_id=cast.council.id), council_id=cast.council.id)
