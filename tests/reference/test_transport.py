"""The two ways into a mock: in-process (respx, `mock_transport`) and over HTTP on loopback (`serving`), the
official Whop SDK against the served mock (strict), and the `chat-contracts serve` and `faults` commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import whop_sdk  # a dev dependency: whop-sdk 0.0.41, whose shapes match the pinned Whop spec

from chat_contracts.cli import main
from chat_contracts.core.http import BoundedClient
from chat_contracts.core.registry import Provider, get_provider
from chat_contracts.reference.faults import build, catalogue
from chat_contracts.reference.mock import DEFAULT_TOKEN, MockRequest, MockResponse, ReferenceChatAPI
from chat_contracts.reference.transport import PortInUseError, bind, mock_client, mock_transport, serving

WHOP, WILSON = get_provider("whop"), get_provider("wilson")


class Switchable:
    """One served handler whose implementation a test can swap (one server for the module)."""

    def __init__(self, api: ReferenceChatAPI) -> None:
        self.api = api
        self.provider: Provider = api.provider

    def handle(self, request: MockRequest) -> MockResponse:
        return self.api.handle(request)


@pytest.fixture(scope="module")
def whop_served() -> Iterator[tuple[Switchable, str]]:
    handler = Switchable(build(WHOP))
    with serving(handler) as base_url:
        yield handler, base_url


@pytest.fixture
def whop_api(whop_served: tuple[Switchable, str]) -> Iterator[tuple[ReferenceChatAPI, str]]:
    """A fresh reference behind the module's server (so no test sees another's updates)."""
    handler, base_url = whop_served
    handler.api = build(WHOP)
    yield handler.api, base_url


def _sdk(base_url: str, token: str = DEFAULT_TOKEN) -> whop_sdk.Whop:
    return whop_sdk.Whop(api_key=token, base_url=base_url, _strict_response_validation=True, max_retries=0)


# --- the official SDK against the served mock -----------------------------------------------------


@pytest.mark.slow
def test_serving_yields_the_base_url_with_the_api_prefix(whop_served: tuple[Switchable, str]) -> None:
    _, base_url = whop_served
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1")


@pytest.mark.slow
def test_sdk_updates_each_field_and_keeps_the_others(whop_api: tuple[ReferenceChatAPI, str]) -> None:
    api, base_url = whop_api
    client = _sdk(base_url)
    chat = client.ai_chats.update(api.chat_id, title="Help with billing")
    assert chat.title == "Help with billing" and chat.id == api.chat_id
    chat = client.ai_chats.update(api.chat_id, notification_preference="none")
    assert chat.notification_preference == "none" and chat.title == "Help with billing"
    chat = client.ai_chats.update(api.chat_id, current_company_id="biz_XXXXX")
    assert chat.title == "Help with billing" and chat.notification_preference == "none"
    assert chat.updated_at >= chat.created_at
    assert api.hidden[api.chat_id] == {"current_company_id": "biz_XXXXX"}


@pytest.mark.slow
def test_sdk_sends_nulls_the_contract_allows(whop_api: tuple[ReferenceChatAPI, str]) -> None:
    api, base_url = whop_api
    update = _sdk(base_url).ai_chats.update
    chat = update(api.chat_id, title=None, notification_preference=None, current_company_id=None)
    assert chat.title is None and chat.notification_preference in ("all", "none")


@pytest.mark.slow
def test_sdk_update_without_fields_leaves_the_chat_unchanged(whop_api: tuple[ReferenceChatAPI, str]) -> None:
    api, base_url = whop_api
    client = _sdk(base_url)
    before = client.ai_chats.update(api.chat_id, title="Same")
    after = client.ai_chats.update(api.chat_id)
    assert after.model_dump(exclude={"updated_at"}) == before.model_dump(exclude={"updated_at"})


@pytest.mark.slow
def test_sdk_unknown_id_and_bad_token(whop_api: tuple[ReferenceChatAPI, str]) -> None:
    api, base_url = whop_api
    with pytest.raises(whop_sdk.NotFoundError) as raised:
        _sdk(base_url).ai_chats.update(WHOP.unknown_id, title="x")
    assert cast(dict[str, Any], raised.value.body)["error"]["type"] == "not_found"
    with pytest.raises(whop_sdk.AuthenticationError):
        _sdk(base_url, token="wrong").ai_chats.update(api.chat_id, title="x")


@pytest.mark.slow
def test_sdk_strict_validation_rejects_a_broken_response(whop_served: tuple[Switchable, str]) -> None:
    """The SDK proof is not vacuous: with a schema fault on, strict validation fails."""
    handler, base_url = whop_served
    handler.api = build(WHOP, "null-user")
    with pytest.raises(whop_sdk.APIResponseValidationError):
        _sdk(base_url).ai_chats.update(handler.api.chat_id, title="x")


@pytest.mark.slow
def test_wilson_doc_example_request_gives_a_doc_shaped_response() -> None:
    api = build(WILSON)
    with serving(api) as base_url:
        response = httpx.patch(
            f"{base_url}/chat/{api.chat_id}",
            json={"title": "Updated chat title", "archived": False},
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
            timeout=10,
        )
        outside = httpx.get(base_url.removesuffix("/apif/v2") + "/other", timeout=10)
    assert response.status_code == 200
    body = response.json()
    doc_example = WILSON.operation["responses"]["200"]["content"]["application/json"]["example"]
    assert set(body) == set(doc_example)
    assert {k: type(v) for k, v in body.items()} == {k: type(v) for k, v in doc_example.items()}
    assert body["title"] == "Updated chat title" and body["archived"] is False
    assert WILSON.document.errors(body, str(WILSON.response_schema_pointer(200))) == []
    assert outside.status_code == 404 and "not under the API prefix /apif/v2" in outside.json()["error"]


@pytest.mark.slow
def test_serving_stops_listening_when_it_ends() -> None:
    with serving(build(WILSON)) as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        assert httpx.patch(f"{base_url}/chat/x", timeout=5).status_code == 401
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_bind_on_a_port_in_use_is_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUseError) as refused:
            bind("127.0.0.1", port)
    assert str(refused.value) == f"cannot listen on 127.0.0.1:{port}: Address already in use"


# --- in-process --------------------------------------------------------------------------------------


def test_mock_client_answers_under_its_base_url_only() -> None:
    api = build(WHOP)
    with mock_client(api, "https://whop.test/api/v1") as client:
        ok = client.patch(f"https://whop.test/api/v1/ai_chats/{api.chat_id}", headers=WHOP.auth_headers(DEFAULT_TOKEN))
        other_path = client.get("https://whop.test/api/v1/nothing/here")
        with pytest.raises(httpx.ConnectError, match="is not under"):  # not answered, let alone sent anywhere
            client.get("https://whop.test/elsewhere")
    assert ok.status_code == 200 and ok.json()["id"] == api.chat_id
    assert other_path.status_code == 404 and api.requests == 2


def test_mock_transport_hands_the_body_over_raw_so_caps_still_hold() -> None:
    """Through `mock_transport` a bounded client reads the gzip-bomb fault as a socket would give it:
    still compressed, inflated by the client itself up to its cap."""
    api = build(WHOP, "gzip-bomb")
    client = BoundedClient(max_body=MB, transport_factory=lambda: mock_transport(api, WHOP.server))
    url = WHOP.server + WHOP.path_for(api.chat_id)
    exchange = client.send("PATCH", url, WHOP.auth_headers(DEFAULT_TOKEN), b"{}")
    assert exchange.response_headers["content-encoding"] == "gzip"
    assert exchange.truncated and len(exchange.response_body) == MB


MB = 1024 * 1024


# --- the commands ------------------------------------------------------------------------------------


def test_faults_lists_the_whole_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faults"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(catalogue())
    assert main(["faults", "--provider", "wilson"]) == 0
    wilson = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert wilson == [name for name, b in catalogue().items() if "wilson" in b.providers]


def test_serve_port_in_use_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--provider", "wilson", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_serve_unknown_fault_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--provider", "wilson", "--port", "0", "--fault", "no-such-fault"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: unknown fault 'no-such-fault' for provider 'wilson' "
        "(list them: chat-contracts faults --provider wilson)"
    ]


def _exit_status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's way out
        return int(exit_.code or 0)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--port", "99999"], "99999 is out of range"),
        (["--port", "eighty"], "'eighty' is not a port number"),
        (["--rate-limit", "0"], "0 is out of range"),
    ],
    ids=["port-99999", "port-not-a-number", "rate-limit-0"],
)
def test_serve_bad_options_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert _exit_status(["serve", "--provider", "whop", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err.splitlines()[-1] and "Traceback" not in err


def test_serve_port_out_of_range_is_exactly_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_status(["serve", "--provider", "whop", "--port", "99999"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


@pytest.mark.slow
def test_serve_prints_its_base_url_answers_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "chat_contracts.cli", "serve", "--provider", "whop", "--port", "0",
         "--chat-id", "aich_served0000001"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        lines = [process.stdout.readline() for _ in range(2)] if process.stdout else []
        base_url = next(line.split("base URL: ")[1].strip() for line in lines if line.startswith("base URL: "))
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1")
        deadline = time.monotonic() + 10
        while True:  # bounded: ten seconds for uvicorn to start answering
            try:
                response = httpx.patch(
                    f"{base_url}/ai_chats/aich_served0000001",
                    json={"title": "via serve"},
                    headers=WHOP.auth_headers(DEFAULT_TOKEN),
                    timeout=5,
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "serve did not answer within 10 s"
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["title"] == "via serve"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
