"""`chat-contracts lint`: finds real defects, keeps known ones visible, reports what a spec names outside
itself without opening it, and fails cleanly (one line, exit 2) on input it cannot read."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from chat_contracts.cli import main
from chat_contracts.core.documents import contracts_dir
from tests.conftest import CountingServer

WHOP_422_EXAMPLE = "/paths/~1ai_chats~1{id}/patch/responses/422/content/application~1json/example"
SECRET = "THE-SECRET-CONTENT-c41d"


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


_WILSON: dict[str, Any] = yaml.safe_load((contracts_dir() / "wilson.openapi.yaml").read_text(encoding="utf-8"))


def _wilson(change: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
    spec = copy.deepcopy(_WILSON)
    if change is not None:
        change(spec)
    return spec


def _lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_run_is_clean_but_shows_the_known_whop_defect(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _lint(capsys)
    assert code == 0
    assert f"whop.openapi.yaml: example-invalid at {WHOP_422_EXAMPLE}" in out
    assert "None is not of type 'object'" in out and "[known:" in out
    assert "0 new finding(s), 1 known" in out


def test_without_baseline_the_whop_defect_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _lint(capsys, "--no-baseline", str(contracts_dir() / "whop.openapi.yaml"))
    assert code == 1 and WHOP_422_EXAMPLE in out


def test_a_provider_name_stands_for_its_shipped_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # another repository: no contracts/ here
    code, out, _ = _lint(capsys, "--no-baseline", "whop")
    assert code == 1 and WHOP_422_EXAMPLE in out and out.splitlines()[-1] == "1 document(s): 1 new finding(s), 0 known"


def test_a_new_example_defect_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def iso_date(spec: dict[str, Any]) -> None:
        media = spec["paths"]["/chat/{chat_id}"]["patch"]["responses"]["200"]["content"]["application/json"]
        media["example"]["create_at"] = "2024-06-12T06:22:39Z"  # ISO, not RFC 1123

    code, out, _ = _lint(capsys, str(_write(tmp_path, "wilson.openapi.yaml", _wilson(iso_date))))
    assert code == 1
    assert "example-invalid at /paths/~1chat~1{chat_id}/patch/responses/200/content/application~1json/example" in out
    assert "'create_at'" in out and "http-date" in out


def test_schema_examples_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _wilson(lambda s: s["components"]["schemas"]["Chat"]["properties"]["archived"].update(examples=[True, "no"]))
    code, out, _ = _lint(capsys, str(_write(tmp_path, "w.yaml", spec)))
    assert code == 1 and "/components/schemas/Chat/properties/archived/examples/1" in out


def test_unresolved_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _wilson(
        lambda s: s["components"]["schemas"]["Member"]["anyOf"][0].update({"$ref": "#/components/schemas/No"})
    )
    code, out, _ = _lint(capsys, str(_write(tmp_path, "w.yaml", spec)))
    assert code == 1 and "unresolved-ref at /components/schemas/Member/anyOf/0/$ref" in out


def test_invalid_openapi_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _lint(capsys, str(_write(tmp_path, "w.yaml", _wilson(lambda s: s["info"].pop("version")))))
    assert code == 1
    assert 'openapi-invalid at /info: "version" is a required property\n' in out


def test_not_openapi_31(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {}}
    code, out, _ = _lint(capsys, str(_write(tmp_path, "old.yaml", spec)))
    assert code == 1 and "openapi-version" in out


# --- what a spec names outside itself is reported, never opened ----------------------------------------


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "private" / "secret.yaml"
    path.parent.mkdir()
    path.write_text(f"type: object\ndescription: {SECRET}\n", encoding="utf-8")
    return path


def test_external_refs_are_findings_and_never_fetched(
    tmp_path: Path, counting_server: CountingServer, secret_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refs(spec: dict[str, Any]) -> None:
        schemas = spec["components"]["schemas"]
        schemas["Remote"] = {"$ref": f"{counting_server.url}/remote.yaml"}
        schemas["File"] = {"$ref": secret_file.as_uri()}
        schemas["Relative"] = {"$ref": "../private/secret.yaml#/description"}
        title = schemas["Chat"]["properties"]["title"]
        title["default"] = {"$ref": f"{counting_server.url}/default.yaml"}
        title["example"] = {"$ref": f"{counting_server.url}/example.yaml"}
        media = spec["paths"]["/chat/{chat_id}"]["patch"]["responses"]["200"]["content"]["application/json"]
        media["examples"] = {"remote": {"$ref": f"{counting_server.url}/examples.yaml"}}

    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    code, out, err = _lint(capsys, "--no-baseline", str(_write(spec_dir, "w.yaml", _wilson(refs))))
    assert code == 1 and err == ""
    found = {line.split(" at ")[1].split(":")[0] for line in out.splitlines() if ": external-ref at " in line}
    title = "/components/schemas/Chat/properties/title"
    assert found == {
        "/components/schemas/Remote/$ref",
        "/components/schemas/File/$ref",
        "/components/schemas/Relative/$ref",
        f"{title}/default/$ref",
        f"{title}/example/$ref",
        "/paths/~1chat~1{chat_id}/patch/responses/200/content/application~1json/examples/remote/$ref",
    }
    assert "external reference not followed" in out
    assert counting_server.requests == []
    assert SECRET not in out + err and "FETCHED_FROM_THE_NETWORK" not in out + err


def test_unknown_schema_dialects_are_reported_once_each_and_not_fetched(
    tmp_path: Path, counting_server: CountingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _wilson(lambda s: s.update(jsonSchemaDialect=f"{counting_server.url}/dialect"))
    spec["components"]["schemas"]["Chat"]["$schema"] = f"{counting_server.url}/meta"
    code, out, _ = _lint(capsys, str(_write(tmp_path, "w.yaml", spec)))
    assert code == 1 and out.count("Unknown JSON Schema dialect") == 2
    assert out.count(f"'{counting_server.url}/dialect'") == 1 and out.count(f"'{counting_server.url}/meta'") == 1
    assert counting_server.requests == []


# --- input it cannot read: one line, exit 2 ---------------------------------------------------------


def _laughs() -> str:
    lines = ["openapi: 3.1.0", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


UNREADABLE: dict[str, tuple[str | bytes | None, str]] = {
    "missing": (None, "no such file"),
    "billion-laughs": (_laughs(), "a 'billion laughs' document?"),
    "recursive": ("openapi: 3.1.0\npaths: &p {x: *p}\n", "a YAML alias refers to itself"),
    "deep": ("openapi: 3.1.0\nx: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    "deep-anchored": ("openapi: &v 3.1.0\nx: " + "[" * 5_000 + "]" * 5_000 + "\n", "nested too deeply"),
    "not-yaml": ("openapi: [\n", "not valid YAML or JSON at line 2"),
    "not-utf8": (b"openapi: \xff\xfe\n", "not UTF-8 text"),
    "not-openapi": ("title: hello\n", "not an OpenAPI document"),
    "a-list": ("- openapi\n- 3.1.0\n", "not an OpenAPI document"),
    "version-a-number": ("openapi: 3.1\npaths: {}\n", "not an OpenAPI document"),
    "version-a-list": ("openapi: [3, 1]\n", "not an OpenAPI document"),
    "binary-tag": ("openapi: 3.1.0\nx: !!binary aGVsbG8=\n", "a YAML-only value (!!binary)"),
    "huge-integer": ("openapi: 3.1.0\nx: " + "9" * 5_000 + "\n", "a value cannot be read"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    content, words = UNREADABLE[case]
    path = tmp_path / "spec.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    code, _out, err = _lint(capsys, str(path))
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {path}: ") and words in err, err
    assert "Traceback" not in err


def test_oversized_spec_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    code, _out, err = _lint(capsys, str(path))
    assert code == 2 and err == f"error: {path}: 50.0 MB, over the 10.0 MB limit for a document\n"


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_not_a_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    path = tmp_path / "spec.yaml"
    path.mkdir() if kind == "directory" else os.mkfifo(path)
    code, _out, err = _lint(capsys, str(path))
    assert code == 2 and err == f"error: {path}: not a file\n"


def test_one_unreadable_spec_among_good_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [\n", encoding="utf-8")
    code, out, err = _lint(capsys, str(contracts_dir() / "wilson.openapi.yaml"), str(bad))
    assert code == 2 and len(err.splitlines()) == 1
    assert out.splitlines()[-1] == "1 document(s): 0 new finding(s), 0 known; 1 could not be read"


# Structurally wrong specs are findings (exit 1), never a crash of the validators behind lint.
WRONG_SHAPES: dict[str, Callable[[dict[str, Any]], object]] = {
    "paths-a-list": lambda s: s.update(paths=[1]),
    "path-item-a-number": lambda s: s["paths"].update({"/x": 5}),
    "schemas-a-list": lambda s: s["components"].update(schemas=[1, 2]),
    "properties-a-list": lambda s: s["components"]["schemas"]["Chat"].update(properties=[1]),
    "required-a-number": lambda s: s["components"]["schemas"]["Chat"].update(required=5),
    "examples-a-list": lambda s: s["paths"]["/chat/{chat_id}"]["patch"]["responses"]["200"]["content"][
        "application/json"
    ].update(examples=[1, 2]),
    "pattern-not-a-regex": lambda s: s["components"]["schemas"]["ObjectId"].update(pattern="(", example="x"),
    "ref-a-number": lambda s: s["components"]["schemas"].update(X={"$ref": 5}),
    "ref-to-itself": lambda s: s["components"]["schemas"].update(X={"$ref": "#/components/schemas/X", "example": 1}),
}


@pytest.mark.parametrize("case", list(WRONG_SHAPES))
def test_wrong_shapes_are_findings_not_crashes(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    code, out, err = _lint(capsys, "--no-baseline", str(_write(tmp_path, "w.yaml", _wilson(WRONG_SHAPES[case]))))
    assert code == 1 and err == ""
    assert "w.yaml: openapi-invalid at " in out or "w.yaml: unresolved-ref at " in out


# --- the baseline ------------------------------------------------------------------------------------

BROKEN_BASELINES = {
    "not-yaml": ("- spec: [\n", "not valid YAML or JSON"),
    "not-a-list": ("spec: whop.openapi.yaml\n", "a baseline is a list"),
    "entry-without-reason": ("- {spec: a, rule: b, pointer: c}\n", "entry 1 needs spec, rule, pointer and reason"),
    "entry-a-string": ("- whop.openapi.yaml\n", "entry 1 needs"),
    "billion-laughs": (_laughs().replace("openapi: 3.1.0\n", ""), "billion laughs"),
    "missing": (None, "no such file"),
}


@pytest.mark.parametrize("case", list(BROKEN_BASELINES))
def test_a_broken_baseline_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    content, words = BROKEN_BASELINES[case]
    baseline = tmp_path / "broken.yaml"
    if content is not None:
        baseline.write_text(content, encoding="utf-8")
    code, out, err = _lint(capsys, "--baseline", str(baseline))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {baseline}: ") and words in err, err


# --- bounded work: $refs that fan out and regexes that backtrack are findings, never hours ---------------


def _fan_out(shape: str, levels: int = 9) -> dict[str, Any]:
    """A few KB in which S<n> applies ten `$ref`s to S<n-1>: checking it takes 10**levels schema checks (for
    `unevaluated`, one `$ref` whose `unevaluatedProperties` makes jsonschema validate it again: 2.6**levels)."""
    schemas: dict[str, Any] = {"S0": {"type": "object", "example": {}}}
    for n in range(1, levels + 1):
        refs = [{"$ref": f"#/components/schemas/S{n - 1}"} for _ in range(10)]
        schemas[f"S{n}"] = {
            "allOf": {"allOf": refs, "example": {}},  # the structural walk and every example
            "items": {"items": {"allOf": refs}},  # the walk, which collects properties through `items`
            "properties": {"properties": {"a": {"allOf": refs}}},  # an example as deep as the fan-out
            "default": {"properties": {"a": {"allOf": refs}}},  # a default as deep: checked by the walk
            "unevaluated": {"allOf": refs[:1], "unevaluatedProperties": False},
        }[shape]
    deep: Any = [] if shape == "items" else {}
    for _ in range(levels):
        deep = [deep] if shape == "items" else {"a": deep}
    schemas[f"S{levels}"]["default" if shape == "default" else "example"] = deep
    return {"openapi": "3.1.0", "info": {"title": shape, "version": "1"}, "components": {"schemas": schemas}}


FAN_OUTS = {"allOf": 9, "items": 9, "properties": 9, "default": 9, "unevaluated": 20}


@pytest.mark.parametrize("shape", list(FAN_OUTS))
def test_a_ref_fan_out_is_one_finding_not_hours(tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str) -> None:
    bomb = _write(tmp_path, "bomb.yaml", _fan_out(shape, FAN_OUTS[shape]))
    modest = _fan_out("allOf", levels=3)  # a thousand checks: still checked
    modest["components"]["schemas"]["S3"]["example"] = 5
    code, out, err = _lint(capsys, "--no-baseline", str(bomb), str(_write(tmp_path, "modest.yaml", modest)))
    assert code == 1 and err == ""
    bomb_line, modest_line, summary = out.splitlines()
    assert bomb_line.startswith("bomb.yaml: ref-expansion-too-large at /components/schemas/S")
    assert bomb_line.endswith(
        ": validating reaches 500,000 schema checks here ($refs that fan out?): "
        "the structural walk and the example checks are skipped"
    )
    assert (
        modest_line
        == "modest.yaml: example-invalid at /components/schemas/S3/example: (root): 5 is not of type 'object'"
    )
    assert summary == "2 document(s): 2 new finding(s), 0 known"


def test_catastrophic_patterns_are_warnings_and_the_checks_run_without_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attack = "a" * 35 + "!"  # hours of backtracking for each pattern below, which Python's `re` would try
    spec = _wilson()
    spec["components"]["schemas"].update(
        R={"type": "string", "pattern": "^(a+)+$", "example": attack},
        D={"type": "string", "pattern": r"^(\w+\s?)+$", "default": attack},  # checked by the structural walk
        P={"type": "object", "patternProperties": {"^([a-z]+-?)+$": {"type": "integer"}}, "example": {attack: 1}},
        B={"type": "string", "pattern": r"^(\d+){1,40}$", "example": "1" * 34 + "!"},  # bounded, still 2^34 ways
        # Repetitions of repetitions with one way to split: slugs, host names, paths. Still checked.
        Slug={"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "examples": ["chat-42", "Not-A-Slug"]},
        Host={"type": "string", "pattern": r"^([a-z0-9-]+\.)+[a-z]{2,}$", "example": "api.wilson.example"},
        Path={"type": "string", "pattern": "^(/[^/]+)+$", "example": "/chat/42"},
    )
    code, out, err = _lint(capsys, "--no-baseline", str(_write(tmp_path, "w.yaml", spec)))
    assert code == 1 and err == ""
    found = [line.split(": ")[1] for line in out.splitlines()[:-1]]
    assert found == [
        "example-invalid at /components/schemas/Slug/examples/1",
        "pattern-catastrophic at /components/schemas/B/pattern",
        "pattern-catastrophic at /components/schemas/D/pattern",
        "pattern-catastrophic at /components/schemas/P/patternProperties/^([a-z]+-?)+$",
        "pattern-catastrophic at /components/schemas/R/pattern",
    ]
    assert "a repetition of a repetition, like (a+)+: it may backtrack for hours, so lint checks without it" in out
    assert out.count("[warning: does not fail lint]") == 4
    assert out.splitlines()[-1] == "1 document(s): 1 new finding(s), 0 known, 4 warning(s)"

    del spec["components"]["schemas"]["Slug"]  # only warnings left: lint passes
    code, out, _ = _lint(capsys, "--no-baseline", str(_write(tmp_path, "w.yaml", spec)))
    assert code == 0 and out.splitlines()[-1] == "1 document(s): 0 new finding(s), 0 known, 4 warning(s)"
