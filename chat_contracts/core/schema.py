"""What a schema allows, however it is written: one normalised `Shape` for every job.

The suite derives its cases from shapes (which JSON types a property takes, whether null is allowed,
its enum values, its length bounds), the reference mock and the consumer side draw values from them,
and the drift audit compares two of them. `$ref`s are followed and the three ways to write
nullability (`type: [x, "null"]`, `oneOf`/`anyOf` with `{type: null}`, 3.0 `nullable: true`) read the
same; `allOf` is merged into one shape, and the branches of a real `oneOf`/`anyOf` are kept as `variants`.

Shapes are built once per schema node (`Shapes`): a `$ref` reached twice is one `Shape`, so a
recursive schema becomes a cycle in the graph instead of a tree cut at some depth, and building is
linear in the size of the document. Work is done with explicit stacks, not Python recursion, so a
long chain of `$ref`s cannot overflow the interpreter's stack.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from chat_contracts.core.documents import Document, pointer
from chat_contracts.core.errors import DocumentError

MAX_MERGES = 10_000  # shapes made by merging `allOf` branches whose properties collide
# Keywords that make a `$ref` with siblings more than a reference (3.1 allows siblings): its own part of an allOf.
SCHEMA_KEYWORDS = frozenset({
    "type", "nullable", "enum", "const", "format", "pattern", "minLength", "maxLength", "properties", "required",
    "items", "additionalProperties", "allOf", "oneOf", "anyOf", "readOnly", "writeOnly",
})  # fmt: skip


@dataclass
class Shape:
    """What a schema allows, however it is written.

    Shapes may form cycles (a recursive schema): walk them with a visited set, never by plain recursion.
    """

    pointer: str
    types: frozenset[str] = frozenset()  # JSON types but null; empty: any type
    nullable: bool = False
    enum: tuple[Any, ...] | None = None  # in the document's order, null left out (see `nullable`)
    format: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    properties: dict[str, Shape] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Shape | None = None
    read_only: bool = False  # sent in responses only (OpenAPI `readOnly`)
    write_only: bool = False  # sent in requests only (OpenAPI `writeOnly`)
    additional: Shape | None = None  # the schema of `additionalProperties`, when it is one
    variants: tuple[Shape, ...] = ()  # the non-null branches of a `oneOf`/`anyOf` that has more than one
    external: str | None = None  # a `$ref` out of the document, never followed: nothing is known here

    @property
    def is_null(self) -> bool:
        """Allows null and nothing else (`{type: null}`)."""
        return self.nullable and not self.types and self.enum is None and not self.properties

    def allows_type(self, json_type: str) -> bool:
        """Whether a value of `json_type` can be valid here (integers are numbers too)."""
        if json_type == "null":
            return self.nullable
        if not self.types:
            return self.enum is None
        return json_type in self.types or (json_type == "integer" and "number" in self.types)


def json_type(value: Any) -> str:
    """The JSON type of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "unknown")


def covered(json_type_name: str, types: frozenset[str]) -> bool:
    """Whether every value of `json_type_name` is one of `types` (an integer is a number)."""
    return json_type_name in types or (json_type_name == "integer" and "number" in types)


@dataclass
class _Job:
    """A shape whose final form needs other shapes first: `allOf` parts and `oneOf`/`anyOf` branches."""

    result: Shape
    parts: list[Shape]  # all must hold (the node's own keywords, each allOf branch)
    choices: list[list[Shape]]  # each oneOf/anyOf: one of its branches holds

    def depends_on(self) -> list[Shape]:
        return self.parts + [branch for branches in self.choices for branch in branches]


class Shapes:
    """The shapes of one document's schemas, each schema node built once.

    `$ref`s out of the document are never followed: the shape there is opaque (`Shape.external`) and
    the reference is listed in `external_refs` (pointer of the `$ref` -> its value).
    """

    def __init__(self, document: Document) -> None:
        self.document = document
        self.external_refs: dict[str, str] = {}
        self._built: dict[int, Shape] = {}  # id(schema node) -> its shape
        self._todo: list[tuple[Shape, dict[str, Any], str]] = []
        self._pending: dict[int, _Job] = {}  # id(shape) -> what it is still waiting for
        self._merged: dict[frozenset[int], Shape] = {}
        self._origins: dict[int, frozenset[int]] = {}  # id(merged shape) -> ids of the shapes it merges

    def of(self, node: Any, at: str) -> Shape:
        """The shape of the schema `node`, found at pointer `at`."""
        result = self._get(node, at)
        self._drain()
        return result

    # --- building --------------------------------------------------------------------------------

    def _fail(self, at: str, problem: str) -> DocumentError:
        return DocumentError(f"{self.document.source}: {at or '/'} {problem}")

    def _get(self, node: Any, at: str) -> Shape:
        followed = self.document.follow(node, at, stop=lambda n: bool(SCHEMA_KEYWORDS.intersection(n)))
        if followed.external is not None:
            self.external_refs.setdefault(followed.at + "/$ref", followed.external)
            return Shape(followed.at, external=followed.external)
        node, at = followed.node, followed.at
        if not isinstance(node, dict):
            return Shape(at)  # `true`, `{}`-like or not a schema at all: allows anything
        known = self._built.get(id(node))
        if known is not None:
            return known
        result = self._built[id(node)] = Shape(at)
        self._todo.append((result, node, at))
        return result

    def _drain(self) -> None:
        while self._todo or self._pending:
            while self._todo:
                self._fill(*self._todo.pop())
            self._resolve()

    def _list(self, node: dict[str, Any], key: str, at: str) -> list[Any]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(at + "/" + key, "is not a list")
        return value

    def _fill(self, result: Shape, node: dict[str, Any], at: str) -> None:
        all_of = self._list(node, "allOf", at)
        choices = [(key, self._list(node, key, at)) for key in ("oneOf", "anyOf") if node.get(key) is not None]
        ref = node.get("$ref")  # a $ref with schema siblings: the target is one more allOf part
        combined = bool(all_of or choices or ref is not None)
        own = Shape(at) if combined else result
        kind = node.get("type")
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else kind
            if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                raise self._fail(at + "/type", "is neither a type name nor a list of them")
            own.nullable |= "null" in kinds
            own.types |= frozenset(kinds) - {"null"}
        if node.get("nullable") is True:  # OpenAPI 3.0
            own.nullable = True
        values = self._list(node, "enum", at) if "const" not in node else [node["const"]]
        if "enum" in node or "const" in node:
            own.nullable |= None in values
            own.enum = tuple(dict.fromkeys(v for v in values if v is not None and not isinstance(v, dict | list)))
        for key, attribute in (("format", "format"), ("pattern", "pattern")):
            if isinstance(node.get(key), str):
                setattr(own, attribute, node[key])
        for key, attribute in (("minLength", "min_length"), ("maxLength", "max_length")):
            if isinstance(node.get(key), int) and not isinstance(node[key], bool):
                setattr(own, attribute, node[key])
        own.read_only = node.get("readOnly") is True
        own.write_only = node.get("writeOnly") is True
        properties = node.get("properties") or {}
        if not isinstance(properties, dict):
            raise self._fail(at + "/properties", "is not a mapping")
        for name, sub in properties.items():
            own.properties[str(name)] = self._get(sub, at + pointer("properties", name))
        required = self._list(node, "required", at)
        own.required |= frozenset(str(name) for name in required if isinstance(name, str | int))
        if isinstance(node.get("items"), dict):
            own.items = self._get(node["items"], at + "/items")
        if isinstance(node.get("additionalProperties"), dict):
            own.additional = self._get(node["additionalProperties"], at + "/additionalProperties")
        if not combined:
            return
        parts = [own] + [self._get(sub, f"{at}/allOf/{i}") for i, sub in enumerate(all_of)]
        if ref is not None:
            parts.append(self._get({"$ref": ref}, at))
        branches = [[self._get(sub, f"{at}/{key}/{i}") for i, sub in enumerate(subs)] for key, subs in choices]
        self._pending[id(result)] = _Job(result, parts, branches)

    # --- combining -------------------------------------------------------------------------------

    def _resolve(self) -> None:
        """Combine every pending shape after the shapes it depends on (post-order; a cycle takes them as they are)."""
        while self._pending:
            first = next(iter(self._pending.values()))
            stack, active = [first], {id(first.result)}
            while stack:
                job = stack[-1]
                waiting = next(
                    (self._pending[id(s)] for s in job.depends_on() if id(s) in self._pending and id(s) not in active),
                    None,
                )
                if waiting is not None:
                    active.add(id(waiting.result))
                    stack.append(waiting)
                    continue
                stack.pop()
                del self._pending[id(job.result)]
                self._combine(job)

    def _combine(self, job: _Job) -> None:
        parts = list(job.parts)
        for branches in job.choices:
            parts.append(self._choice(job.result.pointer, branches))
        merged = self._merge(job.result.pointer, parts)
        for item in dataclasses.fields(Shape):
            setattr(job.result, item.name, getattr(merged, item.name))

    @staticmethod
    def _choice(at: str, branches: list[Shape]) -> Shape:
        """One of `branches`: "x or null" is the shape of x, made nullable; more are `variants`."""
        real = [b for b in branches if not b.is_null]
        nullable = len(real) < len(branches) or any(b.nullable for b in real)
        if len(real) == 1:
            return dataclasses.replace(real[0], nullable=nullable, properties=dict(real[0].properties))
        formats = {b.format for b in real}
        return Shape(
            at,
            types=frozenset().union(*(b.types for b in real)),
            nullable=nullable,
            format=formats.pop() if len(formats) == 1 else None,
            variants=tuple(real),
        )

    def _merge(self, at: str, parts: list[Shape]) -> Shape:
        """All of `parts` hold: types and enums intersect, properties and required add up."""
        if len(parts) == 1:
            return dataclasses.replace(parts[0], properties=dict(parts[0].properties))
        substantial = [p for p in parts if not _trivial(p)]
        out = Shape(substantial[0].pointer if len(substantial) == 1 else at)
        typed = [p.types for p in parts if p.types]
        if typed:
            out.types = _intersect(typed)
        out.nullable = any(p.nullable for p in parts) and all(
            p.nullable or (not p.types and p.enum is None) for p in parts
        )
        enums = [p.enum for p in parts if p.enum is not None]
        if enums:
            out.enum = tuple(v for v in enums[0] if all(v in e for e in enums[1:]))
        for attribute in ("format", "pattern", "min_length", "max_length", "additional", "external"):
            setattr(out, attribute, _first(parts, attribute))
        out.read_only = any(p.read_only for p in parts)
        out.write_only = any(p.write_only for p in parts)
        out.variants = next((p.variants for p in parts if p.variants), ())
        collected: dict[str, list[Shape]] = {}
        for part in parts:
            for name, sub in part.properties.items():
                collected.setdefault(name, []).append(sub)
            out.required |= part.required
        out.properties = {name: self._merged_shape(subs) for name, subs in collected.items()}
        items = [p.items for p in parts if p.items is not None]
        out.items = self._merged_shape(items) if items else None
        return out

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        """One shape for several that must all hold, made once per set of original shapes."""
        origins = frozenset().union(*(self._origins.get(id(s), frozenset({id(s)})) for s in shapes))
        if len(origins) == 1:
            return shapes[0]
        known = self._merged.get(origins)
        if known is not None:
            return known
        if len(self._merged) >= MAX_MERGES:
            raise self._fail(shapes[0].pointer, f"needs more than {MAX_MERGES:,} allOf merges to read")
        result = self._merged[origins] = Shape(shapes[0].pointer)
        self._origins[id(result)] = origins
        self._pending[id(result)] = _Job(result, list(shapes), [])
        return result


def _trivial(part: Shape) -> bool:
    """Says nothing about values (a description beside a `oneOf`): the merged shape stands where the rest stands."""
    return not (
        part.types or part.nullable or part.enum is not None or part.format or part.properties or part.required
        or part.items or part.additional or part.variants or part.read_only or part.write_only or part.external
    )  # fmt: skip


def _first(parts: list[Shape], attribute: str) -> Any:
    return next((getattr(p, attribute) for p in parts if getattr(p, attribute) is not None), None)


def _intersect(type_sets: list[frozenset[str]]) -> frozenset[str]:
    """The types every set allows (an integer is a number); when they contradict, the last set's."""
    result = type_sets[0]
    for types in type_sets[1:]:
        narrowed = frozenset(t for t in result if covered(t, types)) | frozenset(t for t in types if covered(t, result))
        result = narrowed or types
    return result


def shape(document: Document, node: Any, at: str) -> Shape:
    """Normalise the schema `node` (found at pointer `at`), following `$ref`s inside the document."""
    shapes = Shapes(document)
    result = shapes.of(node, at)
    if shapes.external_refs:
        ref = next(iter(shapes.external_refs.values()))
        raise DocumentError(f"{document.source}: external reference {ref!r} not followed")
    return result
