"""mockserver.core.conformance: each check accepts a conforming reply and reports a broken one
with a typed finding (endpoint, status, schema path, instance path, message), and the strict
mode strings of ``Finding.describe`` never quote the offending value."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mockserver.core import conformance
from mockserver.core.paths import fixtures_dir
from mockserver.core.registry import load_registry

REGISTRY = load_registry()
MESSAGE_GET = REGISTRY.endpoint("gitter.rooms.chatMessages.get")
GET_ROOMS = REGISTRY.endpoint("lingr.user.get_rooms")
STREAM = REGISTRY.endpoint("gitter.stream.chatMessages")
GITTER_JSON = "application/json; charset=utf-8"
LINGR_JS = "application/javascript; charset=utf-8"
RATE_HEADERS = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99", "X-RateLimit-Reset": "1700000060000"}


def fixture(api: str, name: str) -> Any:
    return json.loads((fixtures_dir() / api / name).read_text(encoding="utf-8"))


@pytest.fixture
def message() -> dict[str, Any]:
    body: dict[str, Any] = fixture("gitter", "gitter.rooms.chatMessages.get.200.docs.json")
    return body


# one check per aspect ------------------------------------------------------------------------
def test_status_documented() -> None:
    assert list(conformance.check_status(MESSAGE_GET, 200)) == []
    (finding,) = conformance.check_status(MESSAGE_GET, 418)
    assert isinstance(finding, conformance.UndefinedStatus)
    assert (finding.endpoint_id, finding.status) == ("gitter.rooms.chatMessages.get", 418)
    assert finding.documented == tuple(sorted(MESSAGE_GET.responses))
    assert "undocumented status 418" in finding.message
    assert finding.describe() == "gitter.rooms.chatMessages.get: status 418 is not documented"


def test_content_type_documented() -> None:
    assert list(conformance.check_content_type(GET_ROOMS, 200, LINGR_JS)) == []
    assert list(conformance.check_content_type(GET_ROOMS, 200, "Application/JavaScript")) == []  # media type only, any case
    (finding,) = conformance.check_content_type(GET_ROOMS, 200, "application/json")
    assert isinstance(finding, conformance.UndefinedContentType)
    assert (finding.content_type, finding.documented) == ("application/json", LINGR_JS)
    assert finding.message == f"content type 'application/json', documented {LINGR_JS!r}"
    (missing,) = conformance.check_content_type(GET_ROOMS, 200, "")
    assert "'(none)'" in missing.message


def test_documented_headers_present_and_valid() -> None:
    assert list(conformance.check_headers(MESSAGE_GET, 200, RATE_HEADERS)) == []
    lower_case = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "1700000060000"}
    assert list(conformance.check_headers(MESSAGE_GET, 200, lower_case)) == []
    (missing,) = conformance.check_headers(MESSAGE_GET, 200, {"X-RateLimit-Limit": "100", "X-RateLimit-Reset": "1700000060000"})
    assert isinstance(missing, conformance.MissingHeader)
    assert missing.header == "X-RateLimit-Remaining"
    assert missing.describe() == "gitter.rooms.chatMessages.get 200: header X-RateLimit-Remaining missing"
    (broken,) = conformance.check_headers(MESSAGE_GET, 200, {**RATE_HEADERS, "X-RateLimit-Limit": "lots-secret"})
    assert isinstance(broken, conformance.HeaderViolation)
    assert (broken.header, broken.instance_path, broken.schema_path) == ("X-RateLimit-Limit", "header X-RateLimit-Limit", "/pattern")
    assert "lots-secret" in broken.message
    assert broken.describe().startswith("gitter.rooms.chatMessages.get 200: header X-RateLimit-Limit: $: fails pattern")
    assert "lots-secret" not in broken.describe()


def test_body_against_its_schema(message: dict[str, Any]) -> None:
    assert list(conformance.check_body(MESSAGE_GET, 200, message)) == []
    broken = copy.deepcopy(message)
    broken["fromUser"]["username"] = 12345
    findings = list(conformance.check_body(MESSAGE_GET, 200, broken))
    assert findings
    first = findings[0]
    assert isinstance(first, conformance.SchemaViolation)
    assert (first.endpoint_id, first.status, first.instance_path) == ("gitter.rooms.chatMessages.get", 200, "$.fromUser.username")
    assert first.schema_path.endswith("/type")
    assert "12345" in first.message
    assert first.describe() == f"gitter.rooms.chatMessages.get 200: {first.safe_message}"
    assert "12345" not in first.describe()


def test_stream_item_against_its_item_schema(message: dict[str, Any]) -> None:
    assert list(conformance.check_stream_item(STREAM, 200, message)) == []
    (*_, last) = conformance.check_stream_item(STREAM, 200, {"id": 1})
    assert isinstance(last, conformance.SchemaViolation)
    assert last.message.startswith("stream item violates its schema")


# compositions ------------------------------------------------------------------------------
def test_check_response_accepts_a_conforming_reply_and_returns_the_body(message: dict[str, Any]) -> None:
    checked = conformance.check_response(MESSAGE_GET, 200, {"content-type": GITTER_JSON, **RATE_HEADERS}, json.dumps(message).encode())
    assert checked.findings == []
    assert checked.body == message


def test_check_response_stops_at_an_undocumented_status_or_content_type() -> None:
    undocumented = conformance.check_response(MESSAGE_GET, 418, {"content-type": "text/html"}, b"<p>teapot</p>")
    assert [type(finding) for finding in undocumented.findings] == [conformance.UndefinedStatus]
    wrong_type = conformance.check_response(MESSAGE_GET, 200, {"content-type": "text/html"}, b"<p>hi</p>")
    assert [type(finding) for finding in wrong_type.findings] == [conformance.UndefinedContentType]


def test_check_response_collects_headers_and_body(message: dict[str, Any]) -> None:
    broken = {key: value for key, value in message.items() if key != "text"}
    checked = conformance.check_response(MESSAGE_GET, 200, {"content-type": GITTER_JSON}, json.dumps(broken).encode())
    kinds = [type(finding) for finding in checked.findings]
    assert kinds[:2] == [conformance.MissingHeader, conformance.MissingHeader]
    assert conformance.SchemaViolation in kinds
    assert checked.body == broken


def test_check_response_reports_a_body_that_is_not_json() -> None:
    checked = conformance.check_response(MESSAGE_GET, 200, {"content-type": GITTER_JSON, **RATE_HEADERS}, b'{"id": ')
    (finding,) = checked.findings
    assert isinstance(finding, conformance.NotJson)
    assert finding.message.startswith("body is not JSON")
    assert checked.body is None


def test_check_response_reads_jsonp() -> None:
    body = fixture("lingr", "lingr.user.get_rooms.200.json")
    checked = conformance.check_response(GET_ROOMS, 200, {"content-type": LINGR_JS}, b"cb(" + json.dumps(body).encode() + b");")
    assert checked.findings == []
    assert checked.body == body


def test_check_response_leaves_a_streamed_body_unread() -> None:
    checked = conformance.check_response(STREAM, 200, {"content-type": "application/json"}, None)
    assert checked == conformance.Checked([], None)


def test_reply_findings_give_strict_modes_strings(message: dict[str, Any]) -> None:
    assert conformance.reply_findings(MESSAGE_GET, 200, RATE_HEADERS, message) == []
    assert [finding.describe() for finding in conformance.reply_findings(MESSAGE_GET, 418, {}, {})] == [
        "gitter.rooms.chatMessages.get: status 418 is not documented"
    ]
    broken = {**message, "text": 5}
    no_remaining = {"X-RateLimit-Limit": "100", "X-RateLimit-Reset": "1700000060000"}
    described = [finding.describe() for finding in conformance.reply_findings(MESSAGE_GET, 200, no_remaining, broken)]
    assert described[0].startswith("gitter.rooms.chatMessages.get 200: $.text: fails type")
    assert described[-1] == "gitter.rooms.chatMessages.get 200: header X-RateLimit-Remaining missing"


def test_error_reply_findings_check_the_apis_error_shape() -> None:
    api = REGISTRY.api("lingr")
    assert conformance.error_reply_findings(api, 200, {"status": "error", "code": "not_found", "detail": "no such room"}) == []
    findings = conformance.error_reply_findings(api, 200, {"status": "ok"})
    assert findings
    assert all(isinstance(finding, conformance.ErrorShapeViolation) for finding in findings)
    assert findings[0].describe().startswith("core error reply: $")


def test_read_json_unwraps_jsonp_only_for_javascript() -> None:
    assert conformance.read_json(b'fn({"a": 1})', LINGR_JS) == {"a": 1}
    with pytest.raises(ValueError, match="Expecting value"):
        conformance.read_json(b'fn({"a": 1})', GITTER_JSON)
    with pytest.raises(ValueError, match="utf-8"):
        conformance.read_json(b'"\xff"', GITTER_JSON)
