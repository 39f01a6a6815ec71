"""OpenAPI 3.1 documents generated from the registry, one per API.

Paths are laid out as the mock serves them in combined mode (``<server prefix><path>``), so
one document covers every server of an API (Gitter's REST and stream hosts share paths) and
Schemathesis can run against the mock directly. Each operation names the real URL in
``x-chatmock-real-url``. JSON Schemas are embedded unchanged: the schema files use only
keywords that mean the same in draft-07 and 2020-12.
"""

from __future__ import annotations

from typing import Any

from mockserver.core import parse
from mockserver.core.parse import MEDIA_TYPES
from mockserver.core.registry import PATH_PARAMETER, AuthScheme, Endpoint, Registry, thaw


def _security_schemes(scheme: AuthScheme) -> dict[str, dict[str, Any]]:
    if scheme.type == "bearer":
        return {scheme.name: {"type": "http", "scheme": "bearer", "description": scheme.description}}
    if scheme.type == "headers":
        return {
            f"{scheme.name}.{header}": {"type": "apiKey", "in": "header", "name": header, "description": scheme.description}
            for header in scheme.headers
        }
    return {scheme.name: {"type": "apiKey", "in": "query", "name": scheme.param, "description": scheme.description}}


def _security(scheme: AuthScheme | None) -> list[dict[str, list[str]]]:
    if scheme is None:
        return []
    return [{name: [] for name in _security_schemes(scheme)}]


def _parameters(endpoint: Endpoint, method: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for location, schema in (("path", endpoint.path_schema), ("header", endpoint.headers_schema)):
        if schema is None:
            continue
        required = set(schema.get("required", ()))
        for name, property_schema in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": location, "required": location == "path" or name in required, "schema": thaw(property_schema)}
            )
    body_allowed = method not in ("GET", "DELETE")
    query_only = "query" in endpoint.params_in and not (body_allowed and set(endpoint.params_in) - {"query"})
    if endpoint.params_schema is not None and query_only:
        required = set(endpoint.params_schema.get("required", ()))
        for name, property_schema in endpoint.params_schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in required, "schema": thaw(property_schema)})
    return parameters


def _request_body(endpoint: Endpoint, method: str) -> dict[str, Any] | None:
    if endpoint.params_schema is None or method in ("GET", "DELETE"):
        return None
    media = [MEDIA_TYPES[location] for location in endpoint.params_in if location in MEDIA_TYPES]
    if not media:
        return None
    schema = thaw(endpoint.params_schema)
    content = {media_type: {"schema": _body_schema(schema, media_type)} for media_type in media}
    # required when some parameter is, or when no parameters at all break the schema (an anyOf
    # of requirements: a Bayeux message or an array of them)
    empty_refused = endpoint.params_checker is not None and not endpoint.params_checker.is_valid({})
    return {"required": bool(schema.get("required")) or empty_refused, "content": content}


def _body_schema(params: dict[str, Any], media_type: str) -> dict[str, Any]:
    """The params schema as one media type carries it. JSON: with ``x-chatmock-array-body``, a
    body that is no object is that one parameter (a Bayeux message array) too. A form: an
    array parameter needs two items or more, since one item travels as ``key=value``, which
    the server's parser reads as a string (Node's querystring, as the real server)."""
    if media_type == "application/json" and isinstance(params.get(parse.ARRAY_BODY), str):
        alone = params.get("properties", {}).get(params[parse.ARRAY_BODY])
        if isinstance(alone, dict):
            return {"anyOf": [params, alone]}
    if media_type == "application/x-www-form-urlencoded":
        properties = params.get("properties", {})
        arrays = {name: item for name, item in properties.items() if isinstance(item, dict) and item.get("type") == "array"}
        if arrays:
            widened = {name: {**item, "minItems": max(2, item.get("minItems", 0))} for name, item in arrays.items()}
            return {**params, "properties": {**properties, **widened}}
    return params


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, response in endpoint.responses.items():
        entry: dict[str, Any] = {"description": response.description or str(status)}
        media_type = parse.media_type(response.content_type)
        if response.schema is not None:
            entry["content"] = {media_type: {"schema": thaw(response.schema)}}
        elif response.stream is not None:
            entry["content"] = {media_type: {"schema": {"type": "string"}, "x-chatmock-stream": thaw(response.stream)}}
        elif response.binary:
            entry["content"] = {media_type: {"schema": {"type": "string", "contentMediaType": media_type}}}
        if response.headers:
            entry["headers"] = {name: {"schema": thaw(schema)} for name, schema in response.headers.items()}
        responses[str(status)] = entry
    return responses


def _operation(endpoint: Endpoint, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.id if method == endpoint.method else f"{endpoint.id}.{method.lower()}",
        "summary": endpoint.summary,
        "x-chatmock-real-url": endpoint.server.url + endpoint.path,
        "x-chatmock-kind": endpoint.kind,
        "x-chatmock-sources": list(endpoint.sources),
        "security": _security(endpoint.auth),
        "responses": _responses(endpoint),
    }
    parameters = _parameters(endpoint, method)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(endpoint, method)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _renamed(operation: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """Path parameters renamed to the names of the path key the operation is filed under."""
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "path":
            parameter["name"] = renames.get(parameter["name"], parameter["name"])
    return operation


def openapi_document(registry: Registry, api_name: str, base_url: str = "http://127.0.0.1:8000", root: bool = False) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one API; ``root`` drops the prefixes (``serve --api NAME``)."""
    api = registry.api(api_name)
    paths: dict[str, dict[str, Any]] = {}
    shapes: dict[str, str] = {}  # one path key per shape: OpenAPI forbids equivalent templates
    schemes: dict[str, Any] = {}
    for endpoint in sorted(registry.endpoints_of(api_name), key=lambda item: item.id):
        if endpoint.auth is not None:
            schemes.update(_security_schemes(endpoint.auth))
        key = endpoint.served_path(combined=not root)
        shape = PATH_PARAMETER.sub("{}", key)
        canonical = shapes.setdefault(shape, key)
        renames = dict(zip(PATH_PARAMETER.findall(key), PATH_PARAMETER.findall(canonical), strict=True))
        item = paths.setdefault(canonical, {})
        for method in endpoint.methods:
            item[method.lower()] = _renamed(_operation(endpoint, method), renames)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": f"{api.title} (chatmock)",
            "version": "chatmock",
            "description": f"Generated from chatmock's schemas. Real servers: {', '.join(server.url for server in api.servers)}.",
        },
        "servers": [{"url": base_url.rstrip("/") or "/", "description": "chatmock"}],
        "paths": paths,
        "components": {"securitySchemes": schemes},
    }
