"""The contract suite runs once per target: both mocks by default, or the one live provider."""

from __future__ import annotations

import pytest

from chat_contracts.verify import GROUPS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target_name" in metafunc.fixturenames:
        from chat_contracts.pytest_plugin import _SUITE

        names = list(metafunc.config.stash[_SUITE].targets)
        metafunc.parametrize("target_name", names, scope="session")
    if "group" in metafunc.fixturenames:
        metafunc.parametrize("group", GROUPS)
