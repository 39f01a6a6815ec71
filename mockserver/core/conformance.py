"""Does a response keep its endpoint's contract? One check per aspect, typed findings.

The aspects, in the order a reader of a response meets them: the status is documented
(:func:`check_status`), the content type is the documented one (:func:`check_content_type`),
the documented headers are there and valid (:func:`check_headers`), the JSON body validates
(:func:`check_body`; a stream's items with :func:`check_stream_item`). Each check yields
:class:`Finding` subclasses and knows no API.

Three consumers share them: the contract suite raises the first finding of
:func:`check_response`, the validating proxy reports every one, and the mock's strict mode
formats those of :func:`reply_findings` / :func:`error_reply_findings` with
:meth:`Finding.describe` (which never quotes the offending value).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from jsonschema.exceptions import ValidationError

from mockserver.core.parse import media_type
from mockserver.core.registry import Api, Endpoint
from mockserver.core.validate import Checker, violation_of

JAVASCRIPT_TYPES = frozenset({"application/javascript", "text/javascript"})
_JSONP = re.compile(rb"^\s*[A-Za-z_$][\w$.]*\((.*)\)\s*;?\s*$", re.DOTALL)


# findings -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One way a response breaks its contract.

    ``message`` may quote the offending value (the suite scrubs secrets from it);
    :meth:`describe` never does.
    """

    endpoint_id: str
    status: int
    message: str
    schema_path: str = ""
    instance_path: str = ""

    def describe(self) -> str:
        """One line, safe to log: strict mode's violation text."""
        return f"{self.endpoint_id} {self.status}: {self.message}"


@dataclass(frozen=True)
class UndefinedStatus(Finding):
    documented: tuple[int, ...] = ()

    def describe(self) -> str:
        return f"{self.endpoint_id}: status {self.status} is not documented"


@dataclass(frozen=True)
class UndefinedContentType(Finding):
    content_type: str = ""  # the media type received ("" for none)
    documented: str = ""


@dataclass(frozen=True)
class MissingHeader(Finding):
    header: str = ""


@dataclass(frozen=True)
class HeaderViolation(Finding):
    header: str = ""
    safe_message: str = ""  # the violation without the offending value
    error: ValidationError | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.endpoint_id} {self.status}: header {self.header}: {self.safe_message}"


@dataclass(frozen=True)
class NotJson(Finding):
    """The response documents a JSON body and its body does not parse."""


@dataclass(frozen=True)
class SchemaViolation(Finding):
    safe_message: str = ""  # the violation without the offending value
    error: ValidationError | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.endpoint_id} {self.status}: {self.safe_message}"


@dataclass(frozen=True)
class ErrorShapeViolation(SchemaViolation):
    """A reply made before any endpoint was known (unknown path, bad method, unreadable
    body) does not have the API's error shape."""

    def describe(self) -> str:
        return f"core error reply: {self.safe_message}"


# the checks, one per aspect ----------------------------------------------------------------
def check_status(endpoint: Endpoint, status: int) -> Iterator[Finding]:
    if status not in endpoint.responses:
        documented = tuple(sorted(endpoint.responses))
        yield UndefinedStatus(endpoint.id, status, f"undocumented status {status}; documented: {list(documented)}", documented=documented)


def check_content_type(endpoint: Endpoint, status: int, content_type: str) -> Iterator[Finding]:
    documented = endpoint.responses.get(status)
    if documented is None:
        return
    got = media_type(content_type)
    if got != media_type(documented.content_type):
        yield UndefinedContentType(
            endpoint.id,
            status,
            f"content type {got or '(none)'!r}, documented {documented.content_type!r}",
            content_type=got,
            documented=documented.content_type,
        )


def check_headers(endpoint: Endpoint, status: int, headers: Mapping[str, str]) -> Iterator[Finding]:
    documented = endpoint.responses.get(status)
    if documented is None:
        return
    for name, checker in documented.header_checkers.items():
        where = f"header {name}"
        value = header_value(headers, name)
        if value is None:
            yield MissingHeader(endpoint.id, status, f"header {name} missing", instance_path=where, header=name)
            continue
        for error in checker.reference_errors(value):
            violation = violation_of(error)
            yield HeaderViolation(
                endpoint.id,
                status,
                f"header {name}: {violation.message}",
                violation.schema_path,
                where,
                header=name,
                safe_message=violation.without_value(),
                error=error,
            )


def check_body(endpoint: Endpoint, status: int, body: Any) -> Iterator[Finding]:
    """The decoded JSON body against the documented schema, the most relevant violation first."""
    documented = endpoint.responses.get(status)
    if documented is not None and documented.checker is not None:
        yield from _schema_findings(endpoint.id, status, documented.checker, body, "body")


def check_stream_item(endpoint: Endpoint, status: int, item: Any) -> Iterator[Finding]:
    """One decoded item of a documented stream against the item schema."""
    documented = endpoint.responses.get(status)
    if documented is not None and documented.item_checker is not None:
        yield from _schema_findings(endpoint.id, status, documented.item_checker, item, "stream item")


# compositions ------------------------------------------------------------------------------
class Checked(NamedTuple):
    findings: list[Finding]
    body: Any  # the decoded JSON body; None when none is documented or it does not parse


def check_response(endpoint: Endpoint, status: int, headers: Mapping[str, str], content: bytes | None) -> Checked:
    """Every aspect of a received response, in order. An undocumented status or content type
    ends the checks (the rest would be noise). ``content`` None: a streamed body, not read."""
    findings: list[Finding] = [*check_status(endpoint, status)]
    content_type = header_value(headers, "content-type") or ""
    findings.extend(check_content_type(endpoint, status, content_type))
    if findings:
        return Checked(findings, None)
    findings.extend(check_headers(endpoint, status, headers))
    documented = endpoint.responses[status]
    if content is None or documented.checker is None:
        return Checked(findings, None)
    try:
        body = read_json(content, content_type)
    except ValueError as error:
        findings.append(NotJson(endpoint.id, status, f"body is not JSON: {error}", instance_path="$"))
        return Checked(findings, None)
    findings.extend(check_body(endpoint, status, body))
    return Checked(findings, body)


def reply_findings(endpoint: Endpoint, status: int, headers: Mapping[str, str], body: Any) -> list[Finding]:
    """Strict mode: a reply the mock is about to send (its JSON body not yet encoded).

    Cheap when the reply conforms: a dict lookup and one compiled validation per schema.
    The content type is the dispatcher's own choice and is not checked here.
    """
    if status not in endpoint.responses:
        return list(check_status(endpoint, status))
    return [*check_body(endpoint, status, body), *check_headers(endpoint, status, headers)]


def error_reply_findings(api: Api, status: int, body: Any) -> list[Finding]:
    """Strict mode: a reply made before an endpoint was known, against the API's error shape."""
    return [
        ErrorShapeViolation(
            "",
            status,
            f"error reply violates the API's error shape at {violation.instance_path}: {violation.message}",
            violation.schema_path,
            violation.instance_path,
            safe_message=violation.without_value(),
            error=error,
        )
        for error, violation in ((error, violation_of(error)) for error in api.error_checker.reference_errors(body))
    ]


def read_json(content: bytes, content_type: str) -> Any:
    """The JSON of a body; a JavaScript body wrapped JSONP-style (``fn({...})``, asked for
    with a callback) is unwrapped first. Raises ValueError when it is not JSON."""
    if media_type(content_type) in JAVASCRIPT_TYPES:
        found = _JSONP.match(content)
        if found is not None:
            content = found.group(1)
    try:
        return json.loads(content)
    except UnicodeDecodeError as error:
        raise ValueError(str(error)) from None


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever the case of the mapping's keys."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((found for key, found in headers.items() if key.lower() == lowered), None)


# helpers ------------------------------------------------------------------------------------
def _schema_findings(endpoint_id: str, status: int, checker: Checker, instance: Any, what: str) -> Iterator[Finding]:
    for error in checker.reference_errors(instance):
        violation = violation_of(error)
        yield SchemaViolation(
            endpoint_id,
            status,
            f"{what} violates its schema at {violation.instance_path}: {violation.message}",
            violation.schema_path,
            violation.instance_path,
            safe_message=violation.without_value(),
            error=error,
        )


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (what a finding says was observed)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
