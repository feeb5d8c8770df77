"""Reading OpenAPI documents and validating instances against their schemas.

One `Document` wraps one parsed OpenAPI file: JSON-pointer access, `$ref` resolution, and
validators for any schema inside it (formats checked for real, see `formats`).

Documents are data from strangers (specs arrive in pull requests, or from a URL), so reading one is
bounded: a size limit before anything is parsed, YAML aliases expanded at most `MAX_NODES` times
(a "billion laughs" document is refused in milliseconds), no recursive aliases, no unbounded nesting,
no YAML-only types (dates stay strings, integer keys such as an unquoted ``201:`` become strings), and
never a file or a URL that the document names: only `$ref`s inside the document are followed.
"""

from __future__ import annotations

import datetime
import importlib.resources
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import referencing
import referencing.exceptions
import referencing.jsonschema
import yaml

from chat_contracts.core.errors import DocumentError
from chat_contracts.core.formats import format_checker

_DOC_URI = "urn:chat-contracts:document"
MAX_BYTES = 10 * 1024 * 1024  # the whole Whop API document is well under this
MAX_NODES = 2_000_000  # YAML nodes after alias expansion
MAX_DEPTH = 200  # nesting of mappings and sequences

__all__ = [
    "MAX_BYTES",
    "Document",
    "DocumentError",
    "contracts_dir",
    "describe",
    "external_refs",
    "parse_data",
    "pointer",
    "resolve_pointer",
]


# Where the decisions taken where the documents are silent are written down; clauses cite it.
DECISIONS = "contracts/README.md#decisions-where-the-documents-are-silent"


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


# --- bounded parsing ----------------------------------------------------------------------------------


# YAML 1.2's core schema, which reads scalars as JSON does: `on`, `yes` and `no` are strings (YAML 1.1 made
# them booleans, so a property named `on` or `enum: [yes, no]` changed meaning), `012` is twelve (not
# octal ten), `1:30` is a string (not the sexagesimal 90) and a date is a string. Ints come before floats:
# the first pattern that matches a scalar decides its type.
_CORE_SCALARS = (
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
)  # null stays YAML 1.1's, which is the core schema's too


def _core_resolvers(base: type[yaml.resolver.BaseResolver]) -> dict[Any, Any]:
    """`base`'s implicit resolvers with the scalars of YAML 1.2's core schema instead of YAML 1.1's."""
    replaced = {tag for tag, _, _ in _CORE_SCALARS} | {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
    resolvers: dict[Any, Any] = {
        first: [(tag, regexp) for tag, regexp in entries if tag not in replaced]
        for first, entries in base.yaml_implicit_resolvers.items()
    }
    for tag, pattern, firsts in _CORE_SCALARS:
        regexp = re.compile(f"^(?:{pattern})$", re.ASCII)
        for first in firsts:
            resolvers.setdefault(first, []).append((tag, regexp))
    return resolvers


def _construct_int(loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value[:2] in ("0o", "0x"):
        return int(value[2:], 8 if value[1] == "o" else 16)
    return int(value, 10)


# libyaml's parser where PyYAML has it (several times faster, and it refuses nesting past 1,000 levels
# itself); the pure-Python one otherwise. Either composes the node graph before anything is built from it.
_Base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CountingLoader(_Base):  # type: ignore[misc]
    """A safe loader with YAML 1.2 core scalars, that sizes the node graph before constructing anything."""

    yaml_implicit_resolvers = _core_resolvers(yaml.SafeLoader)


_CountingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_FastLoader = _CountingLoader  # a document without anchors has nothing to expand, so nothing to count

_ANCHOR = re.compile(rb"&[^\s,\[\]{}]")


def _expanded_size(root: yaml.Node, source: str) -> int:
    """Nodes in the graph once every alias is expanded; refuses cycles, depth and blow-ups early."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH:
            raise DocumentError(f"{source}: nested more than {MAX_DEPTH} levels deep")
        if key in on_path:
            raise DocumentError(f"{source}: a YAML alias refers to itself (a recursive document)")
        on_path.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        on_path.discard(key)
        if total > MAX_NODES:
            raise DocumentError(
                f"{source}: YAML aliases expand to more than {MAX_NODES:,} nodes (a 'billion laughs' document?)"
            )
        sizes[key] = total
        return total

    return size(root, 0)


_YAML_ONLY = ((bytes, "!!binary"), (set, "!!set"), (tuple, "!!omap or !!pairs"), (datetime.date, "!!timestamp"))


def _normalise(node: Any, source: str, depth: int = 0) -> Any:
    """JSON's data model: string keys (an unquoted ``201:`` is "201"), no other key types."""
    if depth > MAX_DEPTH:
        raise DocumentError(f"{source}: nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise DocumentError(f"{source}: a mapping key {key!r} is not a string")
            out[str(key)] = _normalise(value, source, depth + 1)
        return out
    if isinstance(node, list):
        return [_normalise(item, source, depth + 1) for item in node]
    if node is None or isinstance(node, str | int | float):  # bool is an int
        return node
    tag = next((tag for kind, tag in _YAML_ONLY if isinstance(node, kind)), type(node).__name__)
    raise DocumentError(f"{source}: a YAML-only value ({tag}) that JSON cannot hold")


def parse_data(raw: bytes, source: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """JSON or YAML `raw`, bounded in size, expansion and depth; DocumentError (one line) otherwise."""
    if len(raw) > max_bytes:
        raise DocumentError(f"{source}: {_size(len(raw))}, over the {_size(max_bytes)} limit for a document")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"{source}: not UTF-8 text") from None
    try:
        if text.lstrip().startswith(("{", "[")):
            try:
                return _normalise(json.loads(text), source)
            except ValueError:
                pass  # YAML flow style also starts with a brace; the YAML parser decides
        if not _ANCHOR.search(raw):
            return _normalise(yaml.load(text, Loader=_FastLoader), source)  # a safe loader
        loader = _CountingLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _expanded_size(root, source)
            return _normalise(loader.construct_document(root), source)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        if "nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's own limit, 1,000 levels
            raise DocumentError(f"{source}: nested too deeply to read{where}") from None
        raise DocumentError(f"{source}: not valid YAML or JSON{where}") from None
    except (ValueError, OverflowError) as exc:  # a scalar its tag cannot hold (an int of 5,000 digits)
        reason = str(exc).split(":")[0].split(";")[0]
        raise DocumentError(f"{source}: a value cannot be read ({reason})") from None
    except RecursionError:
        raise DocumentError(f"{source}: nested too deeply to read") from None


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def read_bounded(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of `path`, refused before reading when it is over `max_bytes`."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{path}: {_size(size)}, over the {_size(max_bytes)} limit for a document")
        if not path.is_file():
            raise DocumentError(f"{path}: not a file")
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except OSError as exc:
        raise DocumentError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None


# --- documents -----------------------------------------------------------------------------------------

MAX_REF_HOPS = 50  # $refs to $refs in a row (each hop a different target); more is refused


@dataclass(frozen=True)
class Followed:
    """Where a chain of `$ref`s ends: the node and its pointer, or the external reference it met."""

    node: Any
    at: str
    external: str | None = None


class Document:
    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    @classmethod
    def load(cls, path: str | Path, *, max_bytes: int = MAX_BYTES) -> Document:
        path = Path(path)
        return cls.parse(read_bounded(path, max_bytes), str(path), max_bytes=max_bytes)

    @classmethod
    def parse(cls, raw: bytes, source: str, *, max_bytes: int = MAX_BYTES) -> Document:
        data = parse_data(raw, source, max_bytes=max_bytes)
        if not isinstance(data, dict) or not isinstance(data.get("openapi"), str):
            raise DocumentError(f"{source}: not an OpenAPI document (no 'openapi' version field)")
        return cls(data, source)

    @property
    def version(self) -> str:
        return str(self.data["openapi"])

    def resolve(self, ptr: str) -> Any:
        return resolve_pointer(self.data, ptr)

    def follow(self, node: Any, at: str, stop: Callable[[dict[str, Any]], bool] | None = None) -> Followed:
        """The node behind the local `$ref`s that start at `node` (found at pointer `at`), and where it stands.

        A `$ref` out of the document is never followed: it is returned, for the caller to report. `stop`
        says where a node with a `$ref` is a node of its own (a schema with keywords beside it). A `$ref`
        that is no string, points at nothing, or starts more than MAX_REF_HOPS in a row is a DocumentError.
        """
        start = at
        for hop in range(MAX_REF_HOPS + 1):
            if not isinstance(node, dict) or "$ref" not in node or (stop is not None and stop(node)):
                return Followed(node, at)
            if hop == MAX_REF_HOPS:
                break
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise DocumentError(f"{self.source}: {at + '/$ref'} is not a string")
            if not ref.startswith("#"):
                return Followed(None, at, external=ref)
            try:
                node = self.resolve(ref)
            except KeyError:
                raise DocumentError(f"{self.source}: {at or '/'} has a $ref {ref!r} that points at nothing") from None
            at = ref.removeprefix("#")
        raise DocumentError(
            f"{self.source}: {start or '/'} starts more than {MAX_REF_HOPS} $refs in a row (a $ref cycle?)"
        )

    def deref(self, node: Any) -> Any:
        """The node behind local `$ref`s (siblings of a `$ref` are dropped); an external one is an error."""
        followed = self.follow(node, "")
        if followed.external is not None:
            raise DocumentError(f"{self.source}: external reference {followed.external!r} not followed")
        return followed.node

    @cached_property
    def _registry(self) -> referencing.Registry[Any]:
        resource = referencing.jsonschema.DRAFT202012.create_resource(self.data)
        # No `retrieve`: a reference outside the document is Unresolvable, never fetched.
        registry: referencing.Registry[Any] = referencing.Registry().with_resource(_DOC_URI, resource)
        return registry

    def validator(self, schema_pointer: str) -> Any:
        """A Draft 2020-12 validator for the schema at `schema_pointer`, `$ref`s resolved in this document."""
        return _validator(self, schema_pointer)

    def errors(self, instance: Any, schema_pointer: str) -> list[jsonschema.ValidationError]:
        return sorted(self.validator(schema_pointer).iter_errors(instance), key=lambda e: list(e.path))


@cache
def _validator(document: Document, schema_pointer: str) -> Any:
    schema = {"$ref": f"{_DOC_URI}#{schema_pointer}"}
    return jsonschema.Draft202012Validator(schema, registry=document._registry, format_checker=format_checker())


def external_refs(data: Any) -> list[tuple[str, str]]:
    """Every `$ref` that leaves the document (a URL, a file), wherever it stands: (pointer, ref)."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(data, "")]
    seen: set[int] = set()
    while stack:
        node, at = stack.pop()
        if id(node) in seen:  # aliases share nodes: visit each once
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                found.append((at + "/$ref", ref))
            stack.extend((value, at + pointer(key)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, at + pointer(index)) for index, value in enumerate(node))
    return sorted(found)


def describe(error: jsonschema.ValidationError) -> str:
    """One line: where in the instance, and what is wrong."""
    where = "".join(f"[{p!r}]" for p in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"
