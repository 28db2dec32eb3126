"""The pure rules of links: random tokens stored as hashes, statuses that move one way, and what people type."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from brokerage.invitations import messages, rules
from brokerage.invitations.errors import BadInvitationMove
from brokerage.invitations.rules import InvitationStatus
from brokerage.mail.rules import one_line, split_links

NOW = datetime(2026, 12, 14, 10, 0, tzinfo=timezone.utc)


def test_a_token_is_32_random_bytes_in_url_safe_text_and_never_repeats():
    tokens = {rules.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(rules.looks_like_token(t) and len(t) == 43 for t in tokens)


def test_only_the_sha256_of_a_token_is_kept_and_it_is_compared_in_full():
    token = rules.new_token()
    stored = rules.hash_token(token)
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert rules.token_matches(token, stored)
    assert not rules.token_matches(token[:-1] + ("A" if token[-1] != "A" else "B"), stored)


@pytest.mark.parametrize("text", ["", "short", "x" * 43 + "y", "a" * 42 + "!", "a" * 42 + "é", None, "../" + "a" * 40])
def test_anything_but_a_token_is_refused_before_any_lookup(text):
    assert not rules.looks_like_token(text)


def test_a_pending_invitation_past_its_time_reads_as_expired_and_others_keep_their_status():
    assert rules.status_at(InvitationStatus.pending, NOW + timedelta(seconds=1), NOW) == InvitationStatus.pending
    assert rules.status_at(InvitationStatus.pending, NOW, NOW) == InvitationStatus.expired
    assert rules.status_at("accepted", NOW - timedelta(days=9), NOW) == InvitationStatus.accepted
    assert rules.status_at(InvitationStatus.cancelled, NOW - timedelta(days=9), NOW) == InvitationStatus.cancelled


def test_a_link_works_for_the_time_given_and_not_a_moment_longer():
    ends = rules.expiry(NOW, days=7)
    assert ends == NOW + timedelta(days=7)
    assert not rules.is_expired(ends, ends - timedelta(microseconds=1)) and rules.is_expired(ends, ends)
    assert rules.expiry(NOW, minutes=60) == NOW + timedelta(hours=1)
    with pytest.raises(ValueError):
        rules.expiry(NOW)


def test_an_accepted_or_cancelled_invitation_is_finished_and_a_new_link_revives_only_an_expired_one():
    assert rules.move_invitation("pending", "accepted") == "accepted"
    assert rules.move_invitation(InvitationStatus.expired, InvitationStatus.pending) == "pending"
    for finished in ("accepted", "cancelled"):
        for target in InvitationStatus:
            with pytest.raises(BadInvitationMove, match=f"that is {finished} cannot become {target.value}"):
                rules.move_invitation(finished, target)
    with pytest.raises(BadInvitationMove):
        rules.move_invitation("expired", "accepted")


@pytest.mark.parametrize(("email", "ok"), [
    ("amina@example.org", True), ("a.b+c@sub.example.co.uk", True), ("no-at-sign.example.org", False), ("@example.org", False),
    ("amina@localhost", False), ("amina@example.", False), ("ami na@example.org", False), ("a" * 250 + "@example.org", False),
])
def test_an_email_address_to_invite_needs_a_name_an_at_and_a_domain(email, ok):
    assert (rules.email_problem(email) is None) is ok


@pytest.mark.parametrize(("phone", "ok"), [
    ("07700 900123", True), ("+44 7700 900123", True), ("(020) 7946-0018", True), ("0770", False), ("call me", False), ("0" * 16, False),
])
def test_a_phone_number_has_ten_to_fifteen_digits(phone, ok):
    assert (rules.phone_problem(rules.normalise_phone(phone)) is None) is ok


def test_the_links_in_a_plain_text_body_are_found_without_the_full_stop_after_them():
    text = "Open https://carepool.example/invitations/abc_-123. Or http://x.example/a?b=1, then stop."
    assert split_links(text) == [
        ("Open ", False), ("https://carepool.example/invitations/abc_-123", True), (". Or ", False),
        ("http://x.example/a?b=1", True), (", then stop.", False),
    ]
    assert split_links("no links here") == [("no links here", False)]
    assert "".join(piece for piece, _ in split_links(text)) == text


def test_a_subject_is_one_line_of_at_most_two_hundred_characters():
    assert one_line("Hello\r\nBcc: someone@example.org") == "Hello Bcc: someone@example.org"
    assert len(one_line("word " * 100)) == 200


def test_each_email_says_who_asked_what_to_do_and_for_how_long_in_plain_english():
    link = "https://carepool.example/invitations/" + "a" * 43
    holder = messages.holder_invitation(to="amina@example.org", name="Amina", council="Riverside", broker="Bola", link=link, days=7)
    assert holder.to == "amina@example.org" and "Bola, your broker at Riverside" in holder.body
    assert link in holder.body and "works once, for 7 days" in holder.body
    rep = messages.representative_invitation(to="idil@example.org", name="Idil", holder="Amina", council="Riverside", link=link, days=1,
                                             powers=["See money and statements"])
    assert "Amina has asked you" in rep.body and "- See money and statements" in rep.body and "for 1 day." in rep.body
    staff = messages.staff_invitation(to="new@example.org", name="Nia", role="Council officer", council="Riverside", link=link, days=7)
    assert "as a council officer for Riverside" in staff.body
    reset = messages.password_reset(to="amina@example.org", name="Amina", link=link, minutes=60)
    assert "for 60 minutes" in reset.body and "signs you out everywhere else" in reset.body


def test_only_a_mobile_number_takes_a_text_message():
    from brokerage.invitations.rules import is_mobile

    assert is_mobile("07700 900123") and is_mobile("+44 7700 900123") and is_mobile("+33 6 12 34 56 78")
    assert not is_mobile("020 7946 0005") and not is_mobile("+44 20 7946 0005") and not is_mobile("0161 496 0000")
    assert is_mobile("0044 7700 900123") and not is_mobile("0044 20 7946 0005")
