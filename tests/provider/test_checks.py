"""Each check on its own, judged on hand-made exchanges: it fails what it must, passes what it must, and
says when it does not apply (so a run can tell "held" from "never exercised")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.http import Exchange
from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.cases import NO_BODY, Case, Expect
from chat_contracts.provider.checks import CHECKS, Context, evaluate, observed_change

WHOP, WILSON = get_provider("whop"), get_provider("wilson")
CHAT_ID = WHOP.example_id
STAMP = "2024-06-12T06:22:39.401Z"


def chat(**changes: Any) -> dict[str, Any]:
    body = {
        "id": CHAT_ID,
        "title": "Weekly Revenue Analysis",
        "notification_preference": "all",
        "message_count": 42,
        "blended_token_usage": "123.45",
        "created_at": STAMP,
        "updated_at": "2024-06-12T06:22:40.000Z",
        "last_message_at": None,
        "user": {"id": "user_7fQm2LxP9dKs3a"},
    }
    return body | changes


def exchange(status: int = 200, body: Any = None, content_type: str = "application/json", raw: bytes | None = None,
             truncated: bool = False) -> Exchange:  # fmt: skip
    content = raw if raw is not None else json.dumps(chat() if body is None else body).encode()
    return Exchange("PATCH", "https://x/ai_chats/a", {}, b"{}", status, {"content-type": content_type}, content,
                    1, truncated)  # fmt: skip


def judge(
    name: str,
    answer: Exchange,
    case: Case | None = None,
    *,
    before: dict[str, Any] | None = None,
    snapshot: dict[str, Any] | None = None,
    previous: Exchange | None = None,
    provider: Any = WHOP,
) -> list[str] | None:
    """The messages of check `name` on this exchange, or None when it does not apply."""
    case = case or Case("t", "t", Expect.SUCCESS, body={})
    found = CHECKS[name].judge(Context(provider, case, answer, CHAT_ID, before, snapshot, previous))
    return None if found is None else [f.message for f in found]


def valid(body: Any = NO_BODY, **kwargs: Any) -> Case:
    return Case("t", "t", Expect.SUCCESS, body=body, **kwargs)


def checked(name: str) -> str:
    """Marks the test of check `name` (test_every_check_is_tested_here reads these marks)."""
    return name


def test_no_server_error() -> None:
    name = checked("no_server_error")
    assert judge(name, exchange(500, {"error": {"type": "x", "message": "y"}})) == [
        "a 2xx with the updated chat expected, got 500: a 5xx is never a contract answer"
    ]
    assert judge(name, exchange(400, {})) == []


def test_valid_request_accepted() -> None:
    name = checked("valid_request_accepted")
    assert judge(name, exchange(400, {}), valid({})) == ["valid input refused with 400"]
    assert judge(name, exchange(200), valid({})) == []
    tolerated = Case("t", "t", Expect.TOLERATED, body={"x": 1})
    assert judge(name, exchange(404, {}), tolerated) == []
    assert judge(name, exchange(302, {}), tolerated) == ["expected 2xx or 4xx, got 302"]
    assert judge(name, exchange(200), Case("t", "t", Expect.INVALID, body=1)) is None


def test_invalid_request_rejected() -> None:
    name = checked("invalid_request_rejected")
    invalid = Case("t", "t", Expect.INVALID, body={"title": 1})
    assert judge(name, exchange(200), invalid) == ["invalid input accepted with 200; a 4xx was expected"]
    assert judge(name, exchange(422, {}), invalid) == []
    assert judge(name, exchange(200), valid({})) is None


def test_auth_enforced() -> None:
    name = checked("auth_enforced")
    probe = Case("auth", "no Authorization header", Expect.UNAUTHORIZED, auth="none")
    assert judge(name, exchange(200), probe) == ["no Authorization header: got 200, expected 401 or 403"]
    assert judge(name, exchange(404, {}), probe) == ["no Authorization header: got 404, expected 401 or 403"]
    assert judge(name, exchange(401, {}), probe) == judge(name, exchange(403, {}), probe) == []
    assert judge(name, exchange(500, {}), probe) == []  # no_server_error's to report
    assert judge(name, exchange(200), valid({})) is None


def test_unknown_id_not_found() -> None:
    name = checked("unknown_id_not_found")
    missing = Case("unknown-id", "unknown chat", Expect.MISSING, body={}, chat_id="aich_00000000000000")
    assert judge(name, exchange(400, {}), missing) == ["unknown chat: got 400, expected 404"]  # Whop documents 404
    assert judge(name, exchange(404, {}), missing) == []
    assert judge(name, exchange(400, {}), missing, provider=WILSON) == []  # Wilson: any 4xx
    assert judge(name, exchange(200), missing, provider=WILSON) == ["unknown chat: got 200, expected a 4xx"]


def test_response_size() -> None:
    name = checked("response_size")
    assert judge(name, exchange(raw=b"{" + b" " * 100, truncated=True))[0].startswith("the 200 body is larger than")
    assert judge(name, exchange()) == []


def test_response_content_type() -> None:
    name = checked("response_content_type")
    assert judge(name, exchange(content_type="text/html")) == ["Content-Type is 'text/html', not application/json"]
    assert judge(name, exchange(content_type="application/json; charset=utf-8")) == []
    assert judge(name, exchange(content_type="application/problem+json")) == []
    assert judge(name, exchange(400, {}, content_type="text/plain")) is None


def test_response_schema() -> None:
    name = checked("response_schema")
    assert judge(name, exchange(body=chat(message_count="42"))) == ["['message_count']: '42' is not of type 'integer'"]
    assert judge(name, exchange(body=chat(created_at="Thu, 12 Jun 2024 06:22:39 GMT"))) == [
        "['created_at']: 'Thu, 12 Jun 2024 06:22:39 GMT' is not a 'date-time'"
    ]
    assert judge(name, exchange(raw=b"<html>")) == ["the body is not JSON"]
    assert judge(name, exchange(201))[0].startswith("status 201 is not documented")
    assert judge(name, exchange()) == []
    assert judge(name, exchange(raw=b"{", truncated=True)) is None  # response_size says why


def test_error_envelope() -> None:
    name = checked("error_envelope")
    assert judge(name, exchange(400, {"type": "x", "message": "y"})) == [
        "400 error body: (root): 'error' is a required property"
    ]
    assert judge(name, exchange(401, raw=b"Unauthorized", content_type="text/plain")) == [
        "401 body is not JSON (Content-Type 'text/plain')"
    ]
    assert judge(name, exchange(404, {"error": {"type": "not_found", "message": "no"}})) == []
    assert judge(name, exchange(418, {})) is None  # no envelope was promised for an undocumented status
    assert judge(name, exchange(400, {}), provider=WILSON) is None  # Wilson documents no error body


def test_response_id_matches() -> None:
    name = checked("response_id_matches")
    assert judge(name, exchange(body=chat(id="aich_other"))) == [
        f"response id 'aich_other' is not the path id {CHAT_ID!r}"
    ]
    assert judge(name, exchange()) == []
    assert judge(name, exchange(404, {})) is None


def test_timestamps_ordered() -> None:
    name = checked("timestamps_ordered")
    early = chat(updated_at="2024-06-11T06:22:39.401Z")
    assert judge(name, exchange(body=early))[0].startswith("updated_at '2024-06-11T06:22:39.401Z' is before")
    assert judge(name, exchange()) == []
    assert judge(name, exchange(body=chat(updated_at=1718173359))) is None  # malformed: response_schema's


def test_timestamps_never_go_back() -> None:
    name = checked("timestamps_never_go_back")
    later = chat(updated_at="2024-06-13T00:00:00.000Z")
    assert judge(name, exchange(), before=later) == [
        "updated_at went back from '2024-06-13T00:00:00.000Z' to '2024-06-12T06:22:40.000Z'"
    ]
    assert judge(name, exchange(body=later), before=chat()) == []
    assert judge(name, exchange(), before=None) is None


def test_invariants_kept() -> None:
    name = checked("invariants_kept")
    assert judge(name, exchange(body=chat(message_count=43)), snapshot=chat()) == [
        "message_count changed from 42 to 43; an update cannot change it"
    ]
    assert judge(name, exchange(), snapshot=chat()) == []
    assert judge(name, exchange(), snapshot=None) is None


def test_field_applied() -> None:
    name = checked("field_applied")
    assert judge(name, exchange(), valid({"title": "New"})) == [
        "title was sent as 'New' and answered 200, but the response shows 'Weekly Revenue Analysis'"
    ]
    assert judge(name, exchange(body=chat(title=None)), valid({"title": None})) == []  # null sets the title
    assert judge(name, exchange(body=chat(title=None)), valid({"title": "x"}))[0].endswith("shows None")
    # A null that may keep or reset, an unobservable field, a tolerated one: nothing to compare.
    assert judge(name, exchange(), valid({"notification_preference": None})) is None
    assert judge(name, exchange(), valid({"current_company_id": "biz_1"})) is None
    assert judge(name, exchange(), valid({"title": "x"}, unchecked=frozenset({"title"}))) is None
    # Trimming and Unicode normalisation are observed behaviour, not violations.
    assert judge(name, exchange(body=chat(title="padded")), valid({"title": "  padded  "})) == []
    assert judge(name, exchange(body=chat(title="Ré")), valid({"title": "Re\u0301"})) == []


def test_values_in_messages_are_redacted_before_they_are_cut() -> None:
    """A value shown in a message is cut at 60 characters; a token the cut runs through must not show in part."""
    token = "tok_LIVE-very/secret+token==0123456789"
    shown = "x" * 45 + token  # the cut leaves 14 characters of it: too few to be found as a piece afterwards
    answer, case = exchange(body=chat(title=shown)), valid({"title": "New"})
    found = CHECKS["field_applied"].judge(
        Context(WHOP, case, answer, CHAT_ID, None, None, None, Redactor([token]).clip)
    )
    (message,) = [f.message for f in found or []]
    assert "'" + "x" * 45 + "***" in message and "tok_LIVE" not in message, message


def test_omitted_fields_kept() -> None:
    name = checked("omitted_fields_kept")
    assert judge(name, exchange(), valid({}), before=chat(title="Kept")) == [
        "title was not sent but changed from 'Kept' to 'Weekly Revenue Analysis'"
    ]
    assert judge(name, exchange(body=chat(title="New")), valid({"title": "New"}), before=chat(title="Kept")) == []
    assert judge(name, exchange(), valid({}), before=None) is None


def test_idempotent() -> None:
    name = checked("idempotent")
    repeat = valid({"title": "x"}, repeat=True)
    first = exchange(body=chat(last_message_at=STAMP))
    second = exchange(body=chat(last_message_at="2024-06-12T06:22:41.000Z", updated_at="2024-06-12T06:22:41.000Z"))
    assert judge(name, second, repeat, previous=first) == [
        "the same update sent twice gave different chats (fields: last_message_at)"
    ]
    moved = exchange(body=chat(updated_at="2024-06-12T06:22:41.000Z"))  # only the last-update time: fine
    assert judge(name, moved, repeat, previous=exchange()) == []
    assert judge(name, second, valid({"title": "x"}), previous=first) is None  # not a repeated request


def test_every_check_is_tested_here() -> None:
    marked = set(re.findall(r'checked\("(\w+)"\)', Path(__file__).read_text(encoding="utf-8")))
    assert marked == set(CHECKS)


def test_evaluate_lists_what_judged_and_what_failed() -> None:
    case = Case("t", "t", Expect.SUCCESS, body={"title": "New"})
    verdict = evaluate(Context(WHOP, case, exchange(), CHAT_ID, chat(), chat()))
    assert "field_applied" in verdict.judged and "auth_enforced" not in verdict.judged
    assert [name for name, _ in verdict.failures] == ["field_applied"]


@pytest.mark.parametrize(
    ("sent", "shown", "how"),
    [
        ("  a  ", "a", "trimmed"),
        ("Re\u0301", "Ré", "normalised to NFC"),
        (" Re\u0301 ", "Ré", "trimmed and normalised to NFC"),
        ("a", "b", None),
        ("a", "a", None),
    ],
)
def test_observed_change(sent: str, shown: str, how: str | None) -> None:
    assert observed_change(sent, shown) == how
