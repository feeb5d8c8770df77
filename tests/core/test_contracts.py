"""The contracts themselves: the Whop spec is the seed's document verbatim, the Wilson spec is sound and sourced."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.documents import Document, contracts_dir
from chat_contracts.core.lint import lint_document
from chat_contracts.core.registry import get_provider

# sha256 of contracts/whop.openapi.yaml, which is the yaml block of the Whop seed
# (shared/seeds/000_80a41ea85ce15c9d.txt) byte for byte. The pinned file is never edited: a new
# digest here needs a new seed.
WHOP_SPEC_SHA256 = "1667f0592256b18ad258c25dfebd76a603e47fe6c4d516261836a5a845e380f0"
SEEDS = Path(os.environ.get("CHAT_CONTRACTS_SEEDS", Path(__file__).resolve().parents[3] / "shared" / "seeds"))
WHOP_SEED = SEEDS / "000_80a41ea85ce15c9d.txt"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _seed_yaml_block(seed: str) -> str:
    block = re.search(r"^````yaml[^\n]*\n(.*?)^````", seed, re.S | re.M)
    assert block, "the seed has no yaml block"
    return block.group(1)


def test_whop_contract_is_the_recorded_document_verbatim() -> None:
    assert _sha256((contracts_dir() / "whop.openapi.yaml").read_bytes()) == WHOP_SPEC_SHA256


def test_whop_contract_is_the_seed_document_when_the_seed_is_at_hand() -> None:
    """Runs in a fresh clone too: without ../shared only the recorded digest (above) speaks."""
    pinned = (contracts_dir() / "whop.openapi.yaml").read_bytes()
    if WHOP_SEED.exists():
        block = _seed_yaml_block(WHOP_SEED.read_text(encoding="utf-8"))
        assert _sha256(block.encode("utf-8")) == WHOP_SPEC_SHA256
        assert block.encode("utf-8") == pinned
    else:
        print(f"seed not at {WHOP_SEED}: the recorded digest stands for it")
        assert _sha256(pinned) == WHOP_SPEC_SHA256


def test_the_digest_check_notices_one_changed_byte() -> None:
    pinned = bytearray((contracts_dir() / "whop.openapi.yaml").read_bytes())
    pinned[len(pinned) // 2] ^= 0x20
    assert _sha256(bytes(pinned)) != WHOP_SPEC_SHA256
    fake_seed = "text\n````yaml\n" + bytes(pinned).decode("utf-8", "replace") + "````\n"
    assert _sha256(_seed_yaml_block(fake_seed).encode("utf-8")) != WHOP_SPEC_SHA256


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
    errors = wilson.document.errors(body, str(wilson.response_schema_pointer(200)))
    assert (errors == []) is ok, errors
