"""The validating proxy: a Starlette app that forwards every request to a real server.

Each request goes to ``upstream + path + query`` unchanged (hop-by-hop headers aside); the
response is matched to an endpoint of the API by :class:`~mockserver.core.router.Router` on
the endpoint's ``path`` (one router per server, so Gitter's stream and REST paths are told
apart by the documented content type), checked by :func:`~mockserver.proxy.check.check_response`,
counted in the :class:`~mockserver.proxy.report.DriftReport`, optionally recorded as a
redacted fixture, and returned to the client as it came. Streams (Gitter) and binary bodies
(BOCCO media) pass through as they arrive; stream items are checked on the way.

Nothing is logged per request; ``GET /__chatmock/drift`` answers the report so far (with an
admin token, only to requests that carry it in ``x-chatmock-admin-token``, as the mock's admin API).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mockserver.core.registry import Endpoint, Registry, load_registry
from mockserver.core.router import Match, Router
from mockserver.proxy.check import check_response, check_stream_item
from mockserver.proxy.record import Recorder
from mockserver.proxy.redact import Redactor
from mockserver.proxy.report import DriftReport

DRIFT_PATH = "/__chatmock/drift"
ADMIN_TOKEN_HEADER = "x-chatmock-admin-token"  # as the mock's admin API (mockserver.admin.ADMIN_HEADER)
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "host"}
)
DROP_REQUEST = HOP_BY_HOP | {"content-length", "accept-encoding"}
DROP_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
LINE_BREAK = re.compile(rb"[\r\n]+")


@dataclass
class ProxySettings:
    api: str
    upstream: str
    connect_timeout: float = 10.0
    read_timeout: float | None = None  # long polls and streams are held by the upstream


class Proxy:
    """The state of one proxy: routers, upstream client, redactor, report, recorder."""

    def __init__(
        self,
        settings: ProxySettings,
        registry: Registry,
        report: DriftReport,
        redactor: Redactor,
        recorder: Recorder | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.upstream = settings.upstream.rstrip("/")
        api = registry.api(settings.api)
        endpoints = list(registry.endpoints_of(api.name))
        self.routers = [Router((endpoint.path, endpoint) for endpoint in endpoints if endpoint.server == server) for server in api.servers]
        self.report = report
        self.redactor = redactor
        self.recorder = recorder
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    # upstream client -----------------------------------------------------------
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(self.settings.connect_timeout, read=self.settings.read_timeout, pool=None)
            self._client = httpx.AsyncClient(transport=self._transport, timeout=timeout, follow_redirects=False, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # matching -------------------------------------------------------------------
    def candidates(self, method: str, path: str) -> list[Endpoint]:
        found: list[Endpoint] = []
        for router in self.routers:
            match = router.match(method, path)
            if match.kind is Match.FULL and match.endpoint is not None:
                found.append(match.endpoint)
        return found

    @staticmethod
    def choose(candidates: Sequence[Endpoint], status: int, content_type: str) -> Endpoint:
        """Of endpoints sharing a path, the one documenting this status with this content type."""
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        for endpoint in candidates:
            documented = endpoint.responses.get(status)
            if documented is not None and documented.content_type.lower() == media:
                return endpoint
        return candidates[0]

    # forwarding -----------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = [(name, value) for name, value in request.headers.items() if name.lower() not in DROP_REQUEST]
        query = request.url.query
        self.redactor.learn_request(request.headers.items(), query, body, request.headers.get("content-type", ""))
        url = self.upstream + request.url.path + (f"?{query}" if query else "")
        client = self.client()
        outgoing = client.build_request(request.method, url, headers=headers, content=body)
        try:
            upstream = await client.send(outgoing, stream=True)
        except httpx.HTTPError as error:
            return JSONResponse({"error": f"chatmock proxy: upstream failed ({type(error).__name__})"}, status_code=502)
        reply_headers = {name: value for name, value in upstream.headers.items() if name.lower() not in DROP_RESPONSE}
        candidates = self.candidates(request.method, request.url.path)
        if not candidates:
            self.report.observe_unmatched(request.method, self.redactor.text(request.url.path))
            return await self._buffered(upstream, reply_headers)
        endpoint = self.choose(candidates, upstream.status_code, upstream.headers.get("content-type", ""))
        documented = endpoint.responses.get(upstream.status_code)
        if documented is not None and (documented.stream is not None or documented.binary):
            findings = check_response(endpoint, upstream.status_code, upstream.headers, None, self.redactor)
            self.report.observe(endpoint.id, upstream.status_code, findings)
            return StreamingResponse(
                self._relay(upstream, endpoint, documented.stream is not None), status_code=upstream.status_code, headers=reply_headers
            )
        try:
            content = await upstream.aread()
        finally:
            await upstream.aclose()
        findings = check_response(endpoint, upstream.status_code, upstream.headers, content, self.redactor)
        self.report.observe(endpoint.id, upstream.status_code, findings)
        if self.recorder is not None and documented is not None and documented.checker is not None:
            self._record(endpoint, request.method, upstream.status_code, content, findings)
        if request.method == "HEAD":
            content = b""
        return Response(content, status_code=upstream.status_code, headers=reply_headers)

    async def _buffered(self, upstream: httpx.Response, headers: dict[str, str]) -> Response:
        try:
            content = await upstream.aread()
        finally:
            await upstream.aclose()
        return Response(content, status_code=upstream.status_code, headers=headers)

    async def _relay(self, upstream: httpx.Response, endpoint: Endpoint, check_items: bool) -> AsyncIterator[bytes]:
        pending = b""
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
                if not check_items:
                    continue
                pending += chunk
                *lines, pending = LINE_BREAK.split(pending)
                for line in lines:
                    found = check_stream_item(endpoint, upstream.status_code, line, self.redactor)
                    if found:
                        self.report.add_findings(endpoint.id, upstream.status_code, found)
        finally:
            await upstream.aclose()

    def _record(self, endpoint: Endpoint, method: str, status: int, content: bytes, findings: Sequence[object]) -> None:
        assert self.recorder is not None
        try:
            body = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return
        note = f"recorded with {len(findings)} drift finding(s); see the drift report" if findings else ""
        self.recorder.record(endpoint, method, status, body, note)


def create_proxy_app(
    api: str,
    upstream: str,
    *,
    record_dir: str | None = None,
    registry: Registry | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    read_timeout: float | None = None,
    admin_token: str | None = None,
) -> Starlette:
    """The proxy as an ASGI app; ``app.state.proxy`` holds its report, redactor and recorder.
    ``admin_token``: the drift report answers only requests carrying it (``x-chatmock-admin-token``)."""
    registry = registry or load_registry()
    registry.api(api)  # an unknown API fails here, before serving
    redactor = Redactor()
    report = DriftReport(api, upstream)
    recorder = Recorder(Path(record_dir), api, redactor) if record_dir else None
    proxy = Proxy(ProxySettings(api, upstream, read_timeout=read_timeout), registry, report, redactor, recorder, transport)

    async def drift(request: Request) -> Response:
        if admin_token is not None and not hmac.compare_digest(request.headers.get(ADMIN_TOKEN_HEADER, "").encode(), admin_token.encode()):
            return JSONResponse({"error": f"admin token required in the {ADMIN_TOKEN_HEADER} header"}, status_code=401)
        return JSONResponse(proxy.report.as_json())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await proxy.aclose()

    routes = [Route(DRIFT_PATH, drift, methods=["GET"]), Route("/{path:path}", proxy.handle, methods=METHODS)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.proxy = proxy
    return app
