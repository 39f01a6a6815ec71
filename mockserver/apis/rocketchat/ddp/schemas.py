"""The realtime API's schemas: ``schemas/rocketchat/realtime/*.json``, read once.

These documents are not registry endpoints (an endpoint is one HTTP method and path with a
request and responses by status; a DDP method is a name on one socket with positional params
and one result), so they are a kind of their own, checked against
``schemas/rocketchat/realtime/_meta.json`` when loaded (a bad file raises :class:`RealtimeSchemaError`
naming it). Three kinds:

* ``frames.json``: every client frame and server frame of DDP, by ``msg``;
* ``method.<name>.json``: a method's params (by position: name, required, schema), its
  result, whether it needs a login (``auth``), its documented errors and an example;
* ``stream.<name>.json``: a stream's subscription params and the ``args`` of its events.

A ``$ref`` to ``../_defs.json#/definitions/<Model>`` is replaced by that registry model's
bundled schema with its dates as EJSON dates (:mod:`.ejson`: DDP's form of the same
document), so each schema stands alone (as the registry does for endpoints).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.apis.rocketchat.ddp.ejson import ejson_schema
from mockserver.core import paths
from mockserver.core.registry import Registry, load_registry, thaw
from mockserver.core.validate import Checker, violation_of

MODEL_REF = "../_defs.json#/definitions/"


@dataclass(frozen=True)
class Flaw:
    """How a value breaks its schema, safe to log (no offending value): the first violation's
    text, and the JSON pointer of the offending value within the checked value."""

    text: str
    pointer: str

    def __str__(self) -> str:
        return self.text


def flaw(checker: Checker, instance: Any) -> Flaw | None:
    """The most relevant way ``instance`` breaks ``checker``'s schema, or None."""
    errors = checker.reference_errors(instance)
    if not errors:
        return None
    first = violation_of(errors[0])
    return Flaw(first.without_value(), json_pointer(errors[0].absolute_path))


def json_pointer(parts: Iterable[Any]) -> str:
    """RFC 6901: ``/fields/args/0`` (``~`` and ``/`` escaped)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class RealtimeSchemaError(ValueError):
    def __init__(self, file: Path, what: str) -> None:
        super().__init__(f"{file}: {what}")


@dataclass(frozen=True)
class Param:
    name: str
    required: bool
    checker: Checker


@dataclass(frozen=True)
class MethodSpec:
    name: str
    login: bool  # auth "login": a session without a logged-in user gets error-invalid-user
    params: tuple[Param, ...]
    result: Checker
    document: dict[str, Any]

    def param_problem(self, params: list[Any]) -> str | None:
        """What is wrong with these positional params (None: nothing)."""
        if len(params) > len(self.params):
            return f"{len(params)} params, at most {len(self.params)}"
        for index, param in enumerate(self.params):
            if index >= len(params):
                return f"params[{index}] ({param.name}) is required" if param.required else None
            errors = param.checker.safe_errors(params[index])
            if errors:
                return f"params[{index}] ({param.name}): {errors[0]}"
        return None


@dataclass(frozen=True)
class RealtimeSchemas:
    frames: dict[str, dict[str, Checker]]  # "client" | "server" -> msg -> checker
    methods: dict[str, MethodSpec]
    streams: dict[str, dict[str, Any]]  # stream name -> its document
    documents: dict[str, dict[str, Any]]  # file name -> document (for the tests and the docs)
    events: dict[tuple[str, str], Checker]  # (stream, event kind) -> the checker of its args

    def event_problem(self, frame: dict[str, Any]) -> str | None:
        found = self.event_flaw(frame)
        return None if found is None else found.text

    def event_flaw(self, frame: dict[str, Any]) -> Flaw | None:
        """What is wrong with a ``changed`` frame's ``fields.args`` per its stream file (None:
        nothing, or a stream or event kind the files do not describe). The event kind of
        ``stream-room-messages`` is ``room`` or ``my_messages``; of the notify streams, what
        follows the ``/`` of the event name."""
        stream = str(frame.get("collection"))
        fields = frame.get("fields")
        name = str(fields.get("eventName", "")) if isinstance(fields, dict) else ""
        checker = self.events.get((stream, event_kind(stream, name)))
        if checker is None or not isinstance(fields, dict):
            return None
        found = flaw(checker, fields.get("args"))
        return None if found is None else Flaw(found.text, "/fields/args" + found.pointer)

    def server_frame_problem(self, frame: dict[str, Any]) -> str | None:
        found = self.server_frame_flaw(frame)
        return None if found is None else found.text

    def server_frame_flaw(self, frame: dict[str, Any]) -> Flaw | None:
        checker = self.frames["server"].get(str(frame.get("msg", "server_id" if "server_id" in frame else "")))
        if checker is None:
            return Flaw(f"no server frame {frame.get('msg')!r} in frames.json", "/msg")
        return flaw(checker, frame)


def event_kind(stream: str, event_name: str) -> str:
    if stream == "stream-room-messages":
        return "my_messages" if event_name == "__my_messages__" else "room"
    return event_name.partition("/")[2]


def method_file(name: str) -> str:
    """The file of a method: ``method.<name>.json`` with ``/`` and ``:`` as ``_``
    (``rooms/get`` -> ``method.rooms_get.json``)."""
    return "method." + name.replace("/", "_").replace(":", "_") + ".json"


def realtime_dir() -> Path:
    return paths.schemas_dir() / "rocketchat" / "realtime"


@cache
def realtime_schemas() -> RealtimeSchemas:
    return load(realtime_dir(), load_registry())


def load(directory: Path, registry: Registry) -> RealtimeSchemas:
    meta = Checker(_read(directory / "_meta.json"))
    frames: dict[str, dict[str, Checker]] = {}
    methods: dict[str, MethodSpec] = {}
    streams: dict[str, dict[str, Any]] = {}
    documents: dict[str, dict[str, Any]] = {}
    events: dict[tuple[str, str], Checker] = {}
    for file in sorted(directory.glob("*.json")):
        if file.name.startswith("_"):
            continue
        document = _read(file)
        problems = meta.safe_errors(document)
        if problems:
            raise RealtimeSchemaError(file, problems[0])
        documents[file.name] = document
        kind = document["kind"]
        if kind == "frames":
            for side in ("client", "server"):
                frames[side] = {name: Checker(inline(schema, registry, file)) for name, schema in document[side].items()}
        elif kind == "method":
            if file.name != method_file(document["name"]):
                raise RealtimeSchemaError(file, f"the method {document['name']!r} belongs in {method_file(document['name'])}")
            params = tuple(
                Param(str(item["name"]), bool(item.get("required", False)), Checker(inline(item["schema"], registry, file)))
                for item in document["params"]
            )
            methods[document["name"]] = MethodSpec(
                document["name"], document["auth"] == "login", params, Checker(inline(document["result"], registry, file)), document
            )
        else:
            streams[document["name"]] = document
            for kind, described in document["events"].items():
                events[document["name"], kind] = Checker(inline(described["args"], registry, file))
    if set(frames) != {"client", "server"}:
        raise RealtimeSchemaError(directory / "frames.json", "frames.json (client and server frames) is missing")
    return RealtimeSchemas(frames, methods, streams, documents, events)


def inline(schema: Any, registry: Registry, file: Path) -> Any:
    """``schema`` with every model ``$ref`` replaced by the model's bundled schema."""
    if isinstance(schema, list):
        return [inline(item, registry, file) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(MODEL_REF):
            raise RealtimeSchemaError(file, f"$ref {ref!r}: only {MODEL_REF}<Model> is allowed here")
        name = f"rocketchat.{ref.removeprefix(MODEL_REF)}"
        if name not in registry.models:
            raise RealtimeSchemaError(file, f"$ref {ref!r}: no model {name}")
        return ejson_schema(thaw(registry.model(name).schema))
    return {
        key: inline(value, registry, file) if key not in ("examples", "example", "const", "enum") else value
        for key, value in schema.items()
    }


def _read(file: Path) -> dict[str, Any]:
    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RealtimeSchemaError(file, f"not readable JSON: {error}") from None
    if not isinstance(value, dict):
        raise RealtimeSchemaError(file, "a JSON object is expected")
    return value
