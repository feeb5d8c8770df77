"""`chat-contracts drift` spec to spec: one spec pair per rule, each of the issue's misses, hostile input."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_contracts.cli import main
from chat_contracts.core.documents import Document, contracts_dir
from chat_contracts.core.errors import DocumentError
from chat_contracts.drift.differ import RULES, Diff, Finding, compare

DATA = Path(__file__).resolve().parents[1] / "data"
OP = "PATCH /chats/{id}"
S = "components/schemas"
P = "paths/~chats~{id}/patch"


def _schema(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "security": [{"bearer": []}],
    "paths": {
        "/chats/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "patch": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
                "requestBody": {"required": False, "content": {"application/json": {"schema": _schema("Req")}}},
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {
                            "X-Rate": {"required": True, "schema": {"type": "integer"}},
                            "ETag": {"schema": {"type": "string"}},
                        },
                        "content": {"application/json": {"schema": _schema("Chat")}},
                    },
                    "404": {"description": "no", "content": {"application/json": {"schema": _schema("Error")}}},
                },
            },
        }
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        },
        "schemas": {
            "Pref": {"type": "string", "enum": ["all", "none"]},
            "Cat": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
            "Dog": {"type": "object", "properties": {"bark": {"type": "boolean"}}},
            "Bird": {"type": "object", "properties": {"wings": {"type": "integer"}}},
            "Req": {
                "type": "object",
                "properties": {
                    "title": {"type": ["string", "null"]},
                    "pref": _schema("Pref"),
                    "company_id": {"type": "string"},
                    "since": {"type": "string", "format": "date"},
                    "count": {"type": "integer", "format": "int32"},
                    "kind": {"type": "string"},
                    "blob": {},
                    "pet": {"oneOf": [_schema("Cat"), _schema("Dog")]},
                    "meta": {"type": "object", "additionalProperties": {"type": "string"}},
                    "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                },
            },
            "Chat": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": ["string", "null"]},
                    "pref": _schema("Pref"),
                    "count": {"type": "integer"},
                    "score": {"type": "number"},
                    "created": {"type": "string", "format": "date-time"},
                    "note": {"type": "string"},
                    "pet": {"oneOf": [_schema("Cat"), _schema("Dog")]},
                    "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                },
                "required": ["id", "title", "pref", "count", "created"],
            },
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"type": {"type": "string"}, "code": {"type": ["string", "null"]}},
                        "required": ["type"],
                    }
                },
                "required": ["error"],
            },
        },
    },
}

_DELETE = object()
Edit = Callable[[dict[str, Any]], None]


def _edit(path: str, fn: Callable[[Any], Any]) -> Edit:
    """An edit of the node at `path` (slash-separated; '~' stands for '/' inside a key)."""

    def apply(doc: dict[str, Any]) -> None:
        *parents, last = [p.replace("~", "/") for p in path.split("/")]
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        result = fn(node[int(last)] if isinstance(node, list) else node.get(last))
        if result is _DELETE:
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list):
            node[int(last)] = result
        else:
            node[last] = result

    return apply


def _set(path: str, value: Any) -> Edit:
    return _edit(path, lambda _: copy.deepcopy(value))


def _delete(path: str) -> Edit:
    return _edit(path, lambda _: _DELETE)


def _doc(*edits: Edit, source: str = "candidate.yaml") -> Document:
    data = copy.deepcopy(BASE)
    for edit in edits:
        edit(data)
    return Document(data, source)


def _add_required(schema: str, name: str) -> Edit:
    return _edit(f"{S}/{schema}/required", lambda r: [*(r or []), name])


def _drop_required(schema: str, name: str) -> Edit:
    return _edit(f"{S}/{schema}/required", lambda r: [x for x in r if x != name])


@dataclass
class Case:
    edits: list[Edit]
    severity: str
    words: str  # in the message
    base: list[Edit] = field(default_factory=list)  # edits of the baseline (BASE + edits is the candidate)
    all_operations: bool = False


_NO_BODY = _delete(f"{P}/requestBody")
_FORM = "application/x-www-form-urlencoded"
_FORM_AT = f"{P}/requestBody/content/application~x-www-form-urlencoded"

CASES: dict[str, Case] = {
    "path-removed": Case([_delete("paths/~chats~{id}")], "breaking", "/chats/{id} is gone"),
    "operation-removed": Case([_delete(P)], "breaking", "PATCH /chats/{id} is gone"),
    "operation-added": Case(
        [_set("paths/~chats~{id}/get", {"responses": {"200": {"description": "ok"}}})],
        "info",
        "GET /chats/{id} appeared",
        all_operations=True,
    ),
    "security-changed": Case([_set("security", [{"key": []}])], "breaking", "['bearer']"),
    "external-ref-not-followed": Case(
        [_set(f"{S}/Chat/properties/note", {"$ref": "https://127.0.0.1:9/never-opened.yaml"})],
        "warning",
        "'https://127.0.0.1:9/never-opened.yaml' is not followed",
    ),
    # --- request body
    "request-body-added": Case([], "info", "a request body appeared", base=[_NO_BODY]),
    "request-body-added-required": Case(
        [_set(f"{P}/requestBody/required", True)], "breaking", "appeared, required", base=[_NO_BODY]
    ),
    "request-body-removed": Case([_NO_BODY], "breaking", "the request body is gone"),
    "request-body-became-required": Case([_set(f"{P}/requestBody/required", True)], "breaking", "became required"),
    "request-body-became-optional": Case(
        [], "info", "no longer required", base=[_set(f"{P}/requestBody/required", True)]
    ),
    "request-media-type-removed": Case([], "breaking", f"{_FORM} body is gone", base=[_set(_FORM_AT, {"schema": {}})]),
    "request-media-type-added": Case(
        [_set(f"{P}/requestBody/content/text~plain", {"schema": {"type": "string"}})], "info", "text/plain body"
    ),
    # --- request schemas
    "request-property-removed": Case([_delete(f"{S}/Req/properties/since")], "breaking", "since removed"),
    "request-property-added": Case([_set(f"{S}/Req/properties/colour", {"type": "string"})], "info", "colour added"),
    "request-required-property-added": Case(
        [_set(f"{S}/Req/properties/colour", {"type": "string"}), _add_required("Req", "colour")],
        "breaking",
        "colour added (string, required)",
    ),
    "request-property-became-required": Case([_add_required("Req", "title")], "breaking", "title became required"),
    "request-property-became-optional": Case([], "info", "no longer required", base=[_add_required("Req", "title")]),
    "request-property-became-read-only": Case(
        [_set(f"{S}/Req/properties/company_id/readOnly", True)], "breaking", "company_id became readOnly"
    ),
    "request-type-changed": Case(
        [_set(f"{S}/Req/properties/company_id/type", "integer")], "breaking", "company_id: type string → integer"
    ),
    "request-type-widened": Case(
        [_set(f"{S}/Req/properties/count/type", "number")], "info", "count: type integer → number"
    ),
    "request-nullability-lost": Case(
        [_set(f"{S}/Req/properties/title/type", "string")], "breaking", "title can no longer be null"
    ),
    "request-nullability-gained": Case(
        [_set(f"{S}/Req/properties/company_id/type", ["string", "null"])], "info", "company_id may now be null"
    ),
    "request-enum-value-removed": Case(
        [_set(f"{S}/Pref/enum", ["all"])], "breaking", "pref: enum value 'none' removed"
    ),
    "request-enum-value-added": Case(
        [_set(f"{S}/Pref/enum", ["all", "none", "mentions"])], "info", "pref: enum value 'mentions' added"
    ),
    "request-became-enum": Case(
        [_set(f"{S}/Req/properties/kind/enum", ["a", "b"])], "breaking", "kind: now limited to enum a|b"
    ),
    "request-enum-lifted": Case(
        [_set(f"{S}/Req/properties/pref", {"type": "string"})], "info", "pref: no longer limited to enum all|none"
    ),
    "request-format-changed": Case(
        [_set(f"{S}/Req/properties/since/format", "date-time")], "breaking", "since: format date → date-time"
    ),
    "request-format-widened": Case(
        [_set(f"{S}/Req/properties/count/format", "int64")], "info", "count: format int32 → int64"
    ),
    "request-variant-removed": Case(
        [_set(f"{S}/Req/properties/pet/oneOf", [_schema("Cat")])], "breaking", "pet: variant Dog removed"
    ),
    "request-variant-added": Case(
        [_set(f"{S}/Req/properties/pet/oneOf", [_schema("Cat"), _schema("Dog"), _schema("Bird")])],
        "info",
        "pet: variant Bird added",
    ),
    # --- parameters
    "parameter-removed": Case([_delete(f"{P}/parameters/0")], "breaking", "query limit removed"),
    "parameter-added": Case(
        [_edit(f"{P}/parameters", lambda ps: [*ps, {"name": "offset", "in": "query", "schema": {"type": "integer"}}])],
        "info",
        "query offset added",
    ),
    "required-parameter-added": Case(
        [
            _edit(
                f"{P}/parameters",
                lambda ps: [*ps, {"name": "Api-Version-Date", "in": "header", "required": True, "schema": {}}],
            )
        ],
        "breaking",
        "header Api-Version-Date added, required",
    ),
    "parameter-became-required": Case([_set(f"{P}/parameters/0/required", True)], "breaking", "limit became required"),
    "parameter-became-optional": Case(
        [], "info", "query limit is no longer required", base=[_set(f"{P}/parameters/0/required", True)]
    ),
    # --- responses
    "status-added": Case([_set(f"{P}/responses/409", {"description": "conflict"})], "info", "409"),
    "status-removed": Case([_delete(f"{P}/responses/404")], "warning", "404"),
    "response-media-type-removed": Case(
        [], "breaking", "200 text/csv body is gone", base=[_set(f"{P}/responses/200/content/text~csv", {})]
    ),
    "response-media-type-added": Case(
        [_set(f"{P}/responses/200/content/text~csv", {})], "info", "200 text/csv body appeared"
    ),
    "response-property-removed": Case([_delete(f"{S}/Chat/properties/count")], "breaking", "200 count removed"),
    "response-property-added": Case(
        [_set(f"{S}/Chat/properties/archived", {"type": "boolean"})], "info", "archived added"
    ),
    "response-required-property-added": Case(
        [_set(f"{S}/Chat/properties/agent", {"type": "string"}), _add_required("Chat", "agent")],
        "warning",
        "agent added (string, required)",
    ),
    "response-property-became-optional": Case(
        [_drop_required("Chat", "count")], "breaking", "count is no longer required"
    ),
    "response-property-became-required": Case([_add_required("Chat", "note")], "info", "note became required"),
    "response-property-became-write-only": Case(
        [_set(f"{S}/Chat/properties/count/writeOnly", True)], "breaking", "200 count became writeOnly"
    ),
    "response-type-changed": Case(
        [_set(f"{S}/Chat/properties/count/type", "string")], "breaking", "count: type integer → string"
    ),
    "response-type-narrowed": Case(
        [_set(f"{S}/Chat/properties/score/type", "integer")], "info", "score: type number → integer"
    ),
    "response-nullability-gained": Case(
        [_set(f"{S}/Chat/properties/count/type", ["integer", "null"])], "breaking", "count may now be null"
    ),
    "response-nullability-lost": Case(
        [_set(f"{S}/Chat/properties/title/type", "string")], "info", "title can no longer be null"
    ),
    "response-enum-value-added": Case(
        [_set(f"{S}/Pref/enum", ["all", "none", "mentions"])], "warning", "200 pref: enum value 'mentions' added"
    ),
    "response-enum-value-removed": Case([_set(f"{S}/Pref/enum", ["all"])], "info", "200 pref: enum value 'none'"),
    "response-became-enum": Case(
        [_set(f"{S}/Chat/properties/note/enum", ["x", "y"])], "info", "200 note: now limited to enum x|y"
    ),
    "response-enum-lifted": Case(
        [_set(f"{S}/Chat/properties/pref", {"type": "string"})], "warning", "200 pref: no longer limited to enum"
    ),
    "response-format-changed": Case(
        [_set(f"{S}/Chat/properties/created/format", "http-date")], "breaking", "format date-time → http-date"
    ),
    "response-format-narrowed": Case(
        [_set(f"{S}/Chat/properties/id/format", "uuid")], "info", "200 id: format none → uuid"
    ),
    "response-variant-added": Case(
        [_set(f"{S}/Chat/properties/pet/oneOf", [_schema("Cat"), _schema("Dog"), _schema("Bird")])],
        "warning",
        "200 pet: variant Bird added",
    ),
    "response-variant-removed": Case(
        [_set(f"{S}/Chat/properties/pet/oneOf", [_schema("Dog")])], "info", "200 pet: variant Cat removed"
    ),
    "response-header-removed": Case(
        [_delete(f"{P}/responses/200/headers/X-Rate")], "breaking", "200 header X-Rate removed"
    ),
    "response-header-added": Case(
        [_set(f"{P}/responses/200/headers/X-New", {"schema": {"type": "string"}})], "info", "200 header X-New added"
    ),
    "response-header-became-optional": Case(
        [_set(f"{P}/responses/200/headers/X-Rate/required", False)], "breaking", "X-Rate is no longer required"
    ),
    "response-header-became-required": Case(
        [_set(f"{P}/responses/200/headers/ETag/required", True)], "info", "200 header ETag became required"
    ),
    "error-envelope-changed": Case(
        [_set(f"{S}/Error/properties/error/properties/code/type", ["integer", "null"])],
        "breaking",
        "404 error.code: type string|null → integer|null",
    ),
}


def _find(rule: str, case: Case) -> list[Finding]:
    baseline, candidate = _doc(*case.base, source="baseline.yaml"), _doc(*case.edits)
    return compare(baseline, candidate, all_operations=case.all_operations)


def test_every_spec_rule_has_a_case() -> None:
    assert set(CASES) == {rule for rule in RULES if not rule.startswith("doc-")}


@pytest.mark.parametrize("rule", list(CASES))
def test_rule(rule: str) -> None:
    case = CASES[rule]
    findings = _find(rule, case)
    found = [f for f in findings if f.rule == rule]
    assert len(found) == 1, findings
    (finding,) = found
    assert (finding.rule, finding.severity) == (rule, case.severity)
    assert case.words in finding.message
    assert finding.operation.endswith("/chats/{id}")
    assert finding.baseline or finding.candidate


def test_an_identical_document_has_no_drift() -> None:
    assert compare(_doc(source="baseline.yaml"), _doc()) == []


def test_pointers_point_into_each_document() -> None:
    (finding,) = [f for f in _find("", CASES["request-property-removed"]) if f.rule == "request-property-removed"]
    assert finding.baseline == f"/{S}/Req/properties/since" and finding.candidate is None
    assert Document(BASE, "b").resolve(finding.baseline) == {"type": "string", "format": "date"}


def _only(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, f.message) for f in findings]


# --- equivalences that are not drift --------------------------------------------------------------


@pytest.mark.parametrize(
    "nullable_title",
    [
        {"type": ["string", "null"]},
        {"oneOf": [{"type": "string"}, {"type": "null"}]},
        {"anyOf": [{"type": "null"}, {"type": "string"}]},
        {"type": "string", "nullable": True},
    ],
    ids=["type-list", "oneOf", "anyOf", "3.0-nullable"],
)
def test_the_ways_to_write_nullability_are_equal(nullable_title: dict[str, Any]) -> None:
    assert compare(_doc(), _doc(_set(f"{S}/Chat/properties/title", nullable_title))) == []


def test_an_equivalent_ref_refactor_is_not_drift() -> None:
    inline_pref = BASE["components"]["schemas"]["Pref"]
    candidate = _doc(
        _set(f"{S}/Chat/properties/pref", inline_pref),
        _set(f"{P}/requestBody/content/application~json/schema", BASE["components"]["schemas"]["Req"]),
        _set(f"{S}/Req/properties/pref", inline_pref),
    )
    assert compare(_doc(), candidate) == []


def test_an_allof_split_of_the_same_schema_is_not_drift() -> None:
    chat = BASE["components"]["schemas"]["Chat"]
    first = dict(list(chat["properties"].items())[:4])
    rest = dict(list(chat["properties"].items())[4:])
    split = {
        "allOf": [
            {"type": "object", "properties": first, "required": ["id", "title"]},
            {"properties": rest, "required": ["pref", "count", "created"]},
        ]
    }
    assert compare(_doc(), _doc(_set(f"{S}/Chat", split))) == []


def test_renamed_path_parameter_is_the_same_path_and_parameter() -> None:
    def rename(doc: dict[str, Any]) -> None:
        item = doc["paths"].pop("/chats/{id}")
        item["parameters"][0]["name"] = "chat_id"
        doc["paths"]["/chats/{chat_id}"] = item

    assert compare(_doc(), _doc(rename)) == []


def test_openapi_30_and_31_compare() -> None:
    old = copy.deepcopy(BASE)
    old["openapi"] = "3.0.3"
    for schema in ("Chat", "Req"):
        old["components"]["schemas"][schema]["properties"]["title"] = {"type": "string", "nullable": True}
    assert compare(Document(old, "old.yaml"), _doc()) == []


def test_header_names_and_media_type_parameters_are_case_insensitive() -> None:
    def shout(doc: dict[str, Any]) -> None:
        op = doc["paths"]["/chats/{id}"]["patch"]
        op["parameters"][1]["name"] = "x-trace"
        op["responses"]["200"]["headers"]["etag"] = op["responses"]["200"]["headers"].pop("ETag")
        content = op["requestBody"]["content"]
        content["Application/JSON; charset=utf-8"] = content.pop("application/json")

    assert compare(_doc(), _doc(shout)) == []


# --- what the issue found missing ---------------------------------------------------------------------


def test_integer_status_keys_never_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The three crashing oasdiff pairs: `201:` unquoted loads as an integer (the loader now makes it a string)."""

    def integer_201(doc: dict[str, Any]) -> None:
        responses = doc["paths"]["/chats/{id}"]["patch"]["responses"]
        responses[201] = responses.pop("200")  # as a loader other than ours hands it over

    assert compare(_doc(integer_201), _doc(integer_201)) == []
    found = compare(_doc(integer_201), _doc())
    assert ("status-removed", "breaking", "response 201 is no longer documented") in _only(found)
    assert ("status-added", "info", "response 200 is now documented") in _only(found)
    base, cand = tmp_path / "base.yaml", tmp_path / "cand.yaml"
    text = yaml.safe_dump(_doc().data, sort_keys=False)
    base.write_text(text.replace("'200':", "201:"), encoding="utf-8")
    cand.write_text(text.replace("'200':", "201:").replace("'404':", "404:\n      x-gone: true\n    409:"), "utf-8")
    assert main(["drift", str(base), str(base)]) == 0
    assert main(["drift", str(base), str(cand), "--format", "json"]) == 0  # info only: 409 added
    capsys.readouterr()
    cand.write_text(text.replace("'200':", "202:"), encoding="utf-8")
    assert main(["drift", str(base), str(cand), "--format", "json"]) == 1
    rules = {(f["rule"], f["severity"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    assert rules == {("status-removed", "breaking"), ("status-added", "info")}


def test_bodies_under_any_media_type_are_compared() -> None:
    def any_media(doc: dict[str, Any]) -> None:
        content = doc["paths"]["/chats/{id}"]["patch"]["responses"]["200"]["content"]
        content["*/*"] = content.pop("application/json")

    found = compare(
        _doc(any_media), _doc(any_media, _delete(f"{S}/Chat/properties/count"), _drop_required("Chat", "id"))
    )
    assert _only(found) == [
        ("response-property-became-optional", "breaking", "200 (*/*) id is no longer required"),
        ("response-property-removed", "breaking", "200 (*/*) count removed"),
    ]


def test_enum_added_to_an_untyped_request_property_and_types_added_or_dropped() -> None:
    found = compare(_doc(), _doc(_set(f"{S}/Req/properties/blob", {"enum": ["a", "b"]})))
    assert _only(found) == [("request-became-enum", "breaking", "blob: now limited to enum a|b")]
    found = compare(_doc(), _doc(_set(f"{S}/Req/properties/blob", {"type": "string"})))
    assert _only(found) == [("request-type-changed", "breaking", "blob: type any → string")]
    found = compare(_doc(), _doc(_set(f"{S}/Chat/properties/note", {})))
    assert _only(found) == [("response-type-changed", "breaking", "200 note: type string → any")]
    found = compare(_doc(), _doc(_set(f"{S}/Req/properties/kind", {})))
    assert _only(found) == [("request-type-widened", "info", "kind: type string → any")]


def test_an_enum_written_with_or_without_its_type_is_the_same() -> None:
    assert compare(_doc(), _doc(_set(f"{S}/Pref", {"enum": ["all", "none"]}))) == []


def test_additional_properties_are_compared() -> None:
    found = compare(_doc(), _doc(_set(f"{S}/Req/properties/meta/additionalProperties", {"type": "integer"})))
    assert _only(found) == [("request-type-changed", "breaking", "meta.*: type string → integer")]


def test_allof_branches_are_merged_and_compared() -> None:
    def split(doc: dict[str, Any]) -> None:
        chat = doc["components"]["schemas"]["Chat"]
        doc["components"]["schemas"]["Base"] = {"type": "object", "properties": {"id": chat["properties"].pop("id")}}
        doc["components"]["schemas"]["Chat"] = {"allOf": [_schema("Base"), chat]}

    found = compare(_doc(split), _doc(split, _set(f"{S}/Base/properties/id/type", "integer")))
    assert _only(found) == [("response-type-changed", "breaking", "200 id: type string → integer")]
    assert found[0].candidate == f"/{S}/Base/properties/id"


def test_oneof_branches_are_matched_and_compared() -> None:
    found = compare(_doc(), _doc(_set(f"{S}/Cat/properties/name/type", "integer")))
    assert _only(found) == [
        ("request-type-changed", "breaking", "pet<Cat>.name: type string → integer"),
        ("response-type-changed", "breaking", "200 pet<Cat>.name: type string → integer"),
    ]


def test_a_branch_of_another_type_is_a_type_change_not_a_variant() -> None:
    either = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    found = compare(_doc(), _doc(_set(f"{S}/Chat/properties/note", either), _set(f"{S}/Req/properties/kind", either)))
    assert _only(found) == [
        ("response-type-changed", "breaking", "200 note: type string → integer|string"),
        ("request-type-widened", "info", "kind: type string → integer|string"),
    ]


def test_array_items_are_compared_at_depth() -> None:
    found = compare(_doc(), _doc(_set(f"{S}/Chat/properties/tags/items/properties/name/type", "integer")))
    assert _only(found) == [("response-type-changed", "breaking", "200 tags[].name: type string → integer")]


def test_type_changes_weigh_by_direction() -> None:
    """integer → number widens a request (fine) and breaks a response; number → integer the opposite."""
    both = (f"{S}/Req/properties/count/type", f"{S}/Chat/properties/count/type")
    found = compare(_doc(), _doc(*(_set(p, "number") for p in both)))
    assert _only(found) == [
        ("response-type-changed", "breaking", "200 count: type integer → number"),
        ("request-type-widened", "info", "count: type integer → number"),
    ]


def test_a_new_required_read_only_property_is_not_a_request_change() -> None:
    def shared(doc: dict[str, Any]) -> None:  # one schema for both sides, as APIs often have
        doc["paths"]["/chats/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"] = _schema("Chat")

    stamp = {"type": "string", "readOnly": True}
    found = compare(
        _doc(shared), _doc(shared, _set(f"{S}/Chat/properties/stamp", stamp), _add_required("Chat", "stamp"))
    )
    assert _only(found) == [("response-required-property-added", "warning", "200 stamp added (string, required)")]


def test_a_write_only_property_is_not_a_response_change() -> None:
    secret = {"type": "string", "writeOnly": True}
    found = compare(_doc(), _doc(_set(f"{S}/Chat/properties/secret", secret), _add_required("Chat", "secret")))
    assert found == []


def test_parameter_schemas_follow_the_request_rules() -> None:
    version = {"name": "Api-Version-Date", "in": "header", "schema": {"type": "string", "enum": ["2026-07-08-1"]}}
    newer = copy.deepcopy(version) | {"schema": {"type": "string", "enum": ["2026-10-15-1"]}}
    add = _edit(f"{P}/parameters", lambda ps: [*ps, version])
    found = compare(_doc(add), _doc(add, _set(f"{P}/parameters/2", newer)))
    assert _only(found) == [
        ("request-enum-value-removed", "breaking", "header Api-Version-Date: enum value '2026-07-08-1' removed"),
        ("request-enum-value-added", "info", "header Api-Version-Date: enum value '2026-10-15-1' added"),
    ]


def test_response_header_schemas_follow_the_response_rules() -> None:
    found = compare(_doc(), _doc(_set(f"{P}/responses/200/headers/X-Rate/schema", {"type": "string"})))
    assert _only(found) == [("response-type-changed", "breaking", "200 header X-Rate: type integer → string")]


def test_only_the_pinned_operations_are_compared() -> None:
    other = {"get": {"responses": {"200": {"description": "ok"}}}}
    candidate = _doc(_set("paths/~products", other), _set("paths/~chats~{id}/get", other["get"]))
    assert compare(_doc(), candidate) == []
    assert {f.operation for f in compare(_doc(), candidate, all_operations=True)} == {
        "GET /chats/{id}",
        "GET /products",
    }


# --- recursion, expansion, hostile input ------------------------------------------------------------


def _recursive(links: int, leaf: str = "string") -> Document:
    """A tree (Node: left, right, children[] all Node) and a chain of `links` components back to the start."""
    data = copy.deepcopy(BASE)
    schemas = data["components"]["schemas"]
    schemas["Node"] = {
        "type": "object",
        "properties": {
            "value": {"type": leaf},
            "left": _schema("Node"),
            "right": _schema("Node"),
            "children": {"type": "array", "items": _schema("Node")},
            "next": _schema("Link0"),
        },
    }
    for i in range(links):
        following = _schema(f"Link{i + 1}") if i + 1 < links else _schema("Node")
        schemas[f"Link{i}"] = {"type": "object", "properties": {"a": following, "b": following}}
    schemas["Chat"]["properties"]["tree"] = _schema("Node")
    return Document(data, "recursive.yaml")


@pytest.mark.parametrize("links", [10, 1000])
def test_a_recursive_schema_diffs_in_linear_time(links: int) -> None:
    diff = Diff(_recursive(links), _recursive(links, leaf="integer"))
    findings = diff.run()
    assert _only(findings) == [("response-type-changed", "breaking", "200 tree.value: type string → integer")]
    # Each pair of shapes is compared once: the pairs grow with the schemas, not with the paths (2^links).
    assert diff.pairs <= 2 * links + 40


def test_an_external_ref_is_a_finding_and_never_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("type: integer\n", encoding="utf-8")
    candidate = _doc(
        _set(f"{S}/Chat/properties/note", {"$ref": str(secret)}),
        _set(f"{P}/responses/404", {"$ref": "https://127.0.0.1:9/responses.yaml#/Conflict"}),
    )
    found = _only(compare(_doc(), candidate))
    assert found == [
        ("external-ref-not-followed", "warning", f"the candidate's $ref '{secret}' is not followed: not compared"),
        (
            "external-ref-not-followed",
            "warning",
            "the candidate's $ref 'https://127.0.0.1:9/responses.yaml#/Conflict' is not followed: not compared",
        ),
    ]


MALFORMED: dict[str, Edit] = {
    "paths is a list": _set("paths", []),
    "responses is a string": _set(f"{P}/responses", "200"),
    "properties is a list": _set(f"{S}/Chat/properties", ["id"]),
    "type is a number": _set(f"{S}/Chat/properties/id/type", 7),
    "enum is a string": _set(f"{S}/Pref/enum", "all"),
    "parameters is a mapping": _set(f"{P}/parameters", {"name": "x"}),
    "a parameter without a name": _set(f"{P}/parameters/0", {"in": "query"}),
    "a dangling $ref": _set(f"{S}/Chat/properties/id", {"$ref": "#/components/schemas/Nope"}),
    "a $ref cycle": _set(f"{S}/Pref", {"$ref": "#/components/schemas/Pref"}),
    "a $ref that is a number": _set(f"{S}/Chat/properties/id", {"$ref": 5}),
    "security is a string": _set("security", "bearer"),
    "allOf is a mapping": _set(f"{S}/Chat/allOf", {"a": 1}),
    "content is a list": _set(f"{P}/requestBody/content", ["application/json"]),
}


@pytest.mark.parametrize("problem", list(MALFORMED))
def test_malformed_documents_exit_2_with_one_line(
    problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = tmp_path / "base.yaml", tmp_path / "cand.yaml"
    base.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    cand.write_text(yaml.safe_dump(_doc(MALFORMED[problem]).data), encoding="utf-8")
    assert main(["drift", str(base), str(cand)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {cand}: ") and err.count("\n") == 1, err


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _nodes(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _nodes(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _nodes(value, (*at, index))
    return found


_PLACES = [p for p in _nodes(BASE) if p]


def _mutate(data: Any, place: tuple[Any, ...], value: Any) -> None:
    """Put `value` at `place`, if an earlier mutation left that place standing."""
    node = data
    for index, part in enumerate(place):
        fits = (isinstance(node, dict) and isinstance(part, str)) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        )
        if not fits or (index < len(place) - 1 and isinstance(node, dict) and part not in node):
            return
        if index == len(place) - 1:
            node[part] = value
        else:
            node = node[part]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PLACES), _JSON), min_size=1, max_size=3))
def test_any_mutation_gives_findings_or_one_line_never_a_crash(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(BASE)
    for place, value in mutations:
        _mutate(data, place, value)
    try:
        findings = compare(_doc(), Document(data, "mutated.yaml"))
    except DocumentError as exc:
        assert "\n" not in str(exc)
        return
    assert all(f.rule in RULES for f in findings)


# --- the real drift and the command ---------------------------------------------------------------


def test_whop_sdk_260_drift_is_classified() -> None:
    pinned = Document.load(contracts_dir() / "whop.openapi.yaml")
    findings = {f.rule: f for f in compare(pinned, Document.load(DATA / "whop-2.6.0.openapi.yaml"))}
    assert set(findings) == {"request-property-removed", "request-property-added", "response-required-property-added"}
    rename = findings["request-property-removed"]
    assert rename.severity == "breaking"
    assert rename.message == "current_company_id removed (likely renamed to current_account_id)"
    agent = findings["response-required-property-added"]
    assert agent.severity == "warning"
    assert agent.message == "200 agent_identifier added (string, required, enum general|support)"
    assert agent.candidate == "/components/schemas/AiChat/properties/agent_identifier"


def test_identical_specs(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(contracts_dir() / "whop.openapi.yaml")
    assert main(["drift", spec, spec]) == 0
    assert capsys.readouterr().out.strip() == "No drift."


def test_removed_response_field_is_breaking_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((contracts_dir() / "wilson.openapi.yaml").read_text(encoding="utf-8"))
    del data["components"]["schemas"]["Chat"]["properties"]["members"]
    data["components"]["schemas"]["Chat"]["required"].remove("members")
    candidate = tmp_path / "wilson-next.yaml"
    candidate.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["drift", str(contracts_dir() / "wilson.openapi.yaml"), str(candidate), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["severity"], f["message"]) for f in findings] == [
        ("response-property-removed", "breaking", "200 members removed")
    ]


def test_fail_on_levels(capsys: pytest.CaptureFixture[str]) -> None:
    pinned, drifted = str(contracts_dir() / "whop.openapi.yaml"), str(DATA / "whop-2.6.0.openapi.yaml")
    assert main(["drift", pinned, drifted, "--fail-on", "never"]) == 0
    assert main(["drift", pinned, drifted, "--fail-on", "breaking"]) == 1
    markdown = capsys.readouterr().out
    assert main(["drift", pinned, drifted, "--format", "markdown"]) == 1
    assert "| breaking | `request-property-removed` |" in capsys.readouterr().out
    assert "current_account_id" in markdown


def test_unreadable_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", str(tmp_path / "nope.yaml"), str(contracts_dir() / "whop.openapi.yaml")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file"
    swagger = tmp_path / "swagger.yaml"
    swagger.write_text("openapi: 2.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n", encoding="utf-8")
    assert main(["drift", str(swagger), str(swagger)]) == 2
    assert "compares OpenAPI 3.x documents" in capsys.readouterr().err
    assert main(["drift", "ftp://127.0.0.1/spec.yaml", str(swagger)]) == 2
    assert (
        capsys.readouterr().err.strip() == "error: ftp://127.0.0.1/spec.yaml: only http(s) URLs and files can be read"
    )


def test_rule_catalogue_lists_every_rule_with_oasdiffs_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--rules"]) == 0
    out = capsys.readouterr().out
    assert all(f"`{rule}`" in out for rule in RULES)
    assert "| `request-property-removed` | breaking |" in out and "request-property-removed is WARN" in out
