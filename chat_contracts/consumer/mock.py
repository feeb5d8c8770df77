"""`ContractMock`: a stand-in provider that checks every request a client sends against the contract.

Each request is checked for method, path and id, the bearer header, the body's media type and the body
against the request schema. Be conservative in what you send: a field the contract does not list is a
violation too, naming the field, the fields the contract knows and the clause (the request schema's
`properties`), unless the mock was made with ``tolerate_unknown_fields=True``, which lists it in
`drift` instead. Every request received is kept in `requests`, retries included, and each is checked.

The mock answers with the responses it is given (`respond_with`, typically drawn from the strategies
in `chat_contracts.consumer.strategies`), else a contract-valid chat for the path's id. Like the
reference mocks it has a `handle()`, so it works in-process through respx (the `contract_mock` fixture,
or ``with ContractMock.for_provider("whop").routed():``) and served over HTTP
(`chat_contracts.reference.transport.serving`).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import respx

from chat_contracts.core.documents import describe, pointer
from chat_contracts.core.registry import Provider, get_provider
from chat_contracts.core.schema import Shape
from chat_contracts.core.text import clip
from chat_contracts.reference.mock import SEED_CREATED, TIMESTAMP_FORMATTERS, MockRequest, MockResponse, seed_chat
from chat_contracts.reference.transport import mount

__all__ = ["ConsumerFinding", "ContractMock", "ContractViolationError"]

UNKNOWN_FIELD = "unknown-field"


@dataclass(frozen=True)
class ConsumerFinding:
    kind: str  # "violation" or "drift"
    message: str
    clause: str  # spec file and JSON pointer: whop.openapi.yaml#/paths/...
    request: str  # METHOD path
    number: int = 0  # which request it was, from 1, in the order received (retries count)
    rule: str = ""  # what was checked: path, method, path-id, auth, media-type, body-json, body-schema, unknown-field

    def line(self) -> str:
        return f"{self.kind}: request {self.number} {self.request}: {self.message} [{self.clause}]"


class ContractViolationError(AssertionError):
    """A client sent requests that break the contract (the message lists each, with its clause)."""


@dataclass
class ContractMock:
    provider: Provider
    tolerate_unknown_fields: bool = field(default=False, kw_only=True)
    violations: list[ConsumerFinding] = field(default_factory=list, init=False)
    drift: list[ConsumerFinding] = field(default_factory=list, init=False)
    requests: list[MockRequest] = field(default_factory=list, init=False)
    _queue: deque[MockResponse] = field(default_factory=deque, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def for_provider(cls, name: str, *, tolerate_unknown_fields: bool = False) -> ContractMock:
        return cls(get_provider(name), tolerate_unknown_fields=tolerate_unknown_fields)

    # --- answers -----------------------------------------------------------------------------------

    def respond_with(self, *responses: MockResponse | dict[str, Any]) -> None:
        """Queue answers, one per request (a dict is a 200 body); when none is left, a valid chat for the path id."""
        with self._lock:
            self._queue.extend(r if isinstance(r, MockResponse) else MockResponse(200, r) for r in responses)

    def handle(self, request: MockRequest) -> MockResponse:
        with self._lock:  # served by uvicorn, requests may come from several threads
            self.requests.append(request)
            chat_id = self._check(request, len(self.requests))
            if self._queue:
                return self._queue.popleft()
        created = TIMESTAMP_FORMATTERS[self.provider.timestamp_format](SEED_CREATED)
        return MockResponse(200, seed_chat(self.provider, chat_id or self.provider.example_id, created))

    # --- checking the request ----------------------------------------------------------------------

    def _check(self, request: MockRequest, number: int) -> str | None:
        p = self.provider
        found = _Findings(self, f"{request.method} {request.path}", number)
        route = p.path_pattern.match(request.path)
        if route is None:
            found.violation("path", f"{request.path} is not {p.path}", "/paths")
            return None
        chat_id = route.group(1)
        if request.method.upper() != p.method:
            found.violation("method", f"{request.method} is not the documented {p.method}", p.operation_pointer)
        id_at = p.id_parameter_pointer + "/schema"
        for error in p.document.errors(chat_id, id_at):
            found.violation("path-id", f"path id {chat_id!r}: {error.message}", id_at)
        scheme, _, token = (request.header(p.auth_header) or "").partition(" ")
        if scheme.lower() != p.auth_prefix.strip().lower() or not token.strip():
            found.violation("auth", f"no bearer token in {p.auth_header}", p.operation_pointer + "/security")
        self._check_body(found, request)
        return chat_id

    def _check_body(self, found: _Findings, request: MockRequest) -> None:
        p = self.provider
        if not request.body.strip():
            return  # the body is optional
        content_at = p.operation_pointer + pointer("requestBody", "content")
        documented = sorted(p.document.deref(p.document.resolve(content_at)))
        media_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if media_type not in documented:
            sent = f"Content-Type {media_type}" if media_type else "no Content-Type"
            found.violation(
                "media-type", f"a body with {sent}; the contract documents {', '.join(documented)}", content_at
            )
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            found.violation("body-json", "the body is not JSON", p.request_schema_pointer)
            return
        for error in p.document.errors(body, p.request_schema_pointer):
            found.violation(
                "body-schema", describe(error), p.request_schema_pointer + pointer(*error.relative_schema_path)
            )
        for where, name, value, shape in _unknown_fields(body, p.request_shape, ()):
            known = ", ".join(sorted(shape.properties))
            message = f"sends {_path(where, name)}={clip(repr(value), 80)}, unknown to the contract (known: {known})"
            if self.tolerate_unknown_fields:
                found.drift(UNKNOWN_FIELD, message, shape.pointer + "/properties")
            else:
                found.violation(UNKNOWN_FIELD, message, shape.pointer + "/properties")

    # --- the verdict -------------------------------------------------------------------------------

    def report(self, violations: list[ConsumerFinding] | None = None) -> str:
        """The violations (all by default) as a failure message. Its first line names the first violation,
        each violation is followed by its clause, and the last lines count them (retries are requests too)."""
        violations = self.violations if violations is None else violations
        lines = []
        for v in violations:
            lines += [f"request {v.number} {v.request}: {v.message}", f"  clause: {v.clause}"]
        broken = len({v.number for v in violations})
        lines.append(
            f"ContractMock({self.provider.name}): {len(violations)} violation(s) in {broken} of "
            f"{len(self.requests)} request(s) received, retries included."
        )
        if any(v.rule == UNKNOWN_FIELD for v in violations):
            lines.append(
                "An unknown request field fails by default (be conservative in what you send): make the mock "
                "with tolerate_unknown_fields=True to list it in mock.drift instead."
            )
        return "\n".join(lines)

    def assert_conforms(self) -> None:
        """Fail with every violation and its clause (drift is reported, not failed)."""
        if self.violations:
            raise ContractViolationError(self.report())

    @contextlib.contextmanager
    def routed(self, base_url: str | None = None) -> Iterator[ContractMock]:
        """Route httpx requests for the provider's server (or `base_url`) here, in-process."""
        with respx.mock(assert_all_called=False) as router:
            mount(router, self, base_url or self.provider.server)
            yield self


@dataclass
class _Findings:
    """Writes the findings of one request into its mock."""

    mock: ContractMock
    request: str
    number: int

    def _finding(self, kind: str, rule: str, message: str, at: str) -> ConsumerFinding:
        return ConsumerFinding(kind, message, f"{self.mock.provider.spec_file}#{at}", self.request, self.number, rule)

    def violation(self, rule: str, message: str, at: str) -> None:
        self.mock.violations.append(self._finding("violation", rule, message, at))

    def drift(self, rule: str, message: str, at: str) -> None:
        self.mock.drift.append(self._finding("drift", rule, message, at))


Where = tuple[str | int, ...]  # a place in a JSON value: keys and indexes


def _unknown_fields(value: Any, shape: Shape, where: Where) -> Iterator[tuple[Where, str, Any, Shape]]:
    """(where, name, value, shape of the object) for each member the contract does not list, at any depth.

    An object whose schema lists no properties says nothing about its members: none is unknown there."""
    if isinstance(value, dict) and shape.properties:
        for name in sorted(value):
            if name in shape.properties:
                yield from _unknown_fields(value[name], shape.properties[name], (*where, name))
            else:
                yield where, name, value[name], shape
    elif isinstance(value, list) and shape.items is not None:
        for index, item in enumerate(value):
            yield from _unknown_fields(item, shape.items, (*where, index))


def _path(where: Where, name: str) -> str:
    return "".join(f"{part}." if isinstance(part, str) else f"[{part}]." for part in where) + name
