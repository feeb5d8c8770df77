"""The HAR log: one entry per exchange, bodies clipped, and secrets scrubbed from bodies before they are
encoded (in base64, a secret is found only at whole-value alignments)."""

from __future__ import annotations

import base64
import json

from chat_contracts.core.http import Exchange
from chat_contracts.core.redact import Redactor
from chat_contracts.provider.har import BODY_BYTES, HarLog

TOKEN = "Tok_har-test-0123456789abcdef"


def exchange(response_body: bytes, request_body: bytes | None = b'{"title": "x"}') -> Exchange:
    json_type, binary = {"content-type": "application/json"}, {"content-type": "application/octet-stream"}
    url = "http://127.0.0.1:9/api/v1/ai_chats/aich_x?a=1"
    return Exchange("PATCH", url, json_type, request_body, 200, binary, response_body, number=1)


def test_an_entry_per_exchange_with_clipped_bodies() -> None:
    log = HarLog()
    log.record(exchange(b"x" * (BODY_BYTES + 10)))
    (entry,) = json.loads(log.text())["log"]["entries"]
    assert entry["request"]["queryString"] == [{"name": "a", "value": "1"}]
    assert entry["request"]["postData"]["text"] == '{"title": "x"}'
    content = entry["response"]["content"]
    assert len(content["text"]) == BODY_BYTES and content["size"] == BODY_BYTES + 10 and "clipped" in content["comment"]


def test_a_secret_in_a_binary_body_is_scrubbed_before_base64() -> None:
    body = b"\xff\xfe" + ("key=" + TOKEN).encode("utf-16-le")  # not UTF-8: kept as base64
    log = HarLog(Redactor([TOKEN]))
    log.record(exchange(body, request_body=b"\x80" + TOKEN.encode()))
    (entry,) = json.loads(log.text())["log"]["entries"]
    response = base64.b64decode(entry["response"]["content"]["text"])
    request = base64.b64decode(entry["request"]["postData"]["text"])
    assert entry["response"]["content"]["encoding"] == "base64"
    assert TOKEN.encode("utf-16-le") not in response and "key=".encode("utf-16-le") in response
    assert TOKEN.encode() not in request
