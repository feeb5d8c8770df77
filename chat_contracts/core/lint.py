"""`chat-contracts lint`: is each contract a sound OpenAPI 3.1 document?

Rules: the document validates as OpenAPI 3.1 (`openapi-invalid`, `openapi-version`), every `$ref`
resolves inside the document (`unresolved-ref`), no `$ref` leaves it (`external-ref`: a URL or a file is
never opened, so it is reported, not followed), and every `example`/`examples` value validates against
the schema it illustrates, with our strict formats (`example-invalid`).

A spec under review may come from anyone: the structural validator's walk only runs on a document
without external references, and even then with no way to fetch anything; examples are only checked
against a document whose structure is sound (a wrong shape is a finding, never a crash). Neither runs
when validating would take more than MAX_CHECKS schema checks (`ref-expansion-too-large`: $refs that
fan out), and neither matches a regex that looks like it can backtrack for hours (`pattern-catastrophic`, a
warning: it does not fail lint).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
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

# Validators re-walk a schema each time a `$ref` names it, with no memory of having done so: a schema that is
# `allOf` ten `$ref`s to one that is ten `$ref`s to the next... costs 10**n checks for a 2 KB spec (days at 9
# levels). Lint counts those checks first, memoised over (schema, value) pairs so that counting takes
# milliseconds, and runs neither the structural walk nor the example checks past this many. The largest honest
# spec we know, OpenAI's 3 MB API description (OpenAPI 3.1), counts about 21,000; our contracts under 50.
# Half a million is over twenty times OpenAI's, and bounds the validators' work to seconds (they take 10-30 µs
# a check): the bomb above is refused from 5 levels on.
MAX_CHECKS = 500_000


# Rules that may flag a sound spec: a regex that only looks like it backtracks (`_delimited` proves one
# kind safe, not every kind).
WARNINGS = frozenset({"pattern-catastrophic"})


@dataclass(frozen=True)
class Finding:
    spec: str
    rule: str
    pointer: str
    message: str
    known: str | None = None  # the reason, when listed in the baseline

    @property
    def warning(self) -> bool:
        """A finding that is reported and does not fail lint: its rule can be wrong about a sound spec."""
        return self.rule in WARNINGS

    def line(self) -> str:
        tag = f"  [known: {self.known}]" if self.known else "  [warning: does not fail lint]" if self.warning else ""
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
    risky = [(at, regex) for at, regex in _patterns(document.data, "") if _backtracks(regex)]
    for at, _ in risky:
        message = "a repetition of a repetition, like (a+)+: it may backtrack for hours, so lint checks without it"
        yield "pattern-catastrophic", at, message
    checked = Document(_without_patterns(document.data, {r for _, r in risky}), document.source) if risky else document
    too_large = [] if unresolved or external else list(_too_many_checks(checked))
    yield from too_large
    invalid = list(_structure_errors(checked, whole=not (unresolved or external or too_large)))
    yield from invalid
    if not (invalid or unresolved or external or too_large):  # examples are judged against sound, whole schemas
        yield from _invalid_examples(checked, checked.data, "", "object", _example_errors)


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


# What is done with each example: (document, value, pointer of its schema, pointer of the example) -> findings.
_ExampleCheck = Callable[[Document, Any, str, str], Iterator[tuple[str, str, str]]]


def _invalid_examples(
    document: Document, node: Any, at: str, kind: str, check: _ExampleCheck
) -> Iterator[tuple[str, str, str]]:
    """Walk OpenAPI objects (`kind="object"`) and schemas (`kind="schema"`), checking examples with `check`."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _invalid_examples(document, item, at + pointer(index), kind, check)
        return
    if not isinstance(node, dict):
        return
    if kind == "schema":
        if "example" in node:
            yield from check(document, node["example"], at, at + "/example")
        examples = node.get("examples")
        for index, value in enumerate(examples if isinstance(examples, list) else []):
            yield from check(document, value, at, at + pointer("examples", index))
        for key, value in node.items():
            if key in _SUBSCHEMA or key in _SUBSCHEMA_LISTS:
                yield from _invalid_examples(document, value, at + pointer(key), "schema", check)
            elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _invalid_examples(document, sub, at + pointer(key, name), "schema", check)
        return
    # An OpenAPI object; media types and parameters carry `schema` beside `example(s)`.
    if isinstance(node.get("schema"), dict):
        schema_at = at + "/schema"
        if "example" in node:
            yield from check(document, node["example"], schema_at, at + "/example")
        examples = node.get("examples")
        for name, example in (examples if isinstance(examples, dict) else {}).items():
            try:
                example = document.deref(example)
            except DocumentError as exc:  # a $ref cycle among examples
                yield "unresolved-ref", at + pointer("examples", name), str(exc).removeprefix(f"{document.source}: ")
                continue
            if isinstance(example, dict) and "value" in example:
                yield from check(document, example["value"], schema_at, at + pointer("examples", name, "value"))
    for key, value in node.items():
        if key in _DATA or key.startswith("x-"):
            continue
        if key == "schema":
            yield from _invalid_examples(document, value, at + "/schema", "schema", check)
        elif key == "schemas" and at == "/components" and isinstance(value, dict):
            for name, sub in value.items():
                yield from _invalid_examples(document, sub, at + pointer("schemas", name), "schema", check)
        else:
            yield from _invalid_examples(document, value, at + pointer(key), "object", check)


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


# --- bounded work: $refs that fan out, regexes that backtrack ------------------------------------------

# Keywords that apply their schema(s) to the very value their own schema checks.
_SAME_VALUE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas")
_NO_VALUE = object()  # the structural walk's property collection: no value, schemas followed through `items`


class _TooManyChecks(Exception):
    pass


class _Checks:
    """Counts the schema checks validating values against a document's schemas takes, without making them."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.total = 0
        self._counted: dict[tuple[int, int], tuple[int, int]] = {}
        self._counting: set[tuple[int, int]] = set()
        self._targets: dict[str, Any] = {}

    def add(self, checks: int) -> None:
        self.total += checks
        if self.total > MAX_CHECKS:
            raise _TooManyChecks

    def count(self, schema: Any, value: Any) -> tuple[int, int]:
        """(checks to validate `value` against `schema`, checks of jsonschema's search for what `schema` evaluates).

        That search is what `unevaluatedProperties`/`unevaluatedItems` add: it validates the subschemas that
        apply to the same value again, so each nested level at least doubles the work. With `_NO_VALUE`: what
        the structural walk follows from `schema` to collect property names.
        """
        if not isinstance(schema, dict):
            return 1, 1
        key = (id(schema), id(value))
        if key in self._counted:
            return self._counted[key]
        if key in self._counting:  # a cycle: validators recurse into it and stop at their recursion limit
            return 1, 1
        self._counting.add(key)
        checks, search = 1, 0
        for sub in self._same_value(schema):
            sub_checks, sub_search = self.count(sub, value)
            checks, search = checks + sub_checks, search + sub_search
        for sub, part in self._parts(schema, value):
            checks += self.count(sub, part)[0]
        search += checks
        if "unevaluatedProperties" in schema or "unevaluatedItems" in schema:
            checks += search
        if checks > MAX_CHECKS:
            raise _TooManyChecks
        self._counting.discard(key)
        self._counted[key] = checks, search
        return checks, search

    def _same_value(self, schema: dict[str, Any]) -> Iterator[Any]:
        for keyword in ("$ref", "$dynamicRef"):
            ref = schema.get(keyword)
            if isinstance(ref, str) and ref.startswith("#"):
                if ref not in self._targets:
                    try:
                        self._targets[ref] = self.document.resolve(ref)
                    except KeyError:  # reported as unresolved-ref, or a `$dynamicRef` to an anchor (never resolved)
                        self._targets[ref] = None
                yield self._targets[ref]
        for keyword in _SAME_VALUE:
            sub = schema.get(keyword)
            if isinstance(sub, list):
                yield from sub
            elif isinstance(sub, dict) and keyword == "dependentSchemas":
                yield from sub.values()
            elif sub is not None:
                yield sub

    @staticmethod
    def _parts(schema: dict[str, Any], value: Any) -> Iterator[tuple[Any, Any]]:
        """(subschema, part of `value`) for each subschema applied to a part, as many times as it is applied
        (or more: every pattern is taken to match every name)."""
        if value is _NO_VALUE:
            if "items" in schema:
                yield schema["items"], _NO_VALUE
        elif isinstance(value, dict):
            properties, patterns = schema.get("properties"), schema.get("patternProperties")
            for name, part in value.items():
                if isinstance(properties, dict) and name in properties:
                    yield properties[name], part
                if isinstance(patterns, dict):
                    yield from ((sub, part) for sub in patterns.values())
                yield from ((schema[k], part) for k in ("additionalProperties", "unevaluatedProperties") if k in schema)
                if "propertyNames" in schema:
                    yield schema["propertyNames"], name
        elif isinstance(value, list):
            prefix = schema.get("prefixItems")
            for index, part in enumerate(value):
                if isinstance(prefix, list) and index < len(prefix):
                    yield prefix[index], part
                yield from ((schema[k], part) for k in ("items", "contains", "unevaluatedItems") if k in schema)


def _too_many_checks(document: Document) -> Iterator[tuple[str, str, str]]:
    """One finding if the structural walk and the example checks would take more than MAX_CHECKS schema checks.

    Counted: for each schema, what the structural validator's property collection follows from it (`$ref`s,
    `allOf`/`anyOf`/`oneOf`, `not`, `items`...) beyond the schema itself, and the checks of its `default`;
    for each example, the checks that validating it against its schema takes.
    """
    checks = _Checks(document)
    at = ""

    def count_example(
        document: Document, value: Any, schema_at: str, example_at: str
    ) -> Iterator[tuple[str, str, str]]:
        nonlocal at
        at = example_at
        try:
            schema = document.resolve(schema_at)
        except KeyError:  # a name with a %: jsonschema cannot resolve it either, and skips the example
            return iter(())
        checks.add(checks.count(schema, value)[0])
        return iter(())

    stack: list[tuple[Any, str]] = [(document.data, "")]
    try:
        while stack:
            node, where = stack.pop()
            at = where
            if isinstance(node, dict):
                checks.add(checks.count(node, _NO_VALUE)[0] - 1)  # the walk visits each node once anyway
                if "default" in node:
                    at = where + "/default"
                    checks.add(checks.count(node, node["default"])[0])
                stack.extend((v, where + pointer(k)) for k, v in reversed(node.items()) if k not in _DATA)
            elif isinstance(node, list):
                stack.extend((value, where + pointer(index)) for index, value in reversed(list(enumerate(node))))
        for _ in _invalid_examples(document, document.data, "", "object", count_example):
            pass  # findings come from the real check
    except _TooManyChecks:
        message = f"validating reaches {MAX_CHECKS:,} schema checks here ($refs that fan out?)"
    except RecursionError:
        message = "its schemas nest too deeply to count the checks they take"
    else:
        return
    yield "ref-expansion-too-large", at, f"{message}: the structural walk and the example checks are skipped"


# Python's `re` backtracks: a repetition of a repetition, `^(a+)+$`, tries every way to split "aaa...a!" between
# the two before failing, twice as many with each character (hours at 35); so does a bounded one, `(a+){1,40}`.
# Such a pattern is a warning, and the structural walk (which checks each `default`) and the example checks run
# on a copy of the document without it. One kind is exempt, so that slugs (`^[a-z]+(-[a-z]+)*$`), host names
# and paths pass: an iteration that is one repeated character class plus single characters, starting or ending
# with a character that class cannot match, has one way to split. Other safe kinds are warned about (semver's
# official regex is one): a warning does not fail lint. Not detected: other exponential backtracking
# (`(a|a)*`), and the polynomial kind, `\d+x` searched in a long string of digits.
_parser: Any = importlib.import_module("re._parser")  # the regex parser of `re`, which has no stub
_REPEATS = (_parser.MAX_REPEAT, _parser.MIN_REPEAT)
_ONE_CHARACTER = (_parser.LITERAL, _parser.NOT_LITERAL, _parser.ANY, _parser.IN)
_CATEGORIES = {
    _parser.CATEGORY_DIGIT: r"\d",
    _parser.CATEGORY_NOT_DIGIT: r"\D",
    _parser.CATEGORY_SPACE: r"\s",
    _parser.CATEGORY_NOT_SPACE: r"\S",
    _parser.CATEGORY_WORD: r"\w",
    _parser.CATEGORY_NOT_WORD: r"\W",
}


def _patterns(node: Any, at: str) -> Iterator[tuple[str, str]]:
    """(pointer, regex) for each `pattern` and `patternProperties` name, outside data."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _patterns(item, at + pointer(index))
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield at + "/pattern", value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from ((at + pointer(key, name), name) for name in value)
            if key not in _DATA:
                yield from _patterns(value, at + pointer(key))


def _without_patterns(node: Any, regexes: set[str]) -> Any:
    """A copy of `node` without the `pattern`s and `patternProperties` names in `regexes` (data is kept)."""
    if isinstance(node, list):
        return [_without_patterns(item, regexes) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {}
    for key, value in node.items():
        if key in _DATA:
            copy[key] = value
        elif key == "pattern" and isinstance(value, str) and value in regexes:
            continue
        elif key == "patternProperties" and isinstance(value, dict):
            copy[key] = {name: _without_patterns(sub, regexes) for name, sub in value.items() if name not in regexes}
        else:
            copy[key] = _without_patterns(value, regexes)
    return copy


def _backtracks(regex: str) -> bool:
    try:
        parsed = _parser.parse(regex)
        return _repeats_a_repeat(parsed, ignore_case=bool(parsed.state.flags & re.IGNORECASE))
    except (re.error, RecursionError, OverflowError):
        return False  # not a regex Python reads: the structural validator says so


def _repeats_a_repeat(items: Any, *, ignore_case: bool) -> bool:
    for op, av in items:
        if op in _REPEATS and _many(av[1]) and _repeats(av[2]) and not _delimited(av[2], ignore_case):
            return True
        if any(_repeats_a_repeat(sub, ignore_case=ignore_case) for sub in _subpatterns(av)):
            return True
    return False


def _repeats(items: Any) -> bool:
    """Whether a parsed regex repeats something without bound."""
    return any((op in _REPEATS and _many(av[1])) or any(_repeats(sub) for sub in _subpatterns(av)) for op, av in items)


def _many(most: int) -> bool:
    """Whether a repetition's upper bound is high enough to backtrack for long: `+`, `*`, `{1,40}` (2^40 ways)."""
    return bool(most == _parser.MAXREPEAT or most > 10)


def _subpatterns(av: Any) -> Iterator[Any]:
    if isinstance(av, _parser.SubPattern):
        yield av
    elif isinstance(av, tuple | list):
        for item in av:
            yield from _subpatterns(item)


def _delimited(items: Any, ignore_case: bool) -> bool:
    """Whether an iteration is one character class repeated plus single characters, and starts or ends with a
    character the class cannot match (`-[a-z]+`, `[a-z0-9-]+\\.`): then there is one way to split a string."""
    flat = _flatten(items)
    repeated = [av for op, av in flat or [] if op in _REPEATS]
    if not flat or len(repeated) != 1:
        return False
    body = list(repeated[0][2])
    if len(body) != 1 or body[0][0] not in _ONE_CHARACTER:
        return False
    for op, av in (flat[0], flat[-1]):
        if op is _parser.LITERAL:
            char = chr(av)
            variants = {char, char.lower(), char.upper()} if ignore_case else {char}
            if not any(_may_match(body[0], c) for c in variants):
                return True
    return False


def _flatten(items: Any) -> list[tuple[Any, Any]] | None:
    """The items of a parsed regex with its groups opened; None if it has alternatives, lookarounds..."""
    flat: list[tuple[Any, Any]] = []
    for op, av in items:
        if op is _parser.SUBPATTERN:
            inner = _flatten(av[-1])
            if inner is None:
                return None
            flat += inner
        elif op in _REPEATS or op in _ONE_CHARACTER:
            flat.append((op, av))
        else:
            return None
    return flat


def _may_match(item: tuple[Any, Any], char: str) -> bool:
    """Whether a one-character item of a parsed regex may match `char` (True when unsure)."""
    op, av = item
    if op is _parser.LITERAL:
        return bool(ord(char) == av)
    if op is _parser.NOT_LITERAL:
        return bool(ord(char) != av)
    if op is not _parser.IN:
        return True
    negate = bool(av) and av[0][0] is _parser.NEGATE
    hit = False
    for kind, value in av[negate:]:
        if kind is _parser.LITERAL:
            hit = hit or ord(char) == value
        elif kind is _parser.RANGE:
            hit = hit or value[0] <= ord(char) <= value[1]
        elif kind is _parser.CATEGORY and value in _CATEGORIES:
            hit = hit or re.fullmatch(_CATEGORIES[value], char) is not None
        else:
            return True
    return hit != negate
