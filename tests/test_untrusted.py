"""Untrusted text from files: strict JSON names where a file breaks it; echoes are one short line."""

from __future__ import annotations

import pytest

from brokerage.untrusted import JSONProblem, shown, shown_value, strict_json


@pytest.mark.parametrize(("text", "expected"), [
    ("d-0001", "d-0001"),
    ("a\nerror: forged", "a\\nerror: forged"),
    ("tab\there\\", "tab\\there\\\\"),
    ("\ud800", "\\ud800"),
    ("\u2028\x00", "\\u2028\\x00"),
    ("x" * 60, "x" * 60),
    ("x" * 61, "x" * 59 + "…"),
    ("\n" * 40, "\\n" * 29 + "…"),
])
def test_shown_escapes_like_repr_and_cuts_to_sixty_characters(text, expected):
    assert shown(text) == expected
    assert len(shown(text)) <= 60 and shown(text).isprintable()


def test_shown_reads_only_the_start_of_a_huge_text():
    assert shown("y" * 50_000_000) == "y" * 59 + "…"


def test_shown_value_abridges_nested_lists_without_recursing():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    assert shown_value(nested) == "[[[...]]]"
    assert shown_value("a\nb") == "'a\\nb'"


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": 1, "a": 2}', "a: duplicate key (each key may appear once)"),
    ('{"list": [{"id": "r-1", "x": NaN}]}', "list[#0].x: NaN is not a number JSON allows"),
    ('[1, 2, -Infinity]', "[#2]: -Infinity is not a number JSON allows"),
    ('{"n": ' + "7" * 101 + "}", "n: a number of 101 characters is too long (at most 100)"),
    ('{"n": 1e400}', "n: 1e400 is too large a number"),
    ('{"k\\udc00": 1}', "k\\udc00: the key holds a lone surrogate \\udc00"),
    ('{"s": ["ok", "bad\\ud800"]}', "s[#1]: holds a lone surrogate \\ud800"),
    ("[" * 50_000 + "]" * 50_000, "is nested too deeply to read"),
    ("{", "is not valid JSON: Expecting property name"),
])
def test_strict_json_refuses_what_json_does_not_mean_plainly(text, message):
    with pytest.raises(JSONProblem) as caught:
        strict_json(text)
    assert str(caught.value).startswith(message)


def test_strict_json_accepts_plain_json_and_surrogate_pairs():
    assert strict_json('{"a": [1, 2.5, "\\ud83d\\ude00", null, true]}') == {
        "a": [1, 2.5, "\U0001f600", None, True]}


def test_records_are_named_as_the_caller_says():
    with pytest.raises(JSONProblem) as caught:
        strict_json('{"demand": [{"id": "d-1", "h": NaN}]}',
                    record_name=lambda key, index, item: item["id"])
    assert caught.value.where == "demand[d-1].h"
