"""Watching the published docs: a whole-API document and a Markdown page, served on 127.0.0.1, bounded."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from chat_contracts.cli import main
from chat_contracts.core.documents import Document, contracts_dir
from chat_contracts.drift.differ import RULES
from chat_contracts.drift.docs import Page, compare_page

DATA = Path(__file__).resolve().parents[1] / "data"
WHOP = str(contracts_dir() / "whop.openapi.yaml")
WILSON = str(contracts_dir() / "wilson.openapi.yaml")
PAGE = (DATA / "wilson-edit-chat.md").read_text(encoding="utf-8")
MARKDOWN = "text/markdown; charset=utf-8"


@dataclass
class Site:
    """A tiny HTTP server: path -> (status, headers, body); `slow` paths trickle; every request is logged."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def serve(self, path: str, body: str | bytes, content_type: str = "application/yaml", status: int = 200) -> str:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, {"content-type": content_type}, raw)
        return self.base_url + path


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append(self.path)
            if self.path == "/slow":
                self.send_response(200)
                self.send_header("content-length", "1000")
                self.end_headers()
                try:
                    for _ in range(50):  # a byte every 0.1 s: 5 s in all, far past any --timeout used here
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass  # the client gave up, as it should
                return
            status, headers, body = served.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False  # a trickling handler is abandoned, not waited for
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


def _drift(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[tuple[str, str, str]], str]:
    code = main(["drift", *args, "--format", "json"])
    out, err = capsys.readouterr()
    findings = json.loads(out)["findings"] if out.strip() else []
    return code, [(f["rule"], f["severity"], f["message"]) for f in findings], err


# --- the whole Whop API ----------------------------------------------------------------------------


def _whole_api(evil_url: str) -> str:
    """The Stainless 'documented' document in miniature: the drifted PATCH and other operations around it."""
    data = yaml.safe_load((DATA / "whop-2.6.0.openapi.yaml").read_text(encoding="utf-8"))
    paths, schemas = data["paths"], data["components"]["schemas"]
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": _ref("AiChat")}}}}
    message = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
    id_parameter = copy.deepcopy(paths["/ai_chats/{id}"]["patch"]["parameters"])
    paths["/ai_chats/{id}"]["get"] = {"parameters": id_parameter, "responses": ok}
    paths["/ai_chats/{id}"]["delete"] = {"responses": {"200": {"description": "deleted"}}}
    paths["/ai_chats"] = {
        "post": {"requestBody": {"content": {"application/json": {"schema": message}}}, "responses": ok}
    }
    company = {"name": "company_id", "in": "query", "required": True, "schema": {"type": "string"}}
    products = {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": evil_url}}}}}
    paths["/products"] = {"get": {"parameters": [company], "responses": products}}
    # Recursive, and behind an external $ref: neither matters, as the pinned operation reaches neither.
    children = {"type": "array", "items": _ref("Category")}
    schemas["Category"] = {"type": "object", "properties": {"name": {"type": "string"}, "children": children}}
    schemas["Product"] = {"allOf": [_ref("Category"), {"$ref": evil_url}]}
    return yaml.safe_dump(data, sort_keys=False)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_the_whole_published_api_is_compared_on_the_pinned_operation_only(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = site.base_url + "/never-fetched.yaml"
    url = site.serve("/openapi.documented.yml", _whole_api(evil))
    code, findings, err = _drift(capsys, WHOP, url)
    assert (code, err) == (1, "")
    rename = "current_company_id removed (likely renamed to current_account_id)"
    agent = "200 agent_identifier added (string, required, enum general|support)"
    assert findings == [
        ("request-property-removed", "breaking", rename),
        ("response-required-property-added", "warning", agent),
        ("request-property-added", "info", "current_account_id added (string|null)"),
    ]
    assert site.requests == ["/openapi.documented.yml"]  # one fetch; nothing the document names


def test_the_other_operations_show_with_all_operations(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    url = site.serve("/openapi.documented.yml", _whole_api(site.base_url + "/never-fetched.yaml"))
    code, findings, _ = _drift(capsys, WHOP, url, "--all-operations", "--fail-on", "never")
    assert code == 0
    assert sorted(m for r, _, m in findings if r == "operation-added") == [
        "DELETE /ai_chats/{id} appeared",
        "GET /ai_chats/{id} appeared",
        "GET /products appeared",
        "POST /ai_chats appeared",
    ]
    assert site.requests == ["/openapi.documented.yml"]


def test_the_pinned_document_against_itself_served_is_no_drift(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    url = site.serve("/pinned.yaml", Path(WHOP).read_text(encoding="utf-8"))
    assert main(["drift", WHOP, url]) == 0
    assert capsys.readouterr().out.strip() == "No drift."


# --- fetching is bounded ---------------------------------------------------------------------------


def test_a_redirect_is_followed_within_the_same_bounds(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.serve("/pinned.yaml", Path(WHOP).read_text(encoding="utf-8"))
    site.routes["/latest"] = (302, {"location": "/pinned.yaml"}, b"")
    assert main(["drift", WHOP, site.base_url + "/latest"]) == 0
    assert site.requests == ["/latest", "/pinned.yaml"]
    site.routes["/loop"] = (302, {"location": "/loop"}, b"")
    assert main(["drift", WHOP, site.base_url + "/loop"]) == 2
    assert capsys.readouterr().err.strip().endswith("more than 5 redirects")


@pytest.mark.parametrize(
    ("path", "args", "words"),
    [
        ("/missing.yaml", [], "HTTP 404, not the document"),
        ("/big.yaml", ["--max-bytes", "20000"], "over the 20,000 bytes limit for a document (--max-bytes)"),
        ("/slow", ["--timeout", "0.5"], "no complete answer within 0.5 s (--timeout)"),
        ("/not-openapi.yaml", [], "not an OpenAPI document"),
    ],
)
def test_a_bad_fetch_is_one_line_and_exit_2(
    site: Site, capsys: pytest.CaptureFixture[str], path: str, args: list[str], words: str
) -> None:
    site.serve("/big.yaml", Path(WHOP).read_text(encoding="utf-8") + "#" * 30_000)  # the pinned one is 17 kB
    site.serve("/not-openapi.yaml", "title: a page\nitems: [1, 2]\n")
    started = time.monotonic()
    assert main(["drift", WHOP, site.base_url + path, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {site.base_url}{path}: ") and words in err and err.count("\n") == 1, err
    assert time.monotonic() - started < 3


def test_an_unreachable_url_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", WHOP, "http://127.0.0.1:9/openapi.yml", "--timeout", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: http://127.0.0.1:9/openapi.yml: ") and err.count("\n") == 1


# --- the Wilson page ---------------------------------------------------------------------------------


def _edited(*replacements: tuple[str, str]) -> str:
    text = PAGE
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


_BOT_BULLET = "* `bot_id` (string): ID of bot to use.\n"
_MEMBERS_BULLET = "* `members` (array): Strings Array with members of chat. A member che be an id or an email.&#x20;\n"
_MEMBERS_EXAMPLE = '    "members": [\n        "6564c3d7532e41a123..."\n    ],\n'

# rule -> (page edits, severity, message)
PAGE_CASES: dict[str, tuple[list[tuple[str, str]], str, str]] = {
    "doc-request-field-added": (
        [(_BOT_BULLET, _BOT_BULLET + "* `pinned` (boolean): If true, the chat is pinned.\n")],
        "info",
        "pinned (boolean) is on the page, not in the contract",
    ),
    "doc-request-field-removed": (
        [(_BOT_BULLET, ""), (',\n    "bot_id": "669105e81af7bc07e5..."\n}', "\n}")],
        "breaking",
        "bot_id is no longer on the page (not in its Body list or example)",
    ),
    "doc-request-field-retyped": (
        [('"archived": false,\n    "bot_id"', '"archived": "no",\n    "bot_id"')],
        "breaking",
        "archived: the page's example is string, the contract allows boolean",
    ),
    "doc-response-field-added": (
        [("* `update_at` (date)", "* `agent` (string): The agent of the chat.\n* `update_at` (date)")],
        "info",
        "agent (string) is on the page, not in the contract",
    ),
    "doc-response-field-removed": (
        [(_MEMBERS_BULLET, ""), (_MEMBERS_EXAMPLE, "")],
        "breaking",
        "members is no longer on the page (not in its Response list or example)",
    ),
    "doc-response-field-retyped": (
        [("* `create_at` (date)", "* `create_at` (integer)")],
        "breaking",
        "create_at: the page says (integer), the contract quotes (date)",
    ),
}


def test_every_page_rule_has_a_case() -> None:
    assert set(PAGE_CASES) == {rule for rule in RULES if rule.startswith("doc-")}


def test_the_published_page_as_copied_is_no_drift(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    url = site.serve("/wilson/3.11/rest-api/chat/edit-chat.md", PAGE, MARKDOWN)
    assert main(["drift", WILSON, url]) == 0
    assert capsys.readouterr().out.strip() == "No drift."
    assert site.requests == ["/wilson/3.11/rest-api/chat/edit-chat.md"]  # no link on the page is followed


@pytest.mark.parametrize("rule", list(PAGE_CASES))
def test_a_page_edit_is_reported(site: Site, capsys: pytest.CaptureFixture[str], rule: str) -> None:
    edits, severity, message = PAGE_CASES[rule]
    url = site.serve("/edit-chat.md", _edited(*edits), MARKDOWN)
    code, findings, err = _drift(capsys, WILSON, url, "--fail-on", "info")
    assert (code, err) == (1, "")
    assert findings == [(rule, severity, message)]


def test_a_field_removed_from_the_page_fails_the_nightly_job(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    edits, _, _ = PAGE_CASES["doc-response-field-removed"]
    url = site.serve("/edit-chat.md", _edited(*edits), MARKDOWN)
    assert main(["drift", WILSON, url]) == 1
    out = capsys.readouterr().out
    assert "BREAKING doc-response-field-removed" in out
    assert "baseline /components/schemas/Chat/properties/members" in out
    edits, _, _ = PAGE_CASES["doc-request-field-added"]
    url = site.serve("/edit-chat.md", _edited(*edits), MARKDOWN)
    assert main(["drift", WILSON, url]) == 0  # info only, under the default --fail-on breaking
    assert "candidate line 41" in capsys.readouterr().out


def test_a_page_is_recognised_by_its_content_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_ = tmp_path / "edit-chat.txt"
    copy_.write_text(_edited(*PAGE_CASES["doc-response-field-added"][0]), encoding="utf-8")
    code, findings, _ = _drift(capsys, WILSON, str(copy_))
    assert (code, findings) == (
        0,
        [("doc-response-field-added", "info", "agent (string) is on the page, not in the contract")],
    )


def test_a_page_without_field_lists_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "moved.md"
    page.write_text("# Edit chat\n\nThis page has moved.\n", encoding="utf-8")
    assert main(["drift", WILSON, str(page)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {page}: no documented fields found") and err.count("\n") == 1


def test_a_page_describes_one_operation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(Path(WILSON).read_text(encoding="utf-8"))
    data["paths"]["/chat"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["drift", str(two), str(DATA / "wilson-edit-chat.md")]) == 2
    assert "a documentation page describes one operation" in capsys.readouterr().err


def test_the_page_is_read_as_the_contract_quotes_it() -> None:
    page = Page.parse(PAGE.encode(), "edit-chat.md")
    assert {k: v.type for k, v in page.listed["request"].items()} == {
        "title": "string",
        "archived": "boolean",
        "bot_id": "string",
    }
    assert list(page.listed["response"]) == [
        "archived", "company_id", "create_at", "id", "members", "title", "update_at", "bot_id",
    ]  # fmt: skip
    assert set(page.examples["response"]) == set(page.listed["response"])
    assert "GET" not in page.examples["request"]  # the "Agent Instructions" section is not a field list
    assert compare_page(Document.load(WILSON), page) == []
