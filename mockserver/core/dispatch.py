"""The request pipeline shared by every API: route, parse, authenticate, validate, handle,
check the response against its schema (strict mode), journal.

It knows APIs only as :class:`ApiModule` objects handed to it by ``mockserver.app``, and calls
only the hooks that protocol declares (its docstring lists them in the order they are called).

Whatever a request holds, the answer is the API's own: a handler's exception, a reply that
cannot be encoded or a hook that fails becomes the API's 500 shape (``error(Problem.INTERNAL)``),
never plain text and never a traceback in a body; header values are sent as latin-1 without
control characters, so no reply can break its header block.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mockserver.core import parse
from mockserver.core.call import ApiError, ApiModule, Call, ClientGone, JsonReply, Problem, Reply, StreamReply, wait_for_disconnect
from mockserver.core.conformance import error_reply_findings, reply_findings
from mockserver.core.faults import NO_WAIT, FaultRule, Faults, cut, drop, transport_of, user_matcher
from mockserver.core.journal import REDACTED, Entry, Journal
from mockserver.core.registry import Endpoint, Registry
from mockserver.core.router import Match, RouteMatch, Router
from mockserver.core.secrets import SECRET_NAME
from mockserver.core.settings import Settings

log = logging.getLogger("chatmock")
QUIET = "chatmock.quiet"  # an ASGI scope key: an in-process read neither journaled nor faulted (the console's)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "testserver", ""})
UNENCODABLE = b'{"error":"chatmock could not encode its reply"}'
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # every control character but TAB
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # a header name (RFC 9110 token), lower case
_HEADER_NAMES: dict[str, bytes | None] = {}


def encode(value: Any) -> bytes | None:
    """``value`` as JSON bytes, by a path that cannot raise: orjson first; what it cannot write
    (an integer beyond 64 bits echoed from a query, a non-string key, nesting past 254 levels,
    a lone surrogate) through the standard library (lone surrogates as ``\\ud800`` escapes);
    None when that fails too (deeper than the interpreter's recursion limit, NaN beside such
    a value, an object JSON has no form for): the caller answers the API's 500."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError included
        pass
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError, OverflowError):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, all ASCII
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")
        except (ValueError, TypeError, RecursionError, OverflowError):
            return None


def header_bytes(value: object) -> bytes:
    """A header value as it may be sent: latin-1 (any other character becomes ``?``), control
    characters (CR, LF, NUL ...) as spaces."""
    if type(value) is str and value.isprintable():  # the usual case: no control character
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            pass
    text = value if type(value) is str else str(value)
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode("latin-1", "replace")
    return _CONTROL.sub(b" ", raw) if _CONTROL.search(raw) else raw


def header_name(name: str) -> bytes | None:
    """A header name lower-cased as bytes, or None when it is no token (such a header is not sent)."""
    found = _HEADER_NAMES.get(name)
    if found is None and name not in _HEADER_NAMES:
        lowered = name.lower()
        found = lowered.encode("ascii") if lowered.isascii() and _TOKEN.fullmatch(lowered) else None
        if len(_HEADER_NAMES) < 4096:
            _HEADER_NAMES[name] = found
    return found


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        apis: Mapping[str, ApiModule],
        settings: Settings,
        journal: Journal,
        root: bool,
        faults: Faults | None = None,
    ) -> None:
        self.registry = registry
        self.faults = faults if faults is not None else Faults()
        self._faulted: dict[int, FaultRule] = {}  # id(call) -> the rule applied to it, while it is answered
        self.settings = settings
        self.journal = journal
        self.root = root
        self.apis = dict(apis)
        self.violations: list[dict[str, Any]] = []
        self.deadlines = parse.Deadlines(settings.read_timeout) if settings.read_timeout else None
        self._on_exchange: Callable[[Entry], None] | None = settings.on_exchange
        endpoints = [endpoint for endpoint in registry.endpoints.values() if endpoint.api in self.apis]
        self._router = Router(
            [(endpoint.served_path(combined=not root), endpoint) for endpoint in endpoints]
            + [
                (endpoint.served_path(combined=not root, alias=alias), endpoint)
                for endpoint in endpoints
                for alias in endpoint.server.aliases
            ]
        )
        self._host_routers: dict[str, Router] = {}
        self._host_api: dict[str, str] = {}
        for endpoint in endpoints:
            host = urlsplit(endpoint.server.url).hostname or ""
            if host in LOOPBACK_HOSTS:
                continue
            self._host_api[host] = endpoint.api
        for host, api in {**self._host_api, **settings.extra_hosts}.items():
            if api in self.apis:
                self._host_api[host] = api
                served = [
                    endpoint
                    for endpoint in endpoints
                    if endpoint.api == api and (urlsplit(endpoint.server.url).hostname or "") in (host, "localhost")
                ]
                self._host_routers[host] = Router([(endpoint.path, endpoint) for endpoint in served])
        for name in self.apis:  # a server's aliases answer by Host too (gitter.im/api/v1/rooms)
            for server in registry.api(name).servers:
                for alias in server.aliases:
                    parts = urlsplit(alias)
                    host = parts.hostname or ""
                    if host in LOOPBACK_HOSTS or host in self._host_routers:
                        continue
                    self._host_api[host] = name
                    self._host_routers[host] = Router(
                        [
                            (parts.path + endpoint.path, endpoint)
                            for endpoint in endpoints
                            if endpoint.api == name and endpoint.server == server
                        ]
                    )
        self._slash_optional = frozenset(name for name in self.apis if registry.api(name).trailing_slash_optional)
        self._declared = {endpoint.id: parse.declared_names(endpoint) for endpoint in endpoints}
        # endpoints whose path carries a secret (Rocket.Chat's /hooks/:id/:token): the journal keeps it redacted
        self._secret_path_params = {
            endpoint.id: names
            for endpoint in endpoints
            if (names := tuple(name for name in endpoint.path_params if SECRET_NAME.search(name)))
        }
        self._content_types = {name: header_bytes(registry.api(name).content_type) for name in self.apis}
        # WebSockets: a real server's host names its API and server (the first of those sharing a
        # host name: lingr.com and lingr.com:8080), then a named extra host its API's first server
        self._socket_hosts: dict[str, tuple[str, str]] = {}
        for name in self.apis:
            for server in registry.api(name).servers:
                host = urlsplit(server.url).hostname or ""
                if host not in LOOPBACK_HOSTS:
                    self._socket_hosts.setdefault(host, (name, server.name))
        for host, api in settings.extra_hosts.items():
            if api in self.apis:
                self._socket_hosts.setdefault(host, (api, registry.api(api).servers[0].name))
        self._socket_prefixes = sorted(
            (
                (server.prefix if not root else server.prefix.removeprefix(registry.api(name).servers[0].prefix), name, server.name)
                for name in self.apis
                for server in registry.api(name).servers
            ),
            key=lambda triple: -len(triple[0]),
        )
        self._prefixes = sorted(
            ((api.servers[0].prefix, name) for name, api in ((name, registry.api(name)) for name in self.apis)),
            key=lambda pair: -len(pair[0]),
        )

    # which API ---------------------------------------------------------------
    def _route_without_slash(self, host: str, method: str, path: str) -> tuple[str | None, RouteMatch] | None:
        """Express's non-strict routing, for an API that declares it: ``/v1/rooms/`` is
        ``/v1/rooms`` (asked only when ``path`` matched nothing)."""
        if len(path) > 1 and path.endswith("/"):
            api, found = self._route(host, method, path[:-1])
            if found.kind is not Match.NONE and api in self._slash_optional:
                return api, found
        return None

    def _route(self, host: str, method: str, path: str) -> tuple[str | None, RouteMatch]:
        router = self._host_routers.get(host)
        if router is not None:
            return self._host_api[host], router.match(method, path)
        found = self._router.match(method, path)
        if found.kind is Match.FULL and found.endpoint is not None:
            return found.endpoint.api, found
        if self.root:
            return next(iter(self.apis)), found
        for prefix, api in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return api, found
        return None, found

    def socket_route(self, host_header: str, path: str) -> SocketRoute | None:
        """Which API (and which of its servers) a non-HTTP request (a WebSocket) is for, by the
        same Host and prefix rules as HTTP, and the path within that server (``/websocket``)."""
        by_host = self._socket_hosts.get(_hostname(host_header))
        if by_host is not None:
            return SocketRoute(*by_host, path)
        for prefix, name, server_name in self._socket_prefixes:
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                return SocketRoute(name, server_name, path[len(prefix) :] or "/")
        if self.root:
            name = next(iter(self.apis))
            return SocketRoute(name, self.registry.api(name).servers[0].name, path)
        return None

    def base_url(self, scope: Scope, host_header: str, endpoint: Endpoint) -> str:
        if not host_header:
            server = scope.get("server") or ("127.0.0.1", 80)
            host_header = f"{server[0]}:{server[1]}"
        origin = f"{scope.get('scheme', 'http')}://{host_header}"
        if self.root or _hostname(host_header) in self._host_routers:
            return origin
        return origin + endpoint.server.prefix

    # the pipeline ------------------------------------------------------------
    def serve(self, modules: Mapping[str, ApiModule]) -> None:
        """Answer with these modules from now on (a reset or a seed replaced them)."""
        self.apis.update(modules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.time()
        headers = RequestHeaders(scope["headers"])
        method: str = scope["method"]
        path: str = scope["path"]
        host = _hostname(headers.get("host", ""))
        api_name, found = self._route(host, method, path)
        if found.kind is Match.NONE and self._slash_optional:
            api_name, found = self._route_without_slash(host, method, path) or (api_name, found)
        call: Call | None = None
        if api_name is None:
            reply: Reply = JsonReply(
                404, {"error": "Not Found", "detail": "no chatmock API is served at this path"}, content_type="application/json"
            )
            module = None
        else:
            module = self.apis[api_name]
            try:
                reply, call, module = await self._handle(scope, headers, module, found, receive)
            except ClientGone as gone:
                self._record(scope, started, api_name, None, JsonReply(499, None), [], None, getattr(gone, "fault", None))
                return
            except ApiError as error:
                reply = error.reply
            except Exception:  # the mock never answers with a stack trace
                log.exception("handler failed for %s %s", method, path)
                reply = module.error(Problem.INTERNAL, "chatmock failed to handle this request")
        violations: list[str] = []
        content: bytes | None = None
        rule = self._faulted.pop(id(call), None) if self._faulted and call is not None else None
        if rule is not None and rule.action == "drop":
            self._record(scope, started, api_name, call, JsonReply(0, None), [], None, rule.label)
            await drop(send)
            return
        if isinstance(reply, JsonReply):
            if module is not None:
                try:
                    module.decorate(call, reply)
                    if self.settings.strict and (rule is None or rule.action not in _SHAPED):
                        violations = self._check(call, module, reply)
                except Exception:
                    log.exception("decorating or checking the reply failed for %s %s", method, path)
                    reply = module.error(Problem.INTERNAL, "chatmock failed to handle this request")
                if violations:
                    reply = JsonReply(
                        500,
                        {"error": "chatmock strict mode: response violates its schema", "violations": violations},
                        content_type="application/json",
                    )
            content = encode(reply.body)
            if content is None:
                log.error("chatmock could not encode the reply to %s %s", method, path)
                reply, content = self._unencodable(module)
        if rule is None:
            sent = await self._send(scope, receive, send, reply, module, content)
            self._record(scope, started, api_name, call, reply, violations, sent)
            return
        if rule.action in ("truncate", "cut_stream"):
            if isinstance(reply, StreamReply):
                reply.chunks = cut(reply.chunks, rule.options.get("after", 0))
            sent = await self._send(scope, receive, _cutting(send, rule), reply, module, content)
        else:
            sent = await self._send(scope, receive, send, reply, module, content)
        self._record(scope, started, api_name, call, reply, violations, sent, rule.label)

    async def _handle(
        self, scope: Scope, headers: RequestHeaders, module: ApiModule, found: RouteMatch, receive: Receive
    ) -> tuple[Reply, Call | None, ApiModule]:
        method: str = scope["method"]
        if found.kind is Match.NONE:
            return module.error(Problem.NOT_FOUND, f"no endpoint at {_shown(scope['path'])}"), None, module
        if found.kind is Match.PARTIAL:
            reply = module.error(Problem.METHOD_NOT_ALLOWED, f"{_shown(method)} is not allowed here; allowed: {', '.join(found.allowed)}")
            reply.headers.setdefault("Allow", ", ".join(found.allowed))
            return reply, None, module
        endpoint = found.endpoint
        assert endpoint is not None  # a full match names its endpoint
        declared = self._declared[endpoint.id]
        try:
            content_length = headers.get("content-length")
            body = await parse.read_body(
                receive,
                content_length,
                self.settings.body_limit,
                self.deadlines,
                content_length is None and dict.__contains__(headers, "transfer-encoding"),
            )
            query = parse.parse_query(scope.get("query_string", b""), declared)
            body_params, files = await parse.parse_body(scope, headers.get("content-type", ""), body, endpoint, declared)
            params = parse.merge(query, body_params)
        except parse.TooLarge as error:
            return module.error(Problem.TOO_LARGE, str(error)), None, module
        except parse.BadRequest as error:
            return module.error(Problem.BAD_REQUEST, str(error)), None, module
        except parse.ReadTimeout:
            reply = module.error_for_status(408, None)
            reply.headers["Connection"] = "close"  # the rest of the body is never read
            return reply, None, module
        module = self.apis[module.name]  # a reset while the body arrived: the world in force now
        call = Call(
            endpoint=endpoint,
            method=method,
            path_params=found.path_params or {},
            params=params,
            headers=headers,
            query=query,
            files=files,
            base_url=self.base_url(scope, headers.get("host", ""), endpoint),
            disconnected=lambda: wait_for_disconnect(receive),
            client=_client_host(scope),
        )
        if endpoint.path_checker is not None:
            problem = endpoint.path_checker.best(call.path_params)
            if problem is not None:
                return module.error(Problem.NOT_FOUND, f"no such resource: {problem.message}"), call, module
        try:
            return await self._run(headers, module, call, scope), call, module
        except ApiError as error:  # keep the call: strict mode checks it against the endpoint
            return error.reply, call, module

    async def _run(self, headers: RequestHeaders, module: ApiModule, call: Call, scope: Scope, checked: bool = False) -> Reply:
        endpoint = call.endpoint
        if not checked:
            await module.authenticate(call)
            if self.faults.rules and QUIET not in scope:
                rule = self._pick(module, call)
                if rule is not None:
                    return await self._fault(headers, module, call, scope, rule)
        prefer = headers.get("prefer")
        if prefer:
            preferred = self._preferred(prefer, module, call)
            if preferred is not None:
                return preferred
        if endpoint.params_checker is not None:
            problem = endpoint.params_checker.best(call.params)
            if problem is not None:
                return _bad_request(module, call, f"invalid parameter {problem.without_value().removeprefix('$.')}")
        handler = module.handlers.get(endpoint.id)
        if handler is None:
            return module.error(Problem.NOT_FOUND, f"{endpoint.id} is not implemented by the mock")
        return await handler(call)

    # fault injection (mockserver.core.faults) --------------------------------------------
    def _pick(self, module: ApiModule, call: Call) -> FaultRule | None:
        matcher: list[Callable[[str], bool]] = []

        def is_user(user: str) -> bool:
            if not matcher:
                matcher.append(user_matcher(call.principal, call.credential, module.credentials()))
            return matcher[0](user)

        rule = self.faults.pick(module.name, call.endpoint.id, call.method, is_user)
        if rule is not None:
            self._faulted[id(call)] = rule
        return rule

    async def _fault(self, headers: RequestHeaders, module: ApiModule, call: Call, scope: Scope, rule: FaultRule) -> Reply:
        """The reply of a call a fault rule applies to (``drop``, ``truncate`` and
        ``cut_stream`` act when it is sent)."""
        try:
            return await self._faulted_reply(headers, module, call, scope, rule)
        except ApiError:
            raise  # answered with the call: the rule is popped (and journaled) as usual
        except ClientGone:
            self._faulted.pop(id(call), None)
            gone = _FaultedGone()
            gone.fault = rule.label
            raise gone from None
        except BaseException:
            self._faulted.pop(id(call), None)
            raise

    async def _faulted_reply(self, headers: RequestHeaders, module: ApiModule, call: Call, scope: Scope, rule: FaultRule) -> Reply:
        action, options = rule.action, rule.options
        if action == "error":
            return module.documented(call.endpoint, options["status"], options.get("code"))
        if action == "server_error":
            status = options["status"]
            if status == 500:
                return module.error(Problem.INTERNAL, "chatmock fault: internal error")
            return module.error_for_status(status, None)
        if action == "rate_limit":
            reply = module.error(Problem.TOO_MANY_REQUESTS, "chatmock fault: too many requests")
            reply.headers["Retry-After"] = str(options["retry_after"])
            return reply
        if action == "drop":
            return JsonReply(0, None)  # never sent
        if action == "delay":
            await call.hold(asyncio.sleep(rule.seconds(self.faults.rng, 0.0)))
        elif action == "hold":
            await call.hold(asyncio.sleep(rule.seconds(self.faults.rng, self.settings.longpoll_timeout)))
            token = NO_WAIT.set(True)
            try:
                return await self._run(headers, module, call, scope, checked=True)
            finally:
                NO_WAIT.reset(token)
        return await self._run(headers, module, call, scope, checked=True)

    def _preferred(self, prefer: str, module: ApiModule, call: Call) -> JsonReply | None:
        """Prism-style ``Prefer: code=404`` or ``Prefer: error=invalid_session`` (or both,
        separated by ``,`` or ``;``): the endpoint's documented error reply.

        Preferences are ``name=value`` pairs (names in any case, spaces around ignored); any
        other preference (``return=minimal``, a part without ``=``) is ignored, as RFC 7240 asks.
        ``code`` must be a status of one to three ASCII digits: anything else (a superscript
        ``code=²``, Arabic-Indic or full-width digits, ``code=4O4``) is a 400 in the API's shape,
        as is a ``code`` or ``error`` the endpoint does not document. A success code (below
        300) answers normally."""
        endpoint = call.endpoint
        wanted: dict[str, str] = {}
        for part in prefer.replace(",", ";").split(";"):
            name, equals, value = part.partition("=")
            if equals:
                wanted[name.strip().lower()] = value.strip()
        code = wanted.get("error")
        status_text = wanted.get("code")
        status: int | None = None
        if status_text is not None:
            if not (0 < len(status_text) <= 3 and status_text.isascii() and status_text.isdigit()):
                return _bad_request(module, call, f"Prefer: {_shown(prefer)}: code must be an HTTP status (three digits)")
            status = int(status_text)
        if code is None and (status is None or status < 300):
            return None  # a success status: answer normally
        for case in endpoint.errors:
            if (
                (status is None or case.status == status)
                and (code is None or str(case.code) == code)
                and (status is not None or code is not None)
            ):
                return module.documented(endpoint, case.status, case.code)
        if status is not None and status in endpoint.responses and status >= 400:
            return module.documented(endpoint, status)
        return _bad_request(module, call, f"Prefer: {_shown(prefer)}: {endpoint.id} documents no such response")

    # strict mode ---------------------------------------------------------------
    def _check(self, call: Call | None, module: ApiModule, reply: JsonReply) -> list[str]:
        """Strict mode: the reply against its endpoint's documented response (or, made before
        an endpoint was known, the API's error shape), through :mod:`mockserver.core.conformance`."""
        if call is None:
            findings = error_reply_findings(self.registry.api(module.name), reply.status, reply.body)
            endpoint_id = None
        else:
            findings = reply_findings(call.endpoint, reply.status, reply.headers, reply.body)
            endpoint_id = call.endpoint.id
        if not findings:
            return []
        found = [finding.describe() for finding in findings]
        self.violations.append({"endpoint": endpoint_id, "status": reply.status, "violations": found})
        log.error("schema violation: %s", found[0])
        return found

    # sending -----------------------------------------------------------------
    def _unencodable(self, module: ApiModule | None) -> tuple[JsonReply, bytes]:
        """The API's 500 for a reply that could not be encoded (and its encoded body)."""
        if module is None:
            return JsonReply(500, None, content_type="application/json"), UNENCODABLE
        try:
            reply = module.error(Problem.INTERNAL, "chatmock could not encode its reply")
        except Exception:
            log.exception("the error hook of %s failed", module.name)
            return JsonReply(500, None, content_type="application/json"), UNENCODABLE
        return reply, encode(reply.body) or UNENCODABLE

    async def _send(
        self, scope: Scope, receive: Receive, send: Send, reply: Reply, module: ApiModule | None, content: bytes | None
    ) -> bytes | None:
        """Send the reply (``content``: a JSON reply's encoded body); returns that body for the journal."""
        if isinstance(reply, StreamReply):
            await self._stream(scope, receive, send, reply)
            return None
        content_type: bytes
        if isinstance(reply, JsonReply):
            if reply.content_type:
                content_type = header_bytes(reply.content_type)
            else:
                content_type = self._content_types[module.name] if module else b"application/json"
            body = content if content is not None else UNENCODABLE
        else:
            content_type, body = header_bytes(reply.content_type), reply.content
        raw_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode("latin-1"))]
        for name, value in reply.headers.items():
            raw_name = _HEADER_NAMES.get(name) or header_name(name)
            if raw_name is not None and raw_name not in (b"content-type", b"content-length"):
                # inline the usual case of header_bytes: printable ASCII text
                raw_value = value.encode("ascii") if type(value) is str and value.isascii() and value.isprintable() else header_bytes(value)
                raw_headers.append((raw_name, raw_value))
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})
        return body if isinstance(reply, JsonReply) else None

    async def _stream(self, scope: Scope, receive: Receive, send: Send, reply: StreamReply) -> None:
        headers = {name: header_bytes(value).decode("latin-1") for name, value in reply.headers.items() if header_name(name)}
        streaming = StreamingResponse(
            reply.chunks, status_code=reply.status, headers=headers, media_type=header_bytes(reply.content_type).decode("latin-1")
        )
        try:
            await streaming(scope, receive, send)
        except (ClientGone, ClientDisconnect, OSError):
            return  # the client went away
        except Exception:  # the headers are out: the stream can only end
            log.exception("the stream of %s %s failed", scope["method"], scope["path"])
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:
                return

    def _record(
        self,
        scope: Scope,
        started: float,
        api: str | None,
        call: Call | None,
        reply: Reply,
        violations: list[str],
        sent: bytes | None,
        fault: str | None = None,
    ) -> None:
        on_exchange = self._on_exchange
        if not self.journal.size and on_exchange is None:
            return
        if QUIET in scope:
            return  # the console reading state through the API (mockserver.console)
        path = scope["path"]
        if self._secret_path_params and call is not None and call.endpoint.id in self._secret_path_params:
            path = _redacted_path(path, [call.path_params.get(name, "") for name in self._secret_path_params[call.endpoint.id]])
        entry = Entry(  # by position: a keyword call of these fields costs 0.4 µs more per request
            started,
            scope["method"],
            path,
            scope.get("query_string", b""),
            scope["headers"],
            call.params if call is not None else None,
            reply.status,
            call.endpoint.id if call is not None else None,
            sent if sent is not None else f"<{type(reply).__name__}>",
            violations,
            api,
            time.time() - started,
            0,  # size: set by the journal
            fault,
            call.principal if call is not None else None,
        )
        if self.journal.size:
            self.journal.record(entry)
        if on_exchange is not None:
            try:
                on_exchange(entry)
            except Exception:
                log.exception("the on_exchange hook failed")


def _redacted_path(path: str, secrets: list[str]) -> str:
    """``path`` with each segment that is (or percent-encodes) one of ``secrets`` redacted."""
    hidden = {secret for secret in secrets if secret}
    return "/".join(REDACTED if (unquote(segment) if "%" in segment else segment) in hidden else segment for segment in path.split("/"))


class _FaultedGone(ClientGone):
    """The client of a faulted call went away (``fault``: the rule's label, for the journal)."""

    fault: str | None = None


_SHAPED = ("error", "server_error", "rate_limit")  # faults whose reply is made to order: not strict-checked


def _cutting(send: Send, rule: FaultRule) -> Send:
    """``send`` for a ``truncate`` / ``cut_stream`` fault: a whole body is cut to its fraction;
    the end of the body is never sent: the connection closes instead (in-process, where there
    is no socket, the body just ends)."""
    fraction = rule.options.get("fraction", 0.5)
    streaming = {"started": False}

    async def cutting(message: Any) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and not streaming["started"]:
            body = body[: int(len(body) * fraction)]
        streaming["started"] = True
        if more:
            await send(message)
            return
        if transport_of(send) is None:
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if body:
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await drop(send)

    return cutting


def _bad_request(module: ApiModule, call: Call, message: str) -> JsonReply:
    """A matched call's bad request: as the API refines it, else its plain bad request."""
    refined = module.refine_bad_request(call, message)
    return refined if refined is not None else module.error(Problem.BAD_REQUEST, message)


@dataclass(frozen=True)
class SocketRoute:
    """Where a WebSocket request goes: an API, one of its servers (by name) and the path
    within that server (its prefix removed)."""

    api: str
    server: str
    path: str


class RequestHeaders(dict[str, str]):
    """A request's headers by lower-case name (the first of a repeated header); lookups
    ignore case, like Starlette's ``Headers`` (built once per request from the raw scope)."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        # ASGI servers send lower-case names; reversed, so the first of a repeated header wins
        super().__init__((key.decode("latin-1").lower(), value.decode("latin-1")) for key, value in reversed(raw))

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key.lower() if isinstance(key, str) else key)


def _shown(text: str, limit: int = 100) -> str:
    """Client text quoted in an error message: at most ``limit`` characters."""
    return text if len(text) <= limit else text[:limit] + "..."


def _hostname(host_header: str) -> str:
    """``API.Gitter.im:443`` -> ``api.gitter.im``; ``[::1]:8000`` -> ``[::1]``."""
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1].lower()
    return host_header.rsplit(":", 1)[0].lower() if host_header else ""


def _client_host(scope: Scope) -> str:
    """The client's address as the server gave it ("" when it gave none)."""
    client = scope.get("client")
    return str(client[0]) if client else ""
