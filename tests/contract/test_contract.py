"""The contract suite: does the implementation honour its documented contract?

One test per provider and case group (positive, semantics, negative, auth, unknown-id, generated...);
every exchange in a group is judged by every check in chat_contracts.checks. Run it against the
built-in mocks (no options) or a live provider (see README: "Running against a live provider").
"""

from __future__ import annotations

import pytest

from chat_contracts.verify import explain


def test_contract(contract_suite, target_name: str, group: str, request: pytest.FixtureRequest) -> None:
    run = contract_suite.run_for(target_name)
    result = run.run_group(group)
    if result.violations:
        reproduce = contract_suite.reproduce(f"{target_name}-{group}")
        pytest.fail(explain(target_name, result.violations, reproduce), pytrace=False)
