"""README's snippets run: every Python block is a test module pytest runs as it stands, in a directory with no
conftest (the plugin installs itself); every `chat-contracts` command parses with the real command line."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from chat_contracts.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block, in order."""
    found, language, lines = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:].strip(), []
            else:
                found.append((language, "\n".join(lines) + "\n"))
                language = None
        elif language is not None:
            lines.append(line)
    return found


BLOCKS = blocks(README.read_text(encoding="utf-8"))
PYTHON = [code for language, code in BLOCKS if language == "python"]
SHELL = [line for language, code in BLOCKS if language in ("bash", "") for line in code.splitlines()]


def commands() -> list[str]:
    """Each `chat-contracts ...` command in README's shell blocks, continuation lines joined."""
    joined = "\n".join(SHELL).replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip().removeprefix("$ ")
        if "chat-contracts " in line and not line.startswith("#"):
            found.append(line[line.index("chat-contracts ") :].split("  #")[0].split(" && ")[0].split(" | ")[0])
    return found


def test_readme_has_snippets() -> None:
    assert len(PYTHON) >= 2 and len(commands()) >= 5 and len(workflow_commands()) >= 2


@pytest.mark.parametrize("number", range(len(PYTHON)))
def test_python_snippet_runs(pytester: pytest.Pytester, number: int) -> None:
    pytester.makepyfile(**{f"test_snippet_{number}": PYTHON[number]})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning")
    assert result.ret == 0, result.stdout.str()[-3000:]
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed")


def workflow_commands() -> list[str]:
    """The `chat-contracts ...` steps of the example workflow README points to."""
    workflow = yaml.safe_load((README.parent / "examples" / "github-workflow.yml").read_text(encoding="utf-8"))
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    return [" ".join(step["run"].split()) for step in steps if step.get("run", "").startswith("chat-contracts")]


@pytest.mark.parametrize("command", commands() + workflow_commands())
def test_shell_command_parses(command: str) -> None:
    for variable in ("$WHOP_URL", "$WHOP_CHAT_ID", "${{ matrix.provider }}"):
        command = command.replace(variable, "x")
    args = shlex.split(command)[1:]
    parsed = build_parser().parse_args(args)  # exits 2 on an option that does not exist
    assert parsed.command in {"verify", "serve", "lint", "drift", "faults", "checks"}
