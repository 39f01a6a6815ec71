"""Hostile input never breaks a later answer, and the journal stays bounded and redacted
(issue 12). Each test fails on the code before the fix."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver.core import journal as journal_module
from mockserver.core.parse import MAX_JSON_DEPTH, json_depth

RC_AUTH = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = {"k": value}
    return {"k": value} if depth else value


def test_json_depth_counts_levels() -> None:
    assert json_depth("x") == 0
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
    assert json_depth(nested(MAX_JSON_DEPTH + 50)) > MAX_JSON_DEPTH


def test_deeply_nested_post_is_refused_and_history_still_reads() -> None:
    """The repro: customFields nested 990 deep in chat.postMessage, then read the history."""
    client = TestClient(create_app(["rocketchat"], root=False, strict=True))
    deep = '{"roomId":"GENERAL","text":"hi","customFields":' + '{"k":' * 990 + '"x"' + "}" * 990 + "}"
    posted = client.post("/rocketchat/api/v1/chat.postMessage", content=deep, headers={**RC_AUTH, "Content-Type": "application/json"})
    assert posted.status_code == 400
    assert posted.json()["success"] is False
    assert "deeper than" in posted.json()["error"]
    history = client.get("/rocketchat/api/v1/channels.history", params={"roomId": "GENERAL"}, headers=RC_AUTH)
    assert history.status_code == 200
    assert history.json()["success"] is True


def test_nesting_within_the_limit_is_stored_and_read_back() -> None:
    client = TestClient(create_app(["rocketchat"], root=False, strict=True))
    body = {"roomId": "GENERAL", "text": "fine", "customFields": nested(MAX_JSON_DEPTH - 5)}
    posted = client.post("/rocketchat/api/v1/chat.postMessage", json=body, headers=RC_AUTH)
    assert posted.status_code == 200, posted.text
    history = client.get("/rocketchat/api/v1/channels.history", params={"roomId": "GENERAL"}, headers=RC_AUTH)
    assert history.status_code == 200
    assert any(message.get("msg") == "fine" for message in history.json()["messages"])


def test_journal_caps_each_header_and_the_whole() -> None:
    app = create_app(["lingr"], root=False)
    client = TestClient(app)
    huge = "x" * (2 * 1024 * 1024)
    for _ in range(30):
        client.get("/lingr/api/session/verify", params={"session": "nope"}, headers={"X-Big": huge})
    mock = app.state.chatmock
    held = mock.journal._bytes
    assert held < 30 * 2 * 1024 * 1024 // 10  # each 2 MB header kept as a short note
    entry = mock.journal.entries()[-1]
    assert entry["headers"]["x-big"].startswith("<truncated: 2097152 bytes")


def test_journal_drops_oldest_entries_past_its_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = journal_module.Journal(size=1000, total_bytes=10_000)
    for index in range(100):
        journal.record(
            journal_module.Entry(
                time=float(index),
                method="GET",
                path="/",
                raw_query=b"",
                raw_headers=[],
                params=None,
                status=200,
                endpoint=None,
                response=b'"' + b"y" * 998 + b'"',
            )
        )
    assert journal._bytes <= 10_000
    assert 5 <= len(journal.entries()) <= 10
    assert journal.entries()[-1]["time"] == 99.0


@pytest.mark.parametrize("header", ["Proxy-Authorization", "X-Api-Key", "X-Refresh-Token", "Cookie"])
def test_journal_redacts_secret_named_headers(header: str) -> None:
    app = create_app(["gitter"], root=False)
    TestClient(app).get("/gitter/v1/rooms", headers={header: "s3cr3t-value"})
    entry = app.state.chatmock.journal.entries()[-1]
    assert entry["headers"][header.lower()] == journal_module.REDACTED
    assert "s3cr3t-value" not in str(entry)
