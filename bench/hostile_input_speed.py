"""How fast hostile input is dealt with: redaction of large texts, specs built to exhaust a parser or a validator.

    python bench/hostile_input_speed.py

Goals on a 2-core machine (exit 1 when one is missed): redaction of plain text >= 5 MB/s, of text dense with
escapes (one every 10 characters) >= 1 MB/s, of UTF-16 bytes >= 0.5 MB/s, of one long run of escapes
>= 1 MB/s; a billion-laughs YAML, 100,000 nested brackets and a 50 MB spec refused in under 1 s each; a
$ref fan-out spec (10^9 schema checks if validated) refused by lint in under 5 s. The tests check what is
refused and why; this script checks how fast.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from chat_contracts.core.documents import Document, DocumentError, parse_data
from chat_contracts.core.lint import lint_document
from chat_contracts.core.redact import Redactor

TOKEN = "cc_live_Zx81+Qp/7aBcDeFgHiJk"


def timed(what: Callable[[], object]) -> float:
    started = time.perf_counter()
    what()
    return time.perf_counter() - started


def refused(raw: bytes) -> Callable[[], None]:
    def parse() -> None:
        try:
            parse_data(raw, "spec.yaml")
        except DocumentError:
            return
        raise SystemExit("not refused")

    return parse


def main() -> int:
    redact = Redactor([TOKEN])
    plain = ("lorem ipsum dolor sit amet, " * 40_000)[:1_000_000]
    escaped = json.dumps({"k": [f"a\\/b%2Fc&amp;{i}" for i in range(60_000)]})[:1_000_000]
    utf16 = ("hello " * 170_000).encode("utf-16-le")[:1_000_000]
    results: list[tuple[str, float, float]] = []  # (what was measured, seconds, goal in seconds)
    for name, text in (("plain", plain), ("escaped", escaped)):
        seconds = timed(partial(redact, text))
        goal = 0.2 if name == "plain" else 1.0
        results.append((f"redaction, 1 MB {name} text: {len(text) / 1e6 / seconds:.1f} MB/s", seconds, goal))
    seconds = timed(lambda: redact.bytes(utf16))
    results.append((f"redaction, 1 MB UTF-16 bytes: {1 / seconds:.1f} MB/s", seconds, 2.0))
    backslashes = "%5c\\" * 200_000  # a run that every escape starting in it could rescan to its end
    seconds = timed(lambda: redact(backslashes))
    results.append((f"redaction, 1 MB run of backslashes, some URL-encoded: {1 / seconds:.1f} MB/s", seconds, 1.0))

    laughs = ["l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    laughs += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    for name, raw in (
        ("billion laughs", "\n".join(laughs).encode()),
        ("100,000 nested brackets", b"[" * 100_000 + b"]" * 100_000),
    ):
        seconds = timed(refused(raw))
        results.append((f"{name} refused in {seconds * 1000:.0f} ms", seconds, 1.0))

    with tempfile.TemporaryDirectory() as scratch:
        big = Path(scratch) / "big.yaml"
        with big.open("wb") as handle:
            handle.truncate(50 * 1024 * 1024)
        seconds = timed(lambda: refused_load(big))
        results.append((f"50 MB spec refused in {seconds * 1000:.1f} ms", seconds, 1.0))
        bomb = Path(scratch) / "fan-out.yaml"
        bomb.write_text(json.dumps(_fan_out(levels=9, width=10)))
        findings: list[str] = []
        seconds = timed(lambda: findings.extend(f.rule for f in lint_document(Document.load(bomb))))
        if findings != ["ref-expansion-too-large"]:
            raise SystemExit(f"the fan-out spec was not refused: {findings}")
        results.append((f"$ref fan-out (10^9 checks) refused by lint in {seconds:.2f} s", seconds, 5.0))

    missed = 0
    for line, seconds, goal in results:
        ok = seconds <= goal
        missed += not ok
        print(f"{'ok  ' if ok else 'SLOW'} {line} (goal: {goal} s)")
    return 1 if missed else 0


def refused_load(path: Path) -> None:
    try:
        Document.load(path)
    except DocumentError:
        return
    raise SystemExit("not refused")


def _fan_out(levels: int, width: int) -> dict[str, object]:
    schemas: dict[str, object] = {"L0": {"type": "string"}}
    for level in range(1, levels + 1):
        schemas[f"L{level}"] = {"allOf": [{"$ref": f"#/components/schemas/L{level - 1}"}] * width}
    ok = {"description": "ok", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/L{levels}"},
                                                                "example": "a"}}}  # fmt: skip
    return {"openapi": "3.1.0", "info": {"title": "fan-out", "version": "1"},
            "paths": {"/x": {"get": {"responses": {"200": ok}}}}, "components": {"schemas": schemas}}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
