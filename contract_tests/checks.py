"""Checks of one exchange against the contract, raising typed, readable failures.

A :class:`ContractFailure` names the endpoint, the schema path and instance path of the
violation, the request, and a curl line that reproduces it with secrets replaced by
placeholders (like Schemathesis' "reproduce with curl").
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from mockserver.core.conformance import Finding, check_response
from mockserver.core.registry import Endpoint, load_registry
from mockserver.core.secrets import is_secret_name

PLACEHOLDER = "${SECRET}"


@dataclass
class Exchange:
    """One request the suite sent and what came back."""

    endpoint: Endpoint
    request: httpx.Request
    response: httpx.Response
    secrets: tuple[str, ...] = ()

    def json(self) -> Any:
        return json.loads(self.response.content)

    def curl(self) -> str:
        return curl_line(self.request, self.secrets)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((value for value in secrets if value), key=len, reverse=True):
        text = text.replace(secret, PLACEHOLDER)
    return text


def curl_line(request: httpx.Request, secrets: Iterable[str] = ()) -> str:
    """A shell line that sends the same request; secret values become placeholders."""
    secrets = tuple(secrets)
    parts = ["curl", "-sS", "-X", request.method]
    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        shown = PLACEHOLDER if is_secret_name(name) else _scrub(value, secrets)
        parts += ["-H", f"{name}: {shown}"]
    body = request.content
    if body:
        parts += ["--data-binary", _scrub(body.decode("utf-8", "replace"), secrets)]
    parts.append(_scrub(str(request.url), secrets))
    return " ".join(shlex.quote(part) for part in parts)


class ContractFailure(AssertionError):
    """The target broke the contract of ``endpoint``."""

    def __init__(self, exchange: Exchange, problem: str, schema_path: str = "", instance_path: str = "") -> None:
        self.endpoint_id = exchange.endpoint.id
        self.problem = problem
        self.schema_path = schema_path
        self.instance_path = instance_path
        request = exchange.request
        lines = [
            f"{exchange.endpoint.id}: {problem}",
            f"  status: {exchange.response.status_code}  content-type: {exchange.response.headers.get('content-type', '-')}",
        ]
        if instance_path:
            lines.append(f"  instance path: {instance_path}")
        if schema_path:
            lines.append(f"  schema path: {schema_path}")
        lines.append(f"  request: {request.method} {_scrub(str(request.url), exchange.secrets)}")
        body = exchange.response.content[:300].decode("utf-8", "replace")
        lines.append(f"  response body: {_scrub(body, exchange.secrets)}")
        lines.append(f"  reproduce: {exchange.curl()}")
        super().__init__("\n".join(lines))

    @classmethod
    def of(cls, exchange: Exchange, finding: Finding) -> ContractFailure:
        """The failure of one conformance finding (its message, schema path and instance path)."""
        return cls(exchange, finding.message, finding.schema_path, finding.instance_path)


def check_exchange(exchange: Exchange, *, expect_error: bool | None = None) -> Any:
    """The response has a documented status, content type, headers and body (the checks of
    :mod:`mockserver.core.conformance`; the first finding fails); returns the body.

    ``expect_error``: True when the request was built to fail (the API's error shape is
    required), False when it was valid (a success is required), None to accept either.
    """
    response = exchange.response
    checked = check_response(exchange.endpoint, response.status_code, response.headers, response.content)
    if checked.findings:
        raise ContractFailure.of(exchange, checked.findings[0])
    if exchange.endpoint.responses[response.status_code].checker is None:
        return response.content
    body = checked.body
    if expect_error is not None:
        is_error = is_error_body(exchange, body)
        if expect_error and not is_error:
            raise ContractFailure(exchange, "an invalid request was answered as a success")
        if not expect_error and is_error:
            raise ContractFailure(
                exchange, f"a valid request was answered with an error: {_scrub(json.dumps(body)[:200], exchange.secrets)}"
            )
    return body


def is_error_body(exchange: Exchange, body: Any) -> bool:
    """An error by HTTP status, or (Lingr) by the body matching the API's error schema."""
    if exchange.response.status_code >= 400:
        return True
    api = load_registry().api(exchange.endpoint.api)
    return isinstance(body, dict) and api.error_checker.is_valid(body) and body.get("status") == "error"


def error_code(exchange: Exchange, body: Any) -> str | None:
    """The body's error code, for the ledger: Lingr ``code``, Rocket.Chat ``errorType``, BOCCO ``code``."""
    if not isinstance(body, dict) or not is_error_body(exchange, body):
        return None
    if body.get("loginRequired") is True:  # Gitter's second 401 body
        return "loginRequired"
    for key in ("errorType", "code", "error"):
        value = body.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return None
