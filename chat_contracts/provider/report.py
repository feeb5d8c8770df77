"""How a run is shown: violations explained, reproductions that paste and run, the per-check table.

Reproductions of a live run name the token through the environment (``"Authorization: Bearer
$CONTRACT_TOKEN"``), never its value; reproductions of a mock run go to the same mock served locally
(``chat-contracts serve``) with its public test token, since the in-process mock has no address. A body
that is long or not plain text is written to a file beside the report and sent with ``--data-binary
@file``, so a pasted curl sends exactly the bytes the suite sent. Nothing here redacts: the interfaces
redact every string where it leaves the tool.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import Provider
from chat_contracts.core.text import is_plain, show
from chat_contracts.provider.cases import WRONG_TOKEN, Auth, credentials
from chat_contracts.provider.run import Record, Violation
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import RunResult
from chat_contracts.reference.mock import DEFAULT_PORT, DEFAULT_TOKEN

TOKEN_ENV = "CONTRACT_TOKEN"
INLINE_BODY = 600  # characters; a longer body goes to a file
NO_SECRETS = Redactor()


@dataclass(frozen=True)
class Replay:
    """Where a pasted reproduction sends its request, and with which token."""

    server: str  # the base URL the run used
    base_url: str  # the base URL a pasted curl uses instead
    token: str | None = None  # a literal token (the local mock's); None: taken from $CONTRACT_TOKEN
    setup: str | None = None  # what to start before pasting

    def url(self, url: str) -> str:
        server = self.server.rstrip("/")
        return self.base_url.rstrip("/") + url[len(server) :] if url.startswith(server) else url


def replay_for(target: Target, behaviour: str | None = None) -> Replay:
    """The provider itself for a live run; for a mock run, the same mock (and behaviour) served locally."""
    if target.live:
        return Replay(target.base_url, target.base_url)
    local = f"http://127.0.0.1:{DEFAULT_PORT}{urlsplit(target.base_url).path}"
    serve = f"chat-contracts serve --provider {target.provider.name}"
    serve += f" --fault {shlex.quote(behaviour)}" if behaviour else ""
    return Replay(target.base_url, local, DEFAULT_TOKEN, f"{serve} (in another terminal)")


def auth_argument(auth: Auth, provider: Provider, token: str | None = None) -> str | None:
    """The curl -H argument (shell-quoted) that sends this auth variant: with `token`, or $CONTRACT_TOKEN."""
    header, scheme = provider.auth_header, provider.auth_scheme
    if token is not None:
        value = credentials(auth, token, scheme)
        return None if value is None else shlex.quote(f"{header}: {value}")
    token = f"${{{TOKEN_ENV}}}"
    swapped = f'$(printf %s "{token}" | tr "[:lower:][:upper:]" "[:upper:][:lower:]")'
    expressions: dict[Auth, str | None] = {
        "valid": f'"{header}: {scheme} {token}"',
        "none": None,
        "empty": shlex.quote(f"{header}: {scheme}"),
        "scheme": f'"{header}: Token {token}"',
        "case": f'"{header}: {scheme} {swapped}"',
        "appended": f'"{header}: {scheme} {token}x"',
        "truncated": f'"{header}: {scheme} ${{{TOKEN_ENV}%?}}"',
        "wrong": shlex.quote(f"{header}: {scheme} {WRONG_TOKEN}"),
    }
    return expressions[auth]


def body_file(body: bytes, artifacts: Path, redact: Redactor = NO_SECRETS) -> Path:
    """Where a body too long or too strange to inline is kept (redacted: no output redacts a file), named by
    its digest (written once)."""
    body = redact.bytes(body)
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"body-{hashlib.sha256(body).hexdigest()[:16]}.bin"
    if not path.exists():
        path.write_bytes(body)
    return path


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def curl(
    record: Record, provider: Provider, artifacts: Path, replay: Replay | None = None, redact: Redactor = NO_SECRETS
) -> str:
    """A curl command that sends the same request, byte for byte (to `replay`'s address, if given)."""
    url = replay.url(record.url) if replay else record.url
    parts = ["curl", "-sS", "-i", "-X", shlex.quote(record.method), shlex.quote(url)]
    for name, value in record.headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    auth = auth_argument(record.auth, provider, replay.token if replay else None)
    if auth is not None:
        parts += ["-H", auth]
    if record.response_headers.get("content-encoding"):  # as the run read it: inflated (a gzip bomb's size shows)
        parts.append("--compressed")
    if record.body is not None:
        text = _inline(record.body)
        if text is not None:
            parts += ["--data-binary", shlex.quote(text)]
        else:
            parts += ["--data-binary", shlex.quote("@" + _shown_path(body_file(record.body, artifacts, redact)))]
    return " ".join(parts)


def _inline(body: bytes) -> str | None:
    """The body as a shell argument when it is short plain text that curl sends unchanged."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or len(text) > INLINE_BODY or not is_plain(text) or text.startswith("@"):
        return None
    return text


def describe(record: Record, redact: Redactor = NO_SECRETS) -> list[str]:
    """The request and the response, for people: headers that matter, bodies with escapes, clipped (redacted
    before they are clipped: a secret the cut ran through would no longer be found where the text leaves)."""
    headers = ", ".join(f"{k}: {v}" for k, v in record.headers.items())
    auth = "" if record.auth == "valid" else f" (auth: {record.auth})"
    response = show(record.response_body, cut=redact.clip)
    if record.truncated or record.response_size > len(record.response_body):
        response += (
            f" [cut: the body is {'over the size limit' if record.truncated else f'{record.response_size:,} bytes'}]"
        )
    return [
        f"request #{record.number}: {record.method} {record.url}{auth}",
        f"  headers: {headers or '(none)'}",
        f"  body: {show(record.body, cut=redact.clip)}",
        f"response: {record.status} {record.response_headers.get('content-type') or '(no Content-Type)'}",
        f"  body: {response}",
    ]


def explain(
    target: str,
    violations: Sequence[Violation],
    provider: Provider,
    artifacts: Path,
    reproduce: str,
    limit: int = 3,
    replay: Replay | None = None,
    redact: Redactor = NO_SECRETS,
) -> str:
    """A failure message: each violation with its clause, the exchange, how it was found, and a curl (bodies
    written to `artifacts` are redacted, and so are bodies before they are clipped; the message is redacted
    again where it leaves)."""
    lines = [f"[{target}] {len(violations)} contract violation(s):"]
    if replay and replay.setup:
        lines.append(f"to paste the curl commands below, first start: {replay.setup}")
    for index, violation in enumerate(violations[:limit], 1):
        lines += [
            "",
            f"{index}. {violation.check}: {violation.message}",
            f"   clause:   {violation.clause}",
            f"   case:     {violation.case.phase} / {violation.case.label} (expected {violation.case.expect.value})",
        ]
        if violation.note:
            lines.append(f"   found:    {violation.note}")
        if violation.sequence:
            lines.append("   after these requests (replay them in order first):")
            for number, step in enumerate(violation.sequence, 1):
                lines.append(f"     {number}. {step.method} {show(step.body, 200, redact.clip)}  -> {step.status}")
                lines.append(f"        {curl(step, provider, artifacts, replay, redact)}")
        lines += ["   " + line for line in describe(violation.record, redact)]
        lines.append(f"   curl:     {curl(violation.record, provider, artifacts, replay, redact)}")
    if len(violations) > limit:
        lines += ["", f"... and {len(violations) - limit} more of this check"]
    lines += ["", f"reproduce: {reproduce}"]
    return "\n".join(lines)


def summary_lines(result: RunResult) -> list[str]:
    """The per-check verdicts of one run, what it could not exercise, and what it observed."""
    lines = [f"{result.target}: seed {result.seed}, {result.requests} request(s)"]
    if result.setup_error:
        return [*lines, f"  could not run: {result.setup_error}"]
    by_status: dict[str, list[str]] = {}
    for verdict in result.verdicts():
        label = verdict.check if verdict.status in ("held", "broken") else f"{verdict.check} ({verdict.reason})"
        if verdict.status == "broken":
            label += f": {len(verdict.violations)} violation(s)"
        by_status.setdefault(verdict.status, []).append(label)
    for status in ("broken", "held", "not exercised", "not applicable"):
        if status in by_status:
            lines.append(f"  {status.upper() if status == 'broken' else status:14} " + ", ".join(by_status[status]))
    for item in result.not_exercised:
        lines.append(f"  not exercised  {item}")
    for note in result.observed:
        lines.append(f"  observed       {note} (allowed by the contract)")
    for note in result.notes:
        lines.append(f"  note           {note}")
    if result.aborted:
        lines.append(f"  STOPPED        {result.aborted}")
    return lines


def artifacts_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("CONTRACT_ARTIFACTS", "") or "chat-contracts-artifacts")
