"""Text for people: bodies shown so that nothing is invisible, clipped to a readable length."""

from __future__ import annotations

import pytest

from chat_contracts.core.text import clip, is_plain, show


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"\n", "\\n"),
        (b"\r\n", "\\r\\n"),
        (b"\t", "\\t"),
        (b"\x0b", "\\x0b"),
        (b"\x0c", "\\x0c"),
        (b" ", "\\x20"),
        (b"   ", "\\x20\\x20\\x20"),
        (" \u00a0\u2003\u3000".encode(), "\\x20\\xa0\\u2003\\u3000"),
        (b"\x00", "\\x00"),
        ("\u200b".encode(), "\\u200b"),  # zero width space
        ("\U000e0001", "\\U000e0001"),  # an invisible astral character
    ],
    ids=repr,
)
def test_a_body_with_nothing_visible_is_shown_as_escapes(body: bytes | str, shown: str) -> None:
    assert show(body) == shown
    assert show(body).strip() != ""


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b'{"title": "Weekly sync"}', '{"title": "Weekly sync"}'),
        ("Réunion ✓ 日本".encode(), "Réunion ✓ 日本"),
        (b"line one\nline two", "line one\\nline two"),
        (b"a\x00b", "a\\x00b"),
        ("a\u00a0b", "a\\xa0b"),  # a no-break space looks like a space: shown as what it is
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("emoji \U0001f600", "emoji \U0001f600"),
        ("a b", "a b"),
    ],
    ids=repr,
)
def test_text_is_shown_as_text_and_the_unprintable_as_escapes(body: bytes | str, shown: str) -> None:
    assert show(body) == shown


def test_binary_is_shown_as_its_repr() -> None:
    assert show(b"\xff\xfe\x00{") == "b'\\xff\\xfe\\x00{'"
    assert show(b"\x1f\x8b\x08\x00" + bytes(range(200, 256))).startswith("b'\\x1f\\x8b\\x08")


def test_nothing_and_empty_are_named() -> None:
    assert show(None) == "(none)"
    assert show(b"") == show("") == "(empty)"


def test_long_bodies_are_clipped_with_their_length() -> None:
    assert show(b"x" * 1000, limit=10) == "xxxxxxxxxx... (1000 characters)"
    assert show(b"\n" * 100, limit=6) == "\\n\\n\\n... (200 characters)"
    assert show(b"\xff" * 100, limit=8).startswith("b'\\xff\\x") and "characters)" in show(b"\xff" * 100, limit=8)
    assert clip("short", 10) == "short" and clip("x" * 11, 10) == "x" * 10 + "... (11 characters)"


def test_is_plain() -> None:
    assert is_plain("a b c") and is_plain("")
    assert not is_plain("a\nb") and not is_plain("\x0b") and not is_plain("\ud800")
