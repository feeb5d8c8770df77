"""The pytest plugin every session loads (entry point `pytest11`): light, and quiet unless asked.

Its fixtures are used throughout tests/consumer and README's snippets; its suite options in tests/suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LIGHT = {  # what a session that uses nothing of ours may load: the options it declares, and no more
    "chat_contracts",
    "chat_contracts.core",
    "chat_contracts.core.errors",
    "chat_contracts.plugin",
    "chat_contracts.provider",
    "chat_contracts.provider.profiles",
    "chat_contracts.suite",
    "chat_contracts.suite.options",
}


def _modules_after(session_args: list[str], cwd: Path) -> set[str]:
    code = (
        "import json, sys, pytest\n"
        f"code = pytest.main({session_args!r})\n"
        "print(json.dumps([int(code), sorted(m for m in sys.modules if m.startswith('chat_contracts'))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stdout[-2000:]
    return set(modules)


def test_a_session_that_uses_nothing_of_ours_loads_only_the_options(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n", encoding="utf-8")
    loaded = _modules_after(["-q", "-p", "no:cacheprovider", "test_plain.py"], tmp_path)
    assert "chat_contracts.plugin" in loaded  # the oracle can see our modules: the plugin was loaded
    assert loaded <= LIGHT, sorted(loaded - LIGHT)


def test_a_fixture_loads_what_it_needs_when_used(tmp_path: Path) -> None:
    (tmp_path / "test_mock.py").write_text(
        "def test_mock(provider_mock):\n    assert provider_mock('whop').chat_id\n", encoding="utf-8"
    )
    loaded = _modules_after(["-q", "-p", "no:cacheprovider", "test_mock.py"], tmp_path)
    assert "chat_contracts.reference.mock" in loaded


@pytest.mark.parametrize("flag", ["--contract-provider=slack", "--contract-profile=huge"])
def test_a_choice_is_checked_though_the_registry_is_read_late(pytester: pytest.Pytester, flag: str) -> None:
    result = pytester.runpytest_inprocess(flag)
    assert result.ret == 4 and "invalid choice" in "\n".join(result.errlines)
