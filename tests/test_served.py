"""The mocks over real HTTP: the official Whop SDK (strict), a plain httpx client for Wilson, and the
`chat-contracts serve` command itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from chat_contracts.faults import build
from chat_contracts.mock import DEFAULT_TOKEN
from chat_contracts.registry import get_provider
from chat_contracts.transport import serving

whop_sdk = pytest.importorskip("whop_sdk", reason="whop-sdk==0.0.41 is a dev dependency")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def whop_served():
    api = build(get_provider("whop"))
    with serving(api) as base_url:
        yield api, base_url


def _client(base_url: str, token: str = DEFAULT_TOKEN):
    return whop_sdk.Whop(api_key=token, base_url=base_url, _strict_response_validation=True, max_retries=0)


def test_sdk_updates_each_field_and_keeps_the_others(whop_served) -> None:
    api, base_url = whop_served
    client = _client(base_url)
    chat = client.ai_chats.update(api.chat_id, title="Help with billing")
    assert chat.title == "Help with billing" and chat.id == api.chat_id
    chat = client.ai_chats.update(api.chat_id, notification_preference="none")
    assert chat.notification_preference == "none" and chat.title == "Help with billing"
    chat = client.ai_chats.update(api.chat_id, current_company_id="biz_XXXXX")
    assert chat.title == "Help with billing" and chat.notification_preference == "none"
    assert chat.updated_at >= chat.created_at


def test_sdk_sends_nulls_the_contract_allows(whop_served) -> None:
    api, base_url = whop_served
    client = _client(base_url)
    chat = client.ai_chats.update(api.chat_id, title=None, notification_preference=None, current_company_id=None)
    assert chat.title is None
    assert chat.notification_preference in ("all", "none")


def test_sdk_update_without_fields_leaves_the_chat_unchanged(whop_served) -> None:
    api, base_url = whop_served
    client = _client(base_url)
    before = client.ai_chats.update(api.chat_id, title="Same")
    after = client.ai_chats.update(api.chat_id)
    assert after.model_dump(exclude={"updated_at"}) == before.model_dump(exclude={"updated_at"})


def test_sdk_unknown_id_is_not_found(whop_served) -> None:
    _, base_url = whop_served
    with pytest.raises(whop_sdk.NotFoundError) as raised:
        _client(base_url).ai_chats.update(get_provider("whop").unknown_id, title="x")
    assert raised.value.body["error"]["type"] == "not_found"


def test_sdk_bad_token_is_an_authentication_error(whop_served) -> None:
    api, base_url = whop_served
    with pytest.raises(whop_sdk.AuthenticationError):
        _client(base_url, token="wrong").ai_chats.update(api.chat_id, title="x")


def test_sdk_strict_validation_rejects_a_broken_response() -> None:
    """The SDK proof is not vacuous: with a schema fault on, strict validation fails."""
    api = build(get_provider("whop"), "null-user")
    with serving(api) as base_url, pytest.raises(whop_sdk.APIResponseValidationError):
        _client(base_url).ai_chats.update(api.chat_id, title="x")


def test_wilson_doc_example_request_gives_a_doc_shaped_response() -> None:
    wilson = get_provider("wilson")
    api = build(wilson)
    with serving(api) as base_url:
        response = httpx.patch(
            f"{base_url}/chat/{api.chat_id}",
            json={"title": "Updated chat title", "archived": False},
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
            timeout=10,
        )
    assert response.status_code == 200
    body = response.json()
    doc_example = wilson.operation["responses"]["200"]["content"]["application/json"]["example"]
    assert set(body) == set(doc_example)
    assert {k: type(v) for k, v in body.items()} == {k: type(v) for k, v in doc_example.items()}
    assert body["title"] == "Updated chat title" and body["archived"] is False
    assert wilson.document.errors(body, wilson.response_schema_pointer(200)) == []


# --- the serve command -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "chat_contracts.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serve_prints_its_base_url_answers_and_stops_on_ctrl_c() -> None:
    port = _free_port()
    process = _serve("--provider", "whop", "--port", str(port), "--chat-id", "aich_served0000001")
    try:
        lines = [process.stdout.readline() for _ in range(2)]
        assert f"base URL: http://127.0.0.1:{port}/api/v1\n" in lines
        deadline = time.monotonic() + 10
        while True:
            try:
                client = whop_sdk.Whop(api_key=DEFAULT_TOKEN, base_url=f"http://127.0.0.1:{port}/api/v1", max_retries=0)
                chat = client.ai_chats.update("aich_served0000001", title="via serve")
                break
            except whop_sdk.APIConnectionError:
                assert time.monotonic() < deadline, "serve did not answer within 10 s"
                time.sleep(0.05)
        assert chat.title == "via serve"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_serve_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = _serve("--provider", "wilson", "--port", str(port))
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_serve_unknown_fault_is_one_clear_line() -> None:
    process = _serve("--provider", "wilson", "--port", "0", "--fault", "no-such-fault")
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.splitlines() == [
        "error: unknown fault 'no-such-fault' for provider 'wilson' "
        "(list them: chat-contracts faults --provider wilson)"
    ]
