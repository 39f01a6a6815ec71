"""core/apibase.py and the API registry of mockserver/apis: what an API must declare, checked
when it is created (every hook, one handler per endpoint of its schemas, no unknown endpoint);
the world lifecycle; the documented-error lookup and its fallback."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mockserver.apis import API_CLASSES, API_NAMES, ApiRegistryError, api_class
from mockserver.core.apibase import BaseApi, handled_endpoint, handles
from mockserver.core.call import Call, JsonReply, Problem, Reply
from mockserver.core.hub import Hub
from mockserver.core.registry import ANY_CODE, ErrorCode, UnknownIdError, load_registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.worlds import Credentials

REG = load_registry()
API = "lingr"  # the toy APIs below stand in for Lingr


class ToyBase(BaseApi[dict[str, Any]]):
    """Every hook implemented; handlers are added per test."""

    name = API
    world_file = Path(__file__)  # never read: the tests pass worlds

    def load_world(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        if "bad" in spec:
            raise ValueError("toy world: bad")
        return {"loaded": dict(spec)}

    def credentials(self) -> Credentials:
        return {}

    def secrets(self) -> list[str]:
        return []

    def error(self, problem: Problem, message: str) -> JsonReply:
        return JsonReply(problem.http_status, {"problem": problem.value, "message": message})

    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        return JsonReply(status, {"status": status, "code": code})

    async def authenticate(self, call: Call) -> None:
        return None


def with_handlers(base: type[ToyBase], endpoint_ids: list[str]) -> type[ToyBase]:
    """A subclass with one (trivial) handler per id."""

    def handler_for(endpoint_id: str) -> Callable[[ToyBase, Call], Any]:
        async def handler(self: ToyBase, call: Call) -> Reply:
            return JsonReply(200, {"endpoint": endpoint_id})

        return handles(endpoint_id)(handler)

    methods = {f"handle_{index}": handler_for(endpoint_id) for index, endpoint_id in enumerate(endpoint_ids)}
    return type("Toy", (base,), methods)


ALL = sorted(endpoint.id for endpoint in REG.endpoints_of(API))


def make(cls: type[BaseApi[Any]]) -> BaseApi[Any]:
    return cls(REG, Store(), Hub(), Settings())


# handlers -------------------------------------------------------------------------------------
def test_a_complete_api_collects_one_handler_per_endpoint() -> None:
    api = make(with_handlers(ToyBase, ALL))
    assert sorted(api.handlers) == ALL


def test_a_missing_handler_is_refused_naming_the_endpoint() -> None:
    with pytest.raises(RuntimeError, match=f"no handler for {ALL[0]}"):
        make(with_handlers(ToyBase, ALL[1:]))


def test_a_handler_of_an_unknown_endpoint_is_refused() -> None:
    with pytest.raises(UnknownIdError, match=r"lingr\.no\.such\.endpoint"):
        make(with_handlers(ToyBase, [*ALL, "lingr.no.such.endpoint"]))


def test_a_handler_of_another_apis_endpoint_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"gitter\.user\.me, an endpoint of another API"):
        make(with_handlers(ToyBase, [*ALL, "gitter.user.me"]))


def test_two_handlers_of_one_endpoint_are_refused() -> None:
    with pytest.raises(RuntimeError, match=f"two handlers for {ALL[0]}"):
        make(with_handlers(ToyBase, [*ALL, ALL[0]]))


def test_a_missing_hook_is_refused() -> None:
    class NoErrors(BaseApi[None]):
        name = API

    incomplete: Any = NoErrors
    with pytest.raises(TypeError, match="abstract"):
        make(incomplete)


def test_handles_marks_the_function() -> None:
    @handles("lingr.room.say")
    async def say(call: Call) -> Reply:
        return JsonReply(200, {})

    assert handled_endpoint(say) == "lingr.room.say"
    assert handled_endpoint(make) is None


# the world ------------------------------------------------------------------------------------
class Recording(ToyBase):
    replaced: list[Any]

    def world_replaced(self, previous: dict[str, Any] | None) -> None:
        self.replaced = [*getattr(self, "replaced", []), previous]


def test_reset_loads_records_the_document_and_reports_the_previous_world() -> None:
    api = make(with_handlers(Recording, ALL))
    with pytest.raises(AttributeError, match="world"):
        _ = api.world
    api.reset({"a": 1})
    assert api.world == {"loaded": {"a": 1}}
    assert api.world_document() == {"a": 1}
    api.reset({"b": 2})
    assert api.replaced == [None, {"loaded": {"a": 1}}]  # type: ignore[attr-defined]


def test_reset_empties_the_namespace_first() -> None:
    api = make(with_handlers(ToyBase, ALL))
    api.state.table("scratch")["key"] = "value"
    assert api.state.next_id("counter") == 1
    api.reset({})
    assert api.state.table("scratch") == {}
    assert api.state.next_id("counter") == 1


def test_a_malformed_world_raises_and_keeps_the_document_in_force() -> None:
    api = make(with_handlers(ToyBase, ALL))
    api.reset({"a": 1})
    with pytest.raises(ValueError, match="bad"):
        api.reset({"bad": True})
    assert api.world_document() == {"a": 1}


def test_every_api_reads_its_default_world_from_its_world_file() -> None:
    for name in API_NAMES:
        cls = api_class(name)
        assert cls.world_file.name == "world.json"
        assert cls.world_file.parent.name == name
        assert make(cls).default_world()  # a JSON object


# documented errors ----------------------------------------------------------------------------
def test_documented_finds_the_case_by_status_and_code() -> None:
    api = make(with_handlers(ToyBase, ALL))
    send = REG.endpoint("rocketchat.chat.sendMessage")  # 400 cases: error-invalid-params, none, error-invalid-room
    cases = {case.code: case.body for case in send.errors if case.status == 400}
    assert api.documented(send, 400, "error-invalid-room").body == cases["error-invalid-room"]
    assert api.documented(send, 400, None).body == cases[None]  # the case documented without a code
    assert api.documented(send, 400).body == cases["error-invalid-params"]  # ANY_CODE: the first
    assert api.documented(send, 400, ANY_CODE).status == 400


def test_an_undocumented_case_answers_the_apis_shape_not_a_failure() -> None:
    api = make(with_handlers(ToyBase, ALL))
    me = REG.endpoint("rocketchat.me")
    reply = api.documented(me, 400, "error-room-not-found")
    assert (reply.status, reply.body) == (400, {"status": 400, "code": "error-room-not-found"})
    reply = api.documented(me, 418)
    assert (reply.status, reply.body) == (418, {"status": 418, "code": None})


def test_error_case_prefers_a_case_with_a_body() -> None:
    login = REG.endpoint("rocketchat.login")
    case = login.error_case(401)
    assert case is not None
    assert case.body is not None
    assert login.error_case(499) is None


# the API registry -----------------------------------------------------------------------------
def test_every_registered_api_class_is_valid() -> None:
    assert tuple(API_CLASSES) == API_NAMES
    for name in API_NAMES:
        assert api_class(name).name == name


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("mockserver.apis.gitter.api", "not 'module:Class'"),
        ("mockserver.apis.gitter.api:NoSuchClass", "not a BaseApi subclass"),
        ("mockserver.apis.gitter.world:World", "not a BaseApi subclass"),
        ("mockserver.apis.lingr.api:LingrApi", "calls itself 'lingr'"),
    ],
)
def test_a_bad_registry_entry_is_refused(entry: str, problem: str) -> None:
    with pytest.raises(ApiRegistryError, match=problem):
        api_class("gitter", {"gitter": entry})


def test_an_unknown_api_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown API 'irc'"):
        api_class("irc")


def test_importing_a_world_module_loads_no_api() -> None:
    import subprocess
    import sys

    probe = "import sys, mockserver.apis.gitter.world; print(sorted(m for m in sys.modules if m.startswith('mockserver.apis')))"
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert "mockserver.apis.gitter.api" not in loaded
    assert "mockserver.apis.gitter.markup" not in loaded
