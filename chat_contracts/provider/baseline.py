"""Known violations: a baseline file lets a team gate CI on *new* violations of a provider it cannot fix.

A violation is known when its provider, check and clause are listed. Known violations are still
reported, marked as known; only the others fail a run. `--contract-write-baseline FILE` records a
run's violations; committing that file and passing it back with `--contract-baseline FILE` makes the
next runs fail only on what is new.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from chat_contracts.core.documents import parse_data, read_bounded
from chat_contracts.core.errors import DocumentError
from chat_contracts.provider.run import Violation

Key = tuple[str, str, str]  # provider, check, clause
HEADER = (
    "# chat-contracts baseline: violations known and accepted for now. A run given this file with\n"
    "# --contract-baseline reports them as known and fails only on others. Entries: provider, check, clause.\n"
)


def key(provider: str, violation: Violation) -> Key:
    return provider, violation.check, violation.clause


def load(path: Path) -> set[Key]:
    """The keys listed in a baseline file; DocumentError (one line) when it is not one."""
    data = parse_data(read_bounded(path, 1024 * 1024), str(path))
    if data is None:
        return set()
    if not isinstance(data, list):
        raise DocumentError(f"{path}: a baseline is a list of {{provider, check, clause}} entries")
    keys = set()
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("provider", "check", "clause")
        ):
            raise DocumentError(f"{path}: entry {index + 1} needs provider, check and clause, each a string")
        keys.add((entry["provider"], entry["check"], entry["clause"]))
    return keys


def dump(keys: Iterable[Key]) -> str:
    entries = [{"provider": p, "check": c, "clause": clause} for p, c, clause in sorted(set(keys))]
    return HEADER + (yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=200) if entries else "[]\n")
