"""Drift over time: what a run observed that the previous run did not, and what it no longer sees.

A nightly job reads the report of the night before (its PATH.json) and says what changed since:
new undocumented fields, enum values, statuses and headers, and those that disappeared, instead of
everything again. The previous report is data from an earlier run, read bounded like any document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chat_contracts.core.documents import parse_data, read_bounded
from chat_contracts.core.errors import DocumentError

KINDS = {  # key in the report -> how the Markdown names it
    "undocumented_fields": "undocumented fields",
    "enum_values": "undocumented enum values",
    "undocumented_statuses": "undocumented statuses",
    "undocumented_headers": "undocumented headers",
}


def load_previous(path: Path) -> dict[str, Any]:
    """A previous run's PATH.json; DocumentError (one line) when it is not one."""
    data = parse_data(read_bounded(path), str(path))
    if not isinstance(data, dict) or not all(isinstance(data.get(k), dict) for k in _REPORT_KEYS):
        raise DocumentError(f"{path}: not a drift report (the PATH.json that --drift-report writes)")
    for name, enum in data["enums"].items():
        if not isinstance(enum, dict) or not isinstance(enum.get("undocumented", []), list):
            raise DocumentError(f"{path}: enums.{name} is not a drift report's enum entry")
    return data


_REPORT_KEYS = ("undocumented_fields", "undocumented_statuses", "undocumented_headers", "enums")


def facts(report: dict[str, Any]) -> dict[str, set[str]]:
    """What a report saw, per kind, as comparable strings (an enum value is `field=value`)."""
    enum_values = {
        f"{name}={value}" for name, enum in report.get("enums", {}).items() for value in enum.get("undocumented") or []
    }
    return {
        "undocumented_fields": set(map(str, report.get("undocumented_fields", {}))),
        "enum_values": enum_values,
        "undocumented_statuses": set(map(str, report.get("undocumented_statuses", {}))),
        "undocumented_headers": set(map(str, report.get("undocumented_headers", {}))),
    }


def since(previous_path: Path, current: dict[str, Any]) -> dict[str, Any]:
    """What changed since the report at `previous_path`; on a first run (no such file yet), nothing, said so."""
    if not previous_path.exists():
        nothing: dict[str, list[str]] = {kind: [] for kind in KINDS}
        return {"previous": str(previous_path), "first_run": True, "new": nothing, "gone": dict(nothing)}
    return changes(load_previous(previous_path), current, previous_path)


def changes(previous: dict[str, Any], current: dict[str, Any], previous_path: Path) -> dict[str, Any]:
    """{"previous": path, "new": {kind: [...]}, "gone": {kind: [...]}}, each list sorted."""
    if previous.get("provider") not in (None, current.get("provider")):
        raise DocumentError(
            f"{previous_path}: a drift report for {previous.get('provider')!r}, not {current.get('provider')!r}"
        )
    before, now = facts(previous), facts(current)
    return {
        "previous": str(previous_path),
        "new": {kind: sorted(now[kind] - before[kind], key=_order) for kind in KINDS},
        "gone": {kind: sorted(before[kind] - now[kind], key=_order) for kind in KINDS},
    }


def _order(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def markdown(since: dict[str, Any]) -> list[str]:
    """The "Since the last run" section of the Markdown report."""
    if since.get("first_run"):
        return ["", "## Since the last run", "", f"No report at `{since['previous']}` yet: the next run compares."]
    lines = ["", "## Since the last run", "", f"Compared with `{since['previous']}`.", ""]
    nothing = True
    for direction, title in (("new", "New"), ("gone", "No longer seen")):
        for kind, label in KINDS.items():
            items = since[direction][kind]
            if items:
                nothing = False
                lines.append(f"- {title} {label}: {', '.join(f'`{item}`' for item in items)}")
    if nothing:
        lines.append("Nothing changed.")
    return lines
