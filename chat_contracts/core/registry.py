"""The provider registry: `contracts/providers.yaml` as typed objects.

Everything that differs between providers is read from here; the rest of the code asks a
`Provider` instead of testing its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, Literal, cast

from chat_contracts.core.documents import Document, contracts_dir, parse_data, pointer, read_bounded
from chat_contracts.core.errors import UnknownNameError
from chat_contracts.core.schema import Shape, shape

OnNull = Literal["sets", "keeps-or-resets", "unobservable", "undocumented"]


class UnknownProviderError(UnknownNameError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown provider {name!r} (known: {', '.join(provider_names())})")


@dataclass(frozen=True)
class RequestField:
    name: str
    response: str | None  # the response field that shows it, None when not observable
    on_null: OnNull
    references: str | None  # the kind of resource it names, if any


@dataclass(frozen=True)
class VersionHeader:
    name: str
    value: str


@dataclass(frozen=True, eq=False)  # one object per provider (the registry caches them): compared by identity
class Provider:
    name: str
    title: str
    spec_file: str
    server: str
    sandbox: str | None
    method: str
    path: str
    id_parameter: str
    auth_scheme: str
    auth_header: str
    example_id: str
    unknown_id: str
    fields: tuple[RequestField, ...]
    restore: tuple[str, ...]
    invariant: tuple[str, ...]
    created_field: str
    updated_field: str
    timestamp_format: str
    errors_documented: bool  # error statuses and bodies are in the spec (else: any 4xx)
    version_header: VersionHeader | None
    requests_per_minute: int | None  # the documented rate limit
    reference_chat: dict[str, Any]  # the reference mock's seeded chat, with {id} and {created}
    reference_error: dict[str, Any]  # the reference mock's error body, with {type}, {message}...
    sources: tuple[str, ...]

    # --- the contract document ------------------------------------------------------------------

    @cached_property
    def document(self) -> Document:
        return Document.load(contracts_dir() / self.spec_file)

    @property
    def operation_pointer(self) -> str:
        return pointer("paths", self.path, self.method.lower())

    @property
    def operation(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.document.resolve(self.operation_pointer))

    @property
    def request_schema_pointer(self) -> str:
        return self.operation_pointer + pointer("requestBody", "content", "application/json", "schema")

    def response_schema_pointer(self, status: int | str) -> str | None:
        """Pointer to the documented JSON body schema for `status`, or None if it has none."""
        key = self.response_key(status)
        if key is None:
            return None
        response = self.document.deref(self.operation["responses"][key])
        if "application/json" in response.get("content", {}):
            return self.operation_pointer + pointer("responses", key, "content", "application/json", "schema")
        return None

    def response_key(self, status: int | str) -> str | None:
        """The `responses` key that documents `status` ("404", "4XX" or "default"), or None."""
        responses = self.operation["responses"]
        return next((key for key in (str(status), f"{str(status)[0]}XX", "default") if key in responses), None)

    @property
    def chat_schema_pointer(self) -> str:
        """Where the 200 body's schema is defined (behind its `$ref`, if any)."""
        at = self.response_schema_pointer(200)
        assert at is not None, f"{self.spec_file} documents no JSON body for 200"
        ref = self.document.resolve(at).get("$ref")
        return ref.removeprefix("#") if isinstance(ref, str) else at

    def response_field_pointer(self, name: str) -> str:
        return self.chat_schema_pointer + pointer("properties", name)

    @property
    def id_parameter_pointer(self) -> str:
        """Pointer to the id path parameter (the one named by the registry) in the operation."""
        parameters = self.operation.get("parameters", [])
        index = next(i for i, p in enumerate(parameters) if self.document.deref(p).get("name") == self.id_parameter)
        return self.operation_pointer + pointer("parameters", index)

    @property
    def id_schema(self) -> dict[str, Any]:
        schema = self.document.deref(self.document.resolve(self.id_parameter_pointer).get("schema", {}))
        return cast(dict[str, Any], schema)

    def documented_statuses(self) -> tuple[str, ...]:
        return tuple(self.operation["responses"])

    # --- shapes: what the contract allows, however it is written -----------------------------------

    @cached_property
    def request_shape(self) -> Shape:
        return shape(self.document, {"$ref": "#" + self.request_schema_pointer}, self.request_schema_pointer)

    @cached_property
    def chat_shape(self) -> Shape:
        return shape(self.document, {"$ref": "#" + self.chat_schema_pointer}, self.chat_schema_pointer)

    # --- request fields ----------------------------------------------------------------------------

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def field(self, name: str) -> RequestField:
        return next(f for f in self.fields if f.name == name)

    @property
    def unobservable_fields(self) -> frozenset[str]:
        """Request fields the response does not show."""
        return frozenset(f.name for f in self.fields if f.response is None)

    @property
    def reference_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.references)

    # --- talking to it -----------------------------------------------------------------------------

    @cached_property
    def path_pattern(self) -> re.Pattern[str]:
        """Matches the operation's path relative to the API base; group 1 is the (still encoded) id."""
        id_slot = re.escape("{" + self.id_parameter + "}")
        return re.compile("^" + re.escape(self.path).replace(id_slot, "([^/]+)") + "/?$")

    def path_for(self, chat_id: str) -> str:
        return self.path.replace("{" + self.id_parameter + "}", chat_id)

    @property
    def auth_prefix(self) -> str:
        """What precedes the credentials in the auth header: the scheme and one space (RFC 9110 section 11.4)."""
        return self.auth_scheme + " "

    def auth_headers(self, token: str) -> dict[str, str]:
        return {self.auth_header: self.auth_prefix + token}


def _provider(name: str, raw: dict[str, Any]) -> Provider:
    op, ids, stamps, version = raw["operation"], raw["ids"], raw["timestamps"], raw["version_header"]
    return Provider(
        name=name,
        title=raw["title"],
        spec_file=raw["spec"],
        server=raw["server"],
        sandbox=raw["sandbox"],
        method=op["method"].upper(),
        path=op["path"],
        id_parameter=op["id_parameter"],
        auth_scheme=raw["auth"]["scheme"],
        auth_header=raw["auth"]["header"],
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
        version_header=VersionHeader(version["name"], version["value"]) if version else None,
        requests_per_minute=(raw["rate_limit"] or {}).get("per_minute"),
        reference_chat=raw["reference"]["chat"],
        reference_error=raw["reference"]["error"],
        sources=tuple(raw["sources"]),
    )


REGISTRY_FILE = "providers.yaml"


@cache
def _registry() -> dict[str, Provider]:
    path = contracts_dir() / REGISTRY_FILE
    raw = parse_data(read_bounded(path), str(path))
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
