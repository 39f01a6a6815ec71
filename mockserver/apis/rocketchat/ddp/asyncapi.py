"""The AsyncAPI 3.0 document of the realtime API, generated from ``schemas/rocketchat/realtime``.

Why AsyncAPI rather than a section of the OpenAPI export: OpenAPI describes requests and their
responses by HTTP method, path and status; DDP is one long-lived WebSocket (``/websocket``)
carrying frames both ways, where a method call is answered by a ``result`` frame and a
subscription by ``ready`` then any number of ``changed`` events. AsyncAPI 3.0 describes exactly
that: one channel, its messages, and operations the server receives (``receive``: the client's
frames) or sends (``send``), a method call's ``reply`` being its ``result``.

Nothing here restates a field: every payload is a schema of the realtime files (models inlined
as :mod:`.schemas` loads them, dates as EJSON). A generic frame's payload is its ``frames.json``
schema; a method call's is the ``method`` frame's schema ``allOf`` the method's name and its
params by position from ``method.<name>.json``; its result's the ``result`` frame ``allOf`` the
file's ``result``; a subscription's the ``sub`` frame ``allOf`` the stream file's params; an
event's the ``changed`` frame ``allOf`` the stream and that event's ``args``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mockserver.apis.rocketchat.ddp.schemas import RealtimeSchemas, inline, method_file, realtime_dir
from mockserver.core.registry import Registry

CHANNEL = "websocket"
# the frames that get one message per method or stream instead of a generic one
PER_METHOD = {("client", "method"), ("server", "result")}
PER_STREAM = {("client", "sub"), ("server", "changed")}


def asyncapi_document(
    schemas: RealtimeSchemas, registry: Registry, *, title: str, base_url: str, pathname: str, address: str
) -> dict[str, Any]:
    """The document: the socket at ``base_url`` + ``pathname`` + ``address`` (``ws`` or ``wss``
    as ``base_url`` is ``http`` or ``https``)."""
    messages: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    channel_ref = {"$ref": f"#/channels/{CHANNEL}"}

    def message(key: str, title_text: str, summary: str, payload: Any) -> dict[str, str]:
        messages[key] = {"name": key, "title": title_text, "summary": summary, "contentType": "application/json", "payload": payload}
        return {"$ref": f"#/channels/{CHANNEL}/messages/{key}"}

    def operation(key: str, side: str, summary: str, sent: dict[str, str], reply: list[dict[str, str]] | None = None) -> None:
        described: dict[str, Any] = {
            "action": "receive" if side == "client" else "send",
            "channel": channel_ref,
            "summary": summary,
            "messages": [sent],
        }
        if reply:
            described["reply"] = {"channel": channel_ref, "messages": reply}
        operations[key] = described

    frames = schemas.frames
    frame_summary = {"client": "a client frame", "server": "a server frame"}
    for side in ("client", "server"):
        for msg, checker in frames[side].items():
            if (side, msg) in PER_METHOD | PER_STREAM:
                continue
            key = f"{side}.{msg}"
            ref = message(key, f"{msg} ({side})", f"{frame_summary[side]} of DDP (frames.json)", checker.schema)
            operation(key, side, f"{'the client sends' if side == 'client' else 'the server sends'} {msg}", ref)

    for name, spec in sorted(schemas.methods.items()):
        stem = method_file(name).removesuffix(".json")
        document = spec.document
        params = positional([param.checker.schema for param in spec.params], sum(1 for param in spec.params if param.required))
        call = {"allOf": [frames["client"]["method"].schema, {"properties": {"method": {"const": name}, "params": params}}]}
        result = {"allOf": [frames["server"]["result"].schema, {"properties": {"result": spec.result.schema}}]}
        call_ref = message(stem, f"method {name}", str(document.get("summary", "")), call)
        result_ref = message(
            f"result.{stem.removeprefix('method.')}", f"result of {name}", f"the result (or Meteor.Error) of {name}", result
        )
        operations_summary = f"call {name} ({'after login' if spec.login else 'no login needed'}); answered by updated and its result"
        operation(stem, "client", operations_summary, call_ref, [result_ref])
        operation(f"result.{stem.removeprefix('method.')}", "server", f"the result of {name}", result_ref)

    ready = {"$ref": f"#/channels/{CHANNEL}/messages/server.ready"}
    nosub = {"$ref": f"#/channels/{CHANNEL}/messages/server.nosub"}
    for name, document in sorted(schemas.streams.items()):
        file = realtime_dir() / f"stream.{name}.json"
        params = positional(
            [inline(item["schema"], registry, file) for item in document["params"]],
            sum(1 for item in document["params"] if item.get("required")),
        )
        sub = {"allOf": [frames["client"]["sub"].schema, {"properties": {"name": {"const": name}, "params": params}}]}
        sub_ref = message(f"sub.{name}", f"sub {name}", str(document.get("summary", "")), sub)
        events = []
        for kind, event in document["events"].items():
            args = schemas.events[name, kind].schema
            changed = {
                "allOf": [
                    frames["server"]["changed"].schema,
                    {"properties": {"collection": {"const": name}, "fields": {"properties": {"args": args}}}},
                ]
            }
            key = f"changed.{name}.{kind}"
            when = f": {event['when']}" if event.get("when") else ""
            events.append(message(key, f"{name} {kind}", f"eventName {event['eventName']}{when}", changed))
            operation(key, "server", f"an event of {name} ({event['eventName']})", events[-1])
        operation(f"sub.{name}", "client", f"subscribe to {name}; answered by ready or nosub, then its events", sub_ref, [ready, nosub])

    split = urlsplit(base_url)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{title} realtime API (DDP, chatmock)",
            "version": "chatmock",
            "description": "Generated from chatmock's schemas/rocketchat/realtime: DDP frames over one WebSocket. "
            "The server receives the client's frames and sends its own; a method call's reply is its result frame.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "chatmock": {
                "host": split.netloc or "127.0.0.1:8000",
                "protocol": "wss" if split.scheme == "https" else "ws",
                **({"pathname": split.path.rstrip("/") + pathname} if split.path.rstrip("/") + pathname else {}),
                "description": "the mock",
            }
        },
        "channels": {
            CHANNEL: {
                "address": address,
                "title": "DDP",
                "servers": [{"$ref": "#/servers/chatmock"}],
                "messages": messages,
            }
        },
        "operations": operations,
    }


def positional(items: list[Any], required: int) -> dict[str, Any]:
    """Draft-07 for params by position: these schemas in order, the first ``required`` present."""
    if not items:
        return {"type": "array", "maxItems": 0}
    return {"type": "array", "items": items, "additionalItems": False, "minItems": required}
