"""Reading documents from strangers: bounded in size, expansion and depth, JSON's data model, and never a
file or a URL that a document names."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import referencing.exceptions

from chat_contracts.core.documents import (
    MAX_BYTES,
    Document,
    DocumentError,
    external_refs,
    parse_data,
    pointer,
    resolve_pointer,
)
from chat_contracts.core.errors import ChatContractsError
from chat_contracts.core.schema import shape
from tests.conftest import CountingServer


def _refused(raw: bytes, source: str = "spec.yaml") -> tuple[str, float, int]:
    """Parse `raw`, which must be refused: (the one-line message, seconds taken, peak bytes allocated)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DocumentError) as refused:
            parse_data(raw, source)
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    message = str(refused.value)
    assert message.startswith(f"{source}: ") and "\n" not in message
    return message, seconds, peak


def _billion_laughs(levels: int = 9, width: int = 10) -> bytes:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return ("\n".join(lines) + "\n").encode()


def test_billion_laughs_is_refused_in_milliseconds() -> None:
    raw = _billion_laughs()  # 10**9 strings once expanded, under 1 KB on disk
    message, seconds, peak = _refused(raw)
    print(f"billion laughs ({len(raw)} bytes): refused in {seconds * 1000:.1f} ms, peak {peak / 1024:.0f} KiB")
    assert "billion laughs" in message and "2,000,000 nodes" in message
    assert peak < 20 * 1024 * 1024  # refused by counting nodes, before anything is built (speed: bench/)


def test_a_modest_alias_graph_still_reads() -> None:
    data = parse_data(_billion_laughs(levels=3, width=3), "ok.yaml")
    assert data["l3"][0][0][0] == ["lol", "lol", "lol"]


@pytest.mark.parametrize(
    "raw",
    [b"a: &a [*a]\n", b"&a {x: *a}\n", b"a: &a\n  b: *a\n", b"a: &a [1, [2, [3, *a]]]\n"],
    ids=["list", "flow-map", "block-map", "nested"],
)
def test_a_recursive_alias_is_refused(raw: bytes) -> None:
    message, _, _ = _refused(raw)
    assert "refers to itself" in message


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # JSON
        (b"x: " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # YAML flow
        (b"x: &a " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # YAML with an anchor
        ("".join("  " * i + "-\n" for i in range(2_000)).encode(), "nested"),  # YAML block, 2,000 levels
        (b"[" * 300 + b"]" * 300, "nested more than 200 levels deep"),  # deep, but within the parsers' limits
        (b'{"a":' * 300 + b"1" + b"}" * 300, "nested more than 200 levels deep"),
    ],
    ids=["json-100k", "yaml-flow-100k", "yaml-anchor-100k", "yaml-block-2k", "json-list-300", "json-map-300"],
)
def test_deep_nesting_is_refused_without_a_recursion_error(raw: bytes, words: str) -> None:
    message, seconds, _ = _refused(raw)
    print(f"{len(raw):,} bytes nested: refused in {seconds * 1000:.1f} ms ({message})")
    assert words in message


def test_an_oversized_spec_is_refused_by_its_size_before_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.openapi.yaml"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    started = time.perf_counter()
    with pytest.raises(DocumentError) as refused:
        Document.load(big)
    seconds = time.perf_counter() - started
    print(f"50 MB spec refused in {seconds * 1000:.2f} ms, opened {len(opened)} times")
    assert str(refused.value) == f"{big}: 50.0 MB, over the 10.0 MB limit for a document"
    assert opened == []  # refused by its size, unread


def test_oversized_bytes_are_refused_before_parsing() -> None:
    message, _, _ = _refused(b"a" * (MAX_BYTES + 1))
    assert "over the 10.0 MB limit" in message


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError, match="not a file"):
        Document.load(fifo)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"openapi: [\n", "not valid YAML or JSON at line 2"),
        (b"\xff\xfe\x00o", "not UTF-8 text"),
        (b"a: " + b"9" * 5_000 + b"\n", "a value cannot be read"),
        (b'{"a": ' + b"9" * 5_000 + b"}", "a value cannot be read"),
        (b"a: !!binary aGVsbG8=\n", "YAML-only value (!!binary)"),
        (b"a: !!set {x, y}\n", "YAML-only value (!!set)"),
        (b"a: !!timestamp 2024-06-12\n", "YAML-only value (!!timestamp)"),
        (b"!!python/object/apply:os.system [echo hi]\n", "not valid YAML or JSON"),
        (b"true: 1\n", "a mapping key True is not a string"),
        (b"1.5: x\n", "a mapping key 1.5 is not a string"),
    ],
    ids=[
        "broken",
        "not-utf8",
        "yaml-bigint",
        "json-bigint",
        "binary",
        "set",
        "timestamp",
        "python-tag",
        "bool-key",
        "float-key",
    ],
)
def test_what_json_cannot_hold_is_one_line(raw: bytes, words: str) -> None:
    message, _, _ = _refused(raw)
    assert words in message


def test_yaml_reads_as_json_would() -> None:
    raw = b"""
responses:
  201: created
  4XX: client error
on: true
answers: [yes, no, on, off, y, n]
version: 012
clock: 1:30
dated: 2024-06-12
stamped: 2024-06-12T06:22:39Z
big: 1e3
hex: 0x1F
none: ~
merged: {<<: {a: 1}, b: 2}
"""
    data = parse_data(raw, "spec.yaml")
    assert data["responses"] == {"201": "created", "4XX": "client error"}
    assert data["on"] is True
    assert data["answers"] == ["yes", "no", "on", "off", "y", "n"]
    assert (data["version"], data["clock"]) == (12, "1:30")
    assert (data["dated"], data["stamped"]) == ("2024-06-12", "2024-06-12T06:22:39Z")
    assert (data["big"], data["hex"], data["none"]) == (1000.0, 31, None)
    assert data["merged"] == {"a": 1, "b": 2}


def test_the_contracts_read_the_same_with_and_without_anchors() -> None:
    anchored = parse_data(b"a: &x {k: [1, on, 2024-01-01]}\nb: *x\n", "anchored.yaml")
    plain = parse_data(b"a: {k: [1, on, 2024-01-01]}\nb: {k: [1, on, 2024-01-01]}\n", "plain.yaml")
    assert anchored == plain == {"a": {"k": [1, "on", "2024-01-01"]}, "b": {"k": [1, "on", "2024-01-01"]}}


def test_not_an_openapi_document() -> None:
    for raw in (b"title: hello\n", b"- a\n", b"openapi: 3.1\n", b""):
        with pytest.raises(DocumentError, match="not an OpenAPI document"):
            Document.parse(raw, "x.yaml")


# --- references ------------------------------------------------------------------------------------


def _spec_with_refs(server: CountingServer, secret: Path) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "Url": {"$ref": f"{server.url}/schema.json"},
                "File": {"$ref": secret.as_uri()},
                "Relative": {"$ref": f"../{secret.parent.name}/{secret.name}"},
                "Fragment": {"$ref": f"{secret.name}#/a"},
                "Uses": {"type": "object", "properties": {"u": {"$ref": "#/components/schemas/Url"}}},
                "Example": {"type": "string", "example": {"$ref": f"{server.url}/example.json"}},
                "Default": {"type": "string", "default": {"$ref": f"{server.url}/default.json"}},
                "Local": {"type": "string"},
            }
        },
    }


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.yaml"
    path.write_text("a: THE-SECRET-CONTENT-7f3a\n", encoding="utf-8")
    return path


def test_external_refs_are_never_opened(
    counting_server: CountingServer, secret_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = Document(_spec_with_refs(counting_server, secret_file), "spec.yaml")
    schemas = document.data["components"]["schemas"]
    messages = []
    for name in ("Url", "File", "Relative", "Fragment"):
        with pytest.raises(DocumentError) as refused:
            document.deref(schemas[name])
        messages.append(str(refused.value))
        assert "external reference" in str(refused.value) and "not followed" in str(refused.value)
        with pytest.raises(ChatContractsError):
            shape(document, schemas[name], pointer("components", "schemas", name))
    with pytest.raises(referencing.exceptions.Unresolvable):  # jsonschema has no way to fetch it
        document.errors({"u": 1}, "/components/schemas/Uses")
    assert document.deref(schemas["Local"]) == {"type": "string"}
    assert counting_server.requests == []
    output = capsys.readouterr()
    assert "THE-SECRET-CONTENT" not in output.out + output.err + "".join(messages)


def test_external_refs_are_listed_wherever_they_stand(counting_server: CountingServer, secret_file: Path) -> None:
    found = dict(external_refs(_spec_with_refs(counting_server, secret_file)))
    base = "/components/schemas/"
    assert set(found) == {
        base + "Url/$ref",
        base + "File/$ref",
        base + "Relative/$ref",
        base + "Fragment/$ref",
        base + "Example/example/$ref",
        base + "Default/default/$ref",
    }
    assert counting_server.requests == []


def test_ref_cycles_and_dangling_refs_are_one_line() -> None:
    document = Document(
        {"openapi": "3.1.0", "a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}, "c": {"$ref": "#/nope"}}, "spec.yaml"
    )
    with pytest.raises(DocumentError, match=r"\$ref cycle"):
        document.deref(document.data["a"])
    with pytest.raises(DocumentError, match="points at nothing"):
        document.deref(document.data["c"])


def test_pointers_round_trip() -> None:
    data = {"paths": {"/a/{id}": {"patch": [0, {"~x": 1}]}}}
    at = pointer("paths", "/a/{id}", "patch", 1, "~x")
    assert at == "/paths/~1a~1{id}/patch/1/~0x"
    assert resolve_pointer(data, at) == 1 and resolve_pointer(data, "#" + at) == 1
    for missing in ("/paths/nope", "/paths/~1a~1{id}/patch/2", "/paths/~1a~1{id}/patch/x"):
        with pytest.raises(KeyError):
            resolve_pointer(data, missing)
