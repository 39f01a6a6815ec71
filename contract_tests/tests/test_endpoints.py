"""Per-endpoint contract tests, for every endpoint of every selected API, driven by the
schemas: valid requests get a documented success; generated requests get a documented
answer whose body validates; bad credentials, missing or malformed parameters and unknown
ids get one of the API's documented error shapes (Lingr: HTTP 200 + status error)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from contract_tests.apis import ApiSupport, support
from contract_tests.mutations import UNDOCUMENTED
from contract_tests.skips import require_api, require_writes
from contract_tests.specs import CannotBuild, DeclaredImpossible, Discovery, RequestSpec
from contract_tests.targets import Credential, Target
from mockserver.core.registry import Endpoint, load_registry, thaw

REGISTRY = load_registry()
LONGPOLL_WAIT = 130.0  # a live long poll may be held ~100 s (Lingr clients wait that long)
ENDPOINTS = sorted(REGISTRY.endpoints.values(), key=lambda endpoint: endpoint.id)
AUTHENTICATED = [endpoint for endpoint in ENDPOINTS if endpoint.auth is not None]
CALLABLE = [endpoint for endpoint in ENDPOINTS if endpoint.kind != "stream"]  # a stream never ends
WITH_UNKNOWN_ID = [endpoint for endpoint in ENDPOINTS if support(endpoint.api).specs.unknown_id(endpoint.id) is not None]


def _ids(endpoints: list[Endpoint]) -> list[str]:
    return [endpoint.id for endpoint in endpoints]


def _session(target: Target, endpoint: Endpoint) -> tuple[ApiSupport[Any], Credential, Discovery]:
    """Logged in and what exists on the target (support calls: a drift there is the cause of
    whatever breaks next, not this test's failure); skipped for a write not allowed."""
    require_api(target.config, endpoint.api)
    api = support(endpoint.api)
    room = require_writes(target.config, endpoint.api) if endpoint.id in api.writes else None
    with target.supporting():
        credential = api.login(target)
        found = api.discover(target, credential)
    found.write_room = room
    return api, credential, found


def _valid_request(api: ApiSupport[Any], endpoint: Endpoint, target: Target, credential: Credential, found: Discovery) -> RequestSpec:
    try:
        with target.supporting():
            return api.valid_request(endpoint.id, target, credential, found)
    except DeclaredImpossible as reason:
        pytest.skip(f"{endpoint.id}: {reason}")
    except CannotBuild as reason:
        if target.config.is_mock:
            pytest.fail(f"{endpoint.id}: {reason}, though the mock's default world should have it")
        pytest.skip(f"{endpoint.id}: {reason}")


def _prepare(target: Target, endpoint: Endpoint) -> tuple[Credential, Discovery, RequestSpec]:
    api, credential, found = _session(target, endpoint)
    return credential, found, _valid_request(api, endpoint, target, credential, found)


def _send(target: Target, endpoint: Endpoint, spec: RequestSpec, credential: Credential | None, **options: Any) -> Any:
    return target.call(
        endpoint.id,
        spec.params,
        path=spec.path,
        credential=credential,
        method=spec.method,
        encoding=spec.encoding,
        files=spec.files,
        timeout=LONGPOLL_WAIT if endpoint.kind == "longpoll" else 10.0,
        **options,
    )


@pytest.mark.parametrize("endpoint", CALLABLE, ids=_ids(CALLABLE))
def test_valid_request_succeeds(target: Target, endpoint: Endpoint) -> None:
    credential, _found, spec = _prepare(target, endpoint)
    _send(target, endpoint, spec, credential, expect_error=False)


@pytest.mark.parametrize("endpoint", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_missing_credentials_rejected(target: Target, endpoint: Endpoint) -> None:
    _credential, _found, spec = _prepare(target, endpoint)
    _send(target, endpoint, spec, None, expect_error=True)


@pytest.mark.parametrize("endpoint", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_wrong_credentials_rejected(target: Target, endpoint: Endpoint) -> None:
    credential, _found, spec = _prepare(target, endpoint)
    _send(target, endpoint, spec, support(endpoint.api).wrong_credential(credential), expect_error=True)


def _required(endpoint: Endpoint) -> list[str]:
    schema = endpoint.params_schema or {}
    return list(schema.get("required", ()))


WITH_REQUIRED = [endpoint for endpoint in CALLABLE if _required(endpoint)]


@pytest.mark.parametrize("endpoint", WITH_REQUIRED, ids=_ids(WITH_REQUIRED))
def test_missing_required_parameter_rejected(target: Target, endpoint: Endpoint) -> None:
    credential, _found, spec = _prepare(target, endpoint)
    for name in _required(endpoint):
        if name not in spec.params:
            continue
        _send(target, endpoint, spec.without(name), credential, expect_error=True)


def _constrained(endpoint: Endpoint) -> list[str]:
    """Parameters whose schema rejects an arbitrary word (a pattern, an enum or a non-string type)."""
    schema = endpoint.params_schema or {}
    names = []
    for name, spec in schema.get("properties", {}).items():
        if "pattern" in spec or "enum" in spec or spec.get("type") in ("integer", "number", "boolean", "array", "object"):
            names.append(name)
    return names


WITH_CONSTRAINED = [endpoint for endpoint in CALLABLE if _constrained(endpoint)]


@pytest.mark.parametrize("endpoint", WITH_CONSTRAINED, ids=_ids(WITH_CONSTRAINED))
def test_malformed_parameter_rejected(target: Target, endpoint: Endpoint) -> None:
    credential, _found, spec = _prepare(target, endpoint)
    checker = endpoint.params_checker
    assert checker is not None
    for name in _constrained(endpoint):
        params = {**spec.params, name: f"{UNDOCUMENTED} !"}
        if checker.is_valid(params):
            continue
        _send(target, endpoint, spec.with_params(params), credential, expect_error=True)


@pytest.mark.parametrize("endpoint", WITH_UNKNOWN_ID, ids=_ids(WITH_UNKNOWN_ID))
def test_unknown_id_rejected(target: Target, endpoint: Endpoint) -> None:
    """A request naming an id that does not exist gets a documented error (a stream's too: it
    is refused before it starts)."""
    api, credential, found = _session(target, endpoint)
    with target.supporting():
        spec = api.unknown_id_request(endpoint.id, target, credential, found)
    assert spec is not None
    _send(target, endpoint, spec, credential, expect_error=True)


def _strategy(endpoint: Endpoint, known: dict[str, list[str]], spec: RequestSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Parameter sets valid against the schema; ids that must exist come from the target
    (a generated id is replaced by a known one), required values the endpoint needs to
    succeed (a text, a unique id) may come from its valid request."""
    schema: dict[str, Any] = thaw(endpoint.params_schema) if endpoint.params_schema is not None else {"type": "object"}
    schema["additionalProperties"] = False  # unknown extras are tested elsewhere
    required = set(schema.get("required", ()))
    chosen = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items() if values})
    keep_spec = st.booleans()

    def merge(generated: dict[str, Any], existing: dict[str, Any], use_spec: bool) -> dict[str, Any]:
        params = dict(generated)
        for name in params:
            if name in existing:
                params[name] = existing[name]
            elif use_spec and name in required and name in spec.params:
                params[name] = spec.params[name]
        return params

    return st.builds(merge, from_schema(schema), chosen, keep_spec)


GENERATED = [endpoint for endpoint in CALLABLE if endpoint.params_schema is not None and endpoint.kind == "json"]


@pytest.mark.parametrize("endpoint", GENERATED, ids=_ids(GENERATED))
def test_generated_requests_get_documented_answers(target: Target, endpoint: Endpoint) -> None:
    """Requests generated from the parameter schema: a documented status and a valid body."""
    credential, found, spec = _prepare(target, endpoint)
    strategy = _strategy(endpoint, found.params, spec)

    @settings(suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(params: dict[str, Any]) -> None:
        target.call(
            endpoint.id,
            params,
            path=spec.path,
            credential=credential,
            method=spec.method,
            encoding=spec.encoding,
            files=spec.files,
            timeout=10.0,
        )

    run()


DOCUMENTED_ERRORS = [(endpoint, case.status, case.code) for endpoint in ENDPOINTS for case in endpoint.errors]


@pytest.mark.parametrize(
    ("endpoint", "status", "code"),
    DOCUMENTED_ERRORS,
    ids=[f"{endpoint.id}-{status}-{code}" for endpoint, status, code in DOCUMENTED_ERRORS],
)
def test_documented_error_on_demand(target: Target, endpoint: Endpoint, status: int, code: str | int | None) -> None:
    """Mock only: ``Prefer`` picks each documented error; it has the documented status and shape."""
    require_api(target.config, endpoint.api)
    if not target.config.is_mock:
        pytest.skip("choosing a documented error with Prefer is a mock feature")
    credential, _found, spec = _prepare(target, endpoint)
    prefer = f"code={status}" + (f"; error={code}" if code is not None else "")
    exchange = _send(target, endpoint, spec, credential, headers={"Prefer": prefer}, expect_error=True)
    assert exchange.response.status_code == status
    if code is not None:
        assert re.search(re.escape(str(code)), exchange.response.text), (
            f"{endpoint.id}: error code {code} not in {exchange.response.text[:200]}"
        )
