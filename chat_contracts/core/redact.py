"""Secrets never leave the tool: redaction of every string it emits, in every encoding a provider may use.

Nothing is redacted where text enters (checks need the real bytes to judge them); everything is
redacted where text leaves: terminal lines, pytest reports (and so JUnit XML), report files, HAR logs.
A `Redactor` finds a secret however it was echoed back:

- escaped, character by character: JSON (``\\u002B``, ``\\/``, doubled backslashes), URL (``%2B``),
  HTML (``&#43;``), in any letter case (header and field names are often lower-cased);
- encoded whole: hex, and base64 (standard and URL-safe, at every alignment, so inside
  ``Basic base64(user:token)`` too);
- in pieces: in a secret of 24 characters or more, any run of at least half of it counts (a secret split
  in halves is two findings); a shorter secret is found whole, or but for its last character (as the
  truncated-token probe sends it), since its halves are short enough to be ordinary words
  (``cc_test_token`` holds ``t_token``, as ``CONTRACT_TOKEN`` and ``blended_token_usage`` do).

The search is linear in the text: the text is decoded once into a normalised form with a map back
to its positions, a few fixed chunks of each secret are looked up with `str.find`, and each hit is
grown to the longest run it is part of. The normalised text holds no backslashes (how many stand for
one depends on how often the text was escaped, which it does not say), so a secret with backslashes
or escapes of its own is also sought in the text as written, raw and JSON-escaped once and twice.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "***"
_ESCAPE = re.compile(
    r"\\+u(d[89ab][0-9a-f]{2})\\+u(d[c-f][0-9a-f]{2})"  # a JSON surrogate pair: one astral character
    r"|\\+u([0-9a-f]{4})"  # JSON \uXXXX (a doubled backslash: escaped twice)
    r"|(\\+)"  # any other backslashes: JSON's short escapes (\" \/ \\), escaped once or twice, or none
    r"|%([0-9a-f]{2})"  # URL encoding
    r"|&#x([0-9a-f]{1,8});|&#([0-9]{1,10});",  # HTML numeric entities (bounded: no 5,000-digit number)
    re.IGNORECASE,
)
WHOLE_BELOW = 24  # a secret shorter than this is not redacted by halves: they are too common


def _encodings(secret: str) -> list[str]:
    """The secret and its whole-value encodings (hex, base64 at each alignment)."""
    raw = secret.encode("utf-8", "surrogatepass")
    found = [secret, raw.hex()]
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


def _lower(text: str) -> str:
    """Lower case, one character for one (the rare letters whose lower case is longer stay as they are)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _decode(match: re.Match[str]) -> str:
    """What an escape stands for; "" for backslashes, which the normalised text never holds.

    How many backslashes stand for one depends on how many times the text was escaped, which the text
    does not say: dropping them all reads a secret the same raw, escaped once and escaped twice.
    """
    high, low, code, _backslashes, url, hex_entity, dec_entity = match.groups()
    if high:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if code or url or hex_entity:
        char = chr(min(int(code or url or hex_entity, 16), 0x10FFFF))
    elif dec_entity:
        char = chr(min(int(dec_entity), 0x10FFFF))
    else:
        return ""
    return "" if char == "\\" else char


class _Normalised:
    """`text` with escapes decoded and letters lower-cased, and a map from its positions back to `text`."""

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        self._breaks: list[int] = [0]  # positions in the normalised text where the map changes...
        self._origins: list[int] = [0]  # ...and where they come from in `text`...
        self._ends: list[int | None] = [None]  # ...and, for a character decoded from an escape, where that ends
        self.escapes: list[tuple[int, int, bool]] = []  # every escape's span in `text`, and if it is backslashes
        position = length = 0
        for match in _ESCAPE.finditer(text):
            literal, decoded = text[position : match.start()], _decode(match)
            pieces += [literal, decoded]
            length += len(literal)
            self.escapes.append((match.start(), match.end(), match.group(4) is not None))
            if decoded:  # one character from the whole escape
                self._breaks += [length, length + 1]
                self._origins += [match.start(), match.end()]
                self._ends += [match.end(), None]
                length += 1
            else:  # nothing: what follows comes from after the escape
                self._breaks.append(length)
                self._origins.append(match.end())
                self._ends.append(None)
            position = match.end()
        pieces.append(text[position:])
        self.text = _lower("".join(pieces))
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
        or are the text's own: a JSON string stays valid without them); to the end of an escape it ends in,
        but inside a run of backslashes only so far that the rest still pairs up, escaped once or twice."""
        starts = self._escape_starts
        at = bisect.bisect_right(starts, begin) - 1
        if at >= 0 and self.escapes[at][0] < begin < self.escapes[at][1]:
            begin = self.escapes[at][0]
        while begin > 0 and text[begin - 1] == "\\":
            begin -= 1
        at = bisect.bisect_right(starts, end - 1) - 1
        if at >= 0 and self.escapes[at][0] < end < self.escapes[at][1]:
            start, stop, backslashes = self.escapes[at]
            if not backslashes:
                return begin, stop
            limit = stop - (stop - start) % 2  # an odd run's last backslash escapes the character after it
            for pair in (4, 2, 1):
                rounded = start + -(-(end - start) // pair) * pair
                if rounded <= limit:
                    return begin, rounded
        return begin, end


class _Needle:
    """One secret string to find, with the fixed chunks that any run of `min_run` characters of it contains."""

    def __init__(self, secret: str, min_run: int) -> None:
        self.text = _lower(secret)
        self.min_run = min(max(min_run, 1), len(self.text))
        # Any run of `min_run` characters contains one whole chunk of this size at a fixed offset.
        size = max((self.min_run + 1) // 2, 1)
        self.chunks = [(offset, self.text[offset : offset + size]) for offset in range(0, len(self.text), size)]
        self.chunks = [(offset, chunk) for offset, chunk in self.chunks if len(chunk) == size]

    def runs(self, haystack: str) -> Iterable[tuple[int, int]]:
        """Spans of `haystack` that are runs of at least `min_run` characters of the secret."""
        needle = self.text
        for offset, chunk in self.chunks:
            start = haystack.find(chunk)
            while start != -1:
                left, right = start, start + len(chunk)
                secret_left, secret_right = offset, offset + len(chunk)
                while left > 0 and secret_left > 0 and haystack[left - 1] == needle[secret_left - 1]:
                    left, secret_left = left - 1, secret_left - 1
                while right < len(haystack) and secret_right < len(needle) and haystack[right] == needle[secret_right]:
                    right, secret_right = right + 1, secret_right + 1
                if right - left >= self.min_run:
                    yield left, right
                start = haystack.find(chunk, start + 1)


def _decoded(text: str) -> str:
    """`text` as the normalised text shows it (a secret holding "%41" or "\\u0041" appears raw as "A")."""
    return _Normalised(text).text


def _unescaped(text: str) -> str:
    """`text` without its backslashes, its own escapes left as they are (how it shows when escaped whole)."""
    return _lower(text.replace("\\", ""))


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


def _json_once(text: str) -> str:
    return json.dumps(text)[1:-1]


def _json_twice(text: str) -> str:
    return _json_once(_json_once(text))


def _forms_as_written(secret: str) -> Iterable[tuple[str, int]]:
    """What to look for in the text itself: a secret with escapes or backslashes of its own, as written and
    JSON-escaped once and twice (its backslashes are invisible in the normalised text)."""
    if _decoded(secret) == _lower(secret):
        return
    for write in (_lower, _json_once, _json_twice):

        def form_of(text: str, write: Callable[[str], str] = write) -> str:
            return _lower(write(text))

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
        normalised = _Normalised(text)
        spans = [
            (normalised.origin(left), normalised.origin_end(right))
            for needle in self._needles
            for left, right in needle.runs(normalised.text)
        ]
        if self._as_written:
            lowered = _lower(text)  # one character for one: positions are the text's own
            spans += [span for needle in self._as_written for span in needle.runs(lowered)]
        if not spans:
            return text
        spans = [normalised.widen(begin, end, text) for begin, end in spans]
        out: list[str] = []
        position = 0
        for begin, end in _merge(sorted(spans)):
            out += [text[position:begin], REDACTED]
            position = end
        out.append(text[position:])
        return "".join(out)

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
