"""The parts of a trustworthy live report, one by one: the secret vault and the report scrubber,
reprs that print no credential, contract failures that name the observed type (never a secret
value) and share a cause, the cause book (one report per cause, across xdist workers too), the
ledger merged from workers, and the proxy's redaction and leak check of short secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.causes import BLOCKED_ATTR, CAUSE_ATTR, Cause, CauseBook, cause_of
from contract_tests.checks import ContractFailure, Exchange, check_exchange
from contract_tests.ledger import Ledger
from contract_tests.targets import Credential
from contract_tests.vault import PLACEHOLDER, SecretVault, scrub_report
from mockserver.core.registry import load_registry
from mockserver.proxy.leaks import find_leaks
from mockserver.proxy.redact import Redactor

REGISTRY = load_registry()


# the vault ---------------------------------------------------------------------------------------------
def test_secrets_are_learned_as_servers_issue_them() -> None:
    vault = SecretVault()
    vault.learn_json({"status": "ok", "session": "Zk3SeS", "public_id": "Pub123", "user": {"username": "alice"}})  # Lingr
    vault.learn_json({"status": "success", "data": {"authToken": "tok-43-chars-long-enough", "userId": "aLiCEx3kPq7RtZ2mW"}})
    vault.learn_json([{"access_token": "f" * 64, "uuid": "u-1"}])  # BOCCO
    assert vault.values == {"Zk3SeS", "tok-43-chars-long-enough", "aLiCEx3kPq7RtZ2mW", "f" * 64}
    # a 6-character session id is replaced wherever it occurs, inside a message text too
    text = "alice said 'helloZk3SeSworld' with X-Auth-Token tok-43-chars-long-enough; public_id Pub123"
    assert vault.scrub(text) == f"alice said 'hello{PLACEHOLDER}world' with X-Auth-Token {PLACEHOLDER}; public_id Pub123"


def test_the_scrubber_leaves_source_code_alone_but_not_values() -> None:
    vault = SecretVault(["hunter2!"], names=[])
    assert vault.scrub('credential = support("lingr").login(target)') == 'credential = support("lingr").login(target)'
    assert vault.scrub("credential=credential") == "credential=credential"
    assert vault.scrub("{'session': 'abc', 'password': 'x'} ?token=q&room=r Authorization: Bearer zz hunter2!") == (
        "{'session': '${SECRET}', 'password': '${SECRET}'} ?token=${SECRET}&room=r Authorization: Bearer ${SECRET} ${SECRET}"
    )
    # the ledger's labels name secrets ("invalid_user_credentials"): structured files get the values only
    assert (
        vault.scrub_values('{"200/invalid_user_credentials": 3, "x": "hunter2!"}')
        == '{"200/invalid_user_credentials": 3, "x": "${SECRET}"}'
    )


def test_a_report_is_scrubbed_everywhere_a_secret_may_hide() -> None:
    vault = SecretVault(["Zk3SeS"])
    session = "Zk3SeS"
    try:
        raise AssertionError(f"lingr said {session}")
    except AssertionError:
        info = pytest.ExceptionInfo.from_current()
    longrepr = info.getrepr(showlocals=True, style="long")
    report = pytest.TestReport(
        "t.py::test_x", ("t.py", 1, "test_x"), {}, "failed", longrepr, "call", sections=[("Captured stdout call", f"session {session}\n")]
    )
    report.user_properties = [("note", f"s={session}")]
    assert session in str(report.longrepr)
    scrub_report(report, vault.scrub)
    assert session not in str(report.longrepr)
    assert f"session    = '{PLACEHOLDER}'" in str(report.longrepr)  # the local, shown by --showlocals
    assert report.sections == [("Captured stdout call", f"session {PLACEHOLDER}\n")]
    assert report.user_properties == [("note", f"s={PLACEHOLDER}")]


def test_reprs_name_no_credential() -> None:
    credential = Credential({"session": "Qq7Rr8"}, user="alice")
    assert repr(credential) == "Credential(session, user='alice')"
    request = httpx.Request("GET", "http://lingr.test/api/room/show?room=lounge&session=Qq7Rr8")
    exchange = Exchange(REGISTRY.endpoint("lingr.room.show"), request, httpx.Response(200), ("Qq7Rr8",))
    assert repr(exchange) == "Exchange(lingr.room.show: GET http://lingr.test/api/room/show -> 200)"


# contract failures and their causes ----------------------------------------------------------------------
def _exchange(endpoint_id: str, body: Any, url: str = "http://lingr.test/api/x?session=Ab12Cd") -> Exchange:
    request = httpx.Request("GET", url)
    response = httpx.Response(200, json=body, headers={"content-type": "application/javascript; charset=utf-8"}, request=request)
    return Exchange(REGISTRY.endpoint(endpoint_id), request, response, ("Ab12Cd",))


def _room_show(message_id: Any) -> dict[str, Any]:
    message = {
        "id": message_id,
        "room": "lounge",
        "public_session_id": "P1",
        "icon_url": "https://example.com/i.png",
        "type": "user",
        "speaker_id": "alice",
        "nickname": "alice",
        "text": "hi",
        "timestamp": "2024-01-01T00:00:00Z",
        "local_id": None,
    }
    roster: dict[str, list[Any]] = {"members": [], "bots": []}
    room = {"id": "lounge", "name": "Lounge", "blurb": "", "is_public": True, "messages": [message], "roster": roster}
    return {"status": "ok", "rooms": [room, {**room, "messages": [{**message}]}]}


def test_a_failure_names_the_observed_type_and_shares_its_cause() -> None:
    with pytest.raises(ContractFailure) as first:
        check_exchange(_exchange("lingr.room.show", _room_show(1000001)))
    failure = first.value
    assert failure.instance_path.endswith(".id")
    assert failure.observed.type == "integer"
    assert "observed: integer 1000001" in str(failure)
    assert "session=${SECRET}" in failure.curl
    assert "Ab12Cd" not in str(failure)
    assert failure.title == "lingr.room.show drift ($.rooms[*].messages[*].id)"
    with pytest.raises(ContractFailure) as second:
        check_exchange(_exchange("lingr.room.show", _room_show(1000002)))
    assert second.value.cause == failure.cause, "the same drift, whatever the value and index"


def test_a_drifting_secret_field_shows_its_type_never_its_value() -> None:
    body = {"status": "ok", "session": 987654, "public_id": "P1", "nickname": "alice", "user": {"name": "Alice", "username": "alice"}}
    with pytest.raises(ContractFailure) as caught:
        check_exchange(_exchange("lingr.session.create", body, "http://lingr.test/api/session/create"))
    assert caught.value.instance_path == "$.session"
    assert caught.value.observed.type == "integer"
    assert "987654" not in str(caught.value)


def test_the_cause_of_a_failure_inside_an_exception_group() -> None:
    with pytest.raises(ContractFailure) as caught:
        check_exchange(_exchange("lingr.room.show", _room_show(7)))
    group = ExceptionGroup("hypothesis found two failures", [ValueError("other"), caught.value])
    found = cause_of(group)
    assert found is not None
    assert found.endpoint == "lingr.room.show"
    assert found.observed == "integer"
    assert cause_of(ValueError("plain")) is None


def _report(nodeid: str, cause: Cause) -> pytest.TestReport:
    report = pytest.TestReport(nodeid, ("contract_tests/tests/test_endpoints.py", 10, nodeid), {}, "failed", "boom", "call")
    setattr(report, CAUSE_ATTR, cause.as_json())
    return report


def test_one_cause_is_reported_once_across_xdist_workers() -> None:
    with pytest.raises(ContractFailure) as caught:
        check_exchange(_exchange("lingr.room.show", _room_show(3)))
    cause = cause_of(caught.value)
    assert cause is not None
    controller = CauseBook(worker=False)
    first, second = _report("t::a", cause), _report("t::b", cause)  # two workers met the same drift
    controller.pytest_runtest_logreport(first)
    controller.pytest_runtest_logreport(second)
    assert first.outcome == "failed"
    assert second.outcome == "skipped"
    assert getattr(second, BLOCKED_ATTR) == cause.key
    assert isinstance(second.longrepr, tuple)
    assert second.longrepr[2] == f"Skipped: blocked by {cause.title}: see its failure in t::a"
    assert controller.reported[cause.key].blocked == ["t::b"]
    assert list(controller.by_endpoint()) == ["lingr.room.show"]


# the ledger across workers ---------------------------------------------------------------------------------
def test_worker_ledgers_merge() -> None:
    one, two = Ledger(), Ledger()
    one.record("lingr.room.show", 200)
    one.record("lingr.room.show", 200, "not_found")
    two.record("lingr.room.show", 200)
    merged = Ledger()
    for part in (one, two):
        merged.merge(json.loads(json.dumps(part.state())))  # as xdist sends it
    assert dict(merged.seen["lingr.room.show"]) == {(200, None): 2, (200, "not_found"): 1}


# the proxy: short secrets everywhere ------------------------------------------------------------------------
def test_the_recorder_replaces_a_short_session_inside_any_string(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.learn_pairs([("session", "9GvFEM")])
    assert redactor.text("/api/nosuch/9GvFEM") == "/api/nosuch/redacted1"
    said = redactor.redact({"message": {"text": "my session is 9GvFEM, do not tell"}})
    assert "9GvFEM" not in json.dumps(said)
    (tmp_path / "x.json").write_text(json.dumps({"text": "again 9GvFEM", "url": "http://l/api?session=Kk8Jj7"}))
    reasons = {leak.reason for leak in find_leaks(tmp_path, redactor.secret_values())}
    assert reasons == {"a secret the recording session saw", "a credential in a query string"}
