"""ContractMock checks every request against the contract: strict on unknown fields unless told to
tolerate them, every request counted (retries included), each finding with the clause it breaks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chat_contracts.consumer import ConsumerFinding, ContractMock, ContractViolationError
from chat_contracts.consumer.mock import _unknown_fields
from chat_contracts.core.registry import get_provider
from chat_contracts.core.schema import Shape
from chat_contracts.reference.mock import MockResponse
from chat_contracts.reference.transport import mock_client, serving

WHOP, WILSON = get_provider("whop"), get_provider("wilson")
IDS = {"whop": "aich_k2JdQvX8mP4rTz", "wilson": "6673caafdf6f247417a1b2c3"}
REQUEST_SCHEMA = {
    "whop": "whop.openapi.yaml#/paths/~1ai_chats~1{id}/patch/requestBody/content/application~1json/schema",
    "wilson": "wilson.openapi.yaml#/components/schemas/EditChatRequest",
}
KNOWN = {"whop": "current_company_id, notification_preference, title", "wilson": "archived, bot_id, title"}


def send(mock: ContractMock, body: Any = None, *, raw: bytes | None = None, **options: Any) -> httpx.Response:
    """One request to `mock` as a careful client sends it, less what `options` change."""
    p = mock.provider
    headers = options.pop("headers", p.auth_headers("cc_test_token"))
    url = p.server + options.pop("path", p.path_for(IDS[p.name]))
    kwargs: dict[str, Any] = {"content": raw} if raw is not None else {"json": body}
    with mock_client(mock, p.server) as client:
        return client.request(options.pop("method", p.method), url, headers=headers, **kwargs)


@pytest.mark.parametrize("name", ["whop", "wilson"])
def test_a_conforming_request_has_no_findings_and_gets_a_valid_chat_for_its_id(name: str) -> None:
    mock = ContractMock.for_provider(name)
    response = send(mock, {"title": "Q3 review"})
    assert (mock.violations, mock.drift, len(mock.requests)) == ([], [], 1)
    p = mock.provider
    assert response.status_code == 200 and response.json()["id"] == IDS[name]
    assert p.document.errors(response.json(), p.chat_schema_pointer) == []
    mock.assert_conforms()


@pytest.mark.parametrize("name", ["whop", "wilson"])
def test_an_unknown_field_is_a_violation_naming_the_field_the_known_ones_and_the_clause(name: str) -> None:
    mock = ContractMock.for_provider(name)
    send(mock, {"titel": "Q3 review"})
    (violation,) = mock.violations
    assert violation == ConsumerFinding(
        "violation",
        f"sends titel='Q3 review', unknown to the contract (known: {KNOWN[name]})",
        REQUEST_SCHEMA[name] + "/properties",
        f"PATCH {mock.provider.path_for(IDS[name])}",
        1,
        "unknown-field",
    )
    assert mock.drift == []
    with pytest.raises(ContractViolationError) as raised:
        mock.assert_conforms()
    report = str(raised.value)
    assert report.splitlines()[0] == f"request 1 PATCH {mock.provider.path_for(IDS[name])}: {violation.message}"
    assert f"clause: {REQUEST_SCHEMA[name]}/properties" in report
    assert "tolerate_unknown_fields=True" in report  # how to opt out, said where it fails


@pytest.mark.parametrize("name", ["whop", "wilson"])
def test_a_tolerant_mock_lists_an_unknown_field_as_drift(name: str) -> None:
    mock = ContractMock.for_provider(name, tolerate_unknown_fields=True)
    send(mock, {"title": "Q3 review", "titel": "Q3 review"})
    assert mock.violations == []
    assert [(d.kind, d.rule, d.clause) for d in mock.drift] == [
        ("drift", "unknown-field", REQUEST_SCHEMA[name] + "/properties")
    ]
    mock.assert_conforms()


def test_tolerance_is_keyword_only_and_off_by_default() -> None:
    assert ContractMock(WHOP).tolerate_unknown_fields is False
    with pytest.raises(TypeError):
        ContractMock(WHOP, True)  # type: ignore[call-arg]


def test_an_unknown_field_at_any_depth_is_found_where_the_contract_lists_members() -> None:
    leaf = Shape("/s/properties/a/properties/b")
    inner = Shape("/s/properties/a", types=frozenset({"object"}), properties={"b": leaf})
    listed = Shape("/s/properties/l", types=frozenset({"array"}), items=inner)
    free = Shape("/s/properties/f", types=frozenset({"object"}))  # lists no members: says nothing of them
    root = Shape("/s", types=frozenset({"object"}), properties={"a": inner, "l": listed, "f": free})
    body = {"a": {"b": 1, "c": 2}, "l": [{"b": 1}, {"d": 3}], "f": {"anything": 1}, "e": 4}
    found = [(where, name, value, shape.pointer) for where, name, value, shape in _unknown_fields(body, root, ())]
    assert found == [
        (("a",), "c", 2, "/s/properties/a"),
        ((), "e", 4, "/s"),
        (("l", 1), "d", 3, "/s/properties/a"),
    ]


def _rules(mock: ContractMock) -> list[tuple[str, str]]:
    return [(v.rule, v.clause.split("#", 1)[1]) for v in mock.violations]


def test_each_part_of_a_request_is_checked_with_its_clause() -> None:
    op = "/paths/~1ai_chats~1{id}/patch"
    schema = op + "/requestBody/content/application~1json/schema"
    content, enum = op + "/requestBody/content", schema + "/properties/notification_preference/oneOf"
    auth, as_json = {"Authorization": "Bearer t"}, {"Authorization": "Bearer t", "Content-Type": "application/json"}
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"body": {"title": 42}}, [("body-schema", schema + "/properties/title/type")]),
        ({"body": {"notification_preference": "some"}}, [("body-schema", enum)]),
        ({"body": {}, "headers": {}}, [("auth", op + "/security")]),
        ({"body": {}, "headers": {"Authorization": "Basic abc"}}, [("auth", op + "/security")]),
        ({"body": {}, "headers": {"Authorization": "Bearer "}}, [("auth", op + "/security")]),
        ({"body": {}, "method": "PUT"}, [("method", op)]),
        ({"body": {}, "path": "/ai_chat/aich_x"}, [("path", "/paths")]),
        ({"raw": b"{not json", "headers": as_json}, [("body-json", schema)]),
        ({"raw": b'{"title": "x"}', "headers": auth}, [("media-type", content)]),
        ({"raw": b'{"title": "x"}', "headers": auth | {"Content-Type": "text/plain"}}, [("media-type", content)]),
    ]  # fmt: skip
    for options, expected in cases:
        mock = ContractMock(WHOP)
        send(mock, **options)
        assert _rules(mock) == expected, options


def test_an_empty_body_is_an_empty_update_and_charset_parameters_are_fine() -> None:
    mock = ContractMock(WHOP)
    send(mock, raw=b"", headers=WHOP.auth_headers("t"))
    headers = WHOP.auth_headers("t") | {"Content-Type": "application/json; charset=utf-8"}
    send(mock, raw=b'{"title": null}', headers=headers)
    assert mock.violations == [] and len(mock.requests) == 2


def test_a_path_id_the_contract_does_not_allow_is_a_violation() -> None:
    mock = ContractMock(WILSON)
    send(mock, {"archived": True}, path="/chat/not-an-objectid")
    assert [(v.rule, v.message) for v in mock.violations] == [
        ("path-id", "path id 'not-an-objectid': 'not-an-objectid' does not match '^[0-9a-f]{24}$'")
    ]


def test_every_request_is_kept_and_numbered_and_answers_are_served_in_order() -> None:
    mock = ContractMock(WHOP)
    mock.respond_with(MockResponse(500, {"error": {"type": "server_error", "message": "x"}}), {"id": "aich_1"})
    statuses = [send(mock, {"titel": n}).status_code for n in range(3)]
    assert statuses == [500, 200, 200]
    assert len(mock.requests) == 3
    assert [v.number for v in mock.violations] == [1, 2, 3]
    assert "3 violation(s) in 3 of 3 request(s) received, retries included" in mock.report()


def test_served_over_http_it_checks_the_same() -> None:
    mock = ContractMock(WILSON)
    with serving(mock) as base_url, httpx.Client() as client:
        auth = WILSON.auth_headers("t")
        response = client.patch(base_url + WILSON.path_for(IDS["wilson"]), json={"titel": "x"}, headers=auth)
    assert response.status_code == 200 and response.json()["id"] == IDS["wilson"]
    assert [v.rule for v in mock.violations] == ["unknown-field"] and len(mock.requests) == 1
