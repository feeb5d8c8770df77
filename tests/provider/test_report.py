"""Reproductions paste and run: a printed curl, pasted into bash with CONTRACT_TOKEN exported, sends the same
bytes and gets the same violation; the token is named, never written; long or binary bodies go to a file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.http import BoundedClient
from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.cases import Auth
from chat_contracts.provider.report import auth_argument, curl, describe, explain, replay_for
from chat_contracts.provider.run import Record
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import RunOptions, verify
from chat_contracts.reference.faults import build
from chat_contracts.reference.mock import MockRequest, MockResponse, ReferenceChatAPI
from chat_contracts.reference.transport import serving

TOKEN = "Tok_report-test-0123456789"
WHOP = get_provider("whop")


def record(body: bytes | None, auth: Auth = "valid", response: bytes = b"{}") -> Record:
    return Record(1, "PATCH", "http://127.0.0.1:9/api/v1/ai_chats/aich_x", {"content-type": "application/json"},
                  auth, body, 500, {"content-type": "application/json"}, response, len(response), False)  # fmt: skip


def test_short_plain_bodies_are_inline_and_the_token_is_named_not_written(tmp_path: Path) -> None:
    line = curl(record(b'{"title": "x"}'), WHOP, tmp_path)
    assert line == (
        "curl -sS -i -X PATCH http://127.0.0.1:9/api/v1/ai_chats/aich_x -H 'content-type: application/json' "
        '-H "Authorization: Bearer ${CONTRACT_TOKEN}" --data-binary \'{"title": "x"}\''
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("body", [b'{"title": "' + b"x" * 700 + b'"}', b'{"title": "a\\nb\x0b"}', b"\x80\x81", b" \n"])
def test_long_or_unprintable_bodies_are_sent_from_a_file(tmp_path: Path, body: bytes) -> None:
    line = curl(record(body), WHOP, tmp_path)
    (written,) = tmp_path.iterdir()
    assert written.read_bytes() == body
    assert line.endswith(f"--data-binary @{written}")


def test_a_compressed_answer_is_inflated_by_the_pasted_curl_too(tmp_path: Path) -> None:
    gzipped = replace(record(b"{}"), response_headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert curl(gzipped, WHOP, tmp_path).split()[-3:] == ["--compressed", "--data-binary", "'{}'"]
    assert "--compressed" not in curl(record(b"{}"), WHOP, tmp_path)


def test_a_body_file_holds_no_secret(tmp_path: Path) -> None:
    body = ("title=" + TOKEN).encode("utf-16")  # not UTF-8: written to a file, where no redaction reaches
    curl(record(body), WHOP, tmp_path, redact=Redactor([TOKEN]))
    (written,) = tmp_path.iterdir()
    assert TOKEN.encode("utf-16-le") not in written.read_bytes()
    assert "title=".encode("utf-16-le") in written.read_bytes()


def test_unprintable_bodies_are_shown_with_escapes() -> None:
    shown = describe(record(b"\n", response=b"\x0b"))
    assert "  body: \\n" in shown and "  body: \\x0b" in shown


class _Echo(ReferenceChatAPI):
    """Answers 500 and echoes what it received: the exact bytes, and the Authorization header."""

    def handle(self, request: MockRequest) -> MockResponse:
        super().handle(request)
        seen = {"body": request.body.decode("utf-8", "replace"), "authorization": request.header("authorization")}
        return MockResponse(500, seen)


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
@pytest.mark.parametrize("auth", ["valid", "empty", "scheme", "case", "appended", "truncated", "wrong", "none"])
def test_each_auth_variant_pastes_into_bash(tmp_path: Path, auth: Auth) -> None:
    api = _Echo(WHOP, token=TOKEN)
    body = json.dumps({"title": "Réunion " + "x" * 700}).encode()  # long: sent from a file
    with serving(api) as base_url:
        rec = Record(1, "PATCH", f"{base_url}/ai_chats/{api.chat_id}", {"content-type": "application/json"}, auth,
                     body, 500, {}, b"", 0, False)  # fmt: skip
        line = curl(rec, WHOP, tmp_path)
        pasted = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30, check=False,
                                env={**os.environ, "CONTRACT_TOKEN": TOKEN}, cwd=tmp_path)  # fmt: skip
    assert TOKEN not in line
    echoed = json.loads(pasted.stdout.split("\n\n", 1)[1])  # text mode: CRLF read as LF
    assert echoed["body"].encode() == body
    from chat_contracts.provider.cases import credentials

    assert echoed["authorization"] == credentials(auth, TOKEN, "Bearer")


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_a_printed_curl_reproduces_the_violation(tmp_path: Path) -> None:
    """End to end: run the suite against a served fault, paste the curl it printed, get the same 500."""
    api = build(WHOP, "server-error-on-long-string", token=TOKEN)
    with serving(api) as base_url:
        target = Target(WHOP, base_url, TOKEN, api.chat_id, live=True)
        result = verify(target, RunOptions(seed=3), phases=("coverage",))
        violation = next(v for v in result.violations if v.check == "no_server_error")
        message = explain(result.target, [violation], WHOP, tmp_path, "reproduce")
        line = next(
            x.strip().removeprefix("curl:").strip() for x in message.splitlines() if x.strip().startswith("curl:")
        )
        assert TOKEN not in message
        pasted = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30, check=False,
                                env={**os.environ, "CONTRACT_TOKEN": TOKEN}, cwd=Path.cwd())  # fmt: skip
    status_line = pasted.stdout.splitlines()[0]
    assert status_line.split()[1] == "500", pasted.stdout[:500]
    assert len(violation.record.body or b"") > 600 and "--data-binary @" in line


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_a_mock_run_reproduces_against_the_served_mock(tmp_path: Path) -> None:
    """The in-process mock has no address: its curls go to `chat-contracts serve` with the mock's own token."""
    from chat_contracts.reference.transport import mock_transport

    wilson = get_provider("wilson")
    api = build(wilson, "server-error-on-long-string")
    client = BoundedClient(transport_factory=lambda: mock_transport(api, wilson.server))
    target = Target(wilson, wilson.server, "cc_test_token", api.chat_id)
    result = verify(target, RunOptions(seed=3), client=client, phases=("coverage",))
    violation = next(v for v in result.violations if v.check == "no_server_error")
    message = explain(
        result.target,
        [violation],
        wilson,
        tmp_path,
        "reproduce",
        replay=replay_for(target, "server-error-on-long-string"),
    )
    assert "first start: chat-contracts serve --provider wilson --fault server-error-on-long-string" in message
    line = next(x.strip().removeprefix("curl:").strip() for x in message.splitlines() if x.strip().startswith("curl:"))
    assert wilson.server not in line and "http://127.0.0.1:8000/apif/v2/chat/" in line
    with serving(build(wilson, "server-error-on-long-string")) as base_url:  # what `serve` runs, on a free port
        pasted = subprocess.run(["bash", "-c", line.replace("http://127.0.0.1:8000/apif/v2", base_url)],
                                capture_output=True, text=True, timeout=30, check=False, cwd=Path.cwd())  # fmt: skip
    assert pasted.stdout.splitlines()[0].split()[1] == "500", pasted.stdout[:500]


def test_explain_says_what_broke_where_and_how_to_rerun(tmp_path: Path) -> None:
    api = build(get_provider("wilson"), "archived-not-applied")
    provider = api.provider
    from chat_contracts.reference.transport import mock_transport

    client = BoundedClient(transport_factory=lambda: mock_transport(api, provider.server))
    result = verify(Target(provider, provider.server, "cc_test_token", api.chat_id), RunOptions(seed=7), client=client)
    text = explain("wilson (mock)", result.violations, provider, tmp_path, "pytest ... -k 'wilson and field_applied'")
    assert text.startswith(f"[wilson (mock)] {len(result.violations)} contract violation(s):")
    assert "1. field_applied: archived was sent as True and answered 200, but the response shows False" in text
    assert "clause:   wilson.openapi.yaml#/paths/~1chat~1{chat_id}/patch/requestBody" in text
    assert "reproduce: pytest ... -k 'wilson and field_applied'" in text


def test_every_auth_variant_has_a_shell_expression() -> None:
    variants: list[Any] = ["valid", "none", "empty", "scheme", "case", "appended", "truncated", "wrong"]
    assert [auth_argument(v, WHOP) is None for v in variants] == [v == "none" for v in variants]
