"""chatmock's pytest plugin (entry point ``pytest11``): the mock in a bot author's own tests.

Fixtures:

- ``chatmock``: the session's mock server (uvicorn on a free 127.0.0.1 port, started the
  first time a test asks for it), reset to the default world, or seeded from the test's
  ``@pytest.mark.chatmock_seed(...)``, before each test that uses it. ``chatmock.url("gitter")``,
  ``chatmock.urls``, ``chatmock.credentials("gitter", "alice")``, ``chatmock.seed(...)``,
  ``chatmock.world("gitter")``; credentials and worlds are the mock's own answer (its admin
  API), for the world in force. ``chatmock.fault("rate_limit", endpoint="gitter.rooms.list")``
  adds a fault rule (see :mod:`mockserver.core.faults`; cleared by the next test's reset),
  ``chatmock.faults()`` lists them with their counts.
- ``chatmock_urls`` and ``chatmock_credentials``: the same as plain dicts.
- ``chatmock_app``: a fresh in-process app (seeded the same way) for ASGI clients.
- ``chatmock_respx``: a started respx router that sends requests for the real hosts into
  ``chatmock_app`` (see :mod:`mockserver.respx_routing`); options through
  ``@pytest.mark.chatmock_respx(rocketchat_host=..., allow=[...])``.

ini options: ``chatmock_strict`` (validate every response, default false),
``chatmock_longpoll_timeout`` (seconds, default 30), ``chatmock_rocketchat_host``,
``chatmock_rocketchat_version`` (the Rocket.Chat version profile of every test, as
``chatmock serve --rocketchat-version``; default: the default profile).

The marker ``@pytest.mark.chatmock_rocketchat_version("6.0.0")`` picks a version profile for one
test (or a module, a class): ``chatmock`` seeds its world with that ``version`` (the default
world, or the test's ``chatmock_seed`` world), ``chatmock_app`` is created with it.

Nothing is imported or started for tests that use none of these fixtures, and nothing is
written to disk. Under pytest-xdist (``pytest -n 2``) each worker is a session of its own: its
own server on its own free port, its own world, so workers never see each other's requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    import respx

SEED_MARKER = "chatmock_seed"
RESPX_MARKER = "chatmock_respx"
VERSION_MARKER = "chatmock_rocketchat_version"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "chatmock_strict", "chatmock: validate every mock response against its schema (a violation answers 500)", type="bool", default=False
    )
    parser.addini("chatmock_longpoll_timeout", "chatmock: seconds a Lingr observe / BOCCO subscribe is held (default 30)", default="30")
    parser.addini(
        "chatmock_rocketchat_host", "chatmock: a Rocket.Chat host the mock answers for (by Host header and in chatmock_respx)", default=""
    )
    parser.addini(
        "chatmock_rocketchat_version", "chatmock: the Rocket.Chat version profile, e.g. 6.0.0 (default: the default profile)", default=""
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SEED_MARKER}(world): load this world (a seed JSON file, relative to the test file, or a dict) for the chatmock fixtures",
    )
    config.addinivalue_line(
        "markers", f"{RESPX_MARKER}(rocketchat_host=None, allow=()): options of the chatmock_respx fixture (allow: hosts passed through)"
    )
    config.addinivalue_line(
        "markers", f"{VERSION_MARKER}(version): the Rocket.Chat version profile (e.g. '6.0.0') of the chatmock fixtures in this test"
    )


# what a test sees ---------------------------------------------------------------------------
class ChatMockServer:
    """A running mock server, as a test sees it."""

    def __init__(self, origin: str, app: Any, client: httpx.Client) -> None:
        self.origin = origin
        self.app = app
        self._client = client

    @property
    def urls(self) -> dict[str, str]:
        """Base URL per API (``gitter``, ``gitter.stream``, ``rocketchat``, ``lingr``, ``lingr.observe``, ``bocco``)."""
        return base_urls(self.app, self.origin)

    def url(self, name: str) -> str:
        """One API's base URL, e.g. ``url("gitter") == "http://127.0.0.1:<port>/gitter"``."""
        urls = self.urls
        if name not in urls:
            raise KeyError(f"no chatmock base URL {name!r}; choose from {', '.join(urls)}")
        return urls[name]

    def credentials(self, api: str, user: str = "alice") -> dict[str, str]:
        """``user``'s credentials in ``api`` in the world in force, keyed by the API's own parameter names."""
        users = self.all_credentials().get(api)
        if users is None:
            raise KeyError(f"no chatmock API {api!r}; choose from {', '.join(self.all_credentials())}")
        if user not in users:
            raise KeyError(f"no user {user!r} with credentials in the chatmock {api} world")
        return users[user]

    def all_credentials(self) -> dict[str, dict[str, dict[str, str]]]:
        """API -> user -> credentials, in the world in force (the mock's ``GET /__chatmock/credentials``)."""
        found: dict[str, dict[str, dict[str, str]]] = self._admin("GET", "/credentials").json()["credentials"]
        return found

    def world(self, api: str) -> Mapping[str, Any]:
        """The world document of ``api`` in force (the mock's ``GET /__chatmock/seed``)."""
        loaded: Mapping[str, Any] = self._admin("GET", "/seed").json()["seed"][api]
        return loaded

    def reset(self) -> None:
        """Back to the default world (state, journal and violations emptied)."""
        self._admin("POST", "/reset")

    def seed(self, world: Mapping[str, Any] | str | Path) -> None:
        """Load a world: a seed document (``{"gitter": {...}, ...}``) or the path of a JSON file holding one."""
        self._admin("POST", "/seed", json=read_world(world))

    def journal(self) -> list[dict[str, Any]]:
        """The requests and responses the mock saw since the last reset, secrets redacted."""
        entries: list[dict[str, Any]] = self._admin("GET", "/journal").json()["entries"]
        return entries

    def fault(self, action: str, **rule: Any) -> dict[str, Any]:
        """Add a fault rule: ``action`` (``delay``, ``error``, ``server_error``, ``rate_limit``,
        ``drop``, ``truncate``, ``hold``, ``cut_stream``), what it matches (``api``,
        ``endpoint``, ``method``, ``user``), ``times`` (default 1; None: always),
        ``probability`` and the action's options (``seconds``, ``status``, ``code``,
        ``retry_after``, ``fraction``, ``after``). Returns the rule as the mock lists it."""
        added: dict[str, Any] = self._admin("POST", "/faults", json={"action": action, **rule}).json()["fault"]
        return added

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force, each with ``applied`` (how often it applied) and ``left``."""
        found: list[dict[str, Any]] = self._admin("GET", "/faults").json()["faults"]
        return found

    def clear_faults(self) -> None:
        self._admin("DELETE", "/faults")

    def violations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._admin("GET", "/violations").json()["violations"]
        return found

    def _admin(self, method: str, path: str, json: Any = None) -> httpx.Response:
        response = self._client.request(method, f"{self.origin}/__chatmock{path}", json=json)
        if response.status_code >= 400:
            raise ValueError(f"chatmock {method} /__chatmock{path} failed: {response.status_code} {response.text}")
        return response


def base_urls(app: Any, origin: str) -> dict[str, str]:
    mock = app.state.chatmock
    urls: dict[str, str] = {}
    for name in mock.modules:
        servers = mock.registry.api(name).servers
        for server in servers:
            label = name if server is servers[0] else f"{name}.{server.name}"
            urls[label] = origin + ("" if mock.dispatcher.root else server.prefix)
    return urls


def read_world(world: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(world, Mapping):
        return dict(world)
    path = Path(world)
    if not path.is_file():
        raise FileNotFoundError(f"chatmock seed file not found: {path}")
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a chatmock seed is a JSON object keyed by API name")
    return document


# options ---------------------------------------------------------------------------------------
def _app_options(config: pytest.Config) -> dict[str, Any]:
    version = str(config.getini("chatmock_rocketchat_version")).strip()
    return {
        "strict": bool(config.getini("chatmock_strict")),
        "longpoll_timeout": float(config.getini("chatmock_longpoll_timeout")),
        "rocketchat_host": str(config.getini("chatmock_rocketchat_host")) or None,
        "api_options": {"rocketchat": {"version": version}} if version else None,
    }


def _marked_version(request: pytest.FixtureRequest) -> str | None:
    """The test's ``chatmock_rocketchat_version`` (None: none given)."""
    marker = request.node.get_closest_marker(VERSION_MARKER)
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs or not isinstance(marker.args[0], str):
        raise pytest.UsageError(f"@pytest.mark.{VERSION_MARKER} takes one argument: a version string such as '6.0.0'")
    return str(marker.args[0])


def _marked_world(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    marker = request.node.get_closest_marker(SEED_MARKER)
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs:
        raise pytest.UsageError(f"@pytest.mark.{SEED_MARKER} takes one argument: a seed file path or a dict")
    world = marker.args[0]
    if isinstance(world, Mapping):
        return read_world(world)
    path = Path(world)
    if not path.is_absolute():
        beside, at_root = request.path.parent / path, request.config.rootpath / path
        path = at_root if at_root.exists() and not beside.exists() else beside
    return read_world(path)


# fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chatmock_server(request: pytest.FixtureRequest) -> Iterator[ChatMockServer]:
    """The session's mock server, not reset (``chatmock`` resets it per test)."""
    import httpx

    from mockserver.app import create_app
    from mockserver.background import BackgroundServer

    app = create_app(**_app_options(request.config))
    server = BackgroundServer(app).start()
    client = httpx.Client(timeout=30.0)
    try:
        yield ChatMockServer(server.url, app, client)
    finally:
        client.close()
        server.stop()


@pytest.fixture
def chatmock(chatmock_server: ChatMockServer, request: pytest.FixtureRequest) -> ChatMockServer:
    """The mock server, in the default world or the test's ``chatmock_seed`` world (with the
    test's ``chatmock_rocketchat_version``, if any, as the Rocket.Chat world's ``version``)."""
    world = _marked_world(request)
    version = _marked_version(request)
    if world is None:
        chatmock_server.reset()
        if version is None:
            return chatmock_server
        world = dict(chatmock_server._admin("GET", "/seed").json()["seed"])  # every default world
    if version is not None:
        world["rocketchat"] = {**world.get("rocketchat", {}), "version": version}
    chatmock_server.seed(world)
    return chatmock_server


@pytest.fixture
def chatmock_urls(chatmock: ChatMockServer) -> dict[str, str]:
    """Base URL per API: ``chatmock_urls["gitter"] == "http://127.0.0.1:<port>/gitter"``."""
    return chatmock.urls


@pytest.fixture
def chatmock_credentials(chatmock: ChatMockServer) -> dict[str, dict[str, dict[str, str]]]:
    """``chatmock_credentials[api][user]``: every user who can log in (has a token or a password)
    in the world in force."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for api, users in chatmock.all_credentials().items():
        can_log_in = {user: given for user, given in users.items() if given.get("token") or given.get("password")}
        if can_log_in:
            found[api] = can_log_in
    return found


@pytest.fixture
def chatmock_app(request: pytest.FixtureRequest) -> Any:
    """A fresh in-process mock app (``mockserver.create_app``), seeded by ``chatmock_seed``."""
    from mockserver.app import create_app

    options = _app_options(request.config)
    version = _marked_version(request)
    if version is not None:
        options["api_options"] = {"rocketchat": {"version": version}}
    marker = request.node.get_closest_marker(RESPX_MARKER)
    if marker is not None and marker.kwargs.get("rocketchat_host"):
        options["rocketchat_host"] = str(marker.kwargs["rocketchat_host"]).split(":")[0]
    return create_app(seed=_marked_world(request), **options)


@pytest.fixture
def chatmock_respx(chatmock_app: Any, request: pytest.FixtureRequest) -> Iterator[respx.MockRouter]:
    """A started respx router sending requests for the real API hosts into ``chatmock_app``."""
    from mockserver.respx_routing import route_to_mock

    marker = request.node.get_closest_marker(RESPX_MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(options) - {"rocketchat_host", "allow"})
    if unknown or (marker is not None and marker.args):
        raise pytest.UsageError(f"@pytest.mark.{RESPX_MARKER} takes only rocketchat_host= and allow=")
    with route_to_mock(None, chatmock_app, allow=options.get("allow", ())) as router:
        yield router
