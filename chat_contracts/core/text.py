"""Text for people: clipped to a readable length, with what cannot be seen shown as escapes."""

from __future__ import annotations

from collections.abc import Callable


def clip(text: str, limit: int) -> str:
    """`text`, cut at `limit` characters with a note of how long it was."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def is_plain(text: str) -> bool:
    """Whether every character of `text` shows as itself on a terminal (spaces count; newlines do not)."""
    return all(c == " " or (c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF) for c in text)


def show(data: bytes | str | None, limit: int = 600, cut: Callable[[str, int], str] = clip) -> str:
    """A body as a person should see it: text as text, anything unprintable as an escape, clipped (by `cut`:
    `Redactor.clip` redacts before it clips).

    A body of only whitespace (b"\\n", b" ") is shown as its escapes, never as a blank.
    """
    if data is None:
        return "(none)"
    if isinstance(data, bytes):
        if not data:
            return "(empty)"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return cut(repr(data), limit)
    else:
        text = data
    if not text:
        return "(empty)"
    if not any(c.isprintable() and not c.isspace() for c in text):  # nothing visible ("\n", " "): all escaped
        return cut(_escape(text, spaces=True), limit)
    return cut(text if is_plain(text) else _escape(text), limit)


def _escape(text: str, *, spaces: bool = False) -> str:
    def shown(c: str) -> bool:
        return (c == " " and not spaces) or (c.isprintable() and not c.isspace() and not 0xD800 <= ord(c) <= 0xDFFF)

    return "".join(c if shown(c) else _one(c) for c in text)


def _one(char: str) -> str:
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    )
