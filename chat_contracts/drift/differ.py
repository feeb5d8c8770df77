"""`chat-contracts drift`: compare two OpenAPI 3.x documents and classify each change for the people it hurts.

Schemas are normalised before they are compared (`core.schema`): `$ref`s are resolved (an equivalent
refactor is not a change), the three ways to write nullability read the same, `allOf` is merged and
`oneOf`/`anyOf` branches are matched. Request and response sides are classified apart, by direction:
a request schema may widen (accept more) and a response schema may narrow (return less) without
hurting anyone; the opposite breaks someone. Parameters are requests, response headers are responses.

Only the operations the baseline pins are compared (and what they reference), so the candidate may be
a whole API. Documents are data from strangers: a `$ref` out of the document is never followed (it is a
finding), and every comparison is memoised by the pair of shapes compared, so a recursive schema diffs
in time linear in the documents, without recursion limits.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from chat_contracts.core.documents import Document, pointer
from chat_contracts.core.errors import DocumentError
from chat_contracts.core.http import is_json_media
from chat_contracts.core.schema import Shape, Shapes, covered, json_type

SEVERITIES = ("info", "warning", "breaking")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    example: str
    oasdiff: str = ""  # oasdiff's nearest check and level, and why ours differs when it does


RULES: dict[str, Rule] = {}


def _rule(rule_id: str, severity: str, summary: str, example: str, oasdiff: str = "same") -> str:
    RULES[rule_id] = Rule(rule_id, severity, summary, example, oasdiff)
    return rule_id


_IGNORED = "refused or ignored: either way the request no longer does what the client meant"

# The rule catalogue (README lists it; `chat-contracts drift --rules` prints it).
# --- paths, operations, security
PATH_REMOVED = _rule("path-removed", "breaking", "A path is gone.", "/ai_chats/{id} removed")
OPERATION_REMOVED = _rule(
    "operation-removed", "breaking", "A method on a path is gone.", "PATCH /ai_chats/{id} removed"
)
OPERATION_ADDED = _rule(
    "operation-added",
    "info",
    "An operation the baseline does not pin appeared (only with --all-operations).",
    "GET /ai_chats/{id} added",
)
SECURITY_CHANGED = _rule(
    "security-changed",
    "breaking",
    "The security requirements differ.",
    "bearerAuth → apiKey header",
    "api-security-* are INFO: a client authenticating the old way is refused, so ours is breaking",
)
EXTERNAL_REF = _rule(
    "external-ref-not-followed",
    "warning",
    "A $ref leaves the document; it is never opened, so what it stands for is not compared.",
    "$ref https://example.com/chat.yaml",
    "oasdiff follows external refs (or fails without --allow-external-refs); we never open what a spec names",
)
# --- request body
BODY_ADDED = _rule("request-body-added", "info", "An optional request body appeared.", "requestBody added")
BODY_ADDED_REQUIRED = _rule(
    "request-body-added-required", "breaking", "A required request body appeared.", "requestBody added, required"
)
BODY_REMOVED = _rule(
    "request-body-removed", "breaking", f"The request body is gone ({_IGNORED}).", "requestBody removed"
)
BODY_REQUIRED = _rule(
    "request-body-became-required", "breaking", "A request body became required.", "requestBody.required: true"
)
BODY_OPTIONAL = _rule(
    "request-body-became-optional", "info", "A request body became optional.", "requestBody.required: false"
)
REQ_MEDIA_REMOVED = _rule(
    "request-media-type-removed", "breaking", "A request media type is gone.", "application/xml removed"
)
REQ_MEDIA_ADDED = _rule("request-media-type-added", "info", "A request media type appeared.", "text/plain added")
# --- request schemas (bodies and parameters)
REQ_PROP_REMOVED = _rule(
    "request-property-removed",
    "breaking",
    f"A request property is gone (clients sending it are {_IGNORED}); a similar new one is named as a likely rename.",
    "current_company_id removed (likely renamed to current_account_id)",
    "request-property-removed is WARN; Whop's rename is exactly this case: the update silently stops "
    "applying, so ours is breaking",
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
REQ_BECAME_READ_ONLY = _rule(
    "request-property-became-read-only",
    "breaking",
    f"A request property became readOnly: clients must no longer send it (they are {_IGNORED}).",
    "title: readOnly",
    "request-*-property-became-read-only is INFO; to a client it is the property's removal, so ours is breaking",
)
REQ_TYPE = _rule(
    "request-type-changed",
    "breaking",
    "A request type changed so that values valid before are refused (a type added to an untyped one too).",
    "title: string → integer",
)
REQ_TYPE_WIDENED = _rule(
    "request-type-widened",
    "info",
    "A request type now accepts every value it did and more (integer → number, a type constraint dropped).",
    "limit: integer → number",
)
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
REQ_BECAME_ENUM = _rule(
    "request-became-enum",
    "breaking",
    "A request property that took any value now takes only an enum's.",
    "pref: string → enum all|none",
)
REQ_ENUM_LIFTED = _rule(
    "request-enum-lifted",
    "info",
    "A request property is no longer limited to an enum.",
    "pref: enum all|none → string",
    "no such check (not reported)",
)
REQ_FORMAT = _rule(
    "request-format-changed",
    "breaking",
    "A request format was added or changed so that values valid before may be refused.",
    "created_after: date → date-time",
    "request-property-type-changed is ERR, but date → date-time is a generalisation there; a full-date is "
    "not a valid date-time (RFC 3339), so ours is breaking",
)
REQ_FORMAT_WIDENED = _rule(
    "request-format-widened",
    "info",
    "A request format was dropped or widened (int32 → int64, float → double).",
    "count: int32 → int64",
)
REQ_VARIANT_REMOVED = _rule(
    "request-variant-removed", "breaking", "A oneOf/anyOf branch of a request is gone.", "pet: variant Cat removed"
)
REQ_VARIANT_ADDED = _rule(
    "request-variant-added", "info", "A request oneOf/anyOf gained a branch.", "pet: variant Dog added"
)
# --- parameters (query, header, path, cookie): their schemas follow the request-* rules above
PARAM_REMOVED = _rule(
    "parameter-removed",
    "breaking",
    f"A parameter is gone (clients sending it are {_IGNORED}).",
    "query archived removed",
    "request-parameter-removed is WARN; ours is breaking for the reason given at request-property-removed",
)
PARAM_ADDED = _rule("parameter-added", "info", "An optional parameter appeared.", "header Api-Version-Date added")
PARAM_REQUIRED_ADDED = _rule(
    "required-parameter-added", "breaking", "A required parameter appeared.", "header Api-Version-Date added, required"
)
PARAM_BECAME_REQUIRED = _rule(
    "parameter-became-required", "breaking", "A parameter became required.", "query limit now required"
)
PARAM_BECAME_OPTIONAL = _rule(
    "parameter-became-optional", "info", "A parameter became optional.", "query limit no longer required"
)
# --- responses
STATUS_ADDED = _rule("status-added", "info", "A response status is newly documented.", "409 added")
STATUS_REMOVED = _rule(
    "status-removed",
    "warning",
    "A documented response status is gone (breaking for a 2xx).",
    "422 removed",
    "response-non-success-status-removed is INFO; a client that handles that error by its status loses "
    "its documented meaning, so ours is a warning",
)
RESP_MEDIA_REMOVED = _rule(
    "response-media-type-removed", "breaking", "A response media type is gone.", "200 application/json removed"
)
RESP_MEDIA_ADDED = _rule("response-media-type-added", "info", "A response media type appeared.", "200 text/csv added")
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
    "response-required-property-added is INFO; the provider's own SDK validates required fields, so an "
    "SDK upgrade against an older server fails: ours is a warning",
)
RESP_BECAME_OPTIONAL = _rule(
    "response-property-became-optional", "breaking", "A response property is no longer guaranteed.", "user optional"
)
RESP_BECAME_REQUIRED = _rule(
    "response-property-became-required",
    "info",
    "A response property is now always present.",
    "last_message_at now required",
)
RESP_BECAME_WRITE_ONLY = _rule(
    "response-property-became-write-only",
    "breaking",
    "A response property became writeOnly: it is no longer returned (breaking if it was required, else a warning).",
    "secret: writeOnly",
    "response-*-property-became-write-only is INFO; to a client it is the property's removal",
)
RESP_TYPE = _rule(
    "response-type-changed",
    "breaking",
    "A response type changed so that it may return values clients were not told of (a type dropped too).",
    "message_count: integer → string",
)
RESP_TYPE_NARROWED = _rule(
    "response-type-narrowed",
    "info",
    "A response type now returns only values it could before (number → integer, a type added to an untyped one).",
    "score: number → integer",
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
RESP_BECAME_ENUM = _rule(
    "response-became-enum",
    "info",
    "A response property is now limited to an enum's values.",
    "agent: string → enum general|support",
    "no such check (not reported)",
)
RESP_ENUM_LIFTED = _rule(
    "response-enum-lifted",
    "warning",
    "A response property is no longer limited to an enum (exhaustive clients break, as with a new value).",
    "agent: enum general|support → string",
    "no such check (not reported)",
)
RESP_FORMAT = _rule(
    "response-format-changed",
    "breaking",
    "A response format was dropped or changed so that clients may get values they cannot parse.",
    "created_at: date-time → http-date",
)
RESP_FORMAT_NARROWED = _rule(
    "response-format-narrowed",
    "info",
    "A response format was added or narrowed (int64 → int32).",
    "id: none → uuid",
)
RESP_VARIANT_ADDED = _rule(
    "response-variant-added",
    "warning",
    "A response oneOf/anyOf gained a branch (exhaustive clients break, as with a new enum value).",
    "pet: variant Dog added",
    "response-*-one-of-added is ERR and response-*-any-of-added INFO; we weigh it as a new enum value",
)
RESP_VARIANT_REMOVED = _rule(
    "response-variant-removed", "info", "A response oneOf/anyOf lost a branch.", "pet: variant Cat removed"
)
RESP_HEADER_REMOVED = _rule(
    "response-header-removed",
    "breaking",
    "A response header is gone (breaking if it was required, else a warning).",
    "200 header X-RateLimit-Remaining removed",
)
RESP_HEADER_ADDED = _rule("response-header-added", "info", "A response header appeared.", "200 header ETag added")
RESP_HEADER_OPTIONAL = _rule(
    "response-header-became-optional", "breaking", "A response header is no longer guaranteed.", "200 header ETag"
)
RESP_HEADER_REQUIRED = _rule(
    "response-header-became-required", "info", "A response header is now always sent.", "200 header ETag"
)
ERROR_ENVELOPE = _rule(
    "error-envelope-changed",
    "warning",
    "The body of an error status changed (weighed as the same change in a response would be).",
    "404 error.code: string → integer",
    "oasdiff does not tell error bodies apart; we group them so they can be filtered",
)
# --- a published documentation page (Markdown) against the contract written from it (`drift.docs`)
DOC_REQ_ADDED = _rule(
    "doc-request-field-added",
    "info",
    "The page lists a request field (in its Body list or example) that the contract lacks.",
    "pinned (boolean) listed",
    "not applicable (prose pages)",
)
DOC_REQ_REMOVED = _rule(
    "doc-request-field-removed",
    "breaking",
    f"A request field the contract quotes from the page is no longer on it (clients sending it are {_IGNORED}).",
    "bot_id no longer listed",
    "not applicable (prose pages)",
)
DOC_REQ_RETYPED = _rule(
    "doc-request-field-retyped",
    "breaking",
    "The page gives a request field another type than the contract quotes (or its example does).",
    "archived: boolean → string",
    "not applicable (prose pages)",
)
DOC_RESP_ADDED = _rule(
    "doc-response-field-added",
    "info",
    "The page lists a response field (in its Response list or example) that the contract lacks.",
    "agent (string) listed",
    "not applicable (prose pages)",
)
DOC_RESP_REMOVED = _rule(
    "doc-response-field-removed",
    "breaking",
    "A response field the contract quotes from the page is no longer on it (breaking if the contract "
    "requires it, else a warning).",
    "members no longer listed",
    "not applicable (prose pages)",
)
DOC_RESP_RETYPED = _rule(
    "doc-response-field-retyped",
    "breaking",
    "The page gives a response field another type than the contract quotes (or its example does).",
    "create_at: date → integer",
    "not applicable (prose pages)",
)

# Formats whose values include all of another's: (narrower, wider). date → date-time is not one.
WIDER_FORMATS = frozenset({
    ("int32", "int64"), ("float", "double"), ("email", "idn-email"), ("hostname", "idn-hostname"),
    ("uri", "iri"), ("uri-reference", "iri-reference"),
})  # fmt: skip


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    operation: str
    baseline: str | None  # JSON pointer into the baseline document
    candidate: str | None  # JSON pointer into the candidate document (a line, for a Markdown page)
    message: str

    def line(self) -> str:
        return f"{self.severity.upper():8} {self.rule:34} {self.operation}: {self.message}"


def pick(side: str, request_rule: str, response_rule: str) -> str:
    """The rule for `side`: request, or response (an error status's body reads as a response)."""
    return request_rule if side == "request" else response_rule


@dataclass(frozen=True)
class _Place:
    """How messages name what is compared: a body ("200 title"), a parameter ("query limit")."""

    label: str
    root: str = "body"
    sep: str = ""

    def at(self, path: str) -> str:
        return self.label + self.sep + path if path else self.label + self.root


_OperationAt = tuple[tuple[str, dict[str, Any], str], dict[str, Any], str]  # (path, item, at), operation, at


class _Spec:
    """One side of the comparison: its document, its shapes, and the `$ref`s out of it met so far."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.shapes = Shapes(document)
        self._external: dict[str, str] = {}

    def fail(self, at: str, problem: str) -> DocumentError:
        return DocumentError(f"{self.document.source}: {at or '/'} {problem}")

    def deref(self, node: Any, at: str) -> tuple[Any, str]:
        """The node behind local `$ref`s and where it stands; (None, at) for a `$ref` out of the document."""
        followed = self.document.follow(node, at)
        if followed.external is not None:
            self._external.setdefault(followed.at + "/$ref", followed.external)
        return followed.node, followed.at

    def mapping(self, node: Any, at: str) -> dict[str, Any]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            raise self.fail(at, "is not a mapping")
        return {str(key): value for key, value in node.items()}  # an unquoted `201:` is an int to some loaders

    def object(self, node: Any, at: str) -> tuple[dict[str, Any] | None, str]:
        """A dereferenced mapping (None when it stands behind an external `$ref`)."""
        node, at = self.deref(node, at)
        return (None, at) if node is None else (self.mapping(node, at), at)

    def shape(self, node: Any, at: str) -> Shape:
        return self.shapes.of(node, at)

    def external_refs(self) -> dict[str, str]:
        return self._external | self.shapes.external_refs


# --- the comparison -------------------------------------------------------------------------------


class Diff:
    def __init__(self, baseline: Document, candidate: Document, *, all_operations: bool = False) -> None:
        self.baseline, self.candidate = baseline, candidate
        self.all_operations = all_operations
        self.findings: list[Finding] = []
        self.pairs = 0  # shape pairs compared: linear in the documents, whatever their recursion
        self._base, self._cand = _Spec(baseline), _Spec(candidate)
        self._seen: set[tuple[str, str, str, int, int]] = set()
        self._reported: set[tuple[str, str]] = set()

    def add(
        self, rule: str, operation: str, base: str | None, cand: str | None, message: str, severity: str | None = None
    ) -> None:
        self.findings.append(Finding(rule, severity or RULES[rule].severity, operation, base, cand, message))

    def run(self) -> list[Finding]:
        base_paths = self._paths(self._base)
        cand_paths = self._paths(self._cand)
        for key, (path, item, at) in base_paths.items():
            if key not in cand_paths:
                self.add(PATH_REMOVED, path, at, None, f"the path {path} is gone")
                continue
            cand_path, cand_item, cand_at = cand_paths[key]
            for method in METHODS:
                name = f"{method.upper()} {path}"
                if method in item and method not in cand_item:
                    self.add(OPERATION_REMOVED, name, at + "/" + method, None, f"{name} is gone")
                elif method in item:
                    self._operation(name, (path, item, at), (cand_path, cand_item, cand_at), method)
                    self._externals(name)
                elif method in cand_item and self.all_operations:
                    self.add(OPERATION_ADDED, name, None, cand_at + "/" + method, f"{name} appeared")
        if self.all_operations:
            for key, (path, item, at) in cand_paths.items():
                for method in (m for m in METHODS if m in item and key not in base_paths):
                    name = f"{method.upper()} {path}"
                    self.add(OPERATION_ADDED, name, None, at + "/" + method, f"{name} appeared")
        order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
        unique = dict.fromkeys(self.findings)
        return sorted(unique, key=lambda f: (order[f.severity], f.operation, f.rule, f.baseline or "", f.message))

    def _paths(self, spec: _Spec) -> dict[str, tuple[str, dict[str, Any], str]]:
        """Path items keyed with their parameters' names erased: /a/{id} and /a/{chat_id} are the same path."""
        found = {}
        for path, raw in spec.mapping(spec.document.data.get("paths"), "/paths").items():
            item, at = spec.object(raw, pointer("paths", path))
            if item is None:
                continue
            found[re.sub(r"\{[^}]*\}", "{}", path)] = (path, item, at)
        return found

    def _externals(self, name: str) -> None:
        for spec, is_base in ((self._base, True), (self._cand, False)):
            for at, ref in spec.external_refs().items():
                if (spec.document.source, at) in self._reported:
                    continue
                self._reported.add((spec.document.source, at))
                side = "baseline" if is_base else "candidate"
                message = f"the {side}'s $ref {ref!r} is not followed: not compared"
                self.add(EXTERNAL_REF, name, at if is_base else None, None if is_base else at, message)

    # --- one operation ---------------------------------------------------------------------------

    def _operation(
        self,
        name: str,
        base_item: tuple[str, dict[str, Any], str],
        cand_item: tuple[str, dict[str, Any], str],
        method: str,
    ) -> None:
        """One operation; `*_item` is (path as written, path item, its pointer) on each side."""
        base, base_at = self._base.object(base_item[1][method], base_item[2] + "/" + method)
        cand, cand_at = self._cand.object(cand_item[1][method], cand_item[2] + "/" + method)
        if base is None or cand is None:
            return
        base_sec = self._security(self._base, base, base_at)
        cand_sec = self._security(self._cand, cand, cand_at)
        if base_sec != cand_sec:
            self.add(SECURITY_CHANGED, name, base_at + "/security", cand_at + "/security",
                     f"security was {sorted(base_sec) or 'none'}, is {sorted(cand_sec) or 'none'}")  # fmt: skip
        self._parameters(name, (base_item, base, base_at), (cand_item, cand, cand_at))
        self._request_body(name, base, base_at, cand, cand_at)
        self._responses(name, base, base_at, cand, cand_at)

    def _security(self, spec: _Spec, operation: dict[str, Any], at: str) -> frozenset[str]:
        requirements = operation.get("security", spec.document.data.get("security")) or []
        if not isinstance(requirements, list) or not all(isinstance(r, dict) for r in requirements):
            raise spec.fail(at + "/security", "is not a list of security requirements")
        return frozenset(str(name) for requirement in requirements for name in requirement)

    def _parameters(self, name: str, base: _OperationAt, cand: _OperationAt) -> None:
        base_params = self._collect_parameters(self._base, *base)
        cand_params = self._collect_parameters(self._cand, *cand)
        for key, (node, at, label) in base_params.items():
            if key not in cand_params:
                self.add(PARAM_REMOVED, name, at, None, f"{label} removed")
                continue
            cand_node, cand_at, cand_label = cand_params[key]
            was, now = _param_required(node), _param_required(cand_node)
            if now and not was:
                self.add(PARAM_BECAME_REQUIRED, name, at, cand_at, f"{cand_label} became required")
            elif was and not now:
                self.add(PARAM_BECAME_OPTIONAL, name, at, cand_at, f"{cand_label} is no longer required")
            self._compare_schemas(
                name, "request", _Place(cand_label, "", "."),
                self._param_shape(self._base, node, at), self._param_shape(self._cand, cand_node, cand_at),
            )  # fmt: skip
        for key, (node, at, label) in cand_params.items():
            if key not in base_params:
                required = _param_required(node)
                rule = PARAM_REQUIRED_ADDED if required else PARAM_ADDED
                self.add(rule, name, None, at, f"{label} added{', required' if required else ''}")

    def _collect_parameters(
        self, spec: _Spec, item: tuple[str, dict[str, Any], str], operation: dict[str, Any], operation_at: str
    ) -> dict[tuple[str, str], tuple[dict[str, Any], str, str]]:
        """(in, name) -> parameter: the path item's, overridden by the operation's; path ones by position."""
        path, path_item, path_at = item
        slots = re.findall(r"\{([^}]*)\}", path)
        found: dict[tuple[str, str], tuple[dict[str, Any], str, str]] = {}
        for owner, owner_at in ((path_item, path_at), (operation, operation_at)):
            raw = owner.get("parameters")
            if raw is None:
                continue
            if not isinstance(raw, list):
                raise spec.fail(owner_at + "/parameters", "is not a list")
            for index, entry in enumerate(raw):
                node, at = spec.object(entry, f"{owner_at}/parameters/{index}")
                if node is None:
                    continue
                where, param = node.get("in"), node.get("name")
                if not isinstance(where, str) or not isinstance(param, str):
                    raise spec.fail(at, "is a parameter without a string 'name' and 'in'")
                key = param.lower() if where == "header" else param
                if where == "path" and param in slots:
                    key = f"#{slots.index(param)}"  # a renamed path parameter is the same parameter
                found[(where, key)] = (node, at, f"{where} {param}")
        return found

    def _param_shape(self, spec: _Spec, node: dict[str, Any], at: str) -> Shape:
        if "schema" in node:
            return spec.shape(node["schema"], at + "/schema")
        for media, entry in spec.mapping(node.get("content"), at + "/content").items():
            entry = spec.mapping(entry, at + pointer("content", media))
            return spec.shape(entry.get("schema"), at + pointer("content", media, "schema"))
        return Shape(at)

    def _request_body(self, name: str, base: dict[str, Any], base_at: str, cand: dict[str, Any], cand_at: str) -> None:
        base_body, base_body_at = self._base.object(base.get("requestBody"), base_at + "/requestBody")
        cand_body, cand_body_at = self._cand.object(cand.get("requestBody"), cand_at + "/requestBody")
        if "requestBody" not in base and "requestBody" in cand and cand_body is not None:
            required = cand_body.get("required") is True
            rule = BODY_ADDED_REQUIRED if required else BODY_ADDED
            self.add(rule, name, None, cand_body_at, f"a request body appeared{', required' if required else ''}")
            return
        if "requestBody" in base and "requestBody" not in cand:
            self.add(BODY_REMOVED, name, base_body_at, None, "the request body is gone")
            return
        if base_body is None or cand_body is None:
            return
        was, now = base_body.get("required") is True, cand_body.get("required") is True
        if now and not was:
            self.add(BODY_REQUIRED, name, base_body_at, cand_body_at, "the request body became required")
        elif was and not now:
            self.add(BODY_OPTIONAL, name, base_body_at, cand_body_at, "the request body is no longer required")
        self._content(name, "request", "", (base_body, base_body_at), (cand_body, cand_body_at))

    def _responses(self, name: str, base: dict[str, Any], base_at: str, cand: dict[str, Any], cand_at: str) -> None:
        base_responses = self._base.mapping(base.get("responses"), base_at + "/responses")
        cand_responses = self._cand.mapping(cand.get("responses"), cand_at + "/responses")
        for status, raw in base_responses.items():
            at = base_at + pointer("responses", status)
            if status not in cand_responses:
                severity = "breaking" if status.startswith("2") else None
                self.add(STATUS_REMOVED, name, at, None, f"response {status} is no longer documented", severity)
                continue
            base_response, at = self._base.object(raw, at)
            cand_response, c_at = self._cand.object(cand_responses[status], cand_at + pointer("responses", status))
            if base_response is None or cand_response is None:
                continue
            side = "response" if status[:1] not in ("4", "5") else "error"
            self._headers(name, status, (base_response, at), (cand_response, c_at))
            self._content(name, side, f"{status} ", (base_response, at), (cand_response, c_at))
        for status in cand_responses:
            if status not in base_responses:
                at = cand_at + pointer("responses", status)
                self.add(STATUS_ADDED, name, None, at, f"response {status} is now documented")

    def _content(
        self, name: str, side: str, label: str, base: tuple[dict[str, Any], str], cand: tuple[dict[str, Any], str]
    ) -> None:
        """Every media type of a body: matched by name (parameters and case ignored), each schema compared."""
        base_media = _media(self._base, *base)
        cand_media = _media(self._cand, *cand)
        several = len(base_media) > 1 or len(cand_media) > 1
        for media, (entry, at, raw) in base_media.items():
            if media not in cand_media:
                self._emit(name, side, pick(side, REQ_MEDIA_REMOVED, RESP_MEDIA_REMOVED), at, None,
                           f"{label}{raw} body is gone")  # fmt: skip
                continue
            cand_entry, cand_at, _ = cand_media[media]
            if "schema" not in entry or "schema" not in cand_entry:
                continue
            place_label = f"{label}({raw}) " if several or not is_json_media(media) else label
            self._compare_schemas(
                name, side, _Place(place_label),
                self._base.shape(entry["schema"], at + "/schema"),
                self._cand.shape(cand_entry["schema"], cand_at + "/schema"),
            )  # fmt: skip
        for media, (_, at, raw) in cand_media.items():
            if media not in base_media:
                self._emit(name, side, pick(side, REQ_MEDIA_ADDED, RESP_MEDIA_ADDED), None, at,
                           f"{label}{raw} body appeared")  # fmt: skip

    def _headers(
        self, name: str, status: str, base: tuple[dict[str, Any], str], cand: tuple[dict[str, Any], str]
    ) -> None:
        base_headers = self._collect_headers(self._base, *base)
        cand_headers = self._collect_headers(self._cand, *cand)
        for key, (node, at, header) in base_headers.items():
            required = node.get("required") is True
            if key not in cand_headers:
                severity = None if required else "warning"
                self.add(RESP_HEADER_REMOVED, name, at, None, f"{status} header {header} removed", severity)
                continue
            cand_node, cand_at, _ = cand_headers[key]
            now = cand_node.get("required") is True
            if required and not now:
                self.add(RESP_HEADER_OPTIONAL, name, at, cand_at, f"{status} header {header} is no longer required")
            elif now and not required:
                self.add(RESP_HEADER_REQUIRED, name, at, cand_at, f"{status} header {header} became required")
            self._compare_schemas(
                name, "response", _Place(f"{status} header {header}", "", "."),
                self._param_shape(self._base, node, at), self._param_shape(self._cand, cand_node, cand_at),
            )  # fmt: skip
        for key, (_, at, header) in cand_headers.items():
            if key not in base_headers:
                self.add(RESP_HEADER_ADDED, name, None, at, f"{status} header {header} added")

    def _collect_headers(
        self, spec: _Spec, response: dict[str, Any], at: str
    ) -> dict[str, tuple[dict[str, Any], str, str]]:
        found = {}
        for header, raw in spec.mapping(response.get("headers"), at + "/headers").items():
            if header.lower() == "content-type":
                continue  # described by the media types; OpenAPI ignores it here
            node, header_at = spec.object(raw, at + pointer("headers", header))
            if node is not None:
                found[header.lower()] = (node, header_at, header)
        return found

    # --- schemas -----------------------------------------------------------------------------------

    def _emit(
        self,
        name: str,
        side: str,
        rule: str,
        base: str | None,
        cand: str | None,
        message: str,
        severity: str | None = None,
    ) -> None:
        if side == "error":
            # Changes inside an error body are one rule; they weigh what they would weigh in a response.
            severity = severity or RULES[rule].severity
            rule = ERROR_ENVELOPE
        self.add(rule, name, base, cand, message, severity)

    def _compare_schemas(self, name: str, side: str, place: _Place, base: Shape, cand: Shape) -> None:
        """Breadth first (a shape reached twice is named by its shortest path), each pair of shapes once."""
        queue: deque[tuple[Shape, Shape, str]] = deque([(base, cand, "")])
        while queue:
            b, c, path = queue.popleft()
            key = (name, side, place.label, id(b), id(c))
            if key in self._seen:
                continue
            self._seen.add(key)
            self.pairs += 1
            if b.external is None and c.external is None:
                self._pair(name, side, place, b, c, path, queue)

    def _pair(
        self, name: str, side: str, place: _Place, b: Shape, c: Shape, path: str, queue: deque[tuple[Shape, Shape, str]]
    ) -> None:
        where = place.at(path)

        def emit(request_rule: str, response_rule: str, message: str, severity: str | None = None) -> None:
            self._emit(name, side, pick(side, request_rule, response_rule), b.pointer, c.pointer, message, severity)

        if b.nullable != c.nullable:
            change = "may now be null" if c.nullable else "can no longer be null"
            emit(REQ_NULL_GAINED if c.nullable else REQ_NULL_LOST, RESP_NULL_GAINED if c.nullable else RESP_NULL_LOST,
                 f"{where} {change}")  # fmt: skip
        # Types an enum implies count only against a side that declares types: an enum added to an untyped
        # property is one change (it became an enum), not two.
        base_types = _effective_types(b, enum=bool(c.types))
        cand_types = _effective_types(c, enum=bool(b.types))
        if base_types != cand_types:
            change = f"{where}: type {_type_names(base_types, b.nullable)} → {_type_names(cand_types, c.nullable)}"
            if side == "request":  # the new type must accept every value the old one did
                wider = not cand_types or (bool(base_types) and all(covered(t, cand_types) for t in base_types))
                rule = REQ_TYPE_WIDENED if wider else REQ_TYPE
            else:  # the new type must return only values the old one could
                narrower = not base_types or (bool(cand_types) and all(covered(t, base_types) for t in cand_types))
                rule = RESP_TYPE_NARROWED if narrower else RESP_TYPE
            emit(rule, rule, change)
        if b.variants or c.variants:
            # Branches are compared with branches (a plain schema on one side is its only one); their enums and
            # properties are compared there. A branch of another type is already the type change above.
            self._variants(b, c, path, where, emit, queue, report=base_types == cand_types)
            return
        self._enum(b, c, where, emit)
        if b.format != c.format:
            change = f"{where}: format {b.format or 'none'} → {c.format or 'none'}"
            wider = c.format is None or (b.format, c.format) in WIDER_FORMATS
            narrower = b.format is None or (c.format, b.format) in WIDER_FORMATS
            emit(REQ_FORMAT_WIDENED if wider else REQ_FORMAT, RESP_FORMAT_NARROWED if narrower else RESP_FORMAT, change)
        self._properties(name, side, place, b, c, path, queue)
        if b.items is not None and c.items is not None:
            queue.append((b.items, c.items, f"{path}[]"))
        if b.additional is not None and c.additional is not None:
            queue.append((b.additional, c.additional, _join(path, "*")))

    @staticmethod
    def _enum(b: Shape, c: Shape, where: str, emit: Any) -> None:
        if b.enum is not None and c.enum is not None:
            for value in sorted(map(str, set(b.enum) - set(c.enum))):
                emit(REQ_ENUM_REMOVED, RESP_ENUM_REMOVED, f"{where}: enum value {value!r} removed")
            for value in sorted(map(str, set(c.enum) - set(b.enum))):
                emit(REQ_ENUM_ADDED, RESP_ENUM_ADDED, f"{where}: enum value {value!r} added")
        elif c.enum is not None:
            emit(REQ_BECAME_ENUM, RESP_BECAME_ENUM, f"{where}: now limited to enum {_values(c.enum)}")
        elif b.enum is not None:
            emit(REQ_ENUM_LIFTED, RESP_ENUM_LIFTED, f"{where}: no longer limited to enum {_values(b.enum)}")

    @staticmethod
    def _variants(
        b: Shape, c: Shape, path: str, where: str, emit: Any, queue: deque[tuple[Shape, Shape, str]], report: bool
    ) -> None:
        """Branches matched by component name, the unnamed ones by position; `report` those added or removed."""
        base, cand = _variant_names(b.variants or (b,)), _variant_names(c.variants or (c,))
        for label in base.keys() & cand.keys():
            queue.append((base[label], cand[label], f"{path}<{label}>"))
        if not report:
            return
        for label in sorted(base.keys() - cand.keys()):
            emit(REQ_VARIANT_REMOVED, RESP_VARIANT_REMOVED, f"{where}: variant {label} removed")
        for label in sorted(cand.keys() - base.keys()):
            emit(REQ_VARIANT_ADDED, RESP_VARIANT_ADDED, f"{where}: variant {label} added")

    def _properties(
        self, name: str, side: str, place: _Place, b: Shape, c: Shape, path: str, queue: deque[tuple[Shape, Shape, str]]
    ) -> None:
        """Properties as each side sees them: readOnly ones are not in requests, writeOnly ones not in responses."""

        def visible(s: Shape) -> bool:
            return not (s.read_only if side == "request" else s.write_only)

        base = {k: v for k, v in b.properties.items() if visible(v)}
        cand = {k: v for k, v in c.properties.items() if visible(v)}
        added = {k: v for k, v in cand.items() if k not in base}
        for prop in sorted(base.keys() - cand.keys()):
            sub, full = base[prop], _join(path, prop)
            required = prop in b.required
            if prop in c.properties:  # still there, hidden from this side now
                rule = pick(side, REQ_BECAME_READ_ONLY, RESP_BECAME_WRITE_ONLY)
                flag = "readOnly" if side == "request" else "writeOnly"
                severity = None if side == "request" or required else "warning"
                self._emit(name, side, rule, sub.pointer, c.properties[prop].pointer, f"{place.at(full)} became {flag}",
                           severity)  # fmt: skip
                continue
            hint = _rename_hint(prop, sub, added)
            severity = None if side == "request" or required else "warning"
            rule = pick(side, REQ_PROP_REMOVED, RESP_PROP_REMOVED)
            self._emit(name, side, rule, sub.pointer, None, f"{place.at(full)} removed{hint}", severity)
        for prop in sorted(added):
            sub, full = cand[prop], _join(path, prop)
            required = prop in c.required
            flag = "readOnly" if side == "request" else "writeOnly"
            was_hidden = f" (no longer {flag})" if prop in b.properties else ""
            detail = f"{place.at(full)} added ({_type_names(_effective_types(sub), sub.nullable)}"
            detail += f"{', required' if required else ''}{_enum_note(sub)}){was_hidden}"
            if side == "request":
                rule = REQ_REQUIRED_ADDED if required else REQ_PROP_ADDED
            else:
                rule = RESP_REQUIRED_ADDED if required else RESP_PROP_ADDED
            self._emit(name, side, rule, b.properties[prop].pointer if prop in b.properties else None, sub.pointer,
                       detail)  # fmt: skip
        for prop in sorted(base.keys() & cand.keys()):
            full = _join(path, prop)
            sub_b, sub_c = base[prop], cand[prop]
            was, now = prop in b.required, prop in c.required
            if now and not was:
                rule = pick(side, REQ_BECAME_REQUIRED, RESP_BECAME_REQUIRED)
                self._emit(name, side, rule, sub_b.pointer, sub_c.pointer, f"{place.at(full)} became required")
            elif was and not now:
                rule = pick(side, REQ_BECAME_OPTIONAL, RESP_BECAME_OPTIONAL)
                self._emit(name, side, rule, sub_b.pointer, sub_c.pointer, f"{place.at(full)} is no longer required")
            queue.append((sub_b, sub_c, full))


def _param_required(node: dict[str, Any]) -> bool:
    return node.get("required") is True or node.get("in") == "path"


def _media(spec: _Spec, node: dict[str, Any], at: str) -> dict[str, tuple[dict[str, Any], str, str]]:
    """Media types by normalised name (lower case, parameters dropped) -> (entry, pointer, name as written)."""
    found = {}
    for media, raw in spec.mapping(node.get("content"), at + "/content").items():
        entry, entry_at = spec.object(raw, at + pointer("content", media))
        if entry is not None:
            found[media.split(";")[0].strip().lower()] = (entry, entry_at, media)
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _effective_types(s: Shape, *, enum: bool = True) -> frozenset[str]:
    """The types a shape declares, or those its enum, properties or items imply when it declares none."""
    if s.types:
        return s.types
    if s.enum and enum:
        return frozenset(json_type(v) for v in s.enum)
    if s.properties or s.additional is not None:
        return frozenset({"object"})
    if s.items is not None:
        return frozenset({"array"})
    return frozenset()


def _type_names(types: frozenset[str], nullable: bool) -> str:
    names = sorted(types) or ["any"]
    return "|".join(names + (["null"] if nullable else []))


def _values(enum: tuple[Any, ...]) -> str:
    return "|".join(map(str, enum))


def _enum_note(s: Shape) -> str:
    return f", enum {'|'.join(sorted(map(str, s.enum)))}" if s.enum else ""


def _variant_names(variants: tuple[Shape, ...]) -> dict[str, Shape]:
    """A branch's label: its component's name when it is one, else its position among the unnamed ones."""
    named: dict[str, Shape] = {}
    position = 0
    for variant in variants:
        match = re.fullmatch(r"/components/schemas/([^/]+)", variant.pointer)
        if match and match.group(1) not in named:
            named[match.group(1)] = variant
        else:
            named[f"#{position}"] = variant
            position += 1
    return named


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


def compare(baseline: Document, candidate: Document, *, all_operations: bool = False) -> list[Finding]:
    """The findings from `baseline` to `candidate`, most severe first; DocumentError for a malformed document."""
    for document in (baseline, candidate):
        if not document.version.startswith("3."):
            raise DocumentError(
                f"{document.source}: drift compares OpenAPI 3.x documents; this one is {document.version}"
            )
    return Diff(baseline, candidate, all_operations=all_operations).run()


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
            lines.append(f"| {f.severity} | `{f.rule}` | `{f.operation}` | {_cell(f.message)} | {pointers} |")
        return "\n".join(lines if findings else ["No drift."])
    lines = [f.line() + f"\n{'':9}baseline {f.baseline or '-'}  candidate {f.candidate or '-'}" for f in findings]
    return "\n".join(lines) if findings else "No drift."


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rule_catalogue_markdown() -> str:
    lines = ["| rule | severity | when | example | oasdiff |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| `{r.id}` | {r.severity} | {_cell(r.summary)} | {_cell(r.example)} | {_cell(r.oasdiff)} |"
        for r in RULES.values()
    ]
    return "\n".join(lines)


def at_or_above(findings: list[Finding], threshold: str) -> list[Finding]:
    """The findings of severity `threshold` or worse (`never`: none)."""
    if threshold == "never":
        return []
    return [f for f in findings if SEVERITIES.index(f.severity) >= SEVERITIES.index(threshold)]
