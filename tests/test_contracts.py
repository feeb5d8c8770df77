"""The contracts themselves: the Whop spec is the seed's, the Wilson spec is sound and sourced."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chat_contracts.documents import Document, contracts_dir
from chat_contracts.formats import is_date_time, is_email, is_http_date
from chat_contracts.lint import lint_document
from chat_contracts.registry import get_provider

SEEDS = Path(os.environ.get("CHAT_CONTRACTS_SEEDS", Path(__file__).parents[2] / "shared" / "seeds"))
WHOP_SEED = SEEDS / "000_80a41ea85ce15c9d.txt"


@pytest.mark.skipif(not WHOP_SEED.exists(), reason=f"seed not found at {WHOP_SEED} (set CHAT_CONTRACTS_SEEDS)")
def test_whop_contract_is_the_seed_document_verbatim() -> None:
    seed = WHOP_SEED.read_text(encoding="utf-8")
    block = re.search(r"^````yaml[^\n]*\n(.*?)^````", seed, re.S | re.M)
    assert block, "the seed has no yaml block"
    pinned = (contracts_dir() / "whop.openapi.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(pinned) == yaml.safe_load(block.group(1))
    assert pinned == block.group(1), "the pinned file differs from the seed's text"


def test_wilson_contract_is_valid_openapi_31_without_findings() -> None:
    document = Document.load(contracts_dir() / "wilson.openapi.yaml")
    assert document.version == "3.1.0"
    assert lint_document(document) == []


def _property_schemas(document: Document) -> list[tuple[str, dict[str, Any]]]:
    """Every named property of the Wilson request and response bodies, and the path parameter."""
    wilson = get_provider("wilson")
    found = [(f"parameter {p['name']}", p) for p in wilson.operation["parameters"]]
    for name in ("EditChatRequest", "Chat"):
        schema = document.resolve(f"/components/schemas/{name}")
        found += [(f"{name}.{prop}", sub) for prop, sub in schema["properties"].items()]
    return found


def test_every_wilson_clause_carries_its_evidence() -> None:
    document = get_provider("wilson").document
    clauses = _property_schemas(document)
    clauses += [(f"schema {k}", v) for k, v in document.data["components"]["schemas"].items()]
    clauses += [("operation", get_provider("wilson").operation)]
    assert len(clauses) >= 8 + 3 + 1
    missing = [name for name, node in clauses if not ({"x-source", "x-inferred"} & node.keys())]
    assert missing == []


def test_wilson_response_documents_all_eight_fields() -> None:
    chat = get_provider("wilson").document.resolve("/components/schemas/Chat")
    assert set(chat["properties"]) == {
        "archived",
        "company_id",
        "create_at",
        "id",
        "members",
        "title",
        "update_at",
        "bot_id",
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("Thu, 20 Jun 2024 06:22:39 GMT", True),
        ("Thu, 12 Jun 2024 06:22:39 GMT", True),  # the doc's own example (weekday not checked)
        ("2024-06-12T06:22:39Z", False),
        ("Thu, 20 Jun 2024 06:22:39 UTC", False),
        ("Thu, 31 Jun 2024 06:22:39 GMT", False),
        ("Thu, 20 Jun 2024 6:22:39 GMT", False),
        ("20 Jun 2024 06:22:39 GMT", False),
    ],
)
def test_http_date_format(value: str, ok: bool) -> None:
    assert is_http_date(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2023-12-01T05:00:00.401Z", True),
        ("2023-12-01T05:00:00+02:00", True),
        ("2023-12-01 05:00:00Z", False),
        ("2023-12-01T05:00:00", False),
        ("2023-13-01T05:00:00Z", False),
        ("Thu, 20 Jun 2024 06:22:39 GMT", False),
    ],
)
def test_date_time_format(value: str, ok: bool) -> None:
    assert is_date_time(value) is ok


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("create_at", "Thu, 20 Jun 2024 06:22:39 GMT", True),
        ("create_at", "2024-06-12T06:22:39Z", False),
        ("id", "6673caafdf6f247417a1b2c3", True),
        ("id", "6673caafdf6f247417", False),
        ("members", ["6564c3d7532e41a123a1b2c3", "ana@example.com"], True),
        ("members", ["ana"], False),
    ],
)
def test_wilson_response_schema_checks_precise_types(field: str, value: object, ok: bool) -> None:
    wilson = get_provider("wilson")
    body = {
        "archived": False,
        "company_id": "40factory",
        "create_at": "Thu, 12 Jun 2024 06:22:39 GMT",
        "id": "6673caafdf6f247417a1b2c3",
        "members": [],
        "title": "t",
        "update_at": "Thu, 12 Jun 2024 06:22:39 GMT",
        field: value,
    }
    errors = wilson.document.errors(body, wilson.response_schema_pointer(200))
    assert (errors == []) is ok, errors


def test_email_format() -> None:
    assert is_email("ana@example.com") and not is_email("ana@example") and not is_email("a b@c.de")
