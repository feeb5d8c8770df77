"""Drift seen in traffic: the report, and the candidate document that closes the loop into `drift`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat_contracts.documents import Document, contracts_dir
from chat_contracts.drift import compare
from chat_contracts.faults import build
from chat_contracts.observe import Observations
from chat_contracts.registry import get_provider
from chat_contracts.session import Exchange
from chat_contracts.transport import serving
from tests.conftest import contract_suite


def _exchange(status: int, body: object, headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(
        "PATCH", "https://x/ai_chats/a", {}, b"{}", status,
        {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode(), 1,
    )  # fmt: skip


def _whop_chat(**changes: object) -> dict:
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


@pytest.mark.slow
def test_a_live_run_against_extra_fields_passes_and_reports_them(tmp_path: Path) -> None:
    api = build(get_provider("whop"), "extra-response-fields", token="tok-live", chat_id="aich_live")
    report = tmp_path / "drift" / "whop.md"
    with serving(api) as base_url:
        result = contract_suite(
            "--provider", "whop", "--base-url", base_url, "--chat-id", "aich_live", "--drift-report", str(report),
            env={"CONTRACT_TOKEN": "tok-live"},
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert f"chat-contracts: drift report {report}" in result.stdout
    fields = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))["undocumented_fields"]
    assert set(fields) == {"agent_identifier", "object"}
    assert "| `agent_identifier` |" in report.read_text(encoding="utf-8")
    pinned = contracts_dir() / "whop.openapi.yaml"
    findings = compare(Document.load(pinned), Document.load(report.with_suffix(".openapi.yaml")))
    assert {f.message for f in findings} == {
        "200 agent_identifier added (string, required)",
        "200 object added (string, required)",
    }


@pytest.mark.slow
def test_drift_reports_under_xdist_gather_every_worker(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    result = contract_suite("-n", "2", "--drift-report", str(tmp_path / "mocks.md"))
    assert result.returncode == 0, result.stdout[-2000:]
    for provider in ("whop", "wilson"):
        data = json.loads((tmp_path / f"mocks-{provider}.json").read_text(encoding="utf-8"))
        assert data["chat_bodies_seen"] > 20 and data["undocumented_fields"] == {}
