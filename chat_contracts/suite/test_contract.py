"""The contract suite: does the implementation honour its documented contract?

One test per provider and case group (positive, semantics, negative, auth, unknown-id, generated...);
every exchange in a group is judged by every check in chat_contracts.checks. Run it against the
built-in mocks (no options) or a live provider (see README: "Running against a live provider").
"""

from __future__ import annotations

import pytest

from chat_contracts.session import RunAbortedError
from chat_contracts.verify import explain


def test_contract(contract_suite, target_name: str, group: str) -> None:
    run = contract_suite.run_for(target_name)
    try:
        result = run.run_group(group)
    except RunAbortedError as exc:  # rate-limited, unreachable, out of requests: not a verdict, not a pass
        pytest.fail(f"[{target_name}] {exc}", pytrace=False)
    if result.violations:
        reproduce = contract_suite.reproduce(f"{target_name}-{group}")
        pytest.fail(explain(target_name, result.violations, reproduce), pytrace=False)
