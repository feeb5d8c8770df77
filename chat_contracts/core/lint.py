"""`chat-contracts lint`: is each contract a sound OpenAPI 3.1 document?

Rules: the document validates as OpenAPI 3.1 (`openapi-invalid`, `openapi-version`), every `$ref`
resolves inside the document (`unresolved-ref`), no `$ref` leaves it (`external-ref`: a URL or a file is
never opened, so it is reported, not followed), and every `example`/`examples` value validates against
the schema it illustrates, with our strict formats (`example-invalid`).

A spec under review may come from anyone: the structural validator's walk only runs on a document
without external references, and even then with no way to fetch anything; examples are only checked
against a document whose structure is sound (a wrong shape is a finding, never a crash).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing.exceptions import Unresolvable

from chat_contracts.core.documents import (
    Document,
    contracts_dir,
    describe,
    external_refs,
    parse_data,
    pointer,
    read_bounded,
)
from chat_contracts.core.errors import DocumentError

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
    """Known defects: (spec, rule, pointer) -> reason. DocumentError (one line) for a file that is not one."""
    if path is None:
        return {}
    entries = parse_data(read_bounded(path, 1024 * 1024), str(path)) or []
    if not isinstance(entries, list):
        raise DocumentError(f"{path}: a baseline is a list of {{spec, rule, pointer, reason}} entries")
    known = {}
    for index, entry in enumerate(entries):
        keys = ("spec", "rule", "pointer", "reason")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in keys):
            raise DocumentError(f"{path}: entry {index + 1} needs spec, rule, pointer and reason, each a string")
        known[(entry["spec"], entry["rule"], entry["pointer"])] = " ".join(entry["reason"].split())
    return known


def lint_document(document: Document) -> list[Finding]:
    name = Path(document.source).name
    findings = dict.fromkeys(Finding(name, rule, ptr, msg) for rule, ptr, msg in _check(document))
    return sorted(findings, key=lambda f: (f.rule, f.pointer))


def apply_baseline(findings: list[Finding], baseline: dict[tuple[str, str, str], str]) -> list[Finding]:
    return [Finding(f.spec, f.rule, f.pointer, f.message, baseline.get((f.spec, f.rule, f.pointer))) for f in findings]


class _OfflineValidator(OpenAPIV31SpecValidator):
    """The OpenAPI 3.1 validator with no handler for any URL scheme: it cannot fetch a thing."""

    resolver_handlers = {}  # noqa: RUF012 (empties the validator's class attribute)


def _check(document: Document) -> Iterator[tuple[str, str, str]]:
    if not document.version.startswith("3.1."):
        yield "openapi-version", "/openapi", f"lint checks OpenAPI 3.1 documents; this one is {document.version}"
        return
    external = external_refs(document.data)
    for at, ref in external:
        message = f"{ref!r}: external reference not followed (a spec is data; nothing it names is opened)"
        yield "external-ref", at, message
    unresolved = list(_unresolved_refs(document))
    yield from unresolved
    invalid = list(_structure_errors(document, whole=not unresolved and not external))
    yield from invalid
    if not (invalid or unresolved or external):  # examples are judged against sound, whole schemas only
        yield from _invalid_examples(document, document.data, "", "object")


def _structure_errors(document: Document, *, whole: bool) -> Iterator[tuple[str, str, str]]:
    """The OpenAPI 3.1 schema's verdict on the document's shape; with `whole`, also the validator's walk
    through every `$ref`, schema and parameter (which assumes that shape, and $refs that resolve)."""
    validator = _OfflineValidator(document.data)
    try:
        errors = list(validator.schema_validator.iter_errors(document.data))
        if not errors and whole:
            errors = list(validator.iter_errors())
    except RecursionError:
        yield "openapi-invalid", "", "too deeply nested for the structural validator"
        return
    for error in errors:
        yield "openapi-invalid", pointer(*error.absolute_path), error.message.splitlines()[0]


def _unresolved_refs(document: Document) -> Iterator[tuple[str, str, str]]:
    def walk(node: Any, at: str) -> Iterator[tuple[str, str, str]]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
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
        examples = node.get("examples")
        for index, value in enumerate(examples if isinstance(examples, list) else []):
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
        examples = node.get("examples")
        for name, example in (examples if isinstance(examples, dict) else {}).items():
            try:
                example = document.deref(example)
            except DocumentError as exc:  # a $ref cycle among examples
                yield "unresolved-ref", at + pointer("examples", name), str(exc).removeprefix(f"{document.source}: ")
                continue
            if isinstance(example, dict) and "value" in example:
                yield from _example_errors(
                    document, example["value"], schema_at, at + pointer("examples", name, "value")
                )
    for key, value in node.items():
        if key in _DATA or key.startswith("x-"):
            continue
        if key == "schema":
            yield from _invalid_examples(document, value, at + "/schema", "schema")
        elif key == "schemas" and at == "/components" and isinstance(value, dict):
            for name, sub in value.items():
                yield from _invalid_examples(document, sub, at + pointer("schemas", name), "schema")
        else:
            yield from _invalid_examples(document, value, at + pointer(key), "object")


def _example_errors(document: Document, value: Any, schema_at: str, example_at: str) -> Iterator[tuple[str, str, str]]:
    try:
        errors = document.errors(value, schema_at)
    except Unresolvable:
        return  # its schema has a dangling $ref, already reported as unresolved-ref
    except RecursionError:  # a schema that is only a $ref to itself
        yield "example-invalid", example_at, "its schema refers to itself without end: the example cannot be checked"
        return
    for error in errors:
        yield "example-invalid", example_at, describe(error)
