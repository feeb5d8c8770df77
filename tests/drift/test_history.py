"""Drift over time: what is new since the previous report, what is gone, and refusing what is not a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.errors import DocumentError
from chat_contracts.drift import history


def _report(
    fields: tuple[str, ...] = (), statuses: tuple[int, ...] = (), headers: tuple[str, ...] = (), **enums: list[str]
) -> dict[str, Any]:
    return {
        "provider": "whop",
        "undocumented_fields": {name: {"seen": 1} for name in fields},
        "undocumented_statuses": {status: 1 for status in statuses},
        "undocumented_headers": {name: 1 for name in headers},
        "enums": {name: {"documented": ["all"], "seen": {}, "undocumented": values} for name, values in enums.items()},
    }


def test_new_and_gone_per_kind_statuses_in_numeric_order() -> None:
    before = _report(("legacy",), (418,), ("x-a",), pref=["muted"])
    now = _report(("region",), (429, 1000, 503), ("x-a",), pref=["muted", "loud"])
    now_as_json: dict[str, Any] = json.loads(json.dumps(now))  # status keys become strings, as in PATH.json
    since = history.changes(before, now_as_json, Path("last.json"))
    assert since["new"] == {
        "undocumented_fields": ["region"],
        "enum_values": ["pref=loud"],
        "undocumented_statuses": ["429", "503", "1000"],
        "undocumented_headers": [],
    }
    assert since["gone"]["undocumented_fields"] == ["legacy"] and since["gone"]["undocumented_statuses"] == ["418"]


def test_the_markdown_section_lists_only_what_changed() -> None:
    since = history.changes(_report(), _report(("region",)), Path("last.json"))
    assert history.markdown(since) == [
        "",
        "## Since the last run",
        "",
        "Compared with `last.json`.",
        "",
        "- New undocumented fields: `region`",
    ]


_EMPTY = '"undocumented_fields": {}, "undocumented_statuses": {}, "undocumented_headers": {}'


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        '{"provider": "whop", "enums": []}',
        "not: [closed",
        "{" + _EMPTY + ', "enums": {"status": {"undocumented": 3}}}',
        "{" + _EMPTY + ', "enums": {"status": 3}}',
    ],
)
def test_what_is_not_a_previous_report_is_refused_in_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / "previous.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError) as raised:
        history.load_previous(path)
    assert str(raised.value).startswith(f"{path}: ") and "\n" not in str(raised.value)


def test_a_missing_previous_report_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        history.load_previous(tmp_path / "nope.json")
