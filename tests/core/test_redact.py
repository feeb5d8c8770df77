"""Redaction: a secret never leaves in any encoding a provider may echo it in, and text without one is
left exactly as it was."""

from __future__ import annotations

import base64
import html
import json
import random
import string
import time
from collections.abc import Callable
from html.entities import html5
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chat_contracts.core.redact import CLIP_MARGIN, REDACTED, Redactor
from chat_contracts.core.text import show

# Alphabets as plain strings: `st.characters` would have hypothesis cache Unicode tables under .hypothesis/
# in the working tree, and tests write nothing there.
PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))  # no whitespace
TOKENS = st.text(alphabet=PRINTABLE_ASCII, min_size=24, max_size=80)  # long enough to be sought in halves
SHORT_TOKENS = st.text(alphabet=PRINTABLE_ASCII, min_size=8, max_size=23)  # sought whole, or but the last
# Text around a secret: anything but the redaction mark itself, so what is left of "***" is ours.
AROUND = st.text(
    alphabet=PRINTABLE_ASCII.replace("*", "") + " \t\n\r\x00\x7f\u00a0\u00e9\u2028\u2713\u65e5\U0001f600",
    max_size=40,
)


def _dotnet(token: str) -> str:
    return "".join(c if c.isalnum() else f"\\u{ord(c):04X}" for c in token)


# HTML's named entities that stand for one character, and a name for each such character (the last in order).
NAMED = {name: char for name, char in html5.items() if name.endswith(";") and len(char) == 1}
NAME_OF = {char: name for name, char in sorted(NAMED.items())}


def _html(token: str) -> str:
    return "".join(f"&{NAME_OF[c]}" if c in NAME_OF and not c.isalnum() else c for c in token)


def _utf16(token: str) -> str:
    """A UTF-16 body read as if it were text: a NUL after each ASCII character."""
    return token.encode("utf-16-le").decode("latin-1")


ENCODERS: dict[str, Callable[[str], str]] = {
    "raw": lambda t: t,
    "json": lambda t: json.dumps(t),
    "json-ascii-lower": lambda t: json.dumps(t).lower(),
    "php": lambda t: json.dumps(t).replace("/", "\\/"),
    "dotnet": _dotnet,
    "dotnet-lower": lambda t: _dotnet(t).lower(),
    "url": lambda t: quote(t, safe=""),
    "url-lower": lambda t: quote(t, safe="").lower(),
    "hex": lambda t: t.encode().hex(),
    "hex-upper": lambda t: t.encode().hex().upper(),
    "lower": str.lower,
    "json-twice": lambda t: json.dumps(json.dumps(t)),
    "json-twice-php": lambda t: json.dumps(json.dumps(t).replace("/", "\\/")),
    "url-twice": lambda t: quote(quote(t, safe=""), safe=""),
    "url-thrice-lower": lambda t: quote(quote(quote(t, safe=""), safe=""), safe="").lower(),
    "form": lambda t: t.replace("+", " "),  # a raw "+" read back by form decoding
    "utf16": _utf16,
    "utf16-be": lambda t: t.encode("utf-16-be").decode("latin-1"),
    "utf16-shown": lambda t: show(t.encode("utf-16-le"), limit=10_000),  # each NUL as "\\x00"
    "utf16-json": lambda t: json.dumps(_utf16(t)),  # each NUL as "\\u0000"
    "hex-escaped": lambda t: "".join(f"\\x{b:02x}" for b in t.encode()),
    # two layers: escapes written in UTF-16, an escape's backslash URL-encoded, UTF-16 shown and JSON-escaped
    "dotnet-utf16": lambda t: _utf16(_dotnet(t)),
    "dotnet-url": lambda t: quote(_dotnet(t), safe=""),
    "dotnet-utf16-shown-json": lambda t: json.dumps(show(_dotnet(t).encode("utf-16-le"), limit=10_000)),
    "utf16-yaml": lambda t: "".join(c + "\\0" for c in t),  # YAML's (and C's) NUL escape
    "url-all": lambda t: "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in t),  # "_" too
    "json-html-safe": lambda t: "".join(f"\\u{ord(c):04x}" if c in "+<>&'`" else c for c in t),  # .NET's, Go's
    "html": _html,
    "html-escape": html.escape,
    "html-twice": lambda t: html.escape(_html(t)),
}


def _basic(user: str, token: str, urlsafe: bool) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return "Basic " + encode(f"{user}:{token}".encode()).decode()


def _leaks(output: str, token: str) -> list[str]:
    """Every encoding of `token` (or of either half of it) still present in `output`."""
    output = output.replace(REDACTED, "\u2588")  # a mark that is no character of a token
    half = len(token) // 2
    found = []
    for piece in {token, token[:half], token[half:]}:
        for name, encode in ENCODERS.items():
            if encode(piece).strip('"') in output or (name == "lower" and encode(piece) in output.lower()):
                found.append(f"{name}({piece!r})")
    return found


def _base64_leaks(output: str, token: str) -> list[str]:
    """Half the token or more, decoded from any base64 run of `output` at any alignment."""
    half = token.encode()[: len(token) // 2], token.encode()[len(token) // 2 :]
    found = []
    for run in output.replace(REDACTED, " ").split():
        run = run.removeprefix("Basic")
        for alphabet in (None, b"-_"):
            for start in range(4):
                chunk = run[start:]
                chunk = chunk[: len(chunk) // 4 * 4]
                try:
                    decoded = base64.b64decode(chunk, altchars=alphabet, validate=True)
                except ValueError:
                    continue
                found += [repr(run) for piece in half if piece in decoded]
    return found


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=TOKENS,
    encoding=st.sampled_from(sorted(ENCODERS)),
    before=AROUND,
    after=AROUND,
)
@example(token="xxxxxx%41yyyyyy", encoding="raw", before="", after="")
@example(token="abc\\/def\\u0041ghij", encoding="raw", before="", after="")
@example(token="a&#65;bcdefghijkl", encoding="raw", before="", after="")
@example(token="0123456789ab", encoding="raw", before="", after="")
@example(token="%" * 12, encoding="url", before="", after="")
@example(token="\\" * 12, encoding="json-twice", before="", after="")
@example(token="************", encoding="raw", before="a", after="b")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="url-twice", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="url-thrice-lower", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="form", before="q=", after="&n=1")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="utf16", before="\xff\xfe", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="utf16-be", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="utf16-shown", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="utf16-json", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+", encoding="hex-escaped", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+Zz", encoding="dotnet-utf16", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+Zz", encoding="dotnet-url", before="next=", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+Zz", encoding="dotnet-utf16-shown-json", before="", after="")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh+Zz", encoding="utf16-yaml", before="- ", after="")
@example(token="cc_test_tok3n+8/x", encoding="url-all", before="v=%", after="")  # "%cc" reads as an escape
@example(token="cc_test_tok3n+8/x", encoding="dotnet", before="m=\\u00", after="")
@example(token="cc_test_tok3n+8/x", encoding="url", before="v=%", after="")  # "_" as written: quote() keeps it
@example(token="cc_test_tok3n+8/x", encoding="json-html-safe", before="m=\\u00", after="")
@example(token="cc_test_tok3n+8/x", encoding="url", before="b=\\x", after="")
@example(token="cc/live/5f2b+Q/x=AbCd&Ef<Gh", encoding="html", before="", after="")
@example(token="cc&live<5f2b>Q&x=AbCd&Ef<Gh", encoding="html-escape", before="", after="")
@example(token="cc/live/5f2b+Q/x=AbCd&Ef<Gh", encoding="html-twice", before="", after="")
def test_a_secret_never_survives_in_any_encoding(token: str, encoding: str, before: str, after: str) -> None:
    redact = Redactor([token])
    text = f"{before}{ENCODERS[encoding](token)}{after}"
    output = redact(text)
    assert _leaks(output, token) == [], (text, output)


@settings(max_examples=60, deadline=None, database=None)
@given(
    token=TOKENS,
    user=st.text(alphabet=string.ascii_letters + string.digits, min_size=0, max_size=5),
    urlsafe=st.booleans(),
    before=AROUND,
)
@example(token="0123456789abcdef", user="", urlsafe=False, before="")
@example(token="0123456789abcdef", user="a", urlsafe=False, before="")
@example(token="0123456789abcdef", user="ab", urlsafe=True, before="")
def test_a_secret_in_basic_auth_never_survives_at_any_alignment(
    token: str, user: str, urlsafe: bool, before: str
) -> None:
    header = _basic(user, token, urlsafe)
    output = Redactor([token])(f"{before} authorization: {header}\n")
    assert header.split()[1] not in output
    assert _base64_leaks(output, token) == [], output


@settings(max_examples=60, deadline=None, database=None)
@given(token=TOKENS, encoding=st.sampled_from(["raw", "json", "url", "hex", "lower"]), gap=AROUND.filter(bool))
def test_a_secret_split_in_halves_placed_apart_never_survives(token: str, encoding: str, gap: str) -> None:
    half = len(token) // 2
    encode = ENCODERS[encoding]
    text = f"first={encode(token[:half])}; {gap} second={encode(token[half:])}"
    output = Redactor([token])(text)
    assert _leaks(output, token) == [], (text, output)


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(TOKENS, min_size=2, max_size=4), st.data())
def test_several_secrets_at_once(tokens: list[str], data: st.DataObject) -> None:
    encodings = [data.draw(st.sampled_from(sorted(ENCODERS))) for _ in tokens]
    text = " | ".join(ENCODERS[e](t) for e, t in zip(encodings, tokens, strict=True))
    output = Redactor(tokens)(text)
    for token in tokens:
        assert _leaks(output, token) == [], (text, output)


@settings(max_examples=60, deadline=None, database=None)
@given(token=TOKENS, encoding=st.sampled_from(sorted(ENCODERS)), before=AROUND, after=AROUND, nested=st.booleans())
@example(token='"' + "a" * 12, encoding="raw", before="", after="", nested=False)
@example(token="a" * 12 + "\\", encoding="raw", before="", after='"', nested=True)
@example(token="0" * 23 + "\\", encoding="json", before="0" * 11, after="", nested=False)
@example(token="0" * 23 + "\\", encoding="json", before="0" * 9, after="", nested=True)
def test_redacted_json_is_still_json(token: str, encoding: str, before: str, after: str, nested: bool) -> None:
    """Reports and HAR files are JSON redacted as text: redaction must leave them parseable."""
    document = {"echo": f"{before}{ENCODERS[encoding](token)}{after}", "header": f"Bearer {token}", "n": 1}
    text = json.dumps(json.dumps(document) if nested else document, indent=1)
    output = Redactor([token])(text)
    parsed = json.loads(output)
    assert (json.loads(parsed) if nested else parsed)["n"] == 1
    assert _leaks(output, token) == [], (text, output)


@settings(max_examples=60, deadline=None, database=None)
@given(token=SHORT_TOKENS, encoding=st.sampled_from(sorted(ENCODERS)), before=AROUND, after=AROUND)
@example(token="00000000", encoding="dotnet", before="\\", after="")  # "\\0" read as a NUL, or not
@example(token="00000000", encoding="dotnet-utf16", before="\\", after="")
def test_a_short_secret_never_survives_whole_or_truncated(token: str, encoding: str, before: str, after: str) -> None:
    """The truncated-token probe sends all of a secret but its last character: that is redacted too (as
    escaped text; a hex or base64 encoding of a short secret is sought whole)."""
    redact = Redactor([token])
    pieces = [token] if encoding.startswith("hex") else [token, token[:-1]]
    for piece in pieces:
        output = redact(f"{before}{ENCODERS[encoding](piece)}{after}").replace(REDACTED, "\u2588")
        assert ENCODERS[encoding](piece).strip('"') not in output, (piece, output)


def test_the_halves_of_a_short_secret_are_ordinary_words() -> None:
    """A short test token shares its halves with ordinary text, which must come out as it went in."""
    redact = Redactor(["cc_test_token"])
    text = '{"blended_token_usage": 1} curl -H "Authorization: Bearer ${CONTRACT_TOKEN}"'
    assert redact(text) == text
    assert redact("Bearer cc_test_token / Bearer cc_test_toke / cc_TEST_TOKEN") == "Bearer *** / Bearer *** / ***"


def test_the_leak_oracle_can_fail() -> None:
    """The checks above are not vacuous: with nothing redacted, every encoding is seen."""
    token = "cc_live_5f2b+Q/x=AbCdEfGh"
    for name, encode in ENCODERS.items():
        assert _leaks(encode(token), token), name
    for user in ("", "a", "ab"):
        assert _base64_leaks(_basic(user, token, False), token)
    assert _leaks(f"a={token[:12]} b={token[12:]}", token)


def test_every_named_entity_for_a_character_of_a_secret_is_read() -> None:
    """Every HTML name a character has (``&sol;``, ``&plus;``, ``&AMP;``, ``&verbar;``), escaped once or twice."""
    token = "cc_live_5f2b+Q/x=AbCdEfGh"
    redact = Redactor([token])
    for name, char in NAMED.items():
        if char in token and not char.isalnum():
            for entity in (f"&{name}", f"&amp;{name}"):
                text = "<p>" + token.replace(char, entity) + "</p>"
                assert redact(text) == "<p>***</p>", (name, text)


# Bytes around a secret: anything but the redaction mark.
BYTES_AROUND = st.binary(max_size=40).map(lambda data: data.replace(b"*", b""))


@settings(max_examples=60, deadline=None, database=None)
@given(
    token=TOKENS,
    encoding=st.sampled_from(["raw", "lower", "url", "url-lower", "form", "utf16", "json"]),
    before=BYTES_AROUND,
    after=BYTES_AROUND,
)
@example(token="cc_live_5f2b+Q/x=AbCdEfGh", encoding="url-lower", before=b"\xff\xfe\x00", after=b"\x80")
@example(token="cc_live_5f2b+Q/x=AbCdEfGh", encoding="lower", before=b"", after=b"")
def test_a_secret_in_binary_data_never_survives(token: str, encoding: str, before: bytes, after: bytes) -> None:
    """Bytes that are not UTF-8 (a gzip or image body, a UTF-16 one) are redacted as bytes, and are otherwise
    left as they were."""
    redact = Redactor([token])
    data = before + ENCODERS[encoding](token).encode("latin-1") + after
    output = redact.bytes(data)
    assert _leaks(output.decode("latin-1"), token) == [], (data, output)
    assert redact.bytes(before + after) == before + after


def test_a_secret_a_cut_runs_through_is_redacted_before_it_is_cut() -> None:
    token = "cc_live_5f2b+Q/x=AbCdEfGh+Zz"
    redact = Redactor([token])
    for at in range(560, 601):  # the token before the cut, across it, just after it
        text = "x" * at + token + "y" * 100
        shown = redact.clip(text, 600)
        # the cut is made in the text as written, past a token it runs through, which is redacted whole
        before = "x" * at + ("***" + "y" * (600 - at - len(token)) if at < 600 else "")
        assert shown == before + f"... ({len(text)} characters)", (at, shown)
    assert redact.clip("short " + token, 600) == "short ***"


def test_a_cut_never_shows_what_the_window_ended_in() -> None:
    """Redaction shrinks the text before a cut (each echo to "***"): what the window's own end cut through
    must not slide into view."""
    token = "cc_test_8f3Kq9Zx1w2"
    redact = Redactor([token])
    echo = "".join(f"\\u{ord(c):04x}" for c in token) + " "  # 115 characters, redacted to 4
    count, pad = divmod(600 + CLIP_MARGIN - 17, len(echo))
    text = "x" * pad + echo * count + token + '"}'  # the window ends 17 characters into the last token
    assert _leaks(redact.clip(text, 600), token) == [] and "cc_test" not in redact.clip(text, 600)
    head = redact.head(text.encode() + b"y" * 100, 600)
    assert b"cc_test" not in head and head.startswith(b"x" * pad + b"*** ")  # the cut is made in the text as written
    assert redact.head(b"x" * 10_000, 600) == b"x" * 600  # nothing to redact: the first 600 bytes


def test_a_non_ascii_secret_is_found_in_its_utf8_bytes() -> None:
    """A secret's UTF-8 bytes, one by one: URL-encoded, or inside bytes that are not UTF-8 as a whole."""
    token = "cc_test_t\u00f6k\u00e9n_8f3Kq9\u65e5"
    redact = Redactor([token])
    raw = token.encode()
    assert redact.bytes(b"\xff" + raw + b"\xfe") == b"\xff***\xfe"
    assert redact.bytes(b"x=" + raw + b";") == b"x=***;"
    assert redact(f"x={quote(token)}&y=2") == "x=***&y=2"
    assert redact(f"x={quote(token).lower()}&y=2") == "x=***&y=2"
    assert redact(f"x={json.dumps(token)}&y=2") == 'x="***"&y=2'


# --- text that must not change ----------------------------------------------------------------------

UNCHANGED = [
    "",
    "no secret here at all",
    '{"title": "Weekly Revenue Analysis", "message_count": 42}',
    "Authorization: Bearer ***",
    'caf\u00e9 \\u00e9 %C3%A9 &#233; \\/ \\\\ \\" \U0001f600 \\ud83d\\ude00 \\ud83d lone',
    "the token's first five: cc_te, and its last three: ken",
    "a" * 10_000,
    "\x00\x01\n\r\t\x7f",
    "&#" + "9" * 5_000 + "; &#x" + "f" * 5_000 + "; &#xD800; %zz % \\u12 \\ud800",  # hostile escapes
    "%25" * 5_000 + "z &" + "amp;" * 5_000 + " &amp &" + "a" * 5_000 + "; &nosuchname; &amp;nosuchname; &;",
    "\\x4 \\xzz \\x \x00" * 3 + "\x00" * 5_000 + "a+b %2B & &plus; &sol;",
]


@pytest.mark.parametrize("text", UNCHANGED, ids=range(len(UNCHANGED)))
def test_text_without_the_secret_is_left_as_it_is(text: str) -> None:
    assert Redactor(["cc_test_token_8f3Kq9", "short"])(text) == text


def test_no_secrets_means_no_change() -> None:
    redact = Redactor([])
    assert not redact.active and redact("anything, cc_test_token") == "anything, cc_test_token"
    assert Redactor([""])("x") == "x"


def test_a_short_secret_is_only_redacted_whole_or_truncated() -> None:
    redact = Redactor(["hunter2"])
    assert redact("pw=hunter2; hunt and er2; hunter") == "pw=***; hunt and er2; ***"


def test_redaction_keeps_the_text_around_it() -> None:
    redact = Redactor(["cc_test_token_8f3Kq9"])
    assert redact('{"debug": "Bearer cc_test_token_8f3Kq9", "n": 1}') == '{"debug": "Bearer ***", "n": 1}'
    assert redact("x=cc%5Ftest%5Ftoken%5F8f3Kq9&y=2") == "x=***&y=2"


def test_data_is_redacted_keys_and_all() -> None:
    redact = Redactor(["cc_test_token_8f3Kq9"])
    value = {"cc_test_token_8f3Kq9": ["Bearer cc_test_token_8f3Kq9", 1, None], "n": (True,)}
    assert redact.data(value) == {"***": ["Bearer ***", 1, None], "n": [True]}


def test_redaction_speed_on_a_megabyte() -> None:
    token = "cc_live_Zx81+Qp/7aBcDeFgHiJk"
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + ' {}":,%\\/'
    words = ["".join(rng.choices(alphabet, k=rng.randint(3, 12))) for _ in range(2000)]
    parts, size = [], 0
    while size < 1_000_000:
        word = rng.choice(words)
        if rng.random() < 0.001:
            word = ENCODERS[rng.choice(sorted(ENCODERS))](token)
        parts.append(word)
        size += len(word) + 1
    text = " ".join(parts)
    redact = Redactor([token])
    started = time.perf_counter()
    output = redact(text)
    seconds = time.perf_counter() - started
    print(f"redaction: {len(text) / 1e6:.2f} MB in {seconds * 1000:.0f} ms ({len(text) / 1e6 / seconds:.1f} MB/s)")
    assert _leaks(output, token) == []  # speed: bench/redaction_speed.py


def test_redaction_speed_on_echoed_secrets() -> None:
    token = "cc_live_Zx81+Qp/7aBcDeFgHiJk"
    text = (json.dumps(token) + ",") * (250_000 // (len(token) + 3))
    started = time.perf_counter()
    output = Redactor([token])(text)
    seconds = time.perf_counter() - started
    print(f"redaction of {text.count(token)} echoes ({len(text) / 1e6:.2f} MB): {seconds * 1000:.0f} ms")
    assert token not in output and set(output.split(",")) == {'"***"', ""}
