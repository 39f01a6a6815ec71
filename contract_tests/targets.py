"""Where the suite sends requests: the mock in-process (ASGI), a mock it starts on a free
port (HTTP), or a live server. All three are an ``httpx.Client`` and base URLs per server,
so every test runs unchanged against each."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from contract_tests.checks import ContractFailure, Exchange, check_exchange, curl_line, error_code
from contract_tests.config import SuiteConfig
from contract_tests.ledger import Ledger
from contract_tests.vault import VAULT
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.core.parse import MEDIA_TYPES
from mockserver.core.registry import AuthScheme, Endpoint, Registry, load_registry

MOCK_ORIGIN = "http://127.0.0.1"
LONGPOLL_TIMEOUT = 1.0
STREAM_KEEPALIVE = 0.5


class TransportFailure(AssertionError):
    """The target did not answer (timeout, refused, broken connection)."""

    def __init__(self, endpoint: Endpoint, request: httpx.Request, error: Exception, secrets: tuple[str, ...]) -> None:
        self.endpoint_id = endpoint.id
        self.api = endpoint.api
        self.error = type(error).__name__
        self.curl = curl_line(request, secrets)
        detail = VAULT.scrub(str(error))
        super().__init__(f"{endpoint.id}: no answer: {self.error}: {detail}\n  reproduce: {self.curl}")

    @property
    def cause(self) -> str:
        return f"{self.api} transport {self.error}"

    @property
    def title(self) -> str:
        return f"the {self.api} server did not answer ({self.error})"


@dataclass(frozen=True)
class Credential:
    """What authenticates a call: a bearer token, auth headers, or a parameter. Its repr names
    the fields only (a traceback prints a function's arguments)."""

    values: Mapping[str, str] = field(repr=False)
    user: str = ""

    def __post_init__(self) -> None:
        VAULT.learn_all(self.values.values())

    def __repr__(self) -> str:
        return f"Credential({', '.join(self.values)}{f', user={self.user!r}' if self.user else ''})"

    def secrets(self) -> tuple[str, ...]:
        return tuple(value for value in self.values.values() if value)


def apply_credential(scheme: AuthScheme | None, credential: Credential | None, headers: dict[str, str], params: dict[str, Any]) -> None:
    if scheme is None or credential is None:
        return
    if scheme.type == "bearer":
        headers["Authorization"] = f"Bearer {credential.values['token']}"
    elif scheme.type == "headers":
        for name in scheme.headers:
            if name in credential.values:
                headers[name] = credential.values[name]
    else:
        params[scheme.param] = credential.values[scheme.param]


class RateLimiter:
    """Client-side pacing for live runs: at most ``per_second`` requests, and honour 429 +
    Retry-After by waiting and sending again (at most ``retries`` times)."""

    def __init__(self, per_second: float = 0.0, retries: int = 3) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.retries = retries
        self._last = 0.0
        self._lock = threading.Lock()

    def pace(self) -> None:
        if not self.interval:
            return
        with self._lock:
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()

    @staticmethod
    def retry_after(response: httpx.Response) -> float | None:
        if response.status_code != 429:
            return None
        value = response.headers.get("retry-after", "")
        # without Retry-After (Gitter sends none), wait out a 60 s window over the retries
        return min(float(value), 60.0) if value.replace(".", "", 1).isdigit() else 21.0


@dataclass
class Target:
    """One configured target: a client and the base URL of every API server."""

    config: SuiteConfig
    http: httpx.Client
    bases: dict[tuple[str, str], str]
    registry: Registry
    ledger: Ledger
    limiter: RateLimiter = field(default_factory=RateLimiter)
    app: Any = None  # the in-process or HTTP mock app, when there is one
    server: BackgroundServer | None = None
    admin_url: str | None = None
    extra_secrets: list[str] = field(default_factory=list)
    # a contract failure of a support call (see :meth:`supporting`) is handed to this, and the test goes on
    on_support_failure: Callable[[ContractFailure], None] | None = None
    _support_depth: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        VAULT.learn_all(self.config.secrets())

    def __repr__(self) -> str:
        return f"Target({self.config.target}: {', '.join(self.config.apis)})"

    # mock control ------------------------------------------------------------------
    def reset(self) -> None:
        if self.admin_url is not None:
            self.http.post(f"{self.admin_url}/reset").raise_for_status()

    def seed(self, world: Mapping[str, Any]) -> None:
        if self.admin_url is None:
            raise RuntimeError("only a mock target can be seeded")
        self.http.post(f"{self.admin_url}/seed", json=dict(world)).raise_for_status()

    def admin(self, path: str) -> Any:
        if self.admin_url is None:
            raise RuntimeError("only a mock target has an admin API")
        response = self.http.get(f"{self.admin_url}/{path}")
        response.raise_for_status()
        return response.json()

    def mock_credentials(self, api: str, user: str) -> dict[str, str]:
        """``user``'s credentials in the mock's world in force, keyed by the API's own parameter
        names (``GET /__chatmock/credentials``)."""
        users = self.admin("credentials")["credentials"].get(api, {})
        if user not in users:
            raise LookupError(f"the mock's {api} world gives {user!r} no credentials")
        given = {str(name): str(value) for name, value in users[user].items()}
        VAULT.learn_pairs(given.items())
        VAULT.learn_all(value for name, value in given.items() if name in ("token", "password", "apikey"))
        return given

    def world_in_force(self, api: str) -> dict[str, Any]:
        """The mock's world document of ``api`` in force (``GET /__chatmock/seed``)."""
        world: dict[str, Any] = self.admin("seed")["seed"][api]
        return world

    @contextlib.contextmanager
    def supporting(self) -> Iterator[None]:
        """Calls made inside only prepare a test (a login, a discovery): when one breaks its
        contract, the failure goes to ``on_support_failure`` (the cause of whatever breaks
        next) and the call returns the exchange as received, so the test still checks what it
        is about. Without ``on_support_failure`` every contract failure raises."""
        self._support_depth += 1
        try:
            yield
        finally:
            self._support_depth -= 1

    # requests ------------------------------------------------------------------------
    def url(self, endpoint: Endpoint, path_params: Mapping[str, str] | None = None) -> str:
        path = endpoint.path
        for name, value in (path_params or {}).items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        return self.bases[(endpoint.api, endpoint.server.name)] + path

    def call(
        self,
        endpoint_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        path: Mapping[str, str] | None = None,
        credential: Credential | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        encoding: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        content: bytes | None = None,
        timeout: float = 30.0,
        expect_error: bool | None = None,
        check: bool = True,
    ) -> Exchange:
        """Send one request to an endpoint, check it against the contract, record it."""
        endpoint = self.registry.endpoint(endpoint_id)
        verb = method or endpoint.method
        all_headers = dict(headers or {})
        all_params = dict(params or {})
        apply_credential(endpoint.auth, credential, all_headers, all_params)
        request = self._build(endpoint, verb, all_params, path, all_headers, encoding, files, content)
        secrets = (*(credential.secrets() if credential else ()), *self.extra_secrets)
        try:
            response = self._send(request, timeout)
        except httpx.TransportError as error:
            raise TransportFailure(endpoint, request, error, secrets) from None
        VAULT.learn_response(response)
        exchange = Exchange(endpoint, request, response, secrets)
        if check:
            try:
                body = check_exchange(exchange, expect_error=expect_error)
            except ContractFailure as failure:
                if not self._support_depth or self.on_support_failure is None:
                    raise
                # a support call drifted: recorded as the cause of what may break next; the test goes on
                self.on_support_failure(failure)
                self.ledger.record(endpoint.id, response.status_code, None)
                return exchange
            self.ledger.record(endpoint.id, response.status_code, error_code(exchange, body))
        return exchange

    def _build(
        self,
        endpoint: Endpoint,
        verb: str,
        params: dict[str, Any],
        path: Mapping[str, str] | None,
        headers: dict[str, str],
        encoding: str | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        content: bytes | None,
    ) -> httpx.Request:
        url = self.url(endpoint, path)
        if content is not None:
            return self.http.build_request(verb, url, content=content, headers=headers)
        where = encoding or ("query" if verb in ("GET", "DELETE") else _body_encoding(endpoint, files))
        if where == "query":
            return self.http.build_request(verb, url, params=_as_query(params), headers=headers)
        if where == "json":
            return self.http.build_request(verb, url, json=params, headers=headers)
        if where == "multipart" or files:
            return self.http.build_request(verb, url, data=_as_query(params), files=dict(files or {}), headers=headers)
        return self.http.build_request(verb, url, data=_as_query(params), headers=headers)

    def _send(self, request: httpx.Request, timeout: float) -> httpx.Response:
        for _attempt in range(self.limiter.retries + 1):
            self.limiter.pace()
            request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
            response = self.http.send(request)
            wait = self.limiter.retry_after(response) if self.config.target == "live" else None
            if wait is None:
                return response
            time.sleep(wait)
        return response

    def close(self) -> None:
        self.http.close()
        if self.server is not None:
            self.server.stop()


def _body_encoding(endpoint: Endpoint, files: Any) -> str:
    if files:
        return "multipart"
    for location in endpoint.params_in:
        if location in MEDIA_TYPES:
            return location
    return "query"


def _as_query(params: Mapping[str, Any]) -> dict[str, str]:
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}


def _mock_bases(registry: Registry, apis: tuple[str, ...], origin: str) -> dict[tuple[str, str], str]:
    return {(api, server.name): origin + server.prefix for api in apis for server in registry.api(api).servers}


def open_target(config: SuiteConfig, ledger: Ledger | None = None) -> Target:
    registry = load_registry()
    ledger = ledger or Ledger()
    if config.target == "live":
        bases = {}
        for api in config.apis:
            servers = registry.api(api).servers
            for server in servers:
                own = config.environ.get(f"CHATMOCK_{api.upper()}_{server.name.upper()}_URL")
                bases[(api, server.name)] = (own or (config.base_urls[api] if server is servers[0] else server.url)).rstrip("/")
        rate = float(config.environ.get("CHATMOCK_RATE_LIMIT", "1.5"))
        return Target(
            config, httpx.Client(timeout=30.0, follow_redirects=False), bases, registry, ledger, limiter=RateLimiter(per_second=rate)
        )
    app = create_app(config.apis, root=False, strict=True, longpoll_timeout=LONGPOLL_TIMEOUT, stream_keepalive=STREAM_KEEPALIVE)
    if config.target == "inprocess":
        with warnings.catch_warnings():  # Starlette deprecates its TestClient on httpx; it is the suite's ASGI client
            warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
            from starlette.testclient import TestClient

        target = Target(
            config,
            TestClient(app, base_url=MOCK_ORIGIN, raise_server_exceptions=True),
            _mock_bases(registry, config.apis, MOCK_ORIGIN),
            registry,
            ledger,
            app=app,
        )
        target.admin_url = f"{MOCK_ORIGIN}/__chatmock"
        return target
    background = BackgroundServer(app).start()
    target = Target(
        config, httpx.Client(timeout=30.0), _mock_bases(registry, config.apis, background.url), registry, ledger, app=app, server=background
    )
    target.admin_url = f"{background.url}/__chatmock"
    return target
