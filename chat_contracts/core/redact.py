"""Secrets never leave the tool: redaction of every string it emits, in every encoding a provider may use.

Nothing is redacted where text enters (checks need the real bytes to judge them); everything is
redacted where text leaves: terminal lines, pytest reports (and so JUnit XML), report files, HAR logs.
A `Redactor` finds a secret however it was echoed back:

- escaped, character by character, once or more: JSON (``\\u002B``, ``\\/``, doubled backslashes), ``\\x2b``
  (as Python prints), URL (``%2B``, ``%252B``), HTML (``&#43;``, ``&plus;``, ``&amp;plus;``), in any letter
  case (header and field names are often lower-cased), with ``+`` read as a space (form decoding), and a
  JSON escape's backslash URL-encoded (``%5Cu002B``);
- with NULs between characters (a UTF-16 body read as text, the NULs raw or as ``\\x00`` or ``\\u0000``):
  they are taken out first, so escapes written in UTF-16 read as escapes;
- encoded whole: hex, base64 (standard and URL-safe, at every alignment, so inside
  ``Basic base64(user:token)`` too), and a non-ASCII secret's UTF-8 bytes one by one (URL-encoded, or in
  bytes that are not UTF-8: `Redactor.bytes` reads bytes as UTF-8 when they are, and as Latin-1 always);
- in pieces: in a secret of 24 characters or more, any run of at least half of it counts (a secret split
  in halves is two findings); a shorter secret is found whole, or but for its last character (as the
  truncated-token probe sends it), since its halves are short enough to be ordinary words
  (``cc_test_token`` holds ``t_token``, as ``CONTRACT_TOKEN`` and ``blended_token_usage`` do).

Not sought: hex with separators (``41:62``), base64 of part of a secret, and other escapes inside escapes of
another kind.

Output is cut where it would be too long to read (`show`, reports): `Redactor.clip` redacts before it cuts,
since a secret the cut ran through would no longer be found.

The search is linear in the text: the text is decoded once into a normalised form with a map back
to its positions, a few fixed chunks of each secret are looked up with `str.find`, and each hit is
grown to the longest run it is part of. Each form is also sought in the text as written, where what
comes just before it cannot take its first characters into an escape ("%" before "00..."). The
normalised text holds no backslashes (how many stand for one depends on how often the text was escaped,
which it does not say) and no NULs, so a secret with backslashes or escapes of its own is sought there
JSON-escaped once and twice too.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import json
import re
from collections.abc import Callable, Iterable
from html.entities import html5
from typing import Any, overload
from urllib.parse import quote

REDACTED = "***"
_ESCAPE = re.compile(
    r"(?=[\\%&])(?:"  # every escape starts with one of these: looking ahead for them, `re` skips fast
    r"(?:\\|%(?:25)*5c)+u(?P<high>d[89ab][0-9a-f]{2})(?:\\|%(?:25)*5c)+u(?P<low>d[c-f][0-9a-f]{2})"  # a JSON
    # surrogate pair: one astral character; the backslash may be doubled (escaped twice) or URL-encoded
    r"|(?:\\|%(?:25)*5c)+u(?P<code>[0-9a-f]{4})"  # JSON \uXXXX (a doubled backslash: escaped twice)
    r"|(?:\\|%(?:25)*5c)+x(?P<byte>[0-9a-f]{2})"  # \xNN, as Python (and so `show`) prints a character or a byte
    r"|(?P<backslashes>\\+)(?!%(?:25)*5c)"  # any other backslashes: JSON's short escapes (\" \/ \\), escaped once
    # or twice, or none
    r"|(?P<mixed>(?:\\|%(?:25)*5c)+)"  # backslashes, some URL-encoded: taken whole, so a long run is read once
    r"|%(?:25)*(?P<url>[0-9a-f]{2})"  # URL encoding, once or more ("%252F" is "%2F" encoded again)
    r"|&(?:amp;)*(?:#x(?P<hex_entity>[0-9a-f]{1,8})|#(?P<dec_entity>[0-9]{1,10})|(?P<name>[a-z][a-z0-9]{1,30}));"
    # HTML entities, escaped once or more ("&amp;sol;"); bounded: no 5,000-digit number, no name longer than any
    r")",
    re.IGNORECASE,
)
_DROPPED = frozenset({"backslashes", "mixed"})  # the escapes that stand for nothing
# NULs, raw or escaped: a UTF-16 body read as text has one after (or before) each ASCII character. They are
# taken out before anything else is decoded, so that escapes written in UTF-16 (`\` NUL `u` NUL `0`...) read
# as escapes.
# How many backslashes belong to an escaped NUL depends on how often the text was escaped, which it does not
# say (`\\x00u0041` is a NUL then `\u0041`, or `A` with a NUL before it, escaped twice): both are tried.
# And "\\0" (YAML's NUL, C's before an octal digit) may be a backslash before a secret that starts with 0.
_NULS = (
    re.compile(r"(?:\x00|\\x00|\\u0000)+", re.IGNORECASE),
    re.compile(r"(?:\x00|\\x00|\\u0000|\\0)+", re.IGNORECASE),
    re.compile(r"(?:\x00|\\{1,2}x00|\\{1,2}u0000|\\{1,2}0)+", re.IGNORECASE),
)
CLIP_MARGIN = 4096  # characters read past a cut, so that a secret the cut runs through is still found
# HTML's named entities that stand for one character (html5 also has some that stand for two).
_ENTITIES = {name[:-1]: char for name, char in html5.items() if name.endswith(";") and len(char) == 1}
WHOLE_BELOW = 24  # a secret shorter than this is not redacted by halves: they are too common


def _encodings(secret: str) -> list[str]:
    """The secret and its whole-value encodings (hex, base64 at each alignment)."""
    raw = secret.encode("utf-8", "surrogatepass")
    found = [secret, raw.hex()]
    if not secret.isascii():  # its UTF-8 bytes one by one: URL-encoded ("%C3%A9"), or bytes read as Latin-1
        found += [raw.decode("latin-1"), secret.lower().encode("utf-8", "surrogatepass").decode("latin-1")]
    for offset in range(3):
        padded = b"\0" * offset + raw
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(padded).decode("ascii").rstrip("=")
            # Drop the characters the unknown prefix touches, and the last, partial group.
            start = (offset * 8 + 5) // 6 if offset else 0
            end = (len(padded) // 3) * 4
            core = text[start:end]
            if len(core) >= 8:
                found.append(core)
    return found


def _fold(text: str) -> str:
    """Lower case, and "+" as a space (as form decoding reads it): one character for one (the rare letters
    whose lower case is longer stay as they are)."""
    folded = text.lower()
    if len(folded) != len(text):
        folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return folded.replace("+", " ")


def _decode(match: re.Match[str]) -> tuple[str, int]:
    """What an escape stands for, and where it ends; "" for backslashes and NULs, which the normalised text
    never holds. A name that is no entity is no escape (it ends where it starts), but the "&amp;"s before
    it are one: an "&".

    How many backslashes stand for one depends on how many times the text was escaped, which the text
    does not say: dropping them all reads a secret the same raw, escaped once and escaped twice.
    """
    kind, (start, end) = match.lastgroup, match.span()
    assert kind is not None  # every alternative ends in a named group
    if kind in _DROPPED:
        return "", end
    digits = match[kind]
    if kind == "low":
        char = chr(0x10000 + ((int(match["high"], 16) - 0xD800) << 10) + (int(digits, 16) - 0xDC00))
    elif kind == "dec_entity":
        char = chr(min(int(digits), 0x10FFFF))
    elif kind == "name":
        if digits not in _ENTITIES:
            name = match.start("name")
            return ("&", name) if name > start + 1 else ("", start)
        char = _ENTITIES[digits]
    else:  # \\uXXXX, \\xXX, %XX, &#xX;
        char = chr(min(int(digits, 16), 0x10FFFF))
    return "" if char in ("\\", "\x00") else char, end


class _Normalised:
    """`text` with escapes decoded and folded (`_fold`), and a map from its positions back to `text`."""

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        self._breaks: list[int] = [0]  # positions in the normalised text where the map changes...
        self._origins: list[int] = [0]  # ...and where they come from in `text`...
        self._ends: list[int | None] = [None]  # ...and, for a character decoded from an escape, where that ends
        self.escapes: list[tuple[int, int, bool]] = []  # every escape's span in `text`, and if it is backslashes
        breaks, origins, ends, escapes = self._breaks, self._origins, self._ends, self.escapes
        position = length = 0
        for match in _ESCAPE.finditer(text):
            (start, end), kind = match.span(), match.lastgroup
            if kind in _DROPPED:  # the most common escapes: no call
                decoded = ""
            else:
                decoded, end = _decode(match)
                if end == start:  # no escape after all: text as it is
                    continue
            if start > position:
                pieces.append(text[position:start])
                length += start - position
            escapes.append((start, end, kind == "backslashes"))
            if decoded:  # one character from the whole escape
                pieces.append(decoded)
                breaks += (length, length + 1)
                origins += (start, end)
                ends += (end, None)
                length += 1
            else:  # nothing: what follows comes from after the escape
                breaks.append(length)
                origins.append(end)
                ends.append(None)
            position = end
        pieces.append(text[position:])
        self.text = _fold("".join(pieces))
        self._escape_starts = [start for start, _, _ in self.escapes]

    def origin(self, index: int) -> int:
        """Where the character at `index` of the normalised text starts in the original."""
        at = bisect.bisect_right(self._breaks, index) - 1
        return self._origins[at] + (index - self._breaks[at])

    def origin_end(self, index: int) -> int:
        """Where the character before `index` of the normalised text ends in the original (escapes that were
        dropped after it are not included: a JSON string's closing ``\\"`` stays whole)."""
        at = bisect.bisect_right(self._breaks, index - 1) - 1
        end = self._ends[at]
        if end is not None and self._breaks[at] == index - 1:
            return end
        return self._origins[at] + (index - 1 - self._breaks[at]) + 1

    def widen(self, begin: int, end: int, text: str) -> tuple[int, int]:
        """A span of `text` grown so that what is left around it still reads as it did: from the start of
        an escape it begins in, and over the backslashes just before it (they escape its first character,
        or are the text's own: a JSON string stays valid without them); to the end of an escape it ends in.
        A run of backslashes it ends in reads the same, escaped once or twice, with 4 of them gone, or all
        of an even run (an odd run's last one escapes the character after it): the span ends at the next
        such point, else at the one before (a secret's own last backslashes may be left)."""
        starts = self._escape_starts
        at = bisect.bisect_right(starts, begin) - 1
        if at >= 0 and self.escapes[at][0] < begin < self.escapes[at][1]:
            begin = self.escapes[at][0]
        while begin > 0 and text[begin - 1] == "\\":
            begin -= 1
        at = bisect.bisect_right(starts, end - 1) - 1
        if at >= 0 and self.escapes[at][0] < end <= self.escapes[at][1]:
            start, stop, backslashes = self.escapes[at]
            if not backslashes:
                return begin, stop
            fours = -(-(end - start) // 4) * 4
            if start + fours <= stop - (stop - start) % 2:
                return begin, start + fours
            if (stop - start) % 2 == 0:
                return begin, stop
            return begin, max(begin, start + (end - start) // 4 * 4)
        return begin, end


class _Needle:
    """One secret string to find, with the fixed chunks that any run of `min_run` characters of it contains."""

    def __init__(self, secret: str, min_run: int) -> None:
        self.text = _fold(secret)
        self.min_run = min(max(min_run, 1), len(self.text))
        # Any run of `min_run` characters contains one whole chunk of this size at a fixed offset.
        size = max((self.min_run + 1) // 2, 1)
        self.chunks = [(offset, self.text[offset : offset + size]) for offset in range(0, len(self.text), size)]
        self.chunks = [(offset, chunk) for offset, chunk in self.chunks if len(chunk) == size]

    def runs(self, haystack: str) -> Iterable[tuple[int, int]]:
        """Spans of `haystack` that are runs of at least `min_run` characters of the secret."""
        needle = self.text
        grown: dict[int, int] = {}  # where the last run grown at each alignment (haystack - secret) ends
        for offset, chunk in self.chunks:
            start = haystack.find(chunk)
            while start != -1:
                left, right = start, start + len(chunk)
                if right <= grown.get(start - offset, -1):  # inside a run already grown (from an earlier chunk)
                    start = haystack.find(chunk, start + 1)
                    continue
                secret_left, secret_right = offset, offset + len(chunk)
                while left > 0 and secret_left > 0 and haystack[left - 1] == needle[secret_left - 1]:
                    left, secret_left = left - 1, secret_left - 1
                while right < len(haystack) and secret_right < len(needle) and haystack[right] == needle[secret_right]:
                    right, secret_right = right + 1, secret_right + 1
                grown[start - offset] = right
                if right - left >= self.min_run:
                    yield left, right
                start = haystack.find(chunk, start + 1)


def _decoded(text: str) -> str:
    """`text` as the normalised text shows it (a secret holding "%41" or "\\u0041" appears raw as "A")."""
    return _Normalised(text).text


def _unescaped(text: str) -> str:
    """`text` without its backslashes, its own escapes left as they are (how it shows when escaped whole)."""
    return _fold(text.replace("\\", ""))


def _min_run(secret: str, encoded: str, form_of: Callable[[str], str]) -> int:
    """How much of `form_of(encoded)` is a finding: for a short secret, all of it (all but the last
    character, as written); else as much as the shorter half of the secret makes in that form."""
    form = form_of(encoded)
    if len(secret) < WHOLE_BELOW:
        return len(form_of(secret[:-1])) if encoded == secret else len(form)
    half = len(secret) // 2
    if encoded == secret:
        return min(len(form_of(secret[:half])), len(form_of(secret[half:])))
    return len(form) * half // len(secret)  # hex and base64: the same share of the encoded whole


def _forms(secret: str) -> Iterable[tuple[str, int]]:
    """What to look for in the normalised text: each encoding of `secret`, decoded and without backslashes."""
    for encoded in _encodings(secret):
        for form_of in (_decoded, _unescaped):
            form = form_of(encoded)
            if form:
                yield form, _min_run(secret, encoded, form_of)


def _escape_all(secret: str, template: str) -> str:
    """`secret` with every character but letters and digits escaped by `template` (of its code point)."""
    return "".join(c if c.isascii() and c.isalnum() else template.format(ord(c)) for c in secret)


def _json_html_safe(secret: str) -> str:
    """`secret` as .NET's and Go's JSON encoders write it by default: `+<>&'` and the backtick as \\u00XX."""
    return "".join(f"\\u{ord(c):04x}" if c in "+<>&'`" else c for c in secret)


def _json_once(text: str) -> str:
    return json.dumps(text)[1:-1]


def _json_twice(text: str) -> str:
    return _json_once(_json_once(text))


def _forms_as_written(secret: str) -> Iterable[tuple[str, int]]:
    """What to look for in the text itself: each encoding of `secret` as written, and escaped character by
    character (what comes just before it can read as an escape with its first characters: "%" or "\\x" before
    "00...", "%" before "cc_..."), and a secret with escapes or backslashes of its own JSON-escaped once and
    twice too (its backslashes are invisible in the normalised text)."""
    escaped = [_escape_all(secret, "%{:02x}"), _escape_all(secret, "\\u{:04x}"), _escape_all(secret, "&#{};")]
    escaped += [quote(secret, safe=""), quote(secret), _json_html_safe(secret)]  # as URL encoders, .NET, Go write
    for encoded in _encodings(secret) + [e for e in escaped if e != secret]:
        yield _fold(encoded), _min_run(secret, encoded, _fold)
    if _decoded(secret) == _fold(secret):
        return
    for write in (_json_once, _json_twice):

        def form_of(text: str, write: Callable[[str], str] = write) -> str:
            return _fold(write(text))

        yield form_of(secret), _min_run(secret, secret, form_of)


class Redactor:
    """Replaces every appearance of the given secrets in text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        needles: dict[tuple[str, int], _Needle] = {}
        as_written: dict[tuple[str, int], _Needle] = {}
        for secret in {s for s in secrets if s}:
            for form, min_run in _forms(secret):
                needles.setdefault((form, min_run), _Needle(form, min_run))
            for form, min_run in _forms_as_written(secret):
                as_written.setdefault((form, min_run), _Needle(form, min_run))
        self._needles = list(needles.values())
        self._as_written = list(as_written.values())

    @property
    def active(self) -> bool:
        return bool(self._needles or self._as_written)

    def __call__(self, text: str) -> str:
        if not self.active or not text:
            return text
        spans = self._spans(text)
        out: list[str] = []
        position = 0
        for begin, end in spans:
            out += [text[position:begin], REDACTED]
            position = end
        out.append(text[position:])
        return "".join(out)

    def clip(self, text: str, limit: int) -> str:
        """`text` redacted and cut at `limit` characters, like `clip`; redacted before it is cut (with
        CLIP_MARGIN characters after the cut), since a secret the cut ran through would no longer be found."""
        if len(text) <= limit:
            return self(text)
        return self.head(text, limit) + f"... ({len(text)} characters)"

    @overload
    def head(self, data: str, limit: int) -> str: ...
    @overload
    def head(self, data: builtins.bytes, limit: int) -> builtins.bytes: ...
    def head(self, data: str | builtins.bytes, limit: int) -> str | builtins.bytes:
        """The first `limit` characters (or bytes) of `data`, redacted; a secret the cut runs through is
        redacted whole (so the result may run a little past `limit`). Sought in a window of CLIP_MARGIN more:
        a secret cut in two by the cut would not be found. The cut is made in the text as written: what the
        window's own end cut through, too short to be found, stays CLIP_MARGIN past it, out of view."""
        window = data[: limit + CLIP_MARGIN]
        spans = self._spans(window if isinstance(window, str) else window.decode("latin-1"))  # a byte a character
        cut = max([limit, *(end for begin, end in spans if begin < limit < end)])
        return self(window[:cut]) if isinstance(window, str) else self.bytes(window[:cut])

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """The spans of `text` to redact, merged and in order."""
        if not _NULS[1].search(text):
            return self._spans_without_nuls(text)
        # "\\0" may be no NUL at all (a backslash before a secret that starts with 0): the text as it is, too.
        spans: list[tuple[int, int]] = self._spans_without_nuls(text)
        for nuls in _NULS:  # found in the text without its NULs, then moved back over the NULs before them
            stripped = nuls.sub("", text)
            found = self._spans_without_nuls(stripped)
            if not found:
                continue
            at: list[int] = []  # where each run of NULs stood in `stripped`...
            removed: list[int] = []  # ...and how many characters all runs up to it took out of `text`
            total = 0
            for match in nuls.finditer(text):
                at.append(match.start() - total)
                total += match.end() - match.start()
                removed.append(total)

            def origin(index: int, at: list[int] = at, removed: list[int] = removed) -> int:
                runs = bisect.bisect_right(at, index)  # where the character at `index` of `stripped` is in `text`
                return index + (removed[runs - 1] if runs else 0)

            spans += [(origin(begin), origin(end - 1) + 1) for begin, end in found]
        return _merge(sorted(spans))

    def _spans_without_nuls(self, text: str) -> list[tuple[int, int]]:
        normalised = _Normalised(text)
        spans = [
            (normalised.origin(left), normalised.origin_end(right))
            for needle in self._needles
            for left, right in needle.runs(normalised.text)
        ]
        if self._as_written:
            folded = _fold(text)  # one character for one: positions are the text's own
            spans += [span for needle in self._as_written for span in needle.runs(folded)]
        return _merge(
            sorted(normalised.widen(begin, end, text) for begin, end in set(spans))
        )  # a raw echo is found twice

    def bytes(self, data: builtins.bytes) -> builtins.bytes:
        """`data` redacted, for what is written as bytes: read as UTF-8 when it is, then as Latin-1 (one
        character a byte), so a secret inside bytes that are not text (UTF-16, binary) is found too."""
        if not self.active or not data:
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            data = self(text).encode("utf-8")
        return self(data.decode("latin-1")).encode("latin-1")

    def data(self, value: Any, *, keys: bool = True) -> Any:
        """`value` (parsed JSON, report data) with every string in it redacted; mapping keys too unless
        `keys=False` (for data whose keys are ours, not a provider's)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {(self(k) if keys and isinstance(k, str) else k): self.data(v, keys=keys) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v, keys=keys) for v in value]
        return value


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for left, right in spans:
        if merged and left <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], right))
        else:
            merged.append((left, right))
    return merged
