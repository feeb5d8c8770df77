"""Reading OpenAPI documents and validating instances against their schemas.

One `Document` wraps one parsed OpenAPI file: JSON-pointer access, `$ref` resolution, and
validators for any schema inside it (formats checked for real, see `formats`).
"""

from __future__ import annotations

import importlib.resources
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import referencing
import referencing.jsonschema
import yaml

from chat_contracts.formats import format_checker

_DOC_URI = "urn:chat-contracts:document"


class DocumentError(Exception):
    """A document that cannot be read as OpenAPI; the message is one line for the user."""


def contracts_dir() -> Path:
    """Where the project's contracts live (the repo's `contracts/`, installed as package data)."""
    return Path(str(importlib.resources.files("chat_contracts.contracts")))


def pointer(*parts: str | int) -> str:
    """A JSON pointer from raw parts: ``pointer("paths", "/a/{id}")`` -> ``/paths/~1a~1{id}``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve_pointer(root: Any, ptr: str) -> Any:
    """The node at JSON pointer `ptr` (with or without a leading ``#``); KeyError if absent."""
    node = root
    ptr = unquote(ptr.removeprefix("#"))
    if not ptr:
        return node
    for raw in ptr.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(ptr)
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(ptr)
    return node


class Document:
    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    @classmethod
    def load(cls, path: str | Path) -> Document:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DocumentError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise DocumentError(f"{path}: not valid YAML or JSON{where}") from None
        if not isinstance(data, dict) or not isinstance(data.get("openapi"), str):
            raise DocumentError(f"{path}: not an OpenAPI document (no 'openapi' version field)")
        return cls(data, str(path))

    @property
    def version(self) -> str:
        return self.data["openapi"]

    def resolve(self, ptr: str) -> Any:
        return resolve_pointer(self.data, ptr)

    def deref(self, node: Any) -> Any:
        """Follow local `$ref`s until a node without one (siblings of a `$ref` are dropped)."""
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise DocumentError(f"{self.source}: $ref cycle at {ref}")
            seen.add(ref)
            node = self.resolve(ref)
        return node

    @cached_property
    def _registry(self) -> referencing.Registry:
        resource = referencing.jsonschema.DRAFT202012.create_resource(self.data)
        return referencing.Registry().with_resource(_DOC_URI, resource)

    def validator(self, schema_pointer: str) -> jsonschema.protocols.Validator:
        """A Draft 2020-12 validator for the schema at `schema_pointer`, `$ref`s resolved in this document."""
        return _validator(self, schema_pointer)

    def errors(self, instance: Any, schema_pointer: str) -> list[jsonschema.ValidationError]:
        return sorted(self.validator(schema_pointer).iter_errors(instance), key=lambda e: list(e.path))


@cache
def _validator(document: Document, schema_pointer: str) -> jsonschema.protocols.Validator:
    schema = {"$ref": f"{_DOC_URI}#{schema_pointer}"}
    return jsonschema.Draft202012Validator(schema, registry=document._registry, format_checker=format_checker())


def describe(error: jsonschema.ValidationError) -> str:
    """One line: where in the instance, and what is wrong."""
    where = "".join(f"[{p!r}]" for p in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"
