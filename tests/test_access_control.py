"""Access control and secrets.

* Every authenticated endpoint (from the registry) refuses missing, malformed, wrong and
  expired credentials (Rocket.Chat logout, Lingr session/destroy; Gitter and BOCCO, which
  have no logout, a token dropped by a re-seed) with the endpoint's documented auth error.
* A valid user reaching into the bob-only room of each default world gets the endpoint's
  documented error, and nothing of the room leaks.
* ``chatmock serve`` binds 127.0.0.1 unless CHATMOCK_ADMIN_TOKEN is set; with an admin token
  ``/__chatmock/`` needs the header.
* Secrets (passwords, tokens, session ids, API keys) appear in no output: the journal, the
  logs, the output of a ``chatmock serve`` process, the contract suite's failure messages.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mock_support import default_world
from starlette.testclient import TestClient

from contract_tests.apis import RequestSpec, support
from contract_tests.apis.rocketchat import session_credential
from contract_tests.checks import ContractFailure, Exchange, check_exchange, curl_line
from contract_tests.config import SuiteConfig
from contract_tests.server import free_port, serve_in_thread
from contract_tests.targets import Credential, Target, open_target
from mockserver.admin import ADMIN_HEADER
from mockserver.apis import API_NAMES
from mockserver.app import create_app
from mockserver.cli import build_parser
from mockserver.core.registry import Endpoint, load_registry, thaw
from mockserver.serve import add_command

REG = load_registry()
AUTHENTICATED = sorted((endpoint for endpoint in REG.endpoints.values() if endpoint.auth is not None), key=lambda endpoint: endpoint.id)
GITTER_ALICE = "gitter-token-alice"


def world(api: str) -> dict[str, Any]:
    return default_world(api)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    opened = open_target(SuiteConfig(target="inprocess"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def fresh(target: Target) -> Target:
    target.reset()
    return target


# the documented auth error of an endpoint ----------------------------------------------------
def auth_cases(endpoint: Endpoint) -> list[Any]:
    """The endpoint's documented error cases for bad credentials."""
    found = [case for case in endpoint.errors if case.status == 401 or case.code == "invalid_session"]
    assert found, f"{endpoint.id} documents no error for bad credentials"
    return found


def assert_auth_error(exchange: Exchange, endpoint: Endpoint) -> None:
    body = check_exchange(exchange, expect_error=True)  # documented status, content type, schema
    cases = auth_cases(endpoint)
    assert exchange.response.status_code in {case.status for case in cases}, exchange.response.text
    if endpoint.api == "lingr":
        assert body["code"] == "invalid_session", body
        return
    bodies = [thaw(case.body) for case in cases if case.body is not None]
    if bodies:
        assert body in bodies, f"{endpoint.id}: {body} is none of the documented {bodies}"


# credentials of each kind ----------------------------------------------------------------------
@dataclass
class Bad:
    """A bad credential: as a Credential applied by the target, or as raw headers."""

    credential: Credential | None = None
    headers: dict[str, str] | None = None


def malformed(api: str, good: Credential) -> list[Bad]:
    if api == "gitter":
        return [
            Bad(headers={"Authorization": "Bearer"}),
            Bad(headers={"Authorization": f"Basic {GITTER_ALICE}"}),
            Bad(headers={"Authorization": f"Bearer {GITTER_ALICE} {GITTER_ALICE}"}),
            Bad(headers={"Authorization": f"bearer{GITTER_ALICE}"}),
        ]
    if api == "rocketchat":
        token, user_id = good.values["X-Auth-Token"], good.values["X-User-Id"]
        return [
            Bad(Credential({"X-Auth-Token": token})),  # no X-User-Id
            Bad(Credential({"X-User-Id": user_id})),  # no X-Auth-Token
            Bad(Credential({"X-Auth-Token": token, "X-User-Id": "boBy4Nq8HsK2dYe6T"})),  # bob's id, alice's token
            Bad(Credential({"X-Auth-Token": "", "X-User-Id": ""})),
        ]
    name = "session" if api == "lingr" else "access_token"
    value = good.values[name]
    return [Bad(Credential({name: text})) for text in ("", " ", value + "x", value[:-1], "%00", "\u30bb\u30c3\u30b7\u30e7\u30f3")]


def expire(target: Target, api: str) -> Credential:
    """A credential that worked and no longer does."""
    if api == "lingr":
        credential = support(api).login(target)
        assert support(api).logout(target, credential)
        return credential
    if api == "rocketchat":
        params = {"user": "alice", "password": "alice-password"}
        exchange = target.call("rocketchat.login", params, credential=Credential({"password": params["password"]}), expect_error=False)
        credential = session_credential(exchange.json()["data"], "alice", params["password"])
        assert support(api).logout(target, credential)
        return credential
    if api == "bocco":
        credential = support(api).login(target)
        target.reset()  # BOCCO has no sign-out: a re-seed drops every token
        return credential
    seed = world("gitter")
    for person in seed["users"]:
        person["tokens"] = [f"{token}-reissued" for token in person["tokens"]]
    target.seed({"gitter": seed})  # Gitter has no logout: a re-seed with new tokens drops the old
    return Credential({"token": GITTER_ALICE}, user="alice")


def prepared(target: Target, endpoint: Endpoint) -> tuple[Credential, RequestSpec]:
    api = support(endpoint.api)
    credential = api.login(target)
    spec = api.valid_request(endpoint.id, target, credential, api.discover(target, credential))
    assert spec is not None, f"{endpoint.id}: no valid request on the mock"
    return credential, spec


def send(target: Target, endpoint: Endpoint, spec: RequestSpec, bad: Bad) -> Exchange:
    return target.call(
        endpoint.id,
        spec.params,
        path=spec.path,
        credential=bad.credential,
        headers=bad.headers,
        method=spec.method,
        encoding=spec.encoding,
        files=spec.files,
        timeout=10.0,
        check=False,
    )


KINDS = ("missing", "malformed", "wrong", "expired")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endpoint", AUTHENTICATED, ids=[endpoint.id for endpoint in AUTHENTICATED])
def test_bad_credentials_refused(fresh: Target, endpoint: Endpoint, kind: str) -> None:
    good, spec = prepared(fresh, endpoint)
    if kind == "missing":
        bads = [Bad()]
    elif kind == "malformed":
        bads = malformed(endpoint.api, good)
    elif kind == "wrong":
        bads = [Bad(support(endpoint.api).wrong_credential(good))]
    else:
        bads = [Bad(expire(fresh, endpoint.api))]
    for bad in bads:
        assert_auth_error(send(fresh, endpoint, spec, bad), endpoint)


# reaching into bob's room ------------------------------------------------------------------------
GITTER_BOB_ROOM = "5f2000000000000000000005"  # bob/private
GITTER_BOB_MESSAGE = "5f3000000000000000000501"
GITTER_ALICE_ID = "5f1a11ce0000000000000001"
ROCKET_BOB_ROOM = "bObPr7vGtK4sQw9Zn"  # bob-private
LINGR_BOB_ROOM = "bobs_den"
BOCCO_BOB_ROOM = "B0B00000-0000-4000-8000-000000000005"  # Bob's Room


@dataclass
class Reach:
    endpoint: str
    spec: RequestSpec
    status: int
    code: str | int | None = None  # the body's error code (Lingr code, Rocket.Chat errorType, Gitter error)


def bocco_unique_id() -> str:
    return "1DB34B93-0DFA-4150-AEF5-CBED1F820005"  # bob's note in Bob's Room


REACHES = [
    Reach("gitter.rooms.chatMessages.list", RequestSpec(path={"roomId": GITTER_BOB_ROOM}), 404, "Not Found"),
    Reach("gitter.rooms.chatMessages.create", RequestSpec({"text": "hi"}, path={"roomId": GITTER_BOB_ROOM}), 404, "Not Found"),
    Reach(
        "gitter.rooms.chatMessages.get", RequestSpec(path={"roomId": GITTER_BOB_ROOM, "messageId": GITTER_BOB_MESSAGE}), 404, "Not Found"
    ),
    Reach(
        "gitter.rooms.chatMessages.update",
        RequestSpec({"text": "x"}, path={"roomId": GITTER_BOB_ROOM, "chatMessageId": GITTER_BOB_MESSAGE}),
        404,
        "Not Found",
    ),
    Reach("gitter.rooms.users.list", RequestSpec(path={"roomId": GITTER_BOB_ROOM}), 404, "Not Found"),
    Reach("gitter.rooms.join", RequestSpec({"uri": "bob/private"}), 404, "Not Found"),  # as an unknown uri: no existence oracle
    Reach("gitter.stream.chatMessages", RequestSpec(path={"roomId": GITTER_BOB_ROOM}), 404, "Not Found"),
    Reach("gitter.stream.events", RequestSpec(path={"roomId": GITTER_BOB_ROOM}), 404, "Not Found"),
    Reach("rocketchat.channels.history", RequestSpec({"roomId": ROCKET_BOB_ROOM}), 400, "error-room-not-found"),
    Reach("rocketchat.channels.messages", RequestSpec({"roomId": ROCKET_BOB_ROOM}), 400, "error-room-not-found"),
    Reach("rocketchat.chat.postMessage", RequestSpec({"roomId": ROCKET_BOB_ROOM, "text": "hi"}), 400, "invalid-channel"),
    Reach("rocketchat.chat.postMessage", RequestSpec({"channel": "#bob-private", "text": "hi"}), 400, "invalid-channel"),
    Reach("rocketchat.chat.sendMessage", RequestSpec({"message": {"rid": ROCKET_BOB_ROOM, "msg": "hi"}}), 400, "error-invalid-room"),
    Reach("rocketchat.chat.update", RequestSpec({"roomId": ROCKET_BOB_ROOM, "msgId": "bPrMsg2xK7pQ4tRzF", "text": "x"}), 400),
    *(
        Reach(endpoint, RequestSpec({"room": LINGR_BOB_ROOM, **extra}), 200, "not_found")
        for endpoint, extra in (
            ("lingr.room.show", {}),
            ("lingr.room.get_archives", {"before": "99999999"}),
            ("lingr.room.say", {"text": "hi"}),
            ("lingr.room.subscribe", {}),
            ("lingr.room.unsubscribe", {}),
        )
    ),
    Reach("lingr.favorite.add", RequestSpec({"message": "1000008"}), 200, "not_found"),
    Reach("bocco.rooms.messages.list", RequestSpec(path={"room_id": BOCCO_BOB_ROOM}), 404),
    Reach(
        "bocco.rooms.messages.create",
        RequestSpec({"unique_id": "12345678-1234-4234-8234-123456789abc", "media": "text", "text": "hi"}, path={"room_id": BOCCO_BOB_ROOM}),
        404,
    ),
    Reach("bocco.rooms.messages.read", RequestSpec(path={"room_id": BOCCO_BOB_ROOM, "message_id": "1005"}), 404),
    Reach("bocco.rooms.subscribe", RequestSpec({"newer_than": "0"}, path={"room_id": BOCCO_BOB_ROOM}), 404),
    Reach("bocco.messages.download", RequestSpec(path={"unique_id": bocco_unique_id(), "extname": "m4a"}), 404),
]


@pytest.mark.parametrize("reach", REACHES, ids=[f"{reach.endpoint}-{index}" for index, reach in enumerate(REACHES)])
def test_foreign_room_refused(fresh: Target, reach: Reach) -> None:
    endpoint = REG.endpoint(reach.endpoint)
    credential = support(endpoint.api).login(fresh)
    exchange = fresh.call(
        endpoint.id, reach.spec.params, path=reach.spec.path, credential=credential, encoding=reach.spec.encoding, timeout=10.0, check=False
    )
    body = check_exchange(exchange, expect_error=True)
    assert exchange.response.status_code == reach.status, body
    assert reach.status in endpoint.responses
    if reach.code is not None:
        found = body.get("code") if endpoint.api == "lingr" else body.get("errorType", body.get("error"))
        assert found == reach.code, body
        documented = {case.code for case in endpoint.errors if case.status == reach.status}
        assert reach.code in documented or endpoint.api == "gitter", f"{reach.code} is not documented for {endpoint.id}"
    text = exchange.response.text
    for private in ("Notes to self", "note to self", "Note to self", "water the plants", "buy milk"):
        assert private not in text


def test_gitter_unread_items_of_a_foreign_room_leak_nothing(fresh: Target) -> None:
    """Gitter documents no 404 here; the mock answers 200 with nothing in it."""
    credential = support("gitter").login(fresh)
    path = {"userId": GITTER_ALICE_ID, "roomId": GITTER_BOB_ROOM}
    body = check_exchange(fresh.call("gitter.user.unreadItems.list", path=path, credential=credential, check=False))
    assert body == {"chat": [], "mention": []}


# serve and the admin API -----------------------------------------------------------------------------
def serve_args(*argv: str) -> Any:
    return build_parser([add_command]).parse_args(["serve", *argv])


def test_serve_binds_loopback_by_default() -> None:
    assert serve_args().host == "127.0.0.1"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_serve_refuses_other_addresses_without_admin_token(
    host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CHATMOCK_ADMIN_TOKEN", raising=False)
    args = serve_args("--host", host)
    assert args.handler(args) == 2
    assert "CHATMOCK_ADMIN_TOKEN" in capsys.readouterr().err


def test_admin_api_needs_the_header_with_an_admin_token() -> None:
    token = "admin-7b1e0c55-secret"
    with TestClient(create_app(["lingr"], admin_token=token)) as client:
        for path in (
            "/__chatmock/health",
            "/__chatmock/journal",
            "/__chatmock/waiters",
            "/__chatmock/docs",
            "/__chatmock/credentials",
            "/__chatmock/seed",
        ):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={ADMIN_HEADER: "wrong"}).status_code == 401
            assert client.get(path, headers={ADMIN_HEADER: token}).status_code == 200
        assert client.post("/__chatmock/reset").status_code == 401
        assert client.post("/__chatmock/seed", content=b"{}").status_code == 401
        assert client.post("/__chatmock/reset", headers={ADMIN_HEADER: token}).status_code == 200
        assert token not in client.get("/__chatmock/journal", headers={ADMIN_HEADER: token}).text


def test_admin_api_open_without_admin_token() -> None:
    with TestClient(create_app(["lingr"])) as client:
        assert client.get("/__chatmock/health").status_code == 200


def test_admin_api_names_the_world_in_force_and_its_credentials() -> None:
    with TestClient(create_app()) as client:
        credentials = client.get("/__chatmock/credentials").json()["credentials"]
        assert sorted(credentials) == sorted(API_NAMES)
        assert credentials["gitter"] == {"alice": {"token": "gitter-token-alice"}, "bob": {"token": "gitter-token-bob"}}
        assert credentials["rocketchat"]["alice"] == {
            "user": "alice",
            "password": "alice-password",
            "user_id": "aLiCEx3kPq7RtZ2mW",
            "token": "rc-pat-alice",
        }
        assert credentials["rocketchat"]["rocket.cat"] == {"user": "rocket.cat", "user_id": "rocket.cat"}  # no password, no token
        assert credentials["lingr"]["bob"] == {"user": "bob", "password": "bob-password"}
        assert credentials["bocco"]["alice"] == {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
        assert credentials["bocco"]["bocco"] == {"apikey": "bocco-api-key"}  # the robot cannot sign in
        assert client.get("/__chatmock/seed").json() == {"seed": {api: world(api) for api in API_NAMES}}

        lingr_only = {"lingr": {"users": [{"username": "carol", "password": "carol-pw", "email": "carol@example.com"}]}}
        assert client.post("/__chatmock/seed", json=lingr_only).status_code == 200
        assert client.get("/__chatmock/seed").json()["seed"] == {"gitter": {}, "rocketchat": {}, "lingr": lingr_only["lingr"], "bocco": {}}
        assert client.get("/__chatmock/credentials").json()["credentials"] == {
            "gitter": {},
            "rocketchat": {},
            "lingr": {"carol": {"user": "carol", "password": "carol-pw"}},
            "bocco": {},
        }
        client.post("/__chatmock/reset")
        assert client.get("/__chatmock/seed").json()["seed"]["lingr"] == world("lingr")


# secrets -------------------------------------------------------------------------------------------------
UNIQUE = "q7Zx"  # marks every secret of the custom seed


def unique_seed() -> tuple[dict[str, Any], list[str]]:
    """The default worlds with every password, token and API key replaced by a unique string."""
    secrets: list[str] = []

    def fresh_secret(label: str) -> str:
        value = f"{UNIQUE}-{label}-{len(secrets):02d}-s3cr3t"
        secrets.append(value)
        return value

    seed = {api: world(api) for api in API_NAMES}
    for api in API_NAMES:
        for person in seed[api].get("users", []):
            if "password" in person:
                person["password"] = fresh_secret(f"{api}-pw")
            if person.get("tokens"):
                person["tokens"] = [fresh_secret(f"{api}-tok")]
            if person.get("personalAccessTokens"):
                person["personalAccessTokens"] = [fresh_secret(f"{api}-pat")]
    seed["bocco"]["apikeys"] = [fresh_secret("bocco-key")]
    return seed, secrets


def secret_of(seed: dict[str, Any], api: str, user: str, key: str) -> str:
    person = next(person for person in seed[api]["users"] if person.get("username", person.get("name")) == user)
    value = person[key]
    return str(value[0] if isinstance(value, list) else value)


def session_with_secrets(http: httpx.Client, seed: dict[str, Any]) -> list[str]:
    """Logins on all four APIs, posts and an observe; returns the secrets the server issued."""
    issued: list[str] = []
    # Gitter: a token from the seed
    gitter = {"Authorization": f"Bearer {secret_of(seed, 'gitter', 'alice', 'tokens')}"}
    assert http.post("/gitter/v1/rooms/5f2000000000000000000002/chatMessages", json={"text": "hi"}, headers=gitter).status_code == 200
    assert http.get("/gitter/v1/user", params={"access_token": secret_of(seed, "gitter", "bob", "tokens")}).status_code == 200
    # Rocket.Chat: password login, then a post with the issued token, a PAT, a logout
    login = http.post("/rocketchat/api/v1/login", json={"user": "alice", "password": secret_of(seed, "rocketchat", "alice", "password")})
    data = login.json()["data"]
    issued.append(data["authToken"])
    rocket = {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}
    assert http.post("/rocketchat/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "hi"}, headers=rocket).status_code == 200
    pat = {"X-Auth-Token": secret_of(seed, "rocketchat", "bob", "personalAccessTokens"), "X-User-Id": "boBy4Nq8HsK2dYe6T"}
    assert http.get("/rocketchat/api/v1/me", headers=pat).status_code == 200
    assert http.post("/rocketchat/api/v1/logout", headers=rocket).status_code == 200
    bad = http.post("/rocketchat/api/v1/login", data={"user": "bob", "password": secret_of(seed, "rocketchat", "alice", "password")})
    assert bad.status_code == 401
    # Lingr: session/create, subscribe, say, observe, destroy
    created = http.post("/lingr/api/session/create", data={"user": "alice", "password": secret_of(seed, "lingr", "alice", "password")})
    session = created.json()["session"]
    issued.append(session)
    counter = http.post("/lingr/api/room/subscribe", data={"session": session, "room": "lounge"}).json()["counter"]
    assert http.post("/lingr/api/room/say", data={"session": session, "room": "lounge", "text": "hi"}).json()["status"] == "ok"
    assert http.get("/lingr/api/event/observe", params={"session": session, "counter": str(counter)}).json()["status"] == "ok"
    assert http.get(f"/lingr/api/session/verify?session={session}&callback=cb").status_code == 200
    assert http.post("/lingr/api/session/destroy", data={"session": session}).json()["status"] == "ok"
    # BOCCO: sessions, a post, a subscribe
    signed = http.post(
        "/bocco/alpha/sessions",
        data={
            "apikey": seed["bocco"]["apikeys"][0],
            "email": "alice@example.com",
            "password": secret_of(seed, "bocco", "alice", "password"),
        },
    )
    token = signed.json()["access_token"]
    issued.append(token)
    room = "/bocco/alpha/rooms/FA000000-0000-4000-8000-000000000001"
    posted = http.post(
        f"{room}/messages", data={"access_token": token, "unique_id": "12345678-1234-4234-8234-123456789abc", "media": "text", "text": "hi"}
    )
    assert posted.status_code in (200, 201)
    assert http.get(f"{room}/subscribe", params={"access_token": token, "newer_than": "0"}).status_code == 200
    return issued


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:6]}...) appears in {where}"


def test_no_secret_in_journal_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    seed, secrets = unique_seed()
    caplog.set_level(logging.DEBUG, logger="chatmock")
    caplog.set_level(logging.DEBUG, logger="uvicorn")
    app = create_app(strict=True, longpoll_timeout=0.3, seed=seed)
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        issued = session_with_secrets(http, seed)
        journal = http.get("/__chatmock/journal").text
        assert len(http.get("/__chatmock/journal").json()["entries"]) >= 15
        violations = http.get("/__chatmock/violations").text
    everything = [*secrets, *issued]
    assert_no_secret(journal, everything, "the journal")
    assert_no_secret(violations, everything, "the violations")
    assert_no_secret(caplog.text, everything, "the logs")
    assert_no_secret(" ".join(str(record.args) for record in caplog.records), everything, "log record arguments")


def test_no_secret_in_serve_output(tmp_path: Path) -> None:
    seed, secrets = unique_seed()
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--seed", str(seed_file), "--strict"]
    command += ["--longpoll-timeout", "0.3"]
    env = {key: value for key, value in os.environ.items() if key != "CHATMOCK_ADMIN_TOKEN"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + 20
            while True:
                try:
                    http.get("/__chatmock/health").raise_for_status()
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.communicate()
                    assert time.monotonic() < deadline, "chatmock serve did not start"
                    time.sleep(0.05)
            issued = session_with_secrets(http, seed)
            http.get("/gitter/v1/rooms", headers={"Authorization": "Bearer " + secrets[0] + "-wrong"})
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert "chatmock serving" in out
    assert_no_secret(out + err, [*secrets, *issued], "chatmock serve's output")


def contract_failure_for(secrets: list[str]) -> tuple[ContractFailure, str]:
    token, password, session = secrets
    request = httpx.Request(
        "POST",
        f"http://127.0.0.1/lingr/api/room/say?session={session}",
        headers={"Authorization": f"Bearer {token}", "X-Auth-Token": token, "Cookie": f"s={session}"},
        data={"password": password, "text": "hi"},
    )
    response = httpx.Response(418, json={"echo": [token, password, session]}, request=request)
    exchange = Exchange(REG.endpoint("lingr.room.say"), request, response, tuple(secrets))
    with pytest.raises(ContractFailure) as caught:
        check_exchange(exchange)
    return caught.value, curl_line(request, secrets)


def test_no_secret_in_contract_failures() -> None:
    secrets = ["tok-9f8e7d6c5b4a", "pw-hunter2-xyz", "sess-ABCdef123"]
    failure, curl = contract_failure_for(secrets)
    assert_no_secret(str(failure), secrets, "the ContractFailure message")
    assert_no_secret(curl, secrets, "the curl line")
    assert "${SECRET}" in curl
