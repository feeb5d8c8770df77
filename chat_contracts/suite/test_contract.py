"""The contract suite: does the implementation honour its documented contract?

One row per provider and check (`test_contract[whop-field_applied]`), the same names with and without
pytest-xdist. The provider's run happens once, on its first row; each row then reports its check's
verdict. Run it against the built-in mocks (no options) or a live provider (README: "Running against
a live provider"): `pytest --pyargs chat_contracts.suite --contract-provider whop --contract-base-url ...`.
"""

from __future__ import annotations

import pytest

from chat_contracts.suite.plugin import plugin_for, rows, suite_config


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"target_name", "row"} <= set(metafunc.fixturenames):
        suite = suite_config(metafunc.config)
        params = [(name, row) for name in suite.targets for row in rows(suite)]
        metafunc.parametrize(("target_name", "row"), params, ids=[f"{name}-{row}" for name, row in params])


def test_contract(request: pytest.FixtureRequest, target_name: str, row: str) -> None:
    plugin_for(request.config).judge(request.node, target_name, row)
