"""The request pipeline shared by every API: route, parse, authenticate, validate, handle,
check the response against its schema (strict mode), journal.

It knows APIs only as :class:`ApiModule` objects handed to it by ``mockserver.app``, and calls
only the hooks that protocol declares (its docstring lists them in the order they are called).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mockserver.core import parse
from mockserver.core.call import ApiError, ApiModule, Call, ClientGone, JsonReply, Problem, Reply, StreamReply, wait_for_disconnect
from mockserver.core.journal import Entry, Journal
from mockserver.core.registry import Endpoint, Registry
from mockserver.core.router import Match, RouteMatch, Router
from mockserver.core.settings import Settings

log = logging.getLogger("chatmock")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "testserver", ""})


def encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # e.g. an integer beyond 64 bits echoed from a query parameter
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Dispatcher:
    def __init__(self, registry: Registry, apis: Mapping[str, ApiModule], settings: Settings, journal: Journal, root: bool) -> None:
        self.registry = registry
        self.settings = settings
        self.journal = journal
        self.root = root
        self.apis = dict(apis)
        self.violations: list[dict[str, Any]] = []
        endpoints = [endpoint for endpoint in registry.endpoints.values() if endpoint.api in self.apis]
        self._router = Router([(endpoint.served_path(combined=not root), endpoint) for endpoint in endpoints])
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
        self._declared = {endpoint.id: parse.declared_names(endpoint) for endpoint in endpoints}
        self._content_types = {name: registry.api(name).content_type for name in self.apis}
        self._prefixes = sorted(
            ((api.servers[0].prefix, name) for name, api in ((name, registry.api(name)) for name in self.apis)),
            key=lambda pair: -len(pair[0]),
        )

    # which API ---------------------------------------------------------------
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

    def base_url(self, scope: Scope, host_header: str, endpoint: Endpoint) -> str:
        if not host_header:
            server = scope.get("server") or ("127.0.0.1", 80)
            host_header = f"{server[0]}:{server[1]}"
        origin = f"{scope.get('scheme', 'http')}://{host_header}"
        if self.root or _hostname(host_header) in self._host_routers:
            return origin
        return origin + endpoint.server.prefix

    # the pipeline ------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.time()
        headers = RequestHeaders(scope["headers"])
        method: str = scope["method"]
        path: str = scope["path"]
        api_name, found = self._route(_hostname(headers.get("host", "")), method, path)
        call: Call | None = None
        if api_name is None:
            reply: Reply = JsonReply(
                404, {"error": "Not Found", "detail": "no chatmock API is served at this path"}, content_type="application/json"
            )
            module = None
        else:
            module = self.apis[api_name]
            try:
                reply, call = await self._handle(scope, headers, module, found, receive)
            except ClientGone:
                self._record(scope, started, None, JsonReply(499, None), [], None)
                return
            except ApiError as error:
                reply = error.reply
            except Exception:  # the mock never answers with a stack trace
                log.exception("handler failed for %s %s", method, path)
                reply = module.error(Problem.INTERNAL, "chatmock failed to handle this request")
        violations: list[str] = []
        if isinstance(reply, JsonReply) and module is not None:
            module.decorate(call, reply)
            violations = self._check(call, module, reply) if self.settings.strict else []
            if violations:
                reply = JsonReply(
                    500,
                    {"error": "chatmock strict mode: response violates its schema", "violations": violations},
                    content_type="application/json",
                )
        sent = await self._send(scope, receive, send, reply, module)
        self._record(scope, started, call, reply, violations, sent)

    async def _handle(
        self, scope: Scope, headers: RequestHeaders, module: ApiModule, found: RouteMatch, receive: Receive
    ) -> tuple[Reply, Call | None]:
        method: str = scope["method"]
        if found.kind is Match.NONE:
            return module.error(Problem.NOT_FOUND, f"no endpoint at {scope['path']}"), None
        if found.kind is Match.PARTIAL:
            reply = module.error(Problem.METHOD_NOT_ALLOWED, f"{method} is not allowed here; allowed: {', '.join(found.allowed)}")
            reply.headers.setdefault("Allow", ", ".join(found.allowed))
            return reply, None
        endpoint = found.endpoint
        assert endpoint is not None  # a full match names its endpoint
        declared = self._declared[endpoint.id]
        try:
            body = await parse.read_body(receive, headers.get("content-length"), self.settings.body_limit)
            query = parse.parse_query(scope.get("query_string", b""), declared)
            body_params, files = await parse.parse_body(scope, headers.get("content-type", ""), body, endpoint, declared)
            params = parse.merge(query, body_params)
        except parse.TooLarge as error:
            return module.error(Problem.TOO_LARGE, str(error)), None
        except parse.BadRequest as error:
            return module.error(Problem.BAD_REQUEST, str(error)), None
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
        )
        if endpoint.path_checker is not None:
            problem = endpoint.path_checker.best(call.path_params)
            if problem is not None:
                return module.error(Problem.NOT_FOUND, f"no such resource: {problem.message}"), call
        try:
            return await self._run(headers, module, call), call
        except ApiError as error:  # keep the call: strict mode checks it against the endpoint
            return error.reply, call

    async def _run(self, headers: RequestHeaders, module: ApiModule, call: Call) -> Reply:
        endpoint = call.endpoint
        await module.authenticate(call)
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

    def _preferred(self, prefer: str, module: ApiModule, call: Call) -> JsonReply | None:
        """Prism-style ``Prefer: code=404`` or ``Prefer: error=invalid_session``."""
        endpoint = call.endpoint
        wanted = dict(part.strip().partition("=")[::2] for part in prefer.split(";") if "=" in part)
        code = wanted.get("error")
        status_text = wanted.get("code", "")
        status = int(status_text) if status_text.isdigit() else None
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
        return _bad_request(module, call, f"Prefer: {prefer}: {endpoint.id} documents no such response")

    # strict mode ---------------------------------------------------------------
    def _check(self, call: Call | None, module: ApiModule, reply: JsonReply) -> list[str]:
        if call is None:
            checker = self.registry.api(module.name).error_checker
            return [f"core error reply: {error}" for error in checker.safe_errors(reply.body)]
        response = call.endpoint.responses.get(reply.status)
        if response is None:
            return [f"{call.endpoint.id}: status {reply.status} is not documented"]
        if response.checker is None:
            return []
        found = [f"{call.endpoint.id} {reply.status}: {error}" for error in response.checker.safe_errors(reply.body)]
        for name, checker in response.header_checkers.items():
            value = reply.headers.get(name)
            if value is None:
                found.append(f"{call.endpoint.id} {reply.status}: header {name} missing")
            else:
                found.extend(f"{call.endpoint.id} {reply.status}: header {name}: {error}" for error in checker.safe_errors(value))
        if found:
            self.violations.append({"endpoint": call.endpoint.id, "status": reply.status, "violations": found})
            log.error("schema violation: %s", found[0])
        return found

    # sending -----------------------------------------------------------------
    async def _send(self, scope: Scope, receive: Receive, send: Send, reply: Reply, module: ApiModule | None) -> bytes | None:
        """Send the reply; returns the encoded JSON body (for the journal), if it was JSON."""
        if isinstance(reply, StreamReply):
            streaming = StreamingResponse(reply.chunks, status_code=reply.status, headers=reply.headers, media_type=reply.content_type)
            await streaming(scope, receive, send)
            return None
        body: bytes | None = None
        if isinstance(reply, JsonReply):
            content_type = reply.content_type or (self._content_types[module.name] if module else "application/json")
            body = content = encode(reply.body)
        else:
            content_type, content = reply.content_type, reply.content
        raw_headers = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(content)).encode("latin-1"))]
        for name, value in reply.headers.items():
            lowered = name.lower()
            if lowered not in ("content-type", "content-length"):
                raw_headers.append((lowered.encode("latin-1"), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": content})
        return body

    def _record(self, scope: Scope, started: float, call: Call | None, reply: Reply, violations: list[str], sent: bytes | None) -> None:
        if not self.journal.size:
            return
        self.journal.record(
            Entry(
                time=started,
                method=scope["method"],
                path=scope["path"],
                raw_query=scope.get("query_string", b""),
                raw_headers=scope["headers"],
                params=call.params if call is not None else None,
                status=reply.status,
                endpoint=call.endpoint.id if call is not None else None,
                response=sent if sent is not None else f"<{type(reply).__name__}>",
                violations=violations,
            )
        )


def _bad_request(module: ApiModule, call: Call, message: str) -> JsonReply:
    """A matched call's bad request: as the API refines it, else its plain bad request."""
    refined = module.refine_bad_request(call, message)
    return refined if refined is not None else module.error(Problem.BAD_REQUEST, message)


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


def _hostname(host_header: str) -> str:
    """``API.Gitter.im:443`` -> ``api.gitter.im``; ``[::1]:8000`` -> ``[::1]``."""
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1].lower()
    return host_header.rsplit(":", 1)[0].lower() if host_header else ""
