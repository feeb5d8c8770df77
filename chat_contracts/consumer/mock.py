"""Verify a consumer: does a client send conforming requests and cope with every response allowed?

`ContractMock` stands in for a provider. Every request the client sends is checked against the contract
(method, path and id, bearer header, body schema); what breaks it is a violation, a field the contract
does not list is drift. It answers with the responses it is given, contract-valid ones drawn from the
strategies below: `chat_bodies` (every 200 body the schema allows: nulls and values, each enum value,
edge values), `error_responses` (each documented error status with a valid envelope, 429 with
Retry-After). Like the provider mocks it has a `handle()`, so it works in-process through respx
(`contract_mock` fixture, or `with ContractMock(...).routed():`) and served over HTTP (`transport.serving`).
"""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import respx
from hypothesis import strategies as st

from chat_contracts.documents import describe, pointer
from chat_contracts.mock import DIALECTS, SEED_CREATED, TIMESTAMP_FORMATTERS, MockRequest, MockResponse
from chat_contracts.registry import Provider, get_provider
from chat_contracts.transport import mount


@dataclass(frozen=True)
class ConsumerFinding:
    kind: str  # "violation" or "drift"
    message: str
    clause: str
    request: str  # METHOD path

    def line(self) -> str:
        return f"{self.kind}: {self.request}: {self.message} [{self.clause}]"


@dataclass
class ContractMock:
    provider: Provider
    violations: list[ConsumerFinding] = field(default_factory=list)
    drift: list[ConsumerFinding] = field(default_factory=list)
    requests: list[MockRequest] = field(default_factory=list)
    _queue: deque[MockResponse] = field(default_factory=deque)

    @classmethod
    def for_provider(cls, name: str) -> ContractMock:
        return cls(get_provider(name))

    # --- answers -----------------------------------------------------------------------------------

    def respond_with(self, *responses: MockResponse | dict[str, Any]) -> None:
        """Queue answers (a dict is a 200 body); when none is queued, a valid chat for the path id."""
        self._queue.extend(r if isinstance(r, MockResponse) else MockResponse(200, r) for r in responses)

    def handle(self, request: MockRequest) -> MockResponse:
        self.requests.append(request)
        chat_id = self._check(request)
        if self._queue:
            return self._queue.popleft()
        dialect = DIALECTS[self.provider.name]
        return MockResponse(200, dialect.seed(chat_id or self.provider.example_id, _timestamp(self.provider)))

    # --- checking the request ----------------------------------------------------------------------

    def _check(self, request: MockRequest) -> str | None:
        label = f"{request.method} {request.path}"
        p = self.provider
        route = p.path_pattern.match(request.path)
        if route is None:
            self._violation(label, f"{request.path} is not {p.path}", "#/paths")
            return None
        chat_id = route.group(1)
        if request.method.upper() != p.method:
            self._violation(label, f"{request.method} is not the documented {p.method}", p.operation_pointer)
        id_at = p.id_parameter_pointer + "/schema"
        for error in p.document.errors(chat_id, id_at):
            self._violation(label, f"path id {chat_id!r}: {error.message}", id_at)
        scheme, _, token = (request.header(p.auth_header) or "").partition(" ")
        if scheme.lower() != p.auth_prefix.strip().lower() or not token.strip():
            self._violation(label, f"no bearer token in {p.auth_header}", p.operation_pointer + "/security")
        self._check_body(label, request)
        return chat_id

    def _check_body(self, label: str, request: MockRequest) -> None:
        p = self.provider
        if not request.body.strip():
            return  # the body is optional
        try:
            body = json.loads(request.body)
        except ValueError:
            self._violation(label, "the body is not JSON", p.request_schema_pointer)
            return
        for error in p.document.errors(body, p.request_schema_pointer):
            at = p.request_schema_pointer + pointer(*error.relative_schema_path)
            self._violation(label, describe(error), at)
        if isinstance(body, dict):
            known = p.field_names
            for name in sorted(set(body) - known):
                self.drift.append(
                    ConsumerFinding(
                        "drift",
                        f"sends {name}={body[name]!r}, unknown to the contract (known: {', '.join(sorted(known))})",
                        f"{p.spec_file}#{p.request_schema_pointer}/properties",
                        label,
                    )
                )

    def _violation(self, label: str, message: str, at: str) -> None:
        self.violations.append(ConsumerFinding("violation", message, f"{self.provider.spec_file}#{at}", label))

    def assert_conforms(self) -> None:
        """Fail with every violation and its clause (drift is reported, not failed)."""
        if self.violations:
            raise AssertionError("\n".join(v.line() for v in self.violations))

    @contextlib.contextmanager
    def routed(self, base_url: str | None = None) -> Iterator[ContractMock]:
        """Route httpx requests for the provider's server (or `base_url`) here, in-process."""
        with respx.mock(assert_all_called=False) as router:
            mount(router, self, base_url or self.provider.server)
            yield self


def _timestamp(provider: Provider) -> str:
    return TIMESTAMP_FORMATTERS[provider.timestamp_format](SEED_CREATED)


# --- strategies of contract-valid responses ---------------------------------------------------------

MOMENTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
FORMAT_STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.one_of(
        MOMENTS.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z"),
        MOMENTS.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
        MOMENTS.map(lambda m: m.isoformat()),
    ),
    "http-date": MOMENTS.map(lambda m: format_datetime(m, usegmt=True)),
    "email": st.emails(),
}
EDGE_INTEGERS = st.sampled_from([0, 1, -1, 2**31 - 1, 2**53])


def from_schema(provider: Provider, node: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy of values valid for the schema `node` of `provider`'s contract (the keywords it uses)."""
    node = provider.document.deref(node)
    branches = node.get("oneOf") or node.get("anyOf")
    if branches:
        return st.one_of([from_schema(provider, b, depth + 1) for b in branches])
    kinds = node.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if "enum" in node:
        return st.sampled_from(node["enum"] + ([None] if "null" in kinds and None not in node["enum"] else []))
    options = [_for_type(provider, node, kind, depth) for kind in kinds]
    return st.one_of(options) if options else st.none()


def _for_type(provider: Provider, node: dict[str, Any], kind: str, depth: int) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "string":
        if node.get("format") in FORMAT_STRATEGIES:
            return FORMAT_STRATEGIES[node["format"]]
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True)
        return st.one_of(st.text(max_size=40), st.just(""), st.text(min_size=500, max_size=2000))
    if kind == "integer":
        return st.one_of(EDGE_INTEGERS, st.integers())
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(from_schema(provider, node.get("items", {}), depth + 1), max_size=4)
    if kind == "object":
        properties = node.get("properties", {})
        required = set(node.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(provider, v, depth + 1) for k, v in properties.items() if k in required},
            optional={k: from_schema(provider, v, depth + 1) for k, v in properties.items() if k not in required},
        )
    raise ValueError(f"no strategy for type {kind!r}")


def chat_bodies(provider: Provider | str) -> st.SearchStrategy[dict[str, Any]]:
    """Every 200 body the contract allows (and nothing it does not: each is validated)."""
    provider = get_provider(provider) if isinstance(provider, str) else provider
    at = provider.response_schema_pointer(200)
    strategy = from_schema(provider, provider.document.resolve(at))
    return strategy.filter(lambda body: not provider.document.errors(body, at))


def error_responses(provider: Provider | str) -> st.SearchStrategy[MockResponse]:
    """Each documented error status with a valid body (any 4xx and body where none is documented),
    and 429 with Retry-After."""
    provider = get_provider(provider) if isinstance(provider, str) else provider
    documented = [s for s in provider.documented_statuses() if s[0] in "45"]
    options = []
    for status in documented:
        at = provider.response_schema_pointer(status)
        codes = st.integers(400, 499) if status.endswith("XX") else st.just(int(status))
        body = (
            from_schema(provider, provider.document.resolve(at))
            if at
            else st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3)
        )
        options.append(st.builds(MockResponse, codes, body))
    retry_after = st.integers(0, 5).map(lambda s: {"retry-after": str(s)})
    options.append(
        st.builds(
            MockResponse,
            st.just(429),
            st.just({"error": {"type": "rate_limit_exceeded", "message": "Slow down"}}),
            retry_after,
        )
    )
    return st.one_of(options)


def responses(provider: Provider | str) -> st.SearchStrategy[MockResponse]:
    """Any answer the contract allows: a valid chat, or an error."""
    return st.one_of(chat_bodies(provider).map(lambda body: MockResponse(200, body)), error_responses(provider))
