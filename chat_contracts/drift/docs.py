"""Watch the published docs: read a candidate from a URL or a file, bounded, and compare a prose page.

Whop publishes its whole API as one OpenAPI document; `differ` compares only the operations the
contract pins. Wilson publishes a Markdown page per endpoint: `Page` reads its field lists
(``* `name` (type): description``) and JSON examples under the Body and Response headings, and
`compare_page` holds them against the contract written from that page, whose properties quote it
(`x-source`). A field added, removed or retyped on the page is a finding.

Every fetch is bounded: one deadline for the whole of it (redirects included) and a cap on the body.
Nothing a document or a page names is ever fetched.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from chat_contracts.core.documents import MAX_BYTES, Document, pointer, read_bounded
from chat_contracts.core.errors import DocumentError, UsageError
from chat_contracts.core.http import BoundedClient, TransportFailure
from chat_contracts.core.schema import Shape, Shapes, json_type
from chat_contracts.drift.differ import (
    DOC_REQ_ADDED,
    DOC_REQ_REMOVED,
    DOC_REQ_RETYPED,
    DOC_RESP_ADDED,
    DOC_RESP_REMOVED,
    DOC_RESP_RETYPED,
    METHODS,
    RULES,
    Finding,
)

DEFAULT_TIMEOUT = 30.0
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
ACCEPT = "application/yaml, application/json;q=0.9, text/markdown;q=0.9, text/plain;q=0.5"

# A field list item: * `name` (type): description   (the type is optional)
_BULLET = re.compile(r"^\s{0,3}[*+-]\s+`([^`\s]{1,200})`\s*(?:\(([^()\n]{1,80})\))?")
_QUOTE = re.compile(r"`([^`\s]{1,200})`\s*\(([^()\n]{1,80})\)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)")
_TAG = re.compile(r"<[^<>]{0,500}>")
# The words a prose page types fields with, as JSON types.
PAGE_TYPES = {
    "string": "string", "str": "string", "text": "string", "date": "string", "datetime": "string",
    "date-time": "string", "timestamp": "string", "id": "string", "boolean": "boolean", "bool": "boolean",
    "integer": "integer", "int": "integer", "number": "number", "float": "number", "double": "number",
    "array": "array", "list": "array", "object": "object", "dict": "object", "map": "object",
}  # fmt: skip


# --- fetching ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    source: str
    body: bytes
    content_type: str = ""


def fetch(source: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched:
    """The bytes of a file or an http(s) URL: at most `max_bytes`, within `timeout` seconds in all."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return _fetch_url(source, timeout, max_bytes)
    if len(scheme) > 1:  # one letter is a Windows drive
        raise UsageError(f"{source}: only http(s) URLs and files can be read")
    return Fetched(source, read_bounded(Path(source), max_bytes))


def _fetch_url(source: str, timeout: float, max_bytes: int) -> Fetched:
    deadline = time.monotonic() + timeout
    url = source
    for _ in range(MAX_REDIRECTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DocumentError(f"{source}: no complete answer within {timeout:g} s (--timeout)")
        client = BoundedClient(timeout=remaining, max_body=max_bytes)
        try:
            exchange = client.send("GET", url, {"accept": ACCEPT}, None)
        except TransportFailure as exc:
            if "no complete answer" in str(exc):
                raise DocumentError(f"{source}: no complete answer within {timeout:g} s (--timeout)") from None
            raise DocumentError(f"{source}: {exc}") from None
        finally:
            client.close()
        location = exchange.response_headers.get("location")
        if exchange.status in REDIRECTS and location:
            url = urljoin(url, location)
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                raise DocumentError(f"{source}: redirected to {url!r}, which is not http(s)")
            continue
        if exchange.status != 200:
            raise DocumentError(f"{source}: HTTP {exchange.status}, not the document")
        if exchange.truncated:
            raise DocumentError(f"{source}: over the {max_bytes:,} bytes limit for a document (--max-bytes)")
        return Fetched(source, exchange.response_body, exchange.content_type)
    raise DocumentError(f"{source}: more than {MAX_REDIRECTS} redirects")


def load_document(source: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_BYTES) -> Document:
    fetched = fetch(source, timeout=timeout, max_bytes=max_bytes)
    return Document.parse(fetched.body, source, max_bytes=max_bytes)


def load(source: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_BYTES) -> Document | Page:
    """An OpenAPI document, or a published Markdown page (by its media type, its name or its content)."""
    fetched = fetch(source, timeout=timeout, max_bytes=max_bytes)
    path = urlsplit(source).path.lower() if "://" in source else source.lower()
    if "markdown" in fetched.content_type.lower() or path.endswith((".md", ".markdown")):
        return Page.parse(fetched.body, source)
    try:
        return Document.parse(fetched.body, source, max_bytes=max_bytes)
    except DocumentError:
        text = fetched.body.decode("utf-8", "replace")
        if any(_BULLET.match(line) for line in text.splitlines()):
            return Page.parse(fetched.body, source)
        raise


# --- reading a page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageField:
    name: str
    type: str | None  # as the page writes it ("date"), lower case; None in an example
    line: int
    value: Any = None  # the example's value, for a field read from an example


@dataclass
class Page:
    """What a published page documents: per side (request, response), its field list and example fields."""

    source: str
    listed: dict[str, dict[str, PageField]] = field(default_factory=lambda: {"request": {}, "response": {}})
    examples: dict[str, dict[str, PageField]] = field(default_factory=lambda: {"request": {}, "response": {}})

    @classmethod
    def parse(cls, raw: bytes, source: str) -> Page:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentError(f"{source}: not UTF-8 text") from None
        page = cls(source)
        headings: list[tuple[int, str]] = []  # (level, side or "")
        fence: tuple[str, str, int, list[str]] | None = None  # (marker, language, first line, lines)
        for number, line in enumerate(text.splitlines(), 1):
            side = next((s for _, s in reversed(headings) if s), "")
            side = "" if side == "skip" else side
            if fence is not None:
                marker, language, start, body = fence
                if line.strip().startswith(marker[0] * len(marker)) and not line.strip().strip(marker[0]):
                    if side:
                        page._example(side, language, start, body)
                    fence = None
                else:
                    body.append(line)
                continue
            if match := _FENCE.match(line):
                fence = (match.group(1), match.group(2).lower(), number + 1, [])
                continue
            if match := _HEADING.match(line):
                level = len(match.group(1))
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, _side_of(match.group(2))))
                continue
            if side and (match := _BULLET.match(line)):
                name, kind = match.group(1), match.group(2)
                page.listed[side].setdefault(name, PageField(name, kind.strip().lower() if kind else None, number))
        if not any(page.listed.values()) and not any(page.examples.values()):
            raise DocumentError(
                f"{source}: no documented fields found (no '* `name` (type)' list or JSON example under a "
                "Body or Response heading)"
            )
        return page

    def _example(self, side: str, language: str, start: int, body: list[str]) -> None:
        if language not in ("", "json", "jsonc", "javascript", "js"):
            return
        try:
            value = json.loads("\n".join(body))
        except ValueError:
            return  # prose pages carry sketches too; only examples that are JSON say anything
        if not isinstance(value, dict):
            return
        for name, item in value.items():
            offset = next((i for i, line in enumerate(body) if f'"{name}"' in line), 0)
            self.examples[side].setdefault(name, PageField(name, None, start + offset, item))


def _side_of(heading: str) -> str:
    """What a heading starts: "response", "request" (Body, Request), "skip" (parameters, headers, URL, code
    samples: not body fields), or "" (nothing: its section belongs to the heading above it)."""
    words = html.unescape(_TAG.sub("", heading)).lower()
    if re.search(r"\bresponses?\b", words):
        return "response"
    if re.search(r"\b(parameters?|headers?|url|query|path|code|authentication|errors?)\b", words):
        return "skip"
    if re.search(r"\b(body|request)\b", words):
        return "request"
    return ""


# --- comparing with the contract ----------------------------------------------------------------------

_RULES = {
    "request": (DOC_REQ_ADDED, DOC_REQ_REMOVED, DOC_REQ_RETYPED),
    "response": (DOC_RESP_ADDED, DOC_RESP_REMOVED, DOC_RESP_RETYPED),
}


@dataclass(frozen=True)
class _Documented:
    """One side of the contract's operation: its body shape and where each property's node stands."""

    shape: Shape
    at: str  # pointer of the node that holds the properties (with their x-source quotes)


def compare_page(baseline: Document, page: Page) -> list[Finding]:
    """What the page says now against what the contract quotes from it, for the contract's one operation."""
    operations = [
        (path, method, node)
        for path, item in (baseline.data.get("paths") or {}).items()
        if isinstance(item, dict)
        for method, node in item.items()
        if method in METHODS and isinstance(node, dict)
    ]
    if len(operations) != 1:
        raise UsageError(
            f"{page.source}: a documentation page describes one operation; {baseline.source} has {len(operations)}"
        )
    path, method, operation = operations[0]
    name = f"{method.upper()} {path}"
    at = pointer("paths", path, method)
    shapes = Shapes(baseline)
    findings: list[Finding] = []
    sides = {
        "request": _request_side(baseline, shapes, operation, at),
        "response": _response_side(baseline, shapes, operation, at),
    }
    for side, documented in sides.items():
        if documented is not None:
            findings += _compare_side(baseline, page, side, name, documented)
    order = ("breaking", "warning", "info")
    return sorted(findings, key=lambda f: (order.index(f.severity), f.rule, f.message))


def _body_side(document: Document, shapes: Shapes, body: Any, at: str) -> _Documented | None:
    body = document.deref(body) if isinstance(body, dict) else None
    content: Any = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return None
    media = next((m for m in content if m.split(";")[0].strip().lower() == "application/json"), None)
    media = media or next(iter(content), None)
    if media is None or not isinstance(content[media], dict) or "schema" not in content[media]:
        return None
    schema_at = at + pointer("content", media, "schema")
    result = shapes.of(content[media]["schema"], schema_at)
    return _Documented(result, result.pointer)


def _request_side(document: Document, shapes: Shapes, operation: dict[str, Any], at: str) -> _Documented | None:
    return _body_side(document, shapes, operation.get("requestBody"), at + "/requestBody")


def _response_side(document: Document, shapes: Shapes, operation: dict[str, Any], at: str) -> _Documented | None:
    raw = operation.get("responses")
    responses = {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    status = next((s for s in responses if s.startswith("2")), None)
    if status is None:
        return None
    return _body_side(document, shapes, responses[status], at + pointer("responses", status))


def _quoted_type(document: Document, holder: str, name: str) -> str | None:
    """The type the contract's `x-source` quotes from the page for property `name`, if it quotes one."""
    try:
        node = document.resolve(holder + pointer("properties", name))
    except KeyError:
        return None
    source = node.get("x-source") if isinstance(node, dict) else None
    match = _QUOTE.search(source) if isinstance(source, str) else None
    return match.group(2).strip().lower() if match and match.group(1) == name else None


def _compare_side(document: Document, page: Page, side: str, operation: str, documented: _Documented) -> list[Finding]:
    added_rule, removed_rule, retyped_rule = _RULES[side]
    hidden = "read_only" if side == "request" else "write_only"
    contract = {k: v for k, v in documented.shape.properties.items() if not getattr(v, hidden)}
    listed, examples = page.listed[side], page.examples[side]
    heading = "Body" if side == "request" else "Response"
    findings = []

    def add(rule: str, prop: str | None, where: PageField | None, message: str, severity: str | None = None) -> None:
        base = documented.at + pointer("properties", prop) if prop else None
        line = f"line {where.line}" if where else None
        findings.append(Finding(rule, severity or RULES[rule].severity, operation, base, line, message))

    for name, prop in contract.items():
        if name not in listed and name not in examples:
            severity = None if side == "request" or name in documented.shape.required else "warning"
            add(removed_rule, name, None, f"{name} is no longer on the page (not in its {heading} list or example)",
                severity)  # fmt: skip
            continue
        quoted = _quoted_type(document, documented.at, name)
        if name in listed and listed[name].type is not None:
            now = listed[name].type
            if quoted is not None and now != quoted:
                add(retyped_rule, name, listed[name], f"{name}: the page says ({now}), the contract quotes ({quoted})")
            elif quoted is None and now in PAGE_TYPES and not prop.allows_type(PAGE_TYPES[now]):
                message = f"{name}: the page says ({now}), the contract allows {_allowed(prop)}"
                add(retyped_rule, name, listed[name], message)
        if name in examples:
            value_type = json_type(examples[name].value)
            if not prop.allows_type(value_type) and not (value_type == "integer" and prop.allows_type("number")):
                add(retyped_rule, name, examples[name],
                    f"{name}: the page's example is {value_type}, the contract allows {_allowed(prop)}")  # fmt: skip
    for name in sorted((listed.keys() | examples.keys()) - contract.keys()):
        where = listed.get(name) or examples[name]
        kind = f" ({where.type})" if where.type else f" ({json_type(where.value)}, in the example)"
        add(added_rule, None, where, f"{name}{kind} is on the page, not in the contract")
    return findings


def _allowed(prop: Shape) -> str:
    names = sorted(prop.types) or ["any"]
    return "|".join(names + (["null"] if prop.nullable else []))
