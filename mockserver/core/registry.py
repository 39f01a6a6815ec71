"""The schema registry: the only code that reads schema files.

It loads every ``schemas/<api>/*.json`` once, checks each file against its meta-schema,
bundles cross-file ``$ref``s into self-contained schemas and hands out immutable records:
:class:`Endpoint` by endpoint id, :class:`Model` by model id, :class:`Api` by API name.
A broken schema file stops loading with a :class:`RegistryError` naming the file and the
JSON pointer of the fault.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import jsonschema

from mockserver.core import paths
from mockserver.core.validate import Checker

JSON = Any
API_FILE = "_api.json"
DEFS_FILE = "_defs.json"
_LITERAL_KEYWORDS = frozenset({"enum", "const", "examples", "default"})
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "definitions"})
PATH_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")  # a {name} in a path template (router, OpenAPI)


class RegistryError(Exception):
    """A schema file is missing, not JSON, fails its meta-schema or has a broken $ref."""

    def __init__(self, file: Path, pointer: str, message: str) -> None:
        super().__init__(f"{file}: at {pointer or '/'}: {message}")
        self.file = file
        self.pointer = pointer
        self.message = message


class UnknownIdError(KeyError):
    """No endpoint or model has this id."""


def freeze(value: JSON) -> JSON:
    """A read-only deep view of a JSON value: dicts become mappings, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: JSON) -> JSON:
    """A plain, mutable deep copy of a frozen JSON value (for export and generation)."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    prefix: str
    description: str = ""
    aliases: tuple[str, ...] = ()  # other base URLs of the same paths (https://gitter.im/api)


@dataclass(frozen=True)
class AuthScheme:
    name: str
    type: str  # bearer | headers | param
    description: str
    headers: tuple[str, ...] = ()
    param: str = ""
    param_in: tuple[str, ...] = ()
    query_alternative: str = ""


@dataclass(frozen=True)
class Response:
    status: int
    description: str
    content_type: str
    schema: Mapping[str, JSON] | None
    headers: Mapping[str, Mapping[str, JSON]]
    stream: Mapping[str, JSON] | None
    binary: bool
    checker: Checker | None = field(repr=False, compare=False)
    header_checkers: Mapping[str, Checker] = field(repr=False, compare=False)
    item_checker: Checker | None = field(repr=False, compare=False)


ErrorCode = str | int | None  # an error case's code: a string, a number, or none documented


class AnyCode(enum.Enum):
    """The type of :data:`ANY_CODE`."""

    ANY = "any"


ANY_CODE: Final = AnyCode.ANY  # error-case lookups: whatever the code (None means "documented without a code")


@dataclass(frozen=True)
class ErrorCase:
    status: int
    when: str
    code: ErrorCode = None
    body: JSON = None
    source: str = ""


@dataclass(frozen=True)
class Endpoint:
    id: str
    api: str
    summary: str
    methods: tuple[str, ...]
    path: str
    server: Server
    auth: AuthScheme | None
    kind: str
    path_schema: Mapping[str, JSON] | None
    headers_schema: Mapping[str, JSON] | None
    params_in: tuple[str, ...]
    params_schema: Mapping[str, JSON] | None
    files: tuple[str, ...]
    responses: Mapping[int, Response]
    errors: tuple[ErrorCase, ...]
    sources: tuple[str, ...]
    file: Path
    root_prefix: str
    params_checker: Checker | None = field(repr=False, compare=False)
    path_checker: Checker | None = field(repr=False, compare=False)

    def served_path(self, combined: bool = True, alias: str | None = None) -> str:
        """Where the mock serves this endpoint: under its server's prefix in combined mode;
        at the root (less the API's main prefix) when one API is served alone. With ``alias``
        (one of its server's aliases), the alias's path goes before the endpoint's."""
        alias_path = urlsplit(alias).path if alias else ""
        return (self.server.prefix if combined else self.root_prefix) + alias_path + self.path

    @property
    def method(self) -> str:
        """The method clients use (the first listed)."""
        return self.methods[0]

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(PATH_PARAMETER.findall(self.path))

    @property
    def error_statuses(self) -> tuple[int, ...]:
        return tuple(sorted({case.status for case in self.errors}))

    def error_case(self, status: int, code: ErrorCode | AnyCode = ANY_CODE) -> ErrorCase | None:
        """The first documented error case with this status and code, one with a body first;
        ``code`` :data:`ANY_CODE` takes any code, None a case documented without one. None when
        the endpoint documents no such case."""
        matching = [case for case in self.errors if case.status == status and (code is ANY_CODE or case.code == code)]
        return next((case for case in matching if case.body is not None), matching[0] if matching else None)

    def response(self, status: int) -> Response:
        try:
            return self.responses[status]
        except KeyError:
            raise UnknownIdError(f"{self.id} documents no status {status}") from None


@dataclass(frozen=True)
class Model:
    id: str
    api: str
    name: str
    schema: Mapping[str, JSON]
    file: Path
    checker: Checker = field(repr=False, compare=False)


@dataclass(frozen=True)
class Api:
    name: str
    title: str
    servers: tuple[Server, ...]
    content_type: str
    auth: Mapping[str, AuthScheme]
    error_schema: Mapping[str, JSON]
    sources: tuple[str, ...]
    file: Path
    error_checker: Checker = field(repr=False, compare=False)
    trailing_slash_optional: bool = False  # one trailing slash ignored (Express's non-strict routing)

    def server(self, name: str | None = None) -> Server:
        if name is None:
            return self.servers[0]
        for server in self.servers:
            if server.name == name:
                return server
        raise KeyError(name)


class Registry:
    """Immutable endpoint, model and API records loaded from one schemas directory."""

    def __init__(self, apis: Mapping[str, Api], endpoints: Mapping[str, Endpoint], models: Mapping[str, Model]) -> None:
        self._apis = MappingProxyType(dict(apis))
        self._endpoints = MappingProxyType(dict(endpoints))
        self._models = MappingProxyType(dict(models))

    # lookup -----------------------------------------------------------------
    @property
    def apis(self) -> Mapping[str, Api]:
        return self._apis

    @property
    def endpoints(self) -> Mapping[str, Endpoint]:
        return self._endpoints

    @property
    def models(self) -> Mapping[str, Model]:
        return self._models

    def api(self, name: str) -> Api:
        try:
            return self._apis[name]
        except KeyError:
            raise UnknownIdError(f"unknown API {name!r}; known: {', '.join(self._apis)}") from None

    def endpoint(self, endpoint_id: str) -> Endpoint:
        try:
            return self._endpoints[endpoint_id]
        except KeyError:
            raise UnknownIdError(f"unknown endpoint id {endpoint_id!r}") from None

    def model(self, model_id: str) -> Model:
        try:
            return self._models[model_id]
        except KeyError:
            raise UnknownIdError(f"unknown model id {model_id!r}") from None

    def endpoints_of(self, api: str) -> Iterator[Endpoint]:
        return (endpoint for endpoint in self._endpoints.values() if endpoint.api == api)

    def models_of(self, api: str) -> Iterator[Model]:
        return (model for model in self._models.values() if model.api == api)

    # validation -------------------------------------------------------------
    def response_errors(self, endpoint_id: str, status: int, body: JSON) -> list[str]:
        response = self.endpoint(endpoint_id).response(status)
        if response.checker is None:
            return []
        return response.checker.errors(body)

    def request_errors(self, endpoint_id: str, params: JSON) -> list[str]:
        checker = self.endpoint(endpoint_id).params_checker
        return [] if checker is None else checker.errors(params)

    def model_errors(self, model_id: str, instance: JSON) -> list[str]:
        return self.model(model_id).checker.errors(instance)


# loading ----------------------------------------------------------------------
def _read_json(file: Path) -> JSON:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryError(file, "", f"cannot read: {error}") from None
    except json.JSONDecodeError as error:
        raise RegistryError(file, "", f"not JSON: {error}") from None


def _pointer(parts: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve_pointer(document: JSON, pointer: str, file: Path, where: str) -> JSON:
    node = document
    if pointer in ("", "/"):
        return node
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise RegistryError(file, where, f"$ref target #{pointer} does not exist")
    return node


class _Bundler:
    """Inlines every $ref (local or relative-file) so each schema stands alone."""

    def __init__(self) -> None:
        self._documents: dict[Path, JSON] = {}

    def document(self, file: Path) -> JSON:
        file = file.resolve()
        if file not in self._documents:
            self._documents[file] = _read_json(file)
        return self._documents[file]

    def bundle(self, node: JSON, file: Path, where: tuple[Any, ...] = (), seen: tuple[str, ...] = (), named: bool = False) -> JSON:
        """Inline refs in ``node``; ``named`` marks a map of names to schemas (``properties``)."""
        if isinstance(node, list):
            return [self.bundle(item, file, (*where, index), seen) for index, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        if named:
            return {key: self.bundle(value, file, (*where, key), seen) for key, value in node.items()}
        if "$ref" in node:
            ref = node["$ref"]
            if len(node) > 1:
                raise RegistryError(file, _pointer(where), "$ref must stand alone (siblings differ between draft-07 and 2020-12)")
            target_name, _, pointer = str(ref).partition("#")
            target_file = (file.parent / target_name).resolve() if target_name else file.resolve()
            if not target_file.exists():
                raise RegistryError(file, _pointer(where), f"$ref {ref!r}: no file {target_file.name}")
            key = f"{target_file}#{pointer}"
            if key in seen:
                raise RegistryError(file, _pointer(where), f"$ref {ref!r} is recursive")
            target = _resolve_pointer(self.document(target_file), pointer, file, _pointer(where))
            return self.bundle(target, target_file, (*where,), (*seen, key))
        return {
            key: value if key in _LITERAL_KEYWORDS else self.bundle(value, file, (*where, key), seen, key in _NAMED_SCHEMAS)
            for key, value in node.items()
        }


_DRAFT7 = Checker(
    jsonschema.Draft7Validator.META_SCHEMA
)  # jsonschema-rs decides; jsonschema explains (tests/test_registry.py runs it on all)


def _meta_validator(meta_file: Path) -> Checker:
    return Checker(_read_json(meta_file))


def _check_against(validator: Checker, document: JSON, file: Path) -> None:
    errors = validator.reference_errors(document)
    if errors:
        raise RegistryError(file, _pointer(errors[0].absolute_path), errors[0].message)


def _check_schema(schema: JSON, file: Path, where: tuple[Any, ...]) -> JSON:
    errors = _DRAFT7.reference_errors(schema)
    if errors:
        raise RegistryError(file, _pointer((*where, *errors[0].absolute_path)), f"invalid JSON Schema: {errors[0].message}")
    return schema


def _checker(schema: JSON, file: Path, where: tuple[Any, ...]) -> Checker:
    return Checker(_check_schema(schema, file, where))


def _load_api(name: str, directory: Path, bundler: _Bundler, meta: Checker) -> Api:
    file = directory / API_FILE
    document = bundler.document(file)
    _check_against(meta, document, file)
    if document["api"] != name:
        raise RegistryError(file, "/api", f"{document['api']!r} does not match its directory {name!r}")
    error_schema = bundler.bundle(document["errorSchema"], file, ("errorSchema",))
    auth = {
        scheme_name: AuthScheme(
            name=scheme_name,
            type=spec["type"],
            description=spec["description"],
            headers=tuple(spec.get("headers", ())),
            param=spec.get("name", ""),
            param_in=tuple(spec.get("in", ())),
            query_alternative=spec.get("queryAlternative", ""),
        )
        for scheme_name, spec in document["auth"].items()
    }
    servers = tuple(
        Server(
            name=item["name"],
            url=item["url"].rstrip("/"),
            prefix=item["prefix"].rstrip("/"),
            description=item.get("description", ""),
            aliases=tuple(alias.rstrip("/") for alias in item.get("aliases", ())),
        )
        for item in document["servers"]
    )
    return Api(
        name=name,
        title=document["title"],
        servers=servers,
        content_type=document["contentType"],
        trailing_slash_optional=document.get("trailingSlash", "strict") == "optional",
        auth=MappingProxyType(auth),
        error_schema=freeze(error_schema),
        sources=tuple(document["sources"]),
        file=file,
        error_checker=_checker(error_schema, file, ("errorSchema",)),
    )


def _load_models(api: Api, directory: Path, bundler: _Bundler) -> dict[str, Model]:
    file = directory / DEFS_FILE
    if not file.exists():
        return {}
    document = bundler.document(file)
    definitions = document.get("definitions")
    if not isinstance(definitions, dict):
        raise RegistryError(file, "/definitions", "a _defs.json file holds its types under 'definitions'")
    models = {}
    for name, definition in definitions.items():
        where = ("definitions", name)
        schema = bundler.bundle(definition, file, where)
        _check_schema(schema, file, where)
        if name[:1].isupper():
            model_id = f"{api.name}.{name}"
            models[model_id] = Model(id=model_id, api=api.name, name=name, schema=freeze(schema), file=file, checker=Checker(schema))
    return models


def _load_response(status: str, spec: JSON, file: Path, bundler: _Bundler) -> Response:
    where = ("responses", status)
    schema = bundler.bundle(spec["schema"], file, (*where, "schema")) if "schema" in spec else None
    headers = {name: bundler.bundle(value, file, (*where, "headers", name)) for name, value in spec.get("headers", {}).items()}
    stream = bundler.bundle(spec["stream"], file, (*where, "stream")) if "stream" in spec else None
    return Response(
        status=int(status),
        description=spec["description"],
        content_type=spec["contentType"],
        schema=freeze(schema) if schema is not None else None,
        headers=freeze(headers),
        stream=freeze(stream) if stream is not None else None,
        binary=bool(spec.get("binary", False)),
        checker=_checker(schema, file, (*where, "schema")) if schema is not None else None,
        header_checkers=MappingProxyType({name: _checker(value, file, (*where, "headers", name)) for name, value in headers.items()}),
        item_checker=_checker(stream["item"], file, (*where, "stream", "item")) if stream is not None else None,
    )


def _load_endpoint(api: Api, file: Path, bundler: _Bundler, meta: Checker) -> Endpoint:
    document = bundler.document(file)
    _check_against(meta, document, file)
    endpoint_id = document["id"]
    if file.stem != endpoint_id:
        raise RegistryError(file, "/id", f"id {endpoint_id!r} does not match the file name")
    if not endpoint_id.startswith(api.name + "."):
        raise RegistryError(file, "/id", f"id {endpoint_id!r} is not in API {api.name!r}")
    auth_name = document["auth"]
    if auth_name != "none" and auth_name not in api.auth:
        raise RegistryError(file, "/auth", f"unknown auth scheme {auth_name!r}; {API_FILE} has {sorted(api.auth)}")
    try:
        server = api.server(document.get("server"))
    except KeyError:
        raise RegistryError(file, "/server", f"unknown server {document.get('server')!r}") from None
    request = document["request"]
    path_schema = bundler.bundle(request["path"], file, ("request", "path")) if "path" in request else None
    headers_schema = bundler.bundle(request["headers"], file, ("request", "headers")) if "headers" in request else None
    params = request.get("params")
    params_schema = bundler.bundle(params["schema"], file, ("request", "params", "schema")) if params else None
    declared = set((path_schema or {}).get("properties", {}))
    templated = set(PATH_PARAMETER.findall(document["path"]))
    if declared != templated:
        raise RegistryError(file, "/request/path", f"path parameters {sorted(declared)} differ from the template's {sorted(templated)}")
    responses = {int(status): _load_response(status, spec, file, bundler) for status, spec in document["responses"].items()}
    errors = tuple(
        ErrorCase(
            status=case["status"], when=case["when"], code=case.get("code"), body=freeze(case.get("body")), source=case.get("source", "")
        )
        for case in document.get("errors", ())
    )
    for index, case in enumerate(errors):
        if case.status not in responses:
            raise RegistryError(file, f"/errors/{index}/status", f"status {case.status} has no entry in responses")
    return Endpoint(
        id=endpoint_id,
        api=api.name,
        summary=document["summary"],
        methods=tuple(document["methods"]),
        path=document["path"],
        server=server,
        auth=api.auth.get(auth_name),
        kind=document.get("kind", "json"),
        path_schema=freeze(path_schema) if path_schema is not None else None,
        headers_schema=freeze(headers_schema) if headers_schema is not None else None,
        params_in=tuple(params["in"]) if params else (),
        params_schema=freeze(params_schema) if params_schema is not None else None,
        files=tuple(params.get("files", ())) if params else (),
        responses=MappingProxyType(responses),
        errors=errors,
        sources=tuple(document["sources"]),
        file=file,
        root_prefix=server.prefix.removeprefix(api.servers[0].prefix),
        params_checker=_checker(params_schema, file, ("request", "params", "schema")) if params_schema is not None else None,
        path_checker=_checker(path_schema, file, ("request", "path")) if path_schema is not None else None,
    )


def load(schemas_dir: Path | None = None) -> Registry:
    """Load, check and bundle every schema file below ``schemas_dir``."""
    root = schemas_dir or paths.schemas_dir()
    endpoint_meta = _meta_validator(root / "_meta" / "endpoint.json")
    api_meta = _meta_validator(root / "_meta" / "api.json")
    bundler = _Bundler()
    apis: dict[str, Api] = {}
    endpoints: dict[str, Endpoint] = {}
    models: dict[str, Model] = {}
    for directory in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(("_", "."))):
        if not (directory / API_FILE).exists():
            raise RegistryError(directory / API_FILE, "", "every API directory needs an _api.json")
        api = _load_api(directory.name, directory, bundler, api_meta)
        apis[api.name] = api
        models.update(_load_models(api, directory, bundler))
        for file in sorted(directory.glob("*.json")):
            if file.name.startswith("_"):
                continue
            endpoint = _load_endpoint(api, file, bundler, endpoint_meta)
            if endpoint.id in endpoints:
                raise RegistryError(file, "/id", f"duplicate endpoint id {endpoint.id!r}")
            endpoints[endpoint.id] = endpoint
    return Registry(apis, endpoints, models)


@cache
def load_registry() -> Registry:
    """The registry of the installed schemas, loaded once per process."""
    return load()
