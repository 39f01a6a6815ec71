"""DDP frames: reading a client's text frame, writing the server's, and Meteor's error shapes.

As Meteor's DDP server (meteor/meteor ``packages/ddp-server/livedata_server.js``,
``packages/ddp-common/utils.js``): a frame that is not JSON, not an object or has no ``msg``
is answered ``{msg: "error", reason: "Bad request"}`` (with ``offendingMessage`` when it was an
object); a ``msg`` the server does not know, the same; anything before ``connect``:
``Must connect first``. Errors of methods and subscriptions are ``Meteor.Error`` objects
(``packages/meteor/errors.js``): ``{isClientSafe, error, reason, details?, message, errorType}``
with ``message`` = ``"<reason> [<error>]"``.
"""

from __future__ import annotations

from typing import Any

import orjson

VERSIONS = ("1", "pre2", "pre1")  # DDPCommon.SUPPORTED_DDP_VERSIONS, preferred first
STREAM_ID = "id"  # the document id of every streamer event (streamer.module.ts changedPayload)
NESTING = 64  # deeper frames are refused as Bad request [inferred: the mock's bound]


class MeteorError(Exception):
    """A ``Meteor.Error`` thrown by a method or a publication, sent to the client as is."""

    def __init__(self, error: str | int, reason: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(reason or str(error))
        self.error = error
        self.reason = reason
        self.details = details

    def body(self) -> dict[str, Any]:
        return meteor_error(self.error, self.reason, self.details)


def meteor_error(error: str | int, reason: str = "", details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Meteor.Error as DDP sends it."""
    body: dict[str, Any] = {"isClientSafe": True, "error": error}
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["message"] = f"{reason} [{error}]" if reason else f"[{error}]"
    body["errorType"] = "Meteor.Error"
    return body


INTERNAL = meteor_error(500, "Internal server error")  # wrapInternalException: what a non-Meteor exception becomes
MATCH_FAILED = meteor_error(400, "Match failed")  # check() failures (audit-argument-checks' sanitized Match.Error)


def encode(frame: dict[str, Any]) -> str:
    """A server frame as text (orjson; a value it cannot write becomes the internal error)."""
    try:
        return orjson.dumps(frame).decode("utf-8")
    except TypeError:
        return orjson.dumps({"msg": "error", "reason": "Internal server error"}).decode("utf-8")


def parse(text: str | bytes) -> dict[str, Any] | None:
    """A client frame as a JSON object, or None (not JSON, not an object, too deeply nested)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or _depth(value) > NESTING:
        return None
    return value


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (orjson reads at most 1024 levels; a frame is checked once)."""
    deepest, level = 0, [value]
    while level:
        deepest += 1
        if deepest > NESTING:
            return deepest
        following: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                following.extend(item.values())
            elif isinstance(item, list):
                following.extend(item)
        level = [item for item in following if isinstance(item, dict | list)]
    return deepest


def bad_request(offending: dict[str, Any] | None, reason: str = "Bad request") -> dict[str, Any]:
    frame: dict[str, Any] = {"msg": "error", "reason": reason}
    if offending:
        frame["offendingMessage"] = offending
    return frame


def changed(stream: str, event_name: str, args: list[Any]) -> dict[str, Any]:
    """A streamer event (``changedPayload(subscriptionName, 'id', {eventName, args})``)."""
    return {"msg": "changed", "collection": stream, "id": STREAM_ID, "fields": {"eventName": event_name, "args": args}}


def date(ms: int) -> dict[str, int]:
    """An EJSON date."""
    return {"$date": ms}


def read_date(value: Any) -> int | None:
    """An EJSON date ``{"$date": ms}`` as epoch ms (None when it is not one)."""
    if isinstance(value, dict) and set(value) == {"$date"}:
        ms = value["$date"]
        if isinstance(ms, int | float) and not isinstance(ms, bool) and abs(ms) < 10**15:
            return int(ms)
    return None
