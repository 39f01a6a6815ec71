"""core/openapi.py: one OpenAPI 3.1 document per API, paths as the mock serves them."""

from __future__ import annotations

import pytest

from mockserver.apis import API_NAMES
from mockserver.core.openapi import openapi_document
from mockserver.core.registry import UnknownIdError, load_registry

REG = load_registry()


@pytest.mark.parametrize("api", API_NAMES)
def test_document_shape(api: str) -> None:
    document = openapi_document(REG, api, base_url="http://mock.test/")
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"].endswith("(chatmock)")
    assert document["servers"] == [{"url": "http://mock.test", "description": "chatmock"}]
    operations = {operation["operationId"]: operation for item in document["paths"].values() for operation in item.values()}
    endpoints = list(REG.endpoints_of(api))
    for endpoint in endpoints:
        operation = operations[endpoint.id]
        assert operation["x-chatmock-real-url"] == endpoint.server.url + endpoint.path
        assert sorted(operation["responses"]) == sorted(str(status) for status in endpoint.responses)
        for requirement in operation["security"]:
            assert set(requirement) <= set(document["components"]["securitySchemes"])
    assert len(operations) == sum(len(endpoint.methods) for endpoint in endpoints)


def test_paths_are_prefixed_unless_served_at_the_root() -> None:
    prefixed = openapi_document(REG, "gitter")["paths"]
    at_root = openapi_document(REG, "gitter", root=True)["paths"]
    assert all(path.startswith("/gitter/") for path in prefixed)
    assert not any(path.startswith("/gitter/") for path in at_root)
    assert len(prefixed) == len(at_root)


def test_path_parameters_are_declared_under_the_path_key_names() -> None:
    for item_path, item in openapi_document(REG, "bocco")["paths"].items():
        for operation in item.values():
            declared = {parameter["name"] for parameter in operation.get("parameters", ()) if parameter["in"] == "path"}
            assert declared == {part[1:-1] for part in item_path.replace(".", "/").split("/") if part.startswith("{")}


def test_unknown_api() -> None:
    with pytest.raises(UnknownIdError):
        openapi_document(REG, "irc")


def test_body_schemas_follow_how_each_media_type_carries_the_parameters() -> None:
    from mockserver.core.openapi import _body_schema

    params = {"type": "object", "properties": {"chat": {"type": "array", "items": {"type": "string"}}, "x": {"type": "string"}}}
    form = _body_schema(params, "application/x-www-form-urlencoded")
    assert form["properties"]["chat"]["minItems"] == 2  # chat=a alone is a string to the server's parser
    assert form["properties"]["x"] == {"type": "string"}
    assert _body_schema(params, "application/json") is params
    bayeux = {"type": "object", "x-chatmock-array-body": "message", "properties": {"message": {"type": "array"}}}
    assert _body_schema(bayeux, "application/json") == {"anyOf": [bayeux, {"type": "array"}]}


def test_a_body_is_required_when_no_parameters_break_the_schema() -> None:
    """Faye's params are an anyOf of requirements (a Bayeux message, or an array of them): no
    top-level ``required``, yet an empty body is refused, so the export must say the body is
    required (else Schemathesis calls the mock's 400 for no body a rejected valid request)."""
    document = openapi_document(load_registry(), "gitter")
    assert document["paths"]["/gitter/ws/faye"]["post"]["requestBody"]["required"] is True
    assert document["paths"]["/gitter/v1/rooms/{roomId}/chatMessages"]["post"]["requestBody"]["required"] is True
