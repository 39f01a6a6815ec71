"""Request parsing: query, JSON, form and multipart bodies -> one parameter dict.

Pure with respect to APIs: what may travel where comes from the endpoint record. Every
failure is a :class:`BadRequest` with a message for the API's own error shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Generator, Mapping
from types import CoroutineType
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from mockserver.core.call import ClientGone, Upload
from mockserver.core.registry import Endpoint

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON_TYPES = ("application/json", "text/json")
# How deep a JSON body may nest. Everything the mock stores must encode again later (orjson
# writes at most 254 levels), so deeper bodies are refused before anything is stored.
MAX_JSON_DEPTH = 128


class BadRequest(Exception):
    pass


class TooLarge(Exception):
    pass


class Declared(frozenset[str]):
    """The parameters an endpoint declares (credentials included), knowing which of them its
    schema declares as arrays: those may repeat, and their repeated values become a list."""

    arrays: frozenset[str]

    def __new__(cls, names: frozenset[str] | set[str], arrays: frozenset[str] = frozenset()) -> Declared:
        made = super().__new__(cls, names)
        made.arrays = arrays
        return made


def _is_array(schema: Any) -> bool:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    return kind == "array" or (isinstance(kind, (list, tuple)) and "array" in kind)


def declared_names(endpoint: Endpoint) -> Declared:
    """The parameters an endpoint declares, credentials included: these may not repeat,
    except those its schema declares as arrays."""
    properties = (endpoint.params_schema or {}).get("properties", {})
    names = set(properties)
    if endpoint.auth is not None:
        names.update(name for name in (endpoint.auth.param, endpoint.auth.query_alternative) if name)
    return Declared(names, frozenset(name for name, schema in properties.items() if _is_array(schema)))


def _single(pairs: list[tuple[str, str]], where: str, declared: frozenset[str] | None, brackets: bool = False) -> dict[str, Any]:
    """One value per name, as Express's parsers read them: a parameter the schema declares as
    an array becomes a list when given more than once (``chat=a&chat=b``) and stays a string
    when given once (``chat=a``), as both ``querystring`` and ``qs`` parse it; with
    ``brackets`` (``qs``, the query parser), ``chat[]=a`` is a one-item list too. Any other
    declared parameter given twice is an error; an undeclared extra given twice is ignored
    like any unknown parameter (its first value is kept)."""
    values: dict[str, Any] = {}
    arrays = declared.arrays if isinstance(declared, Declared) else frozenset()
    for key, value in pairs:
        if brackets and key.endswith("[]") and declared is not None and key[:-2] in declared:
            name = key[:-2]
            if name not in arrays:
                raise BadRequest(f"parameter {name!r} takes one value, not a list ({key}) in the {where}")
            present = values.get(name)
            if present is None:
                values[name] = [value]
            elif isinstance(present, list):
                present.append(value)
            else:
                values[name] = [present, value]
            continue
        if key in values:
            if key in arrays:
                present = values[key]
                if isinstance(present, list):
                    present.append(value)
                else:
                    values[key] = [present, value]
                continue
            if declared is None or key in declared:
                raise BadRequest(f"parameter {key!r} given more than once in the {where}")
            continue
        values[key] = value
    return values


def form_pairs(text: str, errors: str = "strict") -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)`` without its per-pair overhead: '+' is a
    space, percent-escapes are decoded only where there are some."""
    pairs: list[tuple[str, str]] = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, errors=errors)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, errors=errors)
        pairs.append((name, value))
    return pairs


def parse_query(raw: bytes, declared: frozenset[str] | None = None) -> dict[str, Any]:
    """The query's parameters: strings, and lists for array-declared parameters given as
    ``a=1&a=2`` or ``a[]=1`` (``qs``, Express's default query parser, which Rocket.Chat's
    router uses too)."""
    if not raw:
        return {}
    try:
        pairs = form_pairs(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the query string is not UTF-8") from None
    return _single(pairs, "query string", declared, brackets=True)


class ReadTimeout(Exception):
    """The client did not send its whole request body within the read timeout."""


class Deadlines:
    """Ends the body reads that outlast ``timeout`` seconds, with one timer for all of them.

    Only a read that has to wait is registered (:func:`read_body` registers it once the first
    receive did not answer at once; a timer per request would cost microseconds). A sweep
    every quarter of the timeout cancels the registered tasks past their deadline, and
    ``read_body`` turns that cancellation into :class:`ReadTimeout`: a deadline is met
    within 25 %."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._period = max(timeout / 4, 0.01)
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def begin(self) -> asyncio.Task[Any] | None:
        task = asyncio.current_task()
        if task is None:
            return None
        loop = task.get_loop()
        self._reading[task] = loop.time() + self.timeout
        if self._timer is None or self._timer_loop is not loop:  # none yet, or a new loop (each TestClient has its own)
            self._timer_loop = loop
            self._timer = loop.call_later(self._period, self._sweep, loop)
        return task

    def end(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            self._reading.pop(task, None)

    def expired(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the sweep cancelled ``task`` (forgets it)."""
        if task is None or task not in self._expired:
            return False
        self._expired.discard(task)
        return True

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._timer_loop:
            return  # a loop this object no longer times
        self._timer = None
        now = loop.time()
        for task, deadline in list(self._reading.items()):
            if task.done() or task.get_loop() is not loop:
                del self._reading[task]
            elif deadline <= now:
                del self._reading[task]
                self._expired.add(task)
                task.cancel()
        if self._reading and not loop.is_closed():
            self._timer = loop.call_later(self._period, self._sweep, loop)


class _Resumed:
    """The rest of a coroutine already run to its first suspension, where it ``yielded``:
    awaiting this hands ``yielded`` to the task and then drives the coroutine exactly as
    ``yield from`` would (values sent, exceptions such as a cancellation thrown in)."""

    __slots__ = ("coroutine", "yielded")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coroutine = coroutine
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, yielded = self.coroutine, self.yielded
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:
                try:
                    yielded = coroutine.throw(error)
                except StopIteration as done:
                    return done.value
                continue
            try:
                yielded = coroutine.send(sent)
            except StopIteration as done:
                return done.value


def content_length_of(header: str | None) -> int | None:
    """A ``Content-Length`` value: ASCII decimal digits only (``²`` and ``-1`` are not);
    :class:`BadRequest` otherwise. More than 18 digits is as good as infinite."""
    if header is None:
        return None
    text = header.strip()
    if not (text.isascii() and text.isdigit()):
        raise BadRequest("Content-Length is not a number")
    return int(text) if len(text) <= 18 else 10**18


async def read_body(
    receive: Receive,
    content_length: str | None,
    limit: int,
    deadlines: Deadlines | None = None,
    chunked: bool = False,
) -> bytes:
    """The whole request body; :class:`TooLarge` as soon as it passes ``limit`` (a declared
    ``Content-Length`` over the limit is refused before anything is read).

    With ``deadlines``, a request that declares a body (a ``Content-Length`` over 0, or
    ``chunked``) must send all of it within ``deadlines.timeout`` seconds, else
    :class:`ReadTimeout`. The deadline costs nothing when the body came with the headers
    (the first receive answers without waiting, the usual case): only a read that waits is
    registered. A request declaring no body has none in HTTP/1.1: its receive never waits."""
    if content_length is None:
        declared: int | None = None
    elif content_length.isdigit() and content_length.isascii() and len(content_length) <= 18:
        declared = int(content_length)  # the usual case, inline
    else:
        declared = content_length_of(content_length)
    if declared is not None and declared > limit:
        raise TooLarge(f"request body of {declared} bytes is over the {limit}-byte limit")
    if deadlines is None or not (declared or chunked):
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body: bytes = message.get("body", b"")
            if len(body) > limit:
                raise TooLarge(f"request body is over the {limit}-byte limit")
            return body
        return await _rest_of_body(receive, limit, message)
    pending = receive()
    waiting: Awaitable[Message] = pending
    if type(pending) is CoroutineType:
        try:
            suspended = pending.send(None)
        except StopIteration as done:
            first: Message = done.value
            if first["type"] == "http.request" and not first.get("more_body", False):
                return _whole(first.get("body", b""), limit)
            waiting = _ready(first)  # a disconnect, or more to come
        else:
            waiting = _Resumed(pending, suspended)
    task = deadlines.begin()
    try:
        return await _rest_of_body(receive, limit, await waiting)
    except asyncio.CancelledError:
        if deadlines.expired(task):
            assert task is not None
            task.uncancel()
            raise ReadTimeout(f"the request body did not arrive within {deadlines.timeout:g} s") from None
        raise
    finally:
        deadlines.end(task)


async def _ready(message: Message) -> Message:
    return message


def _whole(body: bytes, limit: int) -> bytes:
    if len(body) > limit:
        raise TooLarge(f"request body is over the {limit}-byte limit")
    return body


async def _rest_of_body(receive: Receive, limit: int, message: Message) -> bytes:
    """The body from its first message on."""
    if message["type"] == "http.disconnect":
        raise ClientGone
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return _whole(body, limit)
    collected = bytearray(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        collected += message.get("body", b"")
        if len(collected) > limit:
            raise TooLarge(f"request body is over the {limit}-byte limit")
        if not message.get("more_body", False):
            return bytes(collected)


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return content_type.split(";", maxsplit=1)[0].strip().lower()


async def parse_body(
    scope: Scope, content_type: str, body: bytes, endpoint: Endpoint, declared: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The body's parameters and uploaded files; an empty body is no parameters."""
    if not body or not body.strip():
        return {}, {}
    kind = media_type(content_type)
    accepted = endpoint.params_in
    if kind in JSON_TYPES and "json" in accepted:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise BadRequest(f"malformed JSON body: {error}") from None
        if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and json_depth(value) > MAX_JSON_DEPTH:
            raise BadRequest(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        if not isinstance(value, dict):
            name = array_body(endpoint)
            if name is None:
                raise BadRequest("the JSON body must be an object")
            return {name: value}, {}
        return value, {}
    if "form" in accepted and (kind == FORM or (not kind and untyped_body(endpoint) == "form")):
        try:
            pairs = form_pairs(body.decode("utf-8"), errors="replace")
        except UnicodeDecodeError:
            raise BadRequest("the form body is not UTF-8") from None
        return _single(pairs, "form body", declared), {}  # querystring: chat[]=a is a name of its own
    if kind == MULTIPART and ("multipart" in accepted or "form" in accepted):
        return await _parse_multipart(scope, body, declared)
    expected = ", ".join(sorted({MEDIA_TYPES[location] for location in accepted if location in MEDIA_TYPES})) or "no body"
    shown = kind if len(kind) <= 60 else kind[:60] + "..."
    raise BadRequest(f"unsupported Content-Type {shown or '(none)'!r}; this endpoint takes {expected}")


UNTYPED_BODY = "x-chatmock-untyped-body"  # params-schema keyword: how the server reads a body sent with no Content-Type


def untyped_body(endpoint: Endpoint) -> str | None:
    """How the endpoint's server reads a body that comes with no ``Content-Type`` at all, as its
    schema declares it (``"form"``: as a urlencoded form, like Rack's ``form_data?`` for a POST
    with no media type); None: such a body is refused like any unsupported type."""
    declared = (endpoint.params_schema or {}).get(UNTYPED_BODY)
    return declared if isinstance(declared, str) else None


ARRAY_BODY = "x-chatmock-array-body"  # params-schema keyword: the parameter a JSON body that is no object becomes


def array_body(endpoint: Endpoint) -> str | None:
    """The parameter a JSON body that is not an object (an array) becomes, as the endpoint's
    schema declares it (a Bayeux body is one message, whose fields are the parameters, or an
    array of them: ``"message"``); None: a JSON body must be an object."""
    declared = (endpoint.params_schema or {}).get(ARRAY_BODY)
    return declared if isinstance(declared, str) else None


def json_document(body: bytes) -> Any:
    """A whole JSON document (a seed, an admin request): orjson (which refuses more than 1024
    levels, numbers beyond a double, lone surrogates), then at most :data:`MAX_JSON_DEPTH`
    levels; :class:`BadRequest` with a one-line reason otherwise."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"not JSON: {error}") from None
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and json_depth(value) > MAX_JSON_DEPTH:
        raise BadRequest(f"it nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def json_depth(value: Any) -> int:
    """How many arrays and objects deep ``value`` nests (iterative: no recursion limit)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        pending.extend((child, depth + 1) for child in children)
    return deepest


MEDIA_TYPES = {"json": "application/json", "form": FORM, "multipart": MULTIPART}  # params location -> body media type


async def _parse_multipart(scope: Scope, body: bytes, declared: frozenset[str]) -> tuple[dict[str, Any], dict[str, Upload]]:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    copy = Request(scope, replay)
    try:
        form = await copy.form(max_files=8, max_fields=200)
    except Exception as error:  # python-multipart raises several types on malformed input
        raise BadRequest(f"malformed multipart body: {error}") from None
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    seen: set[str] = set()
    arrays = declared.arrays if isinstance(declared, Declared) else frozenset()
    for key, value in form.multi_items():
        if key in seen and key in arrays and isinstance(value, str):
            present = params.get(key)
            params[key] = [*present, value] if isinstance(present, list) else [present, value]
            continue
        if key in seen and key not in declared:
            continue
        if key in seen:
            raise BadRequest(f"parameter {key!r} given more than once in the multipart body")
        seen.add(key)
        if isinstance(value, UploadFile):
            files[key] = Upload(value.filename or key, value.content_type or "application/octet-stream", await value.read())
        else:
            params[key] = value
    await form.close()
    return params, files


def merge(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Query and body parameters together; the same name in both is a repeated parameter."""
    if not body:
        return dict(query)
    if not query:
        return body
    repeated = sorted(set(query) & set(body))
    if repeated:
        raise BadRequest(f"parameter {repeated[0]!r} given in both the query string and the body")
    return {**query, **body}
