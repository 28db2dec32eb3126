"""verify's direct writer of an entry's canonical JSON gives exactly the digest of the general one."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerage.ledger import rules

texts = st.text(max_size=30)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))


@settings(max_examples=300, deadline=None)
@given(
    council=st.integers(1, 10**6), kind=texts, memo=texts, actor=st.none() | st.integers(1, 10**6), key=texts, at=moments,
    reverses=st.none() | st.integers(1, 10**9), postings=st.lists(st.tuples(st.none() | texts, st.integers(-10**12, 10**12)), max_size=5),
)
def test_entry_hash_equals_the_hash_of_the_canonical_content(council, kind, memo, actor, key, at, reverses, postings):
    general = rules.content_hash(rules.entry_content(
        council_id=council, entry_id=0, kind=kind, memo=memo, actor_id=actor, idempotency_key=key, created_at=at,
        reverses_id=reverses, postings=postings,
    ))
    assert rules.entry_hash(
        council_id=council, kind=kind, memo=memo, actor_id=actor, idempotency_key=key, created_at=at, reverses_id=reverses, postings=postings,
    ) == general
