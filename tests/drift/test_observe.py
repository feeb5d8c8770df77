"""Drift seen in traffic: the report, and the candidate document that closes the loop into `drift`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.documents import Document
from chat_contracts.core.errors import DocumentError
from chat_contracts.core.http import Exchange
from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import get_provider
from chat_contracts.drift.differ import compare
from chat_contracts.drift.observe import MAX_EXAMPLE, MAX_NAMES, Observations
from chat_contracts.reference.faults import build


def _exchange(status: int, body: object, headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(
        "PATCH", "https://x/ai_chats/a", {}, b"{}", status,
        {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode(), 1,
    )  # fmt: skip


def _whop_chat(**changes: object) -> dict[str, Any]:
    chat = build(get_provider("whop")).chats[get_provider("whop").example_id]
    return {**chat, **changes}


def test_undocumented_fields_statuses_headers_and_enum_values() -> None:
    observed = Observations(get_provider("whop"))
    observed.record(_exchange(200, _whop_chat(agent_identifier="general"), {"x-whop-trace": "abc"}))
    observed.record(_exchange(200, _whop_chat(agent_identifier="support", notification_preference="muted")))
    observed.record(_exchange(418, {"error": {"type": "teapot", "message": "no"}}))
    data = observed.to_dict()
    assert data["undocumented_fields"] == {
        "agent_identifier": {"seen": 2, "of": 2, "types": {"string": 2}, "examples": ["general", "support"]}
    }
    assert data["undocumented_statuses"] == {418: 1}
    assert data["undocumented_headers"] == {"x-whop-trace": 1}
    assert data["enums"]["notification_preference"]["undocumented"] == ["muted"]
    assert data["field_types"]["user.id"] == {"string": 2}
    report = observed.markdown()
    assert '| `agent_identifier` | 2/2 | string | `"general"`, `"support"` |' in report
    assert "418: 1" in report


def test_the_candidate_document_is_classified_by_drift() -> None:
    observed = Observations(get_provider("whop"))
    observed.record(_exchange(200, _whop_chat(agent_identifier="general", notification_preference="muted")))
    observed.record(_exchange(418, {}))
    candidate = Document(observed.candidate_document(), "observed.yaml")
    found = {(f.rule, f.message) for f in compare(get_provider("whop").document, candidate)}
    assert found == {
        ("response-required-property-added", "200 agent_identifier added (string, required)"),
        ("response-enum-value-added", "200 notification_preference: enum value 'muted' added"),
        ("status-added", "response 418 is now documented"),
    }


def _night(*bodies: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Observations:
    observed = Observations(get_provider("whop"))
    for body in bodies:
        observed.record(_exchange(status, body, headers))
    return observed


def test_a_report_says_what_changed_since_the_previous_run(tmp_path: Path) -> None:
    monday = _night(_whop_chat(agent_identifier="general", legacy=True), headers={"x-whop-trace": "a"})
    monday.record(_exchange(418, {}))
    monday.write(tmp_path / "monday.md")
    tuesday = _night(_whop_chat(agent_identifier="general", region="eu", notification_preference="muted"),
                     headers={"x-whop-version": "2"})  # fmt: skip
    tuesday.record(_exchange(429, {}))
    written = tuesday.write(tmp_path / "tuesday.md", since=tmp_path / "monday.json")
    since = json.loads(written[1].read_text(encoding="utf-8"))["since"]
    assert since == {
        "previous": str(tmp_path / "monday.json"),
        "new": {
            "undocumented_fields": ["region"],
            "enum_values": ["notification_preference=muted"],
            "undocumented_statuses": ["429"],
            "undocumented_headers": ["x-whop-version"],
        },
        "gone": {
            "undocumented_fields": ["legacy"],
            "enum_values": [],
            "undocumented_statuses": ["418"],
            "undocumented_headers": ["x-whop-trace"],
        },
    }
    report = written[0].read_text(encoding="utf-8")
    assert "## Since the last run" in report
    assert "- New undocumented fields: `region`" in report
    assert "- No longer seen undocumented statuses: `418`" in report


def test_a_night_like_the_last_says_nothing_changed(tmp_path: Path) -> None:
    _night(_whop_chat(agent_identifier="general")).write(tmp_path / "a.md")
    written = _night(_whop_chat(agent_identifier="support")).write(tmp_path / "a.md", since=tmp_path / "a.json")
    assert "## Since the last run" in written[0].read_text(encoding="utf-8")
    assert "Nothing changed." in written[0].read_text(encoding="utf-8")


def test_the_first_night_has_no_previous_report_and_says_so(tmp_path: Path) -> None:
    written = _night(_whop_chat()).write(tmp_path / "a.md", since=tmp_path / "a.json")
    since = json.loads(written[1].read_text(encoding="utf-8"))["since"]
    assert since["first_run"] is True and not any(since["new"].values())
    assert f"No report at `{tmp_path / 'a.json'}` yet: the next run compares." in written[0].read_text("utf-8")
    again = _night(_whop_chat()).write(tmp_path / "a.md", since=tmp_path / "a.json")  # the second night
    assert "Nothing changed." in again[0].read_text(encoding="utf-8")


def test_a_report_without_since_has_no_since_section(tmp_path: Path) -> None:
    written = _night(_whop_chat()).write(tmp_path / "a.md")
    assert "since" not in json.loads(written[1].read_text(encoding="utf-8"))
    assert "Since the last run" not in written[0].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid YAML or JSON"),
        ('{"provider": "whop"}', "not a drift report"),
        ('{"provider": "wilson", "undocumented_fields": {}, "undocumented_statuses": {}, '
         '"undocumented_headers": {}, "enums": {}}', "a drift report for 'wilson', not 'whop'"),
    ],
)  # fmt: skip
def test_a_bad_previous_report_is_one_line_and_nothing_is_written(tmp_path: Path, content: str, words: str) -> None:
    previous = tmp_path / "previous.json"
    previous.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError, match=words) as raised:
        _night(_whop_chat()).write(tmp_path / "out" / "a.md", since=previous)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_what_a_run_keeps_is_bounded_whatever_the_provider_sends() -> None:
    token = "cc_live_5f2b+Q/x=AbCdEfGh+Zz"
    observed = Observations(get_provider("whop"), Redactor([token]))
    many = {f"extra_{i}": i for i in range(MAX_NAMES + 100)}
    long_value = "x" * (MAX_EXAMPLE - 10) + token + "y" * 5_000  # a cut at MAX_EXAMPLE runs through the token
    for _ in range(3):
        observed.record(_exchange(200, _whop_chat(**many, long_one=long_value, **{"k" * 10_000: 1})))
    assert len(observed.fields) == MAX_NAMES
    own = Observations(get_provider("whop"))
    own.record(_exchange(200, _whop_chat()))  # the chat's own fields, nested ones included
    # each response brings the chat's own fields and the extra ones: those past MAX_NAMES are counted, not kept
    assert observed.names_not_kept == 3 * (len(own.fields) + len(many) + 2 - MAX_NAMES)
    assert "a run keeps 500 of each kind" in observed.markdown()

    observed = Observations(get_provider("whop"), Redactor([token]))
    observed.record(_exchange(200, _whop_chat(long_one=long_value, **{"k" * 10_000: 1})))
    (example,) = observed.fields["long_one"].examples
    assert example.startswith('"' + "x" * (MAX_EXAMPLE - 10) + "***") and "5f2b" not in example
    assert len(example) < MAX_EXAMPLE + 30
    assert max(len(name) for name in observed.fields) < MAX_EXAMPLE + 30  # a 10,000-character key is cut
