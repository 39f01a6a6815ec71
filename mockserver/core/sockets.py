"""WebSockets: route an ASGI ``websocket`` scope to the socket handler an API declares.

The route is the dispatcher's (:meth:`Dispatcher.socket_route`: the same Host and prefix
rules as HTTP); the handler is the API module's ``sockets[(server, path)]``, declared with
``@serves_socket`` (:mod:`mockserver.core.apibase`). A WebSocket to a path no API serves is
refused before it is accepted (the server answers the handshake with 403). An accepted socket
is handed to the handler as a :class:`~mockserver.core.call.Socket`, which bounds frames by
``Settings.body_limit`` and never raises when the client vanishes; a handler that fails is
logged in one line and its socket closed with 1011, so nothing reaches the server's own log.
The admin API serves no WebSocket.
"""

from __future__ import annotations

import contextlib
import logging

from starlette.types import Receive, Scope, Send

from mockserver.core.call import Socket
from mockserver.core.dispatch import Dispatcher

log = logging.getLogger("chatmock")
INTERNAL_ERROR = 1011  # the close code of a handler that failed (RFC 6455)


async def serve_socket(dispatcher: Dispatcher, scope: Scope, receive: Receive, send: Send) -> None:
    """Run one ASGI ``websocket`` connection to its end."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or ():
        name = raw_name.decode("latin-1").lower()
        if name not in headers:
            headers[name] = raw_value.decode("latin-1")
    path = scope.get("path") or "/"
    route = dispatcher.socket_route(headers.get("host", ""), path)
    module = dispatcher.apis.get(route.api) if route is not None else None
    handler = module.sockets.get((route.server, route.path)) if module is not None and route is not None else None
    try:
        opening = await receive()
    except (OSError, RuntimeError):
        return
    if opening.get("type") != "websocket.connect":
        return
    if handler is None or route is None:
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake is refused (403)
        return
    try:
        await send({"type": "websocket.accept"})
    except (OSError, RuntimeError):
        return
    client = scope.get("client")
    socket = Socket(
        receive,
        send,
        path=route.path,
        query=(scope.get("query_string") or b"").decode("latin-1"),
        headers=headers,
        client=str(client[0]) if client else "",
        limit=dispatcher.settings.body_limit,
    )
    try:
        await handler(socket)
    except Exception as error:  # a handler's bug: one line in chatmock's log, a clean close
        log.error("the socket handler of %s %s failed: %s: %s", route.api, route.path, type(error).__name__, str(error)[:200])
        await socket.close(INTERNAL_ERROR, "internal error")
    finally:
        await socket.close()
