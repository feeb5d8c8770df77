"""The registry agrees with the contracts it describes."""

from __future__ import annotations

import pytest

from chat_contracts.registry import Provider, UnknownProviderError, all_providers, get_provider

PROVIDERS = all_providers()


@pytest.fixture(params=PROVIDERS, ids=lambda p: p.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    return request.param


def test_both_providers_are_registered() -> None:
    assert {p.name for p in PROVIDERS} == {"whop", "wilson"}


def test_operation_and_id_parameter_exist(provider: Provider) -> None:
    params = {p["name"]: p for p in provider.operation["parameters"]}
    assert params[provider.id_parameter]["in"] == "path"
    assert "{" + provider.id_parameter + "}" in provider.path
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
    request = provider.document.deref(provider.document.resolve(provider.request_schema_pointer))
    assert {f.name for f in provider.fields} == set(request["properties"])


def test_response_side_names_exist(provider: Provider) -> None:
    response = provider.document.deref(provider.document.resolve(provider.response_schema_pointer(200)))
    named = {f.response for f in provider.fields if f.response}
    named |= set(provider.restore) | set(provider.invariant) | {provider.created_field, provider.updated_field}
    assert named <= set(response["properties"])


def test_reference_fields() -> None:
    assert get_provider("whop").reference_fields == ("current_company_id",)
    assert get_provider("wilson").reference_fields == ("bot_id",)


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError, match="unknown provider 'slack' \\(known: whop, wilson\\)"):
        get_provider("slack")
