"""The provider registry: `contracts/providers.yaml` as typed objects.

Everything that differs between providers is read from here; the rest of the code asks a
`Provider` instead of testing its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, Literal

import yaml

from chat_contracts.documents import Document, contracts_dir, pointer

OnNull = Literal["sets", "keeps-or-resets", "unobservable", "undocumented"]


class UnknownProviderError(KeyError):
    def __str__(self) -> str:
        return f"unknown provider {self.args[0]!r} (known: {', '.join(provider_names())})"


@dataclass(frozen=True)
class RequestField:
    name: str
    response: str | None  # the response field that shows it, None when not observable
    on_null: OnNull
    references: str | None  # the kind of resource it names, if any


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    spec_file: str
    server: str
    method: str
    path: str
    id_parameter: str
    auth_header: str
    auth_prefix: str
    example_id: str
    unknown_id: str
    fields: tuple[RequestField, ...]
    restore: tuple[str, ...]
    invariant: tuple[str, ...]
    created_field: str
    updated_field: str
    timestamp_format: str
    errors_documented: bool  # error statuses and bodies are in the spec (else: any 4xx)
    optional_headers: tuple[str, ...]
    sources: tuple[str, ...]

    @cached_property
    def document(self) -> Document:
        return Document.load(contracts_dir() / self.spec_file)

    @property
    def operation_pointer(self) -> str:
        return pointer("paths", self.path, self.method.lower())

    @property
    def operation(self) -> dict[str, Any]:
        return self.document.resolve(self.operation_pointer)

    @property
    def request_schema_pointer(self) -> str:
        return self.operation_pointer + pointer("requestBody", "content", "application/json", "schema")

    def response_schema_pointer(self, status: int | str) -> str | None:
        """Pointer to the documented JSON body schema for `status`, or None if it has none."""
        responses = self.operation["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                response = self.document.deref(responses[key])
                if "application/json" in response.get("content", {}):
                    return self.operation_pointer + pointer("responses", key, "content", "application/json", "schema")
                return None
        return None

    @property
    def id_parameter_pointer(self) -> str:
        """Pointer to the id path parameter (the one named by the registry) in the operation."""
        parameters = self.operation.get("parameters", [])
        index = next(i for i, p in enumerate(parameters) if self.document.deref(p).get("name") == self.id_parameter)
        return self.operation_pointer + pointer("parameters", index)

    @property
    def id_schema(self) -> dict[str, Any]:
        return self.document.deref(self.document.resolve(self.id_parameter_pointer).get("schema", {}))

    @cached_property
    def path_pattern(self) -> re.Pattern[str]:
        """Matches the operation's path relative to the API base; group 1 is the (still encoded) id."""
        id_slot = re.escape("{" + self.id_parameter + "}")
        return re.compile("^" + re.escape(self.path).replace(id_slot, "([^/]+)") + "/?$")

    def documented_statuses(self) -> tuple[str, ...]:
        return tuple(self.operation["responses"])

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def field(self, name: str) -> RequestField:
        return next(f for f in self.fields if f.name == name)

    @property
    def unrestorable_fields(self) -> frozenset[str]:
        """Request fields the response does not show: a live run could not put them back."""
        return frozenset(f.name for f in self.fields if f.response is None)

    @property
    def reference_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.references)

    def path_for(self, chat_id: str) -> str:
        return self.path.replace("{" + self.id_parameter + "}", chat_id)

    def auth_headers(self, token: str) -> dict[str, str]:
        return {self.auth_header: self.auth_prefix + token}


def _provider(name: str, raw: dict[str, Any]) -> Provider:
    op, ids, stamps = raw["operation"], raw["ids"], raw["timestamps"]
    return Provider(
        name=name,
        title=raw["title"],
        spec_file=raw["spec"],
        server=raw["server"],
        method=op["method"].upper(),
        path=op["path"],
        id_parameter=op["id_parameter"],
        auth_header=raw["auth"]["header"],
        auth_prefix=raw["auth"]["prefix"],
        example_id=ids["example"],
        unknown_id=ids["unknown"],
        fields=tuple(
            RequestField(field, spec["response"], spec["on_null"], spec.get("references"))
            for field, spec in raw["fields"].items()
        ),
        restore=tuple(raw["restore"]),
        invariant=tuple(raw["invariant"]),
        created_field=stamps["created"],
        updated_field=stamps["updated"],
        timestamp_format=stamps["format"],
        errors_documented=raw["errors_documented"],
        optional_headers=tuple(raw["headers"]["optional"]),
        sources=tuple(raw["sources"]),
    )


@cache
def _registry() -> dict[str, Provider]:
    raw = yaml.safe_load((contracts_dir() / "providers.yaml").read_text(encoding="utf-8"))
    return {name: _provider(name, spec) for name, spec in raw.items()}


def provider_names() -> tuple[str, ...]:
    return tuple(_registry())


def get_provider(name: str) -> Provider:
    try:
        return _registry()[name]
    except KeyError:
        raise UnknownProviderError(name) from None


def all_providers() -> tuple[Provider, ...]:
    return tuple(_registry().values())
