"""`chat-contracts drift`: one test per rule, the equivalences that are not drift, the real 2.6.0 drift."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from chat_contracts.cli import main
from chat_contracts.documents import Document, contracts_dir
from chat_contracts.drift import RULES, compare

DATA = Path(__file__).parent / "data"
OP = "PATCH /chats/{id}"

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "security": [{"bearer": []}],
    "paths": {
        "/chats/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "patch": {
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}},
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Chat"}}},
                    },
                    "404": {
                        "description": "no",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
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
            "Req": {
                "type": "object",
                "properties": {
                    "title": {"type": ["string", "null"]},
                    "pref": {"$ref": "#/components/schemas/Pref"},
                    "company_id": {"type": "string"},
                    "since": {"type": "string", "format": "date"},
                },
            },
            "Chat": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": ["string", "null"]},
                    "pref": {"$ref": "#/components/schemas/Pref"},
                    "count": {"type": "integer"},
                    "created": {"type": "string", "format": "date-time"},
                    "note": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
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

S = "components/schemas"


def _edit(path: str, fn: Callable[[Any], Any]) -> Callable[[dict], None]:
    """An edit of the node at `path` (slash-separated; '~' stands for '/' inside a key)."""

    def apply(doc: dict) -> None:
        *parents, last = [p.replace("~", "/") for p in path.split("/")]
        node = doc
        for part in parents:
            node = node[part]
        result = fn(node.get(last))
        if result is _DELETE:
            del node[last]
        else:
            node[last] = result

    return apply


_DELETE = object()


def _doc(*edits: Callable[[dict], None]) -> Document:
    data = copy.deepcopy(BASE)
    for edit in edits:
        edit(data)
    return Document(data, "candidate.yaml")


def _add_required(schema: str, name: str) -> Callable[[dict], None]:
    return _edit(f"{S}/{schema}/required", lambda r: [*(r or []), name])


CASES: dict[str, tuple[list[Callable[[dict], None]], str, str]] = {
    # rule: (edits, severity, words in the message)
    "path-removed": ([_edit("paths/~chats~{id}", lambda _: _DELETE)], "breaking", "/chats/{id} is gone"),
    "operation-removed": (
        [_edit("paths/~chats~{id}/patch", lambda _: _DELETE)],
        "breaking",
        "PATCH /chats/{id} is gone",
    ),
    "operation-added": (
        [_edit("paths/~chats~{id}/get", lambda _: {"responses": {"200": {"description": "ok"}}})],
        "info",
        "GET",
    ),
    "security-changed": ([_edit("security", lambda _: [{"key": []}])], "breaking", "['bearer']"),
    "request-body-became-required": (
        [_edit("paths/~chats~{id}/patch/requestBody/required", lambda _: True)],
        "breaking",
        "required",
    ),
    "request-property-removed": ([_edit(f"{S}/Req/properties/since", lambda _: _DELETE)], "breaking", "since removed"),
    "request-property-added": (
        [_edit(f"{S}/Req/properties/colour", lambda _: {"type": "string"})],
        "info",
        "colour added",
    ),
    "request-required-property-added": (
        [_edit(f"{S}/Req/properties/colour", lambda _: {"type": "string"}), _add_required("Req", "colour")],
        "breaking",
        "colour added (string, required)",
    ),
    "request-property-became-required": ([_add_required("Req", "title")], "breaking", "title became required"),
    "request-property-became-optional": ([], "info", "no longer required"),  # baseline side set in the test
    "request-type-changed": (
        [_edit(f"{S}/Req/properties/company_id/type", lambda _: "integer")],
        "breaking",
        "string → integer",
    ),
    "request-nullability-lost": (
        [_edit(f"{S}/Req/properties/title/type", lambda _: "string")],
        "breaking",
        "can no longer be null",
    ),
    "request-nullability-gained": (
        [_edit(f"{S}/Req/properties/company_id/type", lambda _: ["string", "null"])],
        "info",
        "may now be null",
    ),
    "request-enum-value-removed": ([_edit(f"{S}/Pref/enum", lambda _: ["all"])], "breaking", "'none' removed"),
    "request-enum-value-added": (
        [_edit(f"{S}/Pref/enum", lambda _: ["all", "none", "mentions"])],
        "info",
        "'mentions' added",
    ),
    "request-format-changed": (
        [_edit(f"{S}/Req/properties/since/format", lambda _: "date-time")],
        "warning",
        "date → date-time",
    ),
    "response-property-removed": (
        [_edit(f"{S}/Chat/properties/count", lambda _: _DELETE)],
        "breaking",
        "200 count removed",
    ),
    "response-property-added": (
        [_edit(f"{S}/Chat/properties/archived", lambda _: {"type": "boolean"})],
        "info",
        "archived added",
    ),
    "response-required-property-added": (
        [_edit(f"{S}/Chat/properties/agent", lambda _: {"type": "string"}), _add_required("Chat", "agent")],
        "warning",
        "agent added (string, required)",
    ),
    "response-property-became-optional": (
        [_edit(f"{S}/Chat/required", lambda r: [x for x in r if x != "count"])],
        "breaking",
        "count is no longer required",
    ),
    "response-property-became-required": ([_add_required("Chat", "note")], "info", "note became required"),
    "response-type-changed": (
        [_edit(f"{S}/Chat/properties/count/type", lambda _: "string")],
        "breaking",
        "integer → string",
    ),
    "response-nullability-gained": (
        [_edit(f"{S}/Chat/properties/count/type", lambda _: ["integer", "null"])],
        "breaking",
        "may now be null",
    ),
    "response-nullability-lost": (
        [_edit(f"{S}/Chat/properties/title/type", lambda _: "string")],
        "info",
        "can no longer be null",
    ),
    "response-enum-value-added": (
        [_edit(f"{S}/Pref/enum", lambda _: ["all", "none", "mentions"])],
        "warning",
        "'mentions' added",
    ),
    "response-enum-value-removed": ([_edit(f"{S}/Pref/enum", lambda _: ["all"])], "info", "'none' removed"),
    "response-format-changed": (
        [_edit(f"{S}/Chat/properties/created/format", lambda _: "http-date")],
        "warning",
        "date-time → http-date",
    ),
    "status-added": (
        [_edit("paths/~chats~{id}/patch/responses/409", lambda _: {"description": "conflict"})],
        "info",
        "409",
    ),
    "status-removed": ([_edit("paths/~chats~{id}/patch/responses/404", lambda _: _DELETE)], "warning", "404"),
    "error-envelope-changed": (
        [_edit(f"{S}/Error/properties/error/properties/code/type", lambda _: ["integer", "null"])],
        "breaking",
        "404 error.code: type string|null → integer|null",
    ),
}


def test_every_rule_has_a_test() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", list(CASES))
def test_rule(rule: str) -> None:
    edits, severity, words = CASES[rule]
    baseline, candidate = _doc(), _doc(*edits)
    if rule == "request-property-became-optional":
        baseline = _doc(_add_required("Req", "title"))
    found = [f for f in compare(baseline, candidate) if f.rule == rule]
    assert len(found) == 1, compare(baseline, candidate)
    finding = found[0]
    assert finding.severity == severity
    assert words in finding.message
    assert finding.operation.endswith("/chats/{id}")
    assert finding.baseline or finding.candidate


def test_pointers_point_into_each_document() -> None:
    edits, _, _ = CASES["request-property-removed"]
    (finding,) = [f for f in compare(_doc(), _doc(*edits)) if f.rule == "request-property-removed"]
    assert finding.baseline == f"/{S}/Req/properties/since" and finding.candidate is None
    assert Document(BASE, "b").resolve(finding.baseline) == {"type": "string", "format": "date"}


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
def test_the_ways_to_write_nullability_are_equal(nullable_title: dict) -> None:
    candidate = _doc(_edit(f"{S}/Chat/properties/title", lambda _: nullable_title))
    assert compare(_doc(), candidate) == []


def test_an_equivalent_ref_refactor_is_not_drift() -> None:
    inline_pref = BASE["components"]["schemas"]["Pref"]
    candidate = _doc(
        _edit(f"{S}/Chat/properties/pref", lambda _: copy.deepcopy(inline_pref)),
        _edit(
            "paths/~chats~{id}/patch/requestBody/content/application~json/schema",
            lambda _: copy.deepcopy(BASE["components"]["schemas"]["Req"]),
        ),
        _edit(f"{S}/Req/properties/pref", lambda _: copy.deepcopy(inline_pref)),
    )
    assert compare(_doc(), candidate) == []


def test_renamed_path_parameter_is_the_same_path() -> None:
    def rename(doc: dict) -> None:
        doc["paths"]["/chats/{chat_id}"] = doc["paths"].pop("/chats/{id}")

    assert compare(_doc(), _doc(rename)) == []


def test_openapi_30_and_31_compare() -> None:
    old = copy.deepcopy(BASE)
    old["openapi"] = "3.0.3"
    old["components"]["schemas"]["Chat"]["properties"]["title"] = {"type": "string", "nullable": True}
    old["components"]["schemas"]["Req"]["properties"]["title"] = {"type": "string", "nullable": True}
    assert compare(Document(old, "old.yaml"), _doc()) == []


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


def test_rule_catalogue_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--rules"]) == 0
    out = capsys.readouterr().out
    assert all(f"`{rule}`" in out for rule in RULES)
