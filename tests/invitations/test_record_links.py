"""What a representative without the groups power reaches: the record page leads them to each group they may see
something of, whichever power lets them; pledges stay with the groups power."""

from __future__ import annotations

import pytest

from brokerage.holders.models import Power
from tests.invitations.test_powers import choose, representation, text  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("powers", "says", "hidden"), [
    ({Power.money}, "but you see their money: you can see their own share of the pool of each group they are in",
     ": see their share of its pool"),
    ({Power.care}, "but you manage their care: you can see the care of the groups they are in", ": see its care"),
    ({Power.care, Power.money}, "but you manage their care and see their money: you can see the care of the groups they are in "
     "and their own share of each group's pool", ": see its care and their share of its pool"),
], ids=["money", "care", "care and money"])
def test_a_representative_without_the_groups_power_finds_the_groups_from_the_record(client, auth, world, representation, powers, says, hidden):
    # With only the money power the group page showed the person's share of the pool, but the record page said the groups
    # were not shown and linked none: the share was reached only by typing the address.
    holder, cluster = world.records["a"]["holder"], world.records["a"]["cluster"]
    choose(client, auth, world, representation, powers)
    record = text(client.get(f"/holders/{holder.id}"))
    assert says in record and f'href="/clusters/{cluster.id}"' in record and hidden in record
    assert "pledges" not in record and "so they are not shown here" not in record
    assert client.get(f"/clusters/{cluster.id}").status_code == 200


def test_a_representative_with_only_the_groups_power_sees_no_money_sentence_about_the_groups(client, auth, world, representation):
    holder, cluster = world.records["a"]["holder"], world.records["a"]["cluster"]
    choose(client, auth, world, representation, {Power.groups})
    record = text(client.get(f"/holders/{holder.id}"))
    assert f'href="/clusters/{cluster.id}"' in record and "pledges" in record and "but you see their money" not in record


def test_the_vote_page_s_pledge_warning_shows_a_representative_only_the_pledges_of_those_who_let_them_help_with_groups(world, session):
    # A representative acting for one member with the groups power and for another with only the care power saw both
    # members' pledges in a vote page's "would pledge more" warning: any power counted.
    from brokerage.accounts.models import Role
    from brokerage.pages.proposals import _pledges_seen_by
    from tests import factories as f

    records, rep = world.records["a"], world.users["a"][Role.representative]
    f.RepresentationFactory(session=session, council_id=records["holder"].council_id, representative_id=rep.id,
                            holder_id=records["other_holder"].id, may_see_money=False, may_act_in_groups=False)
    session.commit()
    assert _pledges_seen_by(session, rep) == {str(records["holder"].id)}
