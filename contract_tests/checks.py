"""Checks of one exchange against the contract, raising typed, readable failures.

A :class:`ContractFailure` names the endpoint, the schema path and instance path of the
violation, the observed value's type (the value itself only where it cannot be a secret), the
request, and a curl line that reproduces it with secrets replaced by placeholders (like
Schemathesis' "reproduce with curl"). Its :attr:`~ContractFailure.cause` groups failures:
one drifting field of one endpoint is one cause, however many tests meet it
(:mod:`contract_tests.causes`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from jsonschema.exceptions import ValidationError

from contract_tests.vault import PLACEHOLDER, VAULT
from mockserver.core import conformance
from mockserver.core.conformance import Finding, check_response
from mockserver.core.registry import Endpoint, load_registry

__all__ = ["PLACEHOLDER", "ContractFailure", "Exchange", "check_exchange", "curl_line", "error_code", "is_error_body"]

SHOWN_VALUE = 60  # an observed value is quoted only when its JSON is at most this long (and cannot be a secret)
_INDEX = re.compile(r"\[[0-9]+\]")


@dataclass(repr=False)
class Exchange:
    """One request the suite sent and what came back."""

    endpoint: Endpoint
    request: httpx.Request
    response: httpx.Response
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        path = self.request.url.copy_with(query=None, fragment=None)
        return f"Exchange({self.endpoint.id}: {self.request.method} {self.scrub(str(path))} -> {self.response.status_code})"

    def json(self) -> Any:
        return json.loads(self.response.content)

    def curl(self) -> str:
        return curl_line(self.request, self.secrets)

    def scrub(self, text: str) -> str:
        """``text`` without this exchange's secrets nor any other the run knows."""
        return VAULT.scrub(_scrub(text, self.secrets))


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((value for value in secrets if value), key=len, reverse=True):
        text = text.replace(secret, PLACEHOLDER)
    return text


def curl_line(request: httpx.Request, secrets: Iterable[str] = ()) -> str:
    """A shell line that sends the same request; secret values become ``${SECRET}``."""
    secrets = tuple(secrets)

    def scrub(text: str) -> str:
        return VAULT.scrub(_scrub(text, secrets))

    parts = ["curl", "-sS", "-X", request.method]
    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        shown = PLACEHOLDER if VAULT.is_secret_field(name) else scrub(value)
        parts += ["-H", f"{name}: {shown}"]
    body = request.content
    if body:
        parts += ["--data-binary", scrub(body.decode("utf-8", "replace"))]
    parts.append(scrub(str(request.url)))
    return " ".join(shlex.quote(part) for part in parts)


def general_path(instance_path: str) -> str:
    """``$.rooms[0].messages[3].id`` -> ``$.rooms[*].messages[*].id``: one drift, wherever it shows."""
    return _INDEX.sub("[*]", instance_path)


def _may_be_secret(error: ValidationError) -> bool:
    return any(VAULT.is_secret_field(part) for part in error.absolute_path if isinstance(part, str))


def _rule(error: ValidationError) -> str:
    """What the schema asks at that place, without the offending value."""
    if error.validator in ("required", "additionalProperties", "dependencies", "dependentRequired"):
        return str(error.message)
    expected = repr(error.validator_value)
    if len(expected) > 80:
        expected = expected[:77] + "..."
    return f"expected {error.validator} {expected}"


@dataclass(frozen=True)
class Observed:
    """The value a violation is about: its JSON type, and the value where it may be shown."""

    type: str = ""
    value: str = ""  # JSON text; empty when it may be a secret or is long

    def __str__(self) -> str:
        return f"{self.type} {self.value}".strip()


def observed_of(error: ValidationError | None) -> Observed:
    if error is None:
        return Observed()
    instance = error.instance
    shown = ""
    if not isinstance(instance, dict | list) and not _may_be_secret(error):
        text = json.dumps(instance, ensure_ascii=False)
        shown = text if len(text) <= SHOWN_VALUE else ""
    return Observed(conformance.json_type(instance), shown)


def describe(finding: Finding) -> tuple[str, Observed]:
    """The problem of a finding, in words that never quote the offending value, and what was observed."""
    error = getattr(finding, "error", None)
    if isinstance(finding, conformance.HeaderViolation) and error is not None:
        observed = observed_of(error)
        return f"header {finding.header} violates its schema: {_rule(error)}; observed {observed.type}", observed
    if isinstance(finding, conformance.SchemaViolation) and error is not None:
        observed = observed_of(error)
        what = finding.message.split(" violates", 1)[0]
        return f"{what} violates its schema at {finding.instance_path}: {_rule(error)}; observed {observed.type}", observed
    return finding.message, Observed()


class ContractFailure(AssertionError):
    """The target broke the contract of ``endpoint``."""

    def __init__(
        self,
        exchange: Exchange,
        problem: str,
        schema_path: str = "",
        instance_path: str = "",
        *,
        kind: str = "",
        observed: Observed | None = None,
        code: str | None = None,
    ) -> None:
        self.endpoint_id = exchange.endpoint.id
        self.status = exchange.response.status_code
        self.problem = exchange.scrub(problem)
        self.schema_path = schema_path
        self.instance_path = instance_path
        self.kind = kind or "contract"
        self.observed = observed or Observed()
        self.code = code  # the error code of an error answer to a valid request
        self.curl = exchange.curl()
        request = exchange.request
        lines = [
            f"{self.endpoint_id}: {self.problem}",
            f"  status: {self.status}  content-type: {exchange.response.headers.get('content-type', '-')}",
        ]
        if instance_path:
            lines.append(f"  instance path: {instance_path}")
        if schema_path:
            lines.append(f"  schema path: {schema_path}")
        if self.observed.type:
            lines.append(f"  observed: {exchange.scrub(str(self.observed))}")
        lines.append(f"  request: {request.method} {exchange.scrub(str(request.url))}")
        lines.append(f"  response body: {_body_excerpt(exchange)}")
        lines.append(f"  reproduce: {self.curl}")
        super().__init__("\n".join(lines))

    @property
    def cause(self) -> str:
        """What this failure has in common with every other failure of the same drift."""
        parts = (self.endpoint_id, str(self.status), self.kind, self.code or "", self.schema_path, general_path(self.instance_path))
        return " ".join(part for part in parts if part)

    @property
    def title(self) -> str:
        """The cause in a few words: ``lingr.room.show drift at $.rooms[*].messages[*].id``."""
        if self.kind == "error-answer":
            return f"{self.endpoint_id} answered a valid request with an error" + (f" ({self.code})" if self.code else "")
        if self.kind == "success-answer":
            return f"{self.endpoint_id} answered an invalid request as a success"
        where = general_path(self.instance_path) if self.instance_path else self.kind.replace("-", " ")
        return f"{self.endpoint_id} drift ({where})"

    @classmethod
    def of(cls, exchange: Exchange, finding: Finding) -> ContractFailure:
        """The failure of one conformance finding (its problem, schema path and instance path)."""
        problem, observed = describe(finding)
        kind = {
            conformance.UndefinedStatus: "status",
            conformance.UndefinedContentType: "content-type",
            conformance.MissingHeader: "header",
            conformance.HeaderViolation: "header",
            conformance.NotJson: "not-json",
        }.get(type(finding), "schema")
        return cls(exchange, problem, finding.schema_path, finding.instance_path, kind=kind, observed=observed)


def _body_excerpt(exchange: Exchange, limit: int = 300) -> str:
    """The first characters of the response body, secret-named fields as ``${SECRET}``."""
    content = exchange.response.content
    try:
        text = json.dumps(VAULT.scrub_json(json.loads(content)), ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        text = content[: limit * 2].decode("utf-8", "replace")
    text = exchange.scrub(text)
    return text if len(text) <= limit else text[:limit] + "..."


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
            raise ContractFailure(exchange, "an invalid request was answered as a success", kind="success-answer")
        if not expect_error and is_error:
            code = error_code(exchange, body)
            shown = json.dumps(VAULT.scrub_json(body), ensure_ascii=False)[:200]
            raise ContractFailure(exchange, f"a valid request was answered with an error: {shown}", kind="error-answer", code=code)
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
