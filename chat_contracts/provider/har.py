"""An exchange log for CI artefacts: every request and response of a run, as HAR 1.2.

Browsers' developer tools and many viewers open HAR files. Bodies are kept clipped (`BODY_BYTES`), so
a run's log stays small whatever the provider sends; the file is redacted where it is written, like
every other output.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chat_contracts import __version__
from chat_contracts.core.http import Exchange
from chat_contracts.core.redact import Redactor

BODY_BYTES = 64 * 1024


def _content(body: bytes, mime: str, redact: Redactor) -> dict[str, Any]:
    # Redacted before it is clipped (a secret the cut runs through would not be found) and encoded (in base64,
    # a secret's bytes would be found only at whole-value alignments).
    clipped = redact.head(body, BODY_BYTES)
    try:
        content: dict[str, Any] = {"text": clipped.decode("utf-8")}
    except UnicodeDecodeError:
        content = {"text": base64.b64encode(clipped).decode("ascii"), "encoding": "base64"}
    content |= {"size": len(body), "mimeType": mime}
    if len(body) > BODY_BYTES:
        content["comment"] = f"clipped to {BODY_BYTES} bytes"
    return content


@dataclass
class HarLog:
    redact: Redactor = field(default_factory=Redactor)  # for bodies, which the log's text may hold encoded
    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(self, exchange: Exchange) -> None:
        started = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        request: dict[str, Any] = {
            "method": exchange.method,
            "url": exchange.url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in exchange.request_headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(exchange.url).query)],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(exchange.request_body or b""),
        }
        if exchange.request_body is not None:
            mime = exchange.request_headers.get("content-type", "application/octet-stream")
            content = _content(exchange.request_body, mime, self.redact)
            request["postData"] = {"mimeType": mime} | {
                k: content[k] for k in ("text", "encoding", "comment") if k in content
            }
        response_mime = exchange.content_type or "application/octet-stream"
        self.entries.append({
            "startedDateTime": started,
            "time": round(exchange.seconds * 1000, 1),
            "request": request,
            "response": {
                "status": exchange.status,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "headers": [{"name": k, "value": v} for k, v in exchange.response_headers.items()],
                "cookies": [],
                "content": _content(exchange.response_body, response_mime, self.redact),
                "redirectURL": exchange.response_headers.get("location", ""),
                "headersSize": -1,
                "bodySize": len(exchange.response_body),
                **({"comment": "body cut at the size limit"} if exchange.truncated else {}),
            },
            "cache": {},
            "timings": {"send": 0, "wait": round(exchange.seconds * 1000, 1), "receive": 0},
            "comment": f"request #{exchange.number}",
        })  # fmt: skip

    def text(self) -> str:
        log = {"log": {"version": "1.2", "creator": {"name": "chat-contracts", "version": __version__},
                       "entries": self.entries}}  # fmt: skip
        return json.dumps(log, indent=1, ensure_ascii=False)
