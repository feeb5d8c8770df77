"""The registry: every key of contracts/providers.yaml is read, agrees with the contracts, and no other
module of the package names a provider."""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from collections.abc import ItemsView, ValuesView
from pathlib import Path
from typing import Any, cast

import pytest

import chat_contracts
from chat_contracts.core import registry
from chat_contracts.core.documents import contracts_dir, parse_data, read_bounded
from chat_contracts.core.registry import Provider, UnknownProviderError, all_providers, get_provider, provider_names

PROVIDERS = all_providers()
PACKAGE = Path(chat_contracts.__file__).resolve().parent
REGISTRY_MODULE = PACKAGE / "core" / "registry.py"

# Values the registry keeps whole (their inner keys are data, not settings read one by one).
WHOLE_VALUES = {"reference.chat", "reference.error", "sources"}
# `fields` maps request field names (data) to settings: the names are data, the settings are keys.
DATA_KEYED = {"fields"}


@pytest.fixture(params=PROVIDERS, ids=lambda p: p.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    return cast(Provider, request.param)


def _raw_registry() -> dict[str, Any]:
    path = contracts_dir() / registry.REGISTRY_FILE
    return cast(dict[str, Any], parse_data(read_bounded(path), str(path)))


# --- every key is read ------------------------------------------------------------------------------


class _Tracked(dict[str, Any]):
    """A mapping that records which of its keys are read (by [], get, items, values)."""

    def __init__(self, data: dict[str, Any], at: str, seen: set[str]) -> None:
        super().__init__({k: _track(v, f"{at}.{k}" if at else k, seen) for k, v in data.items()})
        self._at, self._seen = at, seen

    def _mark(self, key: object) -> None:
        self._seen.add(f"{self._at}.{key}" if self._at else str(key))

    def __getitem__(self, key: str) -> Any:
        self._mark(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._mark(key)
        return super().get(key, default)

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        for key in self:
            self._mark(key)
        return super().items()

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        for key in self:
            self._mark(key)
        return super().values()


def _track(value: Any, at: str, seen: set[str]) -> Any:
    generic = re.sub(r"^fields\.[^.]+", "fields.*", at)
    if isinstance(value, dict) and generic not in WHOLE_VALUES:
        return _Tracked(value, at, seen)
    return value


def _key_paths(data: dict[str, Any], at: str = "") -> set[str]:
    """Every settings key under `data`, as dotted paths (request field names are generalised to `*`)."""
    found = set()
    for key, value in data.items():
        path = f"{at}.{key}" if at else key
        found.add(path)
        if path in DATA_KEYED:
            for spec in value.values():
                found |= _key_paths(spec, f"{path}.*")
        elif isinstance(value, dict) and path not in WHOLE_VALUES:
            found |= _key_paths(value, path)
    return found


def _generalise(paths: set[str]) -> set[str]:
    return {re.sub(r"^fields\.[^.]+", "fields.*", p) for p in paths}


@pytest.mark.parametrize("name", provider_names())
def test_every_registry_key_is_read(name: str) -> None:
    raw = _raw_registry()[name]
    seen: set[str] = set()
    provider = registry._provider(name, _Tracked(raw, "", seen))
    unread = _key_paths(raw) - _generalise(seen)
    assert unread == set(), f"keys of providers.yaml that _provider() never reads: {sorted(unread)}"
    assert provider.name == name


def test_key_tracking_notices_an_unread_key() -> None:
    """The check above can fail: a key the code does not know is reported as unread."""
    raw = dict(_raw_registry()["wilson"], colour="blue")
    seen: set[str] = set()
    registry._provider("wilson", _Tracked(raw, "", seen))
    assert _key_paths(raw) - _generalise(seen) == {"colour"}


# Provider attributes read by no code in the package but the registry's own constructor.
DOCUMENTATION_ONLY = {"sources": "evidence for people reading providers.yaml"}
UNUSED_KNOWN: dict[str, str] = {}


@functools.cache
def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


@functools.cache
def _attribute_reads() -> frozenset[str]:
    reads: set[str] = set()
    for tree in _modules().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                reads.add(node.attr)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                reads.add(str(node.args[1].value))
    return frozenset(reads)


@pytest.mark.parametrize(
    "attribute",
    [
        pytest.param(f.name, marks=pytest.mark.xfail(strict=True, reason=UNUSED_KNOWN[f.name]))
        if f.name in UNUSED_KNOWN
        else f.name
        for f in dataclasses.fields(Provider)
        if f.name not in DOCUMENTATION_ONLY
    ],
)
def test_every_provider_attribute_is_used_by_some_code(attribute: str) -> None:
    assert attribute in _attribute_reads(), f"Provider.{attribute} is read from the registry but used nowhere"


# --- the registry agrees with the contracts ------------------------------------------------------------


def test_providers_are_the_registry_entries_and_their_specs_exist() -> None:
    assert provider_names() == tuple(_raw_registry())
    assert len(PROVIDERS) >= 2
    for provider in PROVIDERS:
        assert (contracts_dir() / provider.spec_file).is_file()


def test_operation_and_id_parameter_exist(provider: Provider) -> None:
    params = {p["name"]: p for p in map(provider.document.deref, provider.operation["parameters"])}
    assert params[provider.id_parameter]["in"] == "path"
    assert params[provider.id_parameter]["required"] is True
    assert "{" + provider.id_parameter + "}" in provider.path
    assert provider.method.lower() in provider.document.data["paths"][provider.path]
    assert provider.document.data["servers"][0]["url"] == provider.server


def test_ids_fit_the_id_parameter_schema(provider: Provider) -> None:
    schema_at = provider.id_parameter_pointer + "/schema"
    for chat_id in (provider.example_id, provider.unknown_id):
        assert provider.document.errors(chat_id, schema_at) == []
    assert provider.example_id != provider.unknown_id


def test_path_pattern_finds_the_id(provider: Provider) -> None:
    match = provider.path_pattern.match(provider.path_for(provider.example_id))
    assert match and match.group(1) == provider.example_id
    assert provider.path_pattern.match(provider.path_for(provider.example_id) + "/messages") is None


def test_fields_are_the_request_properties(provider: Provider) -> None:
    assert provider.field_names == set(provider.request_shape.properties)


def test_response_side_names_exist(provider: Provider) -> None:
    named = {f.response for f in provider.fields if f.response}
    named |= set(provider.restore) | set(provider.invariant) | {provider.created_field, provider.updated_field}
    assert named <= set(provider.chat_shape.properties)
    assert set(provider.restore) <= {f.response for f in provider.fields}
    assert not set(provider.restore) & set(provider.invariant)


def test_timestamps_have_the_registry_format(provider: Provider) -> None:
    for name in (provider.created_field, provider.updated_field):
        shape = provider.chat_shape.properties[name]
        assert shape.format == provider.timestamp_format and "string" in shape.types


def test_on_null_agrees_with_the_schemas(provider: Provider) -> None:
    for field in provider.fields:
        request = provider.request_shape.properties[field.name]
        response = provider.chat_shape.properties.get(field.response or "")
        expected = {
            "sets": request.nullable and response is not None and response.nullable,
            "keeps-or-resets": request.nullable and response is not None and not response.nullable,
            "unobservable": field.response is None,
            "undocumented": not request.nullable and response is not None,
        }
        assert expected[field.on_null], (field.name, field.on_null)
        if field.references:
            assert request.types == {"string"}


def test_auth_agrees_with_the_security_scheme(provider: Provider) -> None:
    document = provider.document
    security = provider.operation.get("security", document.data.get("security")) or []
    components = document.data["components"]["securitySchemes"]
    schemes = [components[name] for requirement in security for name in requirement]
    assert schemes and all(s["type"] == "http" for s in schemes)
    assert {s["scheme"].lower() for s in schemes} == {provider.auth_scheme.lower()}
    assert provider.auth_header == "Authorization"  # RFC 9110 section 11.6.2, for an http scheme
    assert provider.auth_headers("t") == {"Authorization": f"{provider.auth_scheme} t"}


def test_errors_documented_agrees_with_the_responses(provider: Provider) -> None:
    documented = [s for s in provider.documented_statuses() if s[0] == "4" and s[1:].isdigit()]
    with_bodies = [s for s in documented if provider.response_schema_pointer(s)]
    assert provider.errors_documented == bool(with_bodies)


def test_rate_limit_and_version_header_are_well_formed(provider: Provider) -> None:
    assert provider.requests_per_minute is None or provider.requests_per_minute > 0
    if provider.version_header is not None:
        assert provider.version_header.name and provider.version_header.value


def test_reference_fields() -> None:
    for provider in PROVIDERS:
        assert provider.reference_fields == tuple(f.name for f in provider.fields if f.references)
    assert any(p.reference_fields for p in PROVIDERS)


def test_unknown_provider_names_the_known_ones() -> None:
    known = ", ".join(provider_names())
    with pytest.raises(UnknownProviderError, match=re.escape(f"unknown provider 'slack' (known: {known})")):
        get_provider("slack")


# --- no module but the registry names a provider -------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword) and node.arg:
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.name, node.asname or ""]
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    return []


def provider_mentions(source: str | ast.Module, names: tuple[str, ...]) -> list[str]:
    """Identifiers, and string constants that are not prose, that name one of `names` (docstrings and
    comments aside; a string with whitespace is prose for people, such as a help text)."""
    tree = ast.parse(source) if isinstance(source, str) else source
    docstrings = _docstrings(tree)
    wanted = {n.lower() for n in names}
    found = []
    for node in ast.walk(tree):
        words: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if not re.search(r"\s", node.value):
                words = re.findall(r"[a-z0-9]+", node.value.lower())
        else:
            for identifier in _identifiers(node):
                words += re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", identifier).lower())
        if wanted & set(words):
            shown = ast.unparse(node) if isinstance(node, ast.expr) else " ".join(words)
            found.append(f"line {getattr(node, 'lineno', '?')}: {shown}")
    return found


def test_no_module_but_the_registry_names_a_provider() -> None:
    offenders = {}
    for path, tree in _modules().items():
        if path == REGISTRY_MODULE:
            continue
        mentions = provider_mentions(tree, provider_names())
        if mentions:
            offenders[str(path.relative_to(PACKAGE))] = mentions
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('if provider.name == "whop":\n    pass\n', True),
        ("wilson_id = 1\n", True),
        ("def for_wilson():\n    pass\n", True),
        ("import whop_sdk\n", True),
        ('URL = "https://api.whop.com/api/v1"\n', True),
        ("isWhop = True\n", True),
        ('f"{x}-wilson"\n', True),
        ('"""Whop and Wilson, in a docstring."""\n', False),
        ("# whop, in a comment\nx = 1\n", False),
        ('help_text = "e.g. --provider whop"\n', False),
        ('name = "whopper"\n', False),
    ],
)
def test_the_provider_name_scan_can_fail(source: str, flagged: bool) -> None:
    assert bool(provider_mentions(source, ("whop", "wilson"))) is flagged
