"""`chat-contracts lint`: is each contract a sound OpenAPI 3.1 document?

Three rules: the document validates as OpenAPI 3.1 (`openapi-invalid`, `openapi-version`), every
`$ref` resolves (`unresolved-ref`), and every `example`/`examples` value validates against the schema
it illustrates, with our strict formats (`example-invalid`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing.exceptions import Unresolvable

from chat_contracts.documents import Document, contracts_dir, describe, pointer

BASELINE_FILE = "known-defects.yaml"

# Keywords whose value is a schema, a list of schemas, or a map of name -> schema.
_SUBSCHEMA = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords whose value is data, never walked.
_DATA = ("example", "examples", "enum", "const", "default")


@dataclass(frozen=True)
class Finding:
    spec: str
    rule: str
    pointer: str
    message: str
    known: str | None = None  # the reason, when listed in the baseline

    def line(self) -> str:
        tag = f"  [known: {self.known}]" if self.known else ""
        return f"{self.spec}: {self.rule} at {self.pointer or '/'}: {self.message}{tag}"


def default_specs() -> list[Path]:
    return sorted(contracts_dir().glob("*.openapi.yaml"))


def load_baseline(path: Path | None) -> dict[tuple[str, str, str], str]:
    if path is None:
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {(e["spec"], e["rule"], e["pointer"]): " ".join(e["reason"].split()) for e in entries}


def lint_document(document: Document) -> list[Finding]:
    name = Path(document.source).name
    findings = [Finding(name, rule, ptr, msg) for rule, ptr, msg in _check(document)]
    return sorted(findings, key=lambda f: (f.rule, f.pointer))


def apply_baseline(findings: list[Finding], baseline: dict[tuple[str, str, str], str]) -> list[Finding]:
    return [Finding(f.spec, f.rule, f.pointer, f.message, baseline.get((f.spec, f.rule, f.pointer))) for f in findings]


def _check(document: Document) -> Iterator[tuple[str, str, str]]:
    if not document.version.startswith("3.1."):
        yield "openapi-version", "/openapi", f"lint checks OpenAPI 3.1 documents; this one is {document.version}"
        return
    unresolved = list(_unresolved_refs(document))
    yield from unresolved
    if not unresolved:  # the structural validator cannot work through a dangling $ref
        for error in OpenAPIV31SpecValidator(document.data).iter_errors():
            yield "openapi-invalid", pointer(*error.absolute_path), error.message.splitlines()[0]
    yield from _invalid_examples(document, document.data, "", "object")


def _unresolved_refs(document: Document) -> Iterator[tuple[str, str, str]]:
    def walk(node: Any, at: str) -> Iterator[tuple[str, str, str]]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#"):
                    yield "unresolved-ref", at + "/$ref", f"{ref!r}: only references inside the document are supported"
                else:
                    try:
                        document.resolve(ref)
                    except KeyError:
                        yield "unresolved-ref", at + "/$ref", f"{ref!r} points at nothing"
            for key, value in node.items():
                if key not in _DATA:
                    yield from walk(value, at + pointer(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, at + pointer(index))

    yield from walk(document.data, "")


def _invalid_examples(document: Document, node: Any, at: str, kind: str) -> Iterator[tuple[str, str, str]]:
    """Walk OpenAPI objects (`kind="object"`) and schemas (`kind="schema"`), checking examples."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _invalid_examples(document, item, at + pointer(index), kind)
        return
    if not isinstance(node, dict):
        return
    if kind == "schema":
        if "example" in node:
            yield from _example_errors(document, node["example"], at, at + "/example")
        for index, value in enumerate(node.get("examples") or []):
            yield from _example_errors(document, value, at, at + pointer("examples", index))
        for key, value in node.items():
            if key in _SUBSCHEMA or key in _SUBSCHEMA_LISTS:
                yield from _invalid_examples(document, value, at + pointer(key), "schema")
            elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _invalid_examples(document, sub, at + pointer(key, name), "schema")
        return
    # An OpenAPI object; media types and parameters carry `schema` beside `example(s)`.
    if isinstance(node.get("schema"), dict):
        schema_at = at + "/schema"
        if "example" in node:
            yield from _example_errors(document, node["example"], schema_at, at + "/example")
        for name, example in (node.get("examples") or {}).items():
            example = document.deref(example)
            if isinstance(example, dict) and "value" in example:
                yield from _example_errors(
                    document, example["value"], schema_at, at + pointer("examples", name, "value")
                )
    for key, value in node.items():
        if key in _DATA or key.startswith("x-"):
            continue
        if key == "schema":
            yield from _invalid_examples(document, value, at + "/schema", "schema")
        elif key == "schemas" and at == "/components":
            for name, sub in value.items():
                yield from _invalid_examples(document, sub, at + pointer("schemas", name), "schema")
        else:
            yield from _invalid_examples(document, value, at + pointer(key), "object")


def _example_errors(document: Document, value: Any, schema_at: str, example_at: str) -> Iterator[tuple[str, str, str]]:
    try:
        errors = document.errors(value, schema_at)
    except Unresolvable:
        return  # its schema has a dangling $ref, already reported as unresolved-ref
    for error in errors:
        yield "example-invalid", example_at, describe(error)
