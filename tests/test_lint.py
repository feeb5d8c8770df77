"""`chat-contracts lint`: finds real defects, keeps known ones visible, fails cleanly on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chat_contracts.cli import main
from chat_contracts.documents import contracts_dir

WHOP_422_EXAMPLE = "/paths/~1ai_chats~1{id}/patch/responses/422/content/application~1json/example"


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _wilson() -> dict:
    return yaml.safe_load((contracts_dir() / "wilson.openapi.yaml").read_text(encoding="utf-8"))


def test_default_run_is_clean_but_shows_the_known_whop_defect(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    assert f"whop.openapi.yaml: example-invalid at {WHOP_422_EXAMPLE}" in out
    assert "None is not of type 'object'" in out and "[known:" in out
    assert "0 new finding(s), 1 known" in out


def test_without_baseline_the_whop_defect_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-baseline", str(contracts_dir() / "whop.openapi.yaml")]) == 1
    assert WHOP_422_EXAMPLE in capsys.readouterr().out


def test_a_new_example_defect_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _wilson()
    media = spec["paths"]["/chat/{chat_id}"]["patch"]["responses"]["200"]["content"]["application/json"]
    media["example"]["create_at"] = "2024-06-12T06:22:39Z"  # ISO, not RFC 1123
    assert main(["lint", str(_write(tmp_path, "wilson.openapi.yaml", spec))]) == 1
    out = capsys.readouterr().out
    assert "example-invalid at /paths/~1chat~1{chat_id}/patch/responses/200/content/application~1json/example" in out
    assert "'create_at'" in out and "http-date" in out


def test_schema_examples_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _wilson()
    spec["components"]["schemas"]["Chat"]["properties"]["archived"]["examples"] = [True, "no"]
    assert main(["lint", str(_write(tmp_path, "w.yaml", spec))]) == 1
    assert "/components/schemas/Chat/properties/archived/examples/1" in capsys.readouterr().out


def test_unresolved_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _wilson()
    spec["components"]["schemas"]["Member"]["anyOf"][0]["$ref"] = "#/components/schemas/Nope"
    assert main(["lint", str(_write(tmp_path, "w.yaml", spec))]) == 1
    assert "unresolved-ref at /components/schemas/Member/anyOf/0/$ref" in capsys.readouterr().out


def test_invalid_openapi_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _wilson()
    del spec["info"]["version"]
    assert main(["lint", str(_write(tmp_path, "w.yaml", spec))]) == 1
    assert 'openapi-invalid at /info: "version" is a required property\n' in capsys.readouterr().out


def test_not_openapi_31(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {}}
    assert main(["lint", str(_write(tmp_path, "old.yaml", spec))]) == 1
    assert "openapi-version" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("openapi: [\n", "not valid YAML or JSON at line 2"),
        ("title: hello\n", "not an OpenAPI document"),
    ],
    ids=["missing", "broken-yaml", "not-openapi"],
)
def test_bad_input_is_one_line_exit_2_without_traceback(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "spec.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "chat_contracts.cli", "lint", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"error: {path}: {message}" + run.stderr.split(message, 1)[1].rstrip()]
    assert message in run.stderr and "Traceback" not in run.stderr
