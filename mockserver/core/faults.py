"""Fault injection: rules that make matching exchanges fail the way real services fail.

A rule matches by API, endpoint id, method and user (any left out matches everything) and
applies ``times`` times (default once; ``null``: every time) with ``probability`` (default 1).
The first rule in the list that matches and still has applications left (and wins its draw)
applies; the others are not counted. Actions:

=============== =========================================================================
``delay``        wait ``seconds`` (or a random time up to ``max_seconds``), then answer normally
``error``        the endpoint's documented error (``status``, body ``code``): ``documented()``
``server_error`` a 5xx (``status``, default 500) in the API's shape
``rate_limit``   the API's too-many-requests answer with ``Retry-After: retry_after`` (default 30)
``drop``         the connection is closed without an answer (the request is not handled)
``truncate``     the answer's head and only ``fraction`` (default 0.5) of its body, then the
                 connection closes
``hold``         held ``seconds`` (default: the long-poll timeout) whatever happens meanwhile,
                 then answered with what is there at once (a long poll's timeout answer)
``cut_stream``   a stream sends ``after`` (default 0) whole messages and half of the next one,
                 then the connection closes (a reply that is no stream: as ``truncate``)
=============== =========================================================================

A user matches when the authenticated principal's identity (``username``, ``name``,
``nickname``, ``email``, ``id``, ``user_id``, ``uuid``) or the credential that authenticated
the call equals the user's name or one of the credential values the API's ``credentials()``
hook gives that user alone. Rules are counted (``applied``), listed, removed and cleared (a
reset clears them). With no rule the dispatcher pays one truthiness test per request.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

ACTIONS = ("delay", "error", "server_error", "rate_limit", "drop", "truncate", "hold", "cut_stream")
MATCH_KEYS = ("api", "endpoint", "method", "user")
OPTION_KEYS = {
    "delay": ("seconds", "max_seconds"),
    "error": ("status", "code"),
    "server_error": ("status",),
    "rate_limit": ("retry_after",),
    "drop": (),
    "truncate": ("fraction",),
    "hold": ("seconds",),
    "cut_stream": ("after",),
}
COMMON_KEYS = ("action", "times", "probability", *MATCH_KEYS)
IDENTITY_ATTRIBUTES = ("username", "name", "nickname", "email", "id", "user_id", "uuid")
MAX_SECONDS = 3600.0

# Set while a held call's handler runs: a hub wait checks once and returns (see Hub.wait_for).
NO_WAIT: ContextVar[bool] = ContextVar("chatmock_no_wait", default=False)


class FaultError(ValueError):
    """A rule that cannot be made; the message is one line."""


class ConnectionDropped(ConnectionResetError):
    """Raised out of the app where no socket can be closed (in-process clients): the
    in-process form of a dropped connection."""


@dataclass
class FaultRule:
    id: int
    action: str
    api: str | None = None
    endpoint: str | None = None
    method: str | None = None
    user: str | None = None
    times: int | None = 1
    probability: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    applied: int = 0

    def public(self) -> dict[str, Any]:
        left = None if self.times is None else max(0, self.times - self.applied)
        return {
            "id": self.id,
            "action": self.action,
            **{key: getattr(self, key) for key in MATCH_KEYS if getattr(self, key) is not None},
            **self.options,
            "times": self.times,
            "probability": self.probability,
            "applied": self.applied,
            "left": left,
        }

    @property
    def label(self) -> str:
        return f"#{self.id} {self.action}"

    def spent(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def seconds(self, rng: random.Random, default: float) -> float:
        low = float(self.options.get("seconds", default))
        high = self.options.get("max_seconds")
        return rng.uniform(low, float(high)) if high is not None else low


def _number(spec: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    if key not in spec or spec[key] is None:
        return None
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not (low <= value <= high):
        raise FaultError(f"{key} must be a number from {low:g} to {high:g}, not {str(value)[:40]!r}")
    return float(value)


def _whole(spec: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = _number(spec, key, low, high)
    if value is None:
        return None
    if value != int(value):
        raise FaultError(f"{key} must be a whole number, not {spec[key]!r}")
    return int(value)


class Faults:
    """The fault rules of one app, in the order they were added."""

    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random(seed)
        self._ids = itertools.count(1)

    def add(self, spec: Any, endpoints: Mapping[str, Any], apis: Mapping[str, Any]) -> FaultRule:
        """A rule from its JSON form (validated whole; :class:`FaultError` names what is wrong)."""
        if not isinstance(spec, Mapping):
            raise FaultError('a fault rule is a JSON object such as {"action": "server_error", "endpoint": "<endpoint id>"}')
        action = spec.get("action")
        if action not in ACTIONS:
            raise FaultError(f"action must be one of {', '.join(ACTIONS)}, not {str(action)[:40]!r}")
        allowed = (*COMMON_KEYS, *OPTION_KEYS[action])
        unknown = sorted(str(key) for key in spec if key not in allowed)
        if unknown:
            raise FaultError(f"unknown key {unknown[0][:40]!r} for {action}; keys: {', '.join(allowed)}")
        for key in MATCH_KEYS:
            if spec.get(key) is not None and (not isinstance(spec[key], str) or not spec[key]):
                raise FaultError(f"{key} must be a non-empty string")
        api, endpoint_id = spec.get("api"), spec.get("endpoint")
        if api is not None and api not in apis:
            raise FaultError(f"api {api[:40]!r} is not served here; served: {', '.join(apis)}")
        endpoint = None
        if endpoint_id is not None:
            endpoint = endpoints.get(endpoint_id)
            if endpoint is None or endpoint.api not in apis:
                raise FaultError(f"endpoint {endpoint_id[:60]!r}: no such endpoint id served here")
            if api is not None and endpoint.api != api:
                raise FaultError(f"endpoint {endpoint_id} is not an endpoint of {api}")
        method = spec.get("method")
        if method is not None:
            method = method.upper()
        times = _whole(spec, "times", 1, 10**9) if "times" in spec else 1
        if "times" in spec and spec["times"] is None:
            times = None
        probability = _number(spec, "probability", 0.0, 1.0)
        options: dict[str, Any] = {}
        if action in ("delay", "hold"):
            seconds = _number(spec, "seconds", 0.0, MAX_SECONDS)
            if seconds is not None:
                options["seconds"] = seconds
            elif action == "delay":
                raise FaultError("delay needs seconds (and optionally max_seconds for a random delay)")
            high = _number(spec, "max_seconds", 0.0, MAX_SECONDS)
            if high is not None:
                if high < options["seconds"]:
                    raise FaultError("max_seconds must not be less than seconds")
                options["max_seconds"] = high
        elif action == "error":
            status = _whole(spec, "status", 100, 599)
            code = spec.get("code")
            if code is not None and (isinstance(code, bool) or not isinstance(code, str | int)):
                raise FaultError("code must be a string or an integer (the body's error code)")
            if status is None and code is None and endpoint is None:
                raise FaultError("error needs a status or a code (or an endpoint, for its first documented error)")
            if endpoint is not None:
                cases = [
                    case
                    for case in endpoint.errors
                    if (status is None or case.status == status) and (code is None or str(case.code) == str(code))
                ]
                if not cases:
                    documented = ", ".join(
                        f"{case.status} {case.code}" if case.code is not None else str(case.status) for case in endpoint.errors
                    )
                    raise FaultError(f"{endpoint.id} documents no such error; documented: {documented or 'none'}")
                status, code = cases[0].status, cases[0].code
            options["status"] = status
            if code is not None:
                options["code"] = code
        elif action == "server_error":
            options["status"] = _whole(spec, "status", 500, 599) or 500
        elif action == "rate_limit":
            retry = _whole(spec, "retry_after", 0, 86400)
            options["retry_after"] = 30 if retry is None else retry
        elif action == "truncate":
            fraction = _number(spec, "fraction", 0.0, 0.99)
            options["fraction"] = 0.5 if fraction is None else fraction
        elif action == "cut_stream":
            options["after"] = _whole(spec, "after", 0, 10**6) or 0
        rule = FaultRule(
            id=next(self._ids),
            action=action,
            api=api if api is not None else (endpoint.api if endpoint is not None else None),
            endpoint=endpoint_id,
            method=method,
            user=spec.get("user"),
            times=times,
            probability=1.0 if probability is None else probability,
            options=options,
        )
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [rule for rule in self.rules if rule.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules = []

    def listed(self) -> list[dict[str, Any]]:
        return [rule.public() for rule in self.rules]

    def pick(self, api: str, endpoint: str, method: str, is_user: Callable[[str], bool]) -> FaultRule | None:
        """The rule that applies to this exchange (counted), or None."""
        for rule in self.rules:
            if rule.spent():
                continue
            if (
                (rule.api is not None and rule.api != api)
                or (rule.endpoint is not None and rule.endpoint != endpoint)
                or (rule.method is not None and rule.method != method)
                or (rule.user is not None and not is_user(rule.user))
            ):
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.applied += 1
            return rule
        return None


def user_matcher(principal: object, credential: str, credentials: Mapping[str, Mapping[str, str]]) -> Callable[[str], bool]:
    """Does the call belong to ``user``? (see the module docstring)."""
    identity = {str(value) for name in IDENTITY_ATTRIBUTES if (value := getattr(principal, name, None)) is not None}
    if credential:
        identity.add(credential)

    def is_user(user: str) -> bool:
        if principal is None and not credential:
            return False
        if user in identity:
            return True
        own = credentials.get(user)
        if not own:
            return False
        shared = {value for name, values in credentials.items() if name != user for value in values.values()}
        return any(value in identity and value not in shared for value in own.values())

    return is_user


def transport_of(send: Callable[..., Any]) -> Any:
    """The socket transport behind an ASGI ``send`` where the server exposes it (uvicorn's
    request cycle keeps it as ``transport``), else None."""
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    return transport if transport is not None and hasattr(transport, "close") else None


async def drop(send: Callable[..., Any]) -> None:
    """Close the connection now; raises :class:`ConnectionDropped` where there is no socket."""
    transport = transport_of(send)
    if transport is None:
        raise ConnectionDropped("chatmock fault: the connection was dropped")
    transport.close()
    for _ in range(3):  # let the server see the connection go (it then sends nothing more)
        await asyncio.sleep(0)


async def cut(chunks: AsyncIterator[bytes], after: int) -> AsyncIterator[bytes]:
    """``after`` whole messages (blank keep-alive chunks pass uncounted), then half of the next."""
    sent = 0
    async for chunk in chunks:
        if not chunk.strip():
            yield chunk
            continue
        if sent >= after:
            yield chunk[: max(1, len(chunk) // 2)]
            break
        sent += 1
        yield chunk
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()
