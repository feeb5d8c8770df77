"""`chat-contracts drift`: compare two OpenAPI 3.x documents and classify each change for the people it hurts.

Schemas are normalised before they are compared: `$ref`s are resolved (an equivalent refactor is not a
change) and the three ways to write nullability (`type: [x, "null"]`, `oneOf`/`anyOf` with
`{type: null}`, 3.0 `nullable: true`) read the same. Request and response sides are classified apart:
a new enum value is harmless to a client sending requests and may break one reading responses.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from chat_contracts.documents import Document, pointer

SEVERITIES = ("info", "warning", "breaking")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    example: str


RULES: dict[str, Rule] = {}


def _rule(rule_id: str, severity: str, summary: str, example: str) -> str:
    RULES[rule_id] = Rule(rule_id, severity, summary, example)
    return rule_id


# The rule catalogue (README lists it; `chat-contracts drift --rules` prints it).
PATH_REMOVED = _rule("path-removed", "breaking", "A path is gone.", "/ai_chats/{id} removed")
OPERATION_REMOVED = _rule(
    "operation-removed", "breaking", "A method on a path is gone.", "PATCH /ai_chats/{id} removed"
)
OPERATION_ADDED = _rule("operation-added", "info", "A method appeared on a path.", "GET /ai_chats/{id} added")
SECURITY_CHANGED = _rule(
    "security-changed", "breaking", "The security requirements differ.", "bearerAuth → apiKey header"
)
BODY_REQUIRED = _rule(
    "request-body-became-required", "breaking", "A request body became required.", "requestBody.required: true"
)
REQ_PROP_REMOVED = _rule(
    "request-property-removed",
    "breaking",
    "A request property is gone (clients sending it are ignored or refused); "
    "a similar new one is named as a likely rename.",
    "current_company_id removed (likely renamed to current_account_id)",
)
REQ_PROP_ADDED = _rule(
    "request-property-added", "info", "An optional request property appeared.", "current_account_id added"
)
REQ_REQUIRED_ADDED = _rule(
    "request-required-property-added",
    "breaking",
    "A required request property appeared.",
    "workspace_id added, required",
)
REQ_BECAME_REQUIRED = _rule(
    "request-property-became-required", "breaking", "A request property became required.", "title now required"
)
REQ_BECAME_OPTIONAL = _rule(
    "request-property-became-optional", "info", "A request property became optional.", "title no longer required"
)
REQ_TYPE = _rule("request-type-changed", "breaking", "A request property's type changed.", "title: string → integer")
REQ_NULL_LOST = _rule(
    "request-nullability-lost", "breaking", "A request property no longer accepts null.", "title: string|null → string"
)
REQ_NULL_GAINED = _rule(
    "request-nullability-gained", "info", "A request property now accepts null.", "title: string → string|null"
)
REQ_ENUM_REMOVED = _rule(
    "request-enum-value-removed", "breaking", "A request enum lost a value.", "notification_preference: 'none' removed"
)
REQ_ENUM_ADDED = _rule(
    "request-enum-value-added", "info", "A request enum gained a value.", "notification_preference: 'mentions' added"
)
REQ_FORMAT = _rule(
    "request-format-changed", "warning", "A request property's format changed.", "created_after: date → date-time"
)
RESP_PROP_REMOVED = _rule(
    "response-property-removed",
    "breaking",
    "A response property is gone (breaking if it was required, else a warning).",
    "last_message_at removed",
)
RESP_PROP_ADDED = _rule(
    "response-property-added", "info", "An optional response property appeared.", "archived_at added"
)
RESP_REQUIRED_ADDED = _rule(
    "response-required-property-added",
    "warning",
    "A required response property appeared: strict clients built on the new spec reject servers that lack it.",
    "agent_identifier added, required",
)
RESP_BECAME_OPTIONAL = _rule(
    "response-property-became-optional",
    "breaking",
    "A response property is no longer guaranteed.",
    "user no longer required",
)
RESP_BECAME_REQUIRED = _rule(
    "response-property-became-required",
    "info",
    "A response property is now always present.",
    "last_message_at now required",
)
RESP_TYPE = _rule(
    "response-type-changed", "breaking", "A response property's type changed.", "message_count: integer → string"
)
RESP_NULL_GAINED = _rule(
    "response-nullability-gained", "breaking", "A response property may now be null.", "user: object → object|null"
)
RESP_NULL_LOST = _rule(
    "response-nullability-lost", "info", "A response property is no longer null.", "title: string|null → string"
)
RESP_ENUM_ADDED = _rule(
    "response-enum-value-added",
    "warning",
    "A response enum gained a value (exhaustive clients break).",
    "agent_identifier: 'sales' added",
)
RESP_ENUM_REMOVED = _rule(
    "response-enum-value-removed", "info", "A response enum lost a value.", "notification_preference: 'none' removed"
)
RESP_FORMAT = _rule(
    "response-format-changed", "warning", "A response property's format changed.", "created_at: date-time → http-date"
)
STATUS_ADDED = _rule("status-added", "info", "A response status is newly documented.", "409 added")
STATUS_REMOVED = _rule(
    "status-removed", "warning", "A documented response status is gone (breaking for a 2xx).", "422 removed"
)
ERROR_ENVELOPE = _rule(
    "error-envelope-changed",
    "warning",
    "The body of an error status changed (breaking when a field clients read is gone or retyped).",
    "404 error.code: string → integer",
)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    operation: str
    baseline: str | None  # JSON pointer into the baseline document
    candidate: str | None  # JSON pointer into the candidate document
    message: str

    def line(self) -> str:
        return f"{self.severity.upper():8} {self.rule:34} {self.operation}: {self.message}"


# --- normalised schemas ----------------------------------------------------------------------------


@dataclass
class Shape:
    """What a schema allows, however it is written."""

    pointer: str
    types: frozenset[str] = frozenset()
    nullable: bool = False
    enum: frozenset[Any] | None = None
    format: str | None = None
    properties: dict[str, Shape] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Shape | None = None

    @property
    def is_null(self) -> bool:
        """Allows null and nothing else (`{type: null}`)."""
        return self.nullable and not self.types and self.enum is None and not self.properties


def shape(document: Document, node: Any, at: str, depth: int = 0) -> Shape:
    """Normalise the schema `node` (found at pointer `at`), following `$ref`s."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 50:
        at = node["$ref"].removeprefix("#")
        node = document.resolve(node["$ref"])
        depth += 1
    if not isinstance(node, dict) or depth >= 50:
        return Shape(at)
    result = Shape(at)
    key = "oneOf" if "oneOf" in node else "anyOf"
    branches = node.get(key)
    if branches:
        parts = [shape(document, b, f"{at}/{key}/{i}", depth + 1) for i, b in enumerate(branches)]
        real = [p for p in parts if not p.is_null]
        result.nullable = len(real) < len(parts) or any(p.nullable for p in real)
        if len(real) == 1:  # "x or null": the shape of x
            only = real[0]
            result.pointer, result.types, result.enum, result.format = only.pointer, only.types, only.enum, only.format
            result.properties, result.required, result.items = only.properties, only.required, only.items
        else:
            result.types = frozenset().union(*(p.types for p in real))
            formats = {p.format for p in real}
            result.format = formats.pop() if len(formats) == 1 else None
    kind = node.get("type")
    if kind is not None:
        kinds = {kind} if isinstance(kind, str) else set(kind)
        result.nullable |= "null" in kinds
        result.types |= frozenset(kinds - {"null"})
    if node.get("nullable") is True:  # OpenAPI 3.0
        result.nullable = True
    if "enum" in node:
        result.nullable |= None in node["enum"]
        result.enum = frozenset(v for v in node["enum"] if v is not None and not isinstance(v, (dict, list)))
    result.format = node.get("format", result.format)
    for name, sub in (node.get("properties") or {}).items():
        result.properties[name] = shape(document, sub, at + pointer("properties", name), depth + 1)
    result.required |= frozenset(node.get("required") or [])
    if isinstance(node.get("items"), dict):
        result.items = shape(document, node["items"], at + "/items", depth + 1)
    return result


# --- the comparison -------------------------------------------------------------------------------


class Diff:
    def __init__(self, baseline: Document, candidate: Document) -> None:
        self.baseline, self.candidate = baseline, candidate
        self.findings: list[Finding] = []

    def add(
        self, rule: str, operation: str, base: str | None, cand: str | None, message: str, severity: str | None = None
    ) -> None:
        self.findings.append(Finding(rule, severity or RULES[rule].severity, operation, base, cand, message))

    def run(self) -> list[Finding]:
        base_paths = _paths(self.baseline)
        cand_paths = _paths(self.candidate)
        for key, (path, item) in base_paths.items():
            at = pointer("paths", path)
            if key not in cand_paths:
                self.add(PATH_REMOVED, path, at, None, f"the path {path} is gone")
                continue
            cand_path, cand_item = cand_paths[key]
            cand_at = pointer("paths", cand_path)
            for method in METHODS:
                name = f"{method.upper()} {path}"
                if method in item and method not in cand_item:
                    self.add(OPERATION_REMOVED, name, at + "/" + method, None, f"{name} is gone")
                elif method in item:
                    self._operation(name, at + "/" + method, item[method], cand_at + "/" + method, cand_item[method])
                elif method in cand_item:
                    self.add(OPERATION_ADDED, name, None, cand_at + "/" + method, f"{name} appeared")
        order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
        return sorted(self.findings, key=lambda f: (order[f.severity], f.operation, f.rule, f.baseline or ""))

    def _operation(self, name: str, base_at: str, base: dict, cand_at: str, cand: dict) -> None:
        base_sec = _security(self.baseline, base)
        cand_sec = _security(self.candidate, cand)
        if base_sec != cand_sec:
            self.add(SECURITY_CHANGED, name, base_at + "/security", cand_at + "/security",
                     f"security was {sorted(base_sec) or 'none'}, is {sorted(cand_sec) or 'none'}")  # fmt: skip
        base_body = self.baseline.deref(base.get("requestBody") or {})
        cand_body = self.candidate.deref(cand.get("requestBody") or {})
        if cand_body.get("required") and not base_body.get("required"):
            self.add(
                BODY_REQUIRED,
                name,
                base_at + "/requestBody",
                cand_at + "/requestBody",
                "the request body became required",
            )
        base_schema = _json_schema(base_body)
        cand_schema = _json_schema(cand_body)
        if base_schema is not None and cand_schema is not None:
            self._compare(
                name, "request", "",
                shape(self.baseline, base_schema, base_at + "/requestBody/content/application~1json/schema"),
                shape(self.candidate, cand_schema, cand_at + "/requestBody/content/application~1json/schema"),
            )  # fmt: skip
        base_responses = base.get("responses") or {}
        cand_responses = cand.get("responses") or {}
        for status in base_responses:
            if status not in cand_responses:
                severity = "breaking" if status.startswith("2") else None
                self.add(STATUS_REMOVED, name, base_at + pointer("responses", status), None,
                         f"response {status} is no longer documented", severity)  # fmt: skip
                continue
            base_response_schema = _json_schema(self.baseline.deref(base_responses[status]))
            cand_response_schema = _json_schema(self.candidate.deref(cand_responses[status]))
            if base_response_schema is None or cand_response_schema is None:
                continue
            side = "response" if status[0] not in "45" else "error"
            suffix = pointer("responses", status, "content", "application/json", "schema")
            self._compare(
                name, side, f"{status} ",
                shape(self.baseline, base_response_schema, base_at + suffix),
                shape(self.candidate, cand_response_schema, cand_at + suffix),
            )  # fmt: skip
        for status in cand_responses:
            if status not in base_responses:
                self.add(
                    STATUS_ADDED,
                    name,
                    None,
                    cand_at + pointer("responses", status),
                    f"response {status} is now documented",
                )

    def _compare(self, name: str, side: str, label: str, base: Shape, cand: Shape, path: str = "") -> None:
        """Compare two shapes; `side` is request, response or error (an error status's body)."""
        where = label + (path or "body")
        if base.types and cand.types and base.types != cand.types:
            self._emit(side, REQ_TYPE, RESP_TYPE, name, base, cand, f"{where}: type {_types(base)} → {_types(cand)}")
        if base.nullable != cand.nullable:
            if side == "request":
                rule = REQ_NULL_GAINED if cand.nullable else REQ_NULL_LOST
            else:
                rule = RESP_NULL_GAINED if cand.nullable else RESP_NULL_LOST
            change = "may now be null" if cand.nullable else "can no longer be null"
            self._emit(side, rule, rule, name, base, cand, f"{where} {change}")
        if base.enum is not None and cand.enum is not None:
            for value in sorted(map(str, base.enum - cand.enum)):
                self._emit(
                    side,
                    REQ_ENUM_REMOVED,
                    RESP_ENUM_REMOVED,
                    name,
                    base,
                    cand,
                    f"{where}: enum value {value!r} removed",
                )
            for value in sorted(map(str, cand.enum - base.enum)):
                self._emit(
                    side, REQ_ENUM_ADDED, RESP_ENUM_ADDED, name, base, cand, f"{where}: enum value {value!r} added"
                )
        if base.format != cand.format and (base.format or cand.format):
            self._emit(
                side, REQ_FORMAT, RESP_FORMAT, name, base, cand, f"{where}: format {base.format} → {cand.format}"
            )
        removed = sorted(set(base.properties) - set(cand.properties))
        added = sorted(set(cand.properties) - set(base.properties))
        for prop in removed:
            sub = base.properties[prop]
            full = f"{path}.{prop}" if path else prop
            hint = _rename_hint(prop, sub, {a: cand.properties[a] for a in added})
            if side == "request":
                self._emit(side, REQ_PROP_REMOVED, REQ_PROP_REMOVED, name, sub, None, f"{label}{full} removed{hint}")
            else:
                severity = "breaking" if prop in base.required else "warning"
                self._emit(
                    side,
                    RESP_PROP_REMOVED,
                    RESP_PROP_REMOVED,
                    name,
                    sub,
                    None,
                    f"{label}{full} removed{hint}",
                    severity,
                )
        for prop in added:
            sub = cand.properties[prop]
            full = f"{path}.{prop}" if path else prop
            required = prop in cand.required
            detail = f"{label}{full} added ({_types(sub)}{', required' if required else ''}{_enum(sub)})"
            if side == "request":
                self._emit(side, REQ_REQUIRED_ADDED if required else REQ_PROP_ADDED, None, name, None, sub, detail)
            else:
                self._emit(side, RESP_REQUIRED_ADDED if required else RESP_PROP_ADDED, None, name, None, sub, detail)
        for prop in sorted(set(base.properties) & set(cand.properties)):
            full = f"{path}.{prop}" if path else prop
            b, c = base.properties[prop], cand.properties[prop]
            was, now = prop in base.required, prop in cand.required
            if now and not was:
                rule = REQ_BECAME_REQUIRED if side == "request" else RESP_BECAME_REQUIRED
                self._emit(side, rule, rule, name, b, c, f"{label}{full} became required")
            if was and not now:
                rule = REQ_BECAME_OPTIONAL if side == "request" else RESP_BECAME_OPTIONAL
                self._emit(side, rule, rule, name, b, c, f"{label}{full} is no longer required")
            self._compare(name, side, label, b, c, full)
        if base.items is not None and cand.items is not None:
            self._compare(name, side, label, base.items, cand.items, f"{path}[]" if path else "[]")

    def _emit(self, side: str, request_rule: str, other_rule: str | None, name: str,
              base: Shape | None, cand: Shape | None, message: str, severity: str | None = None) -> None:  # fmt: skip
        rule = request_rule if side == "request" or other_rule is None else other_rule
        if side == "error":
            # Changes inside an error body are one rule; they weigh what they would weigh in a response.
            severity = severity or RULES[rule].severity
            rule = ERROR_ENVELOPE
        self.add(rule, name, base.pointer if base else None, cand.pointer if cand else None, message, severity)


def _paths(document: Document) -> dict[str, tuple[str, dict]]:
    """Paths keyed with their parameters' names erased: /a/{id} and /a/{chat_id} are the same path."""
    return {re.sub(r"\{[^}]*\}", "{}", path): (path, item) for path, item in (document.data.get("paths") or {}).items()}


def _security(document: Document, operation: dict) -> frozenset[str]:
    requirements = operation.get("security", document.data.get("security")) or []
    return frozenset(name for requirement in requirements for name in requirement)


def _json_schema(node: dict) -> Any:
    content = node.get("content") or {}
    media = content.get("application/json") or next((v for k, v in content.items() if "json" in k), None)
    return media.get("schema") if isinstance(media, dict) else None


def _types(s: Shape) -> str:
    names = sorted(s.types) or ["any"]
    return "|".join(names + (["null"] if s.nullable else []))


def _enum(s: Shape) -> str:
    return f", enum {'|'.join(sorted(map(str, s.enum)))}" if s.enum else ""


def _rename_hint(name: str, old: Shape, added: dict[str, Shape]) -> str:
    """`; likely renamed to X` when a new property looks like this one under another name."""
    best, score = None, 0.0
    for candidate, new in added.items():
        if old.types and new.types and old.types != new.types:
            continue
        words_old, words_new = set(name.split("_")), set(candidate.split("_"))
        overlap = len(words_old & words_new) / max(len(words_old | words_new), 1)
        ratio = max(difflib.SequenceMatcher(None, name, candidate).ratio(), overlap)
        if ratio > score:
            best, score = candidate, ratio
    return f" (likely renamed to {best})" if best and score >= 0.5 else ""


def compare(baseline: Document, candidate: Document) -> list[Finding]:
    for document in (baseline, candidate):
        if not document.version.startswith("3."):
            raise ValueError(f"{document.source}: drift compares OpenAPI 3.x documents; this one is {document.version}")
    return Diff(baseline, candidate).run()


# --- output ---------------------------------------------------------------------------------------


def render(findings: list[Finding], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"findings": [asdict(f) for f in findings]}, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        lines = [
            "| severity | rule | operation | change | baseline | candidate |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in findings:
            pointers = f"`{f.baseline or '-'}` | `{f.candidate or '-'}`"
            lines.append(f"| {f.severity} | `{f.rule}` | `{f.operation}` | {f.message} | {pointers} |")
        return "\n".join(lines if findings else ["No drift."])
    lines = [f.line() + f"\n{'':9}baseline {f.baseline or '-'}  candidate {f.candidate or '-'}" for f in findings]
    return "\n".join(lines) if findings else "No drift."


def rule_catalogue_markdown() -> str:
    lines = ["| rule | severity | when | example |", "| --- | --- | --- | --- |"]
    lines += [f"| `{r.id}` | {r.severity} | {r.summary} | {r.example} |" for r in RULES.values()]
    return "\n".join(lines)


def at_or_above(findings: list[Finding], threshold: str) -> list[Finding]:
    """The findings of severity `threshold` or worse (`never`: none)."""
    if threshold == "never":
        return []
    return [f for f in findings if SEVERITIES.index(f.severity) >= SEVERITIES.index(threshold)]
