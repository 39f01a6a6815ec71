"""The Gitter stream's framing against the four ways real clients parse it (research/clients.md 3.6).

Each message is one chunk holding one JSON document that ends in ``\\r\\n``; a heartbeat is a
chunk of its own, exactly ``" \\n"``. The stream is served on a loopback port (uvicorn), with
heartbeats every 50 ms so they fall between the messages, and each client style reads it:

* node-gitter (lib/client.js:133-155): concatenate chunks until ``JSON.parse`` succeeds; a
  chunk that is exactly ``" \\n"`` is a heartbeat;
* camper-gitter-bot (lib/gitter/streamApi.js:19-27): ``JSON.parse`` every chunk but ``" \\n"``;
* errbot (gitter.py:266-268): ``requests``' ``iter_lines(chunk_size=1)``, blank lines skipped;
* go-gitter (stream.go:57-75): ``bufio.Reader.ReadBytes('\\n')``, whitespace-only lines skipped.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.background import serve_in_thread

ALICE = {"Authorization": "Bearer gitter-token-alice"}
BOB = {"Authorization": "Bearer gitter-token-bob"}
REPO = "5f2000000000000000000002"
HEARTBEAT = b" \n"
TEXTS = ["plain", "two\nlines and a \r inside", 'ünïcödé ✓ and "quotes"', "x" * 3000]
Parser = Callable[[httpx.Response, int], list[dict[str, Any]]]


def node_gitter(response: httpx.Response, wanted: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    buffer = ""
    for chunk in response.iter_raw():
        if chunk == HEARTBEAT:
            continue
        buffer += chunk.decode()
        try:
            items.append(json.loads(buffer))
        except ValueError:
            continue
        buffer = ""
        if len(items) == wanted:
            break
    return items


def camper_gitter_bot(response: httpx.Response, wanted: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for chunk in response.iter_raw():
        if chunk == HEARTBEAT:
            continue
        items.append(json.loads(chunk))  # raises if a chunk is not one whole document
        if len(items) == wanted:
            break
    return items


def errbot_iter_lines(response: httpx.Response, wanted: int) -> list[dict[str, Any]]:
    """``requests``' iter_lines splits with ``str.splitlines`` semantics; so does httpx's."""
    items: list[dict[str, Any]] = []
    for line in response.iter_lines():
        if not line.strip():
            continue
        items.append(json.loads(line))
        if len(items) == wanted:
            break
    return items


def go_gitter_read_to_newline(response: httpx.Response, wanted: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    pending = b""
    for data in response.iter_raw():
        pending += data
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            if not line.strip():
                continue
            items.append(json.loads(line))
        if len(items) >= wanted:
            break
    return items


PARSERS: dict[str, Parser] = {
    "node-gitter": node_gitter,
    "camper-gitter-bot": camper_gitter_bot,
    "errbot": errbot_iter_lines,
    "go-gitter": go_gitter_read_to_newline,
}


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = create_app(["gitter"], strict=True, stream_keepalive=0.05)
    with serve_in_thread(app) as server:
        yield server.url


def _post_slowly(url: str, texts: list[str]) -> None:
    with httpx.Client(base_url=url, timeout=5) as http:
        for text in texts:
            time.sleep(0.12)  # two heartbeats or more between messages
            assert http.post(f"/v1/rooms/{REPO}/chatMessages", json={"text": text}, headers=ALICE).status_code == 200


@pytest.mark.parametrize("style", list(PARSERS))
def test_every_client_parsing_style_reads_every_message(server_url: str, style: str) -> None:
    texts = [f"{style}: {text}" for text in TEXTS]
    with (
        httpx.Client(base_url=server_url, timeout=5) as http,
        http.stream("GET", f"/stream/v1/rooms/{REPO}/chatMessages", headers=BOB) as response,
    ):
        assert response.status_code == 200
        poster = threading.Thread(target=_post_slowly, args=(server_url, texts))
        poster.start()
        try:
            items = PARSERS[style](response, len(texts))
        finally:
            poster.join(10)
    assert [item["text"] for item in items] == texts


def test_each_chunk_is_one_document_or_one_heartbeat(server_url: str) -> None:
    with (
        httpx.Client(base_url=server_url, timeout=5) as http,
        http.stream("GET", f"/stream/v1/rooms/{REPO}/chatMessages", headers=BOB) as response,
    ):
        poster = threading.Thread(target=_post_slowly, args=(server_url, TEXTS[:2]))
        poster.start()
        chunks: list[bytes] = []
        try:
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if sum(part != HEARTBEAT for part in chunks) == 2:
                    break
        finally:
            poster.join(10)
    assert chunks[0] == HEARTBEAT  # quiet before the first post
    documents = [chunk for chunk in chunks if chunk != HEARTBEAT]
    assert all(chunk.endswith(b"\r\n") and chunk.count(b"\r\n") == 1 for chunk in documents), documents
    assert [json.loads(chunk)["text"] for chunk in documents] == TEXTS[:2]
