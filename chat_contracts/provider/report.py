"""How a run is shown: violations explained, reproductions that paste and run, the per-check table.

Reproductions name the token through the environment (``"Authorization: Bearer $CONTRACT_TOKEN"``),
never its value; a body that is long or not plain text is written to a file beside the report and sent
with ``--data-binary @file``, so a pasted curl sends exactly the bytes the suite sent. Nothing here
redacts: the interfaces redact every string where it leaves the tool.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from chat_contracts.core.registry import Provider
from chat_contracts.core.text import is_plain, show
from chat_contracts.provider.cases import WRONG_TOKEN, Auth
from chat_contracts.provider.run import Record, Violation
from chat_contracts.provider.verify import RunResult

TOKEN_ENV = "CONTRACT_TOKEN"
INLINE_BODY = 600  # characters; a longer body goes to a file


def auth_argument(auth: Auth, provider: Provider) -> str | None:
    """The curl -H argument (shell-quoted) that sends this auth variant, the token taken from $CONTRACT_TOKEN."""
    header, scheme = provider.auth_header, provider.auth_scheme
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


def body_file(body: bytes, artifacts: Path) -> Path:
    """Where a body too long or too strange to inline is kept, named by its digest (written once)."""
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


def curl(record: Record, provider: Provider, artifacts: Path) -> str:
    """A curl command that sends the same request, byte for byte."""
    parts = ["curl", "-sS", "-i", "-X", shlex.quote(record.method), shlex.quote(record.url)]
    for name, value in record.headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    auth = auth_argument(record.auth, provider)
    if auth is not None:
        parts += ["-H", auth]
    if record.body is not None:
        text = _inline(record.body)
        if text is not None:
            parts += ["--data-binary", shlex.quote(text)]
        else:
            parts += ["--data-binary", shlex.quote("@" + _shown_path(body_file(record.body, artifacts)))]
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


def describe(record: Record) -> list[str]:
    """The request and the response, for people: headers that matter, bodies with escapes, clipped."""
    headers = ", ".join(f"{k}: {v}" for k, v in record.headers.items())
    auth = "" if record.auth == "valid" else f" (auth: {record.auth})"
    response = show(record.response_body)
    if record.truncated or record.response_size > len(record.response_body):
        response += (
            f" [cut: the body is {'over the size limit' if record.truncated else f'{record.response_size:,} bytes'}]"
        )
    return [
        f"request #{record.number}: {record.method} {record.url}{auth}",
        f"  headers: {headers or '(none)'}",
        f"  body: {show(record.body)}",
        f"response: {record.status} {record.response_headers.get('content-type') or '(no Content-Type)'}",
        f"  body: {response}",
    ]


def explain(
    target: str, violations: Sequence[Violation], provider: Provider, artifacts: Path, reproduce: str, limit: int = 3
) -> str:
    """A failure message: each violation with its clause, the exchange, how it was found, and a curl."""
    lines = [f"[{target}] {len(violations)} contract violation(s):"]
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
                lines.append(f"     {number}. {step.method} {show(step.body, 200)}  -> {step.status}")
                lines.append(f"        {curl(step, provider, artifacts)}")
        lines += ["   " + line for line in describe(violation.record)]
        lines.append(f"   curl:     {curl(violation.record, provider, artifacts)}")
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


def reproduce_line(command: Sequence[str], selection: str) -> str:
    """The command that runs the same suite again, narrowed to one provider and check (no secret in it)."""
    return " ".join(shlex.quote(part) for part in [*command, "-k", selection])


def artifacts_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("CONTRACT_ARTIFACTS", "") or "chat-contracts-artifacts")
