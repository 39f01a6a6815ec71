"""One upstream response against its endpoint's contract -> drift findings, without secrets.

The order and meaning of the checks are those of ``contract_tests.checks.check_exchange``
(documented status, then content type, then documented headers, then the JSON body), with
the same ``mockserver.core.parse.media_type``. Unlike the suite, the proxy reports every body violation, not only
the best, and builds each message from the schema side (keyword, expected value, field name)
because ``jsonschema`` messages quote the offending instance, which may be a secret. The
instance itself appears only as a short example taken from the redacted body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, relevance

from mockserver.core.parse import media_type
from mockserver.core.registry import Endpoint, Response
from mockserver.core.validate import Checker, instance_path, schema_path
from mockserver.proxy.redact import Redactor, is_secret_field

MAX_FINDINGS = 20
EXAMPLE_LENGTH = 120
_INDEX = re.compile(r"\[[0-9]+\]")


@dataclass(frozen=True)
class Finding:
    """One way a response drifts from its documented contract."""

    kind: str  # status | content-type | header | json | body | stream-item
    problem: str
    field: str = ""  # the instance path with array indices as [*], plus the missing/extra field
    instance_path: str = ""
    schema_path: str = ""
    example: str = ""


def check_response(endpoint: Endpoint, status: int, headers: Mapping[str, str], content: bytes | None, redactor: Redactor) -> list[Finding]:
    """Findings for one response; ``content`` None means a streamed body (checked per item)."""
    documented = endpoint.responses.get(status)
    if documented is None:
        return [Finding("status", f"undocumented status {status}; documented: {sorted(endpoint.responses)}", field="status")]
    got_type = media_type(headers.get("content-type", ""))
    if got_type != media_type(documented.content_type):
        return [
            Finding("content-type", f"content type {got_type or '(none)'!r}, documented {documented.content_type!r}", field="content-type")
        ]
    findings = list(_header_findings(documented, headers))
    if documented.checker is None or content is None:
        return findings
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [*findings, Finding("json", "body is not JSON", field="$")]
    return findings + body_findings(documented.checker, body, redactor, "body")


def check_stream_item(documented: Response, line: bytes, redactor: Redactor) -> list[Finding]:
    """One item of a documented stream (a line of JSON; blank keep-alives are skipped)."""
    if documented.item_checker is None or not line.strip():
        return []
    try:
        item = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [Finding("stream-item", "stream item is not JSON", field="$")]
    return body_findings(documented.item_checker, item, redactor, "stream-item")


def _header_findings(documented: Response, headers: Mapping[str, str]) -> Iterable[Finding]:
    for name, checker in documented.header_checkers.items():
        value = headers.get(name)
        where = f"header {name}"
        if value is None:
            yield Finding("header", f"header {name} missing", field=where, instance_path=where)
            continue
        errors = [leaf for error in sorted(_reference(checker).iter_errors(value), key=relevance) for leaf in leaves(error)]
        if errors:
            error = errors[0]
            shown = "[REDACTED]" if is_secret_field(name) else _example(value)
            yield Finding("header", f"header {name}: {describe(error)}", where, where, schema_path(error.absolute_schema_path), shown)


def body_findings(checker: Checker, body: Any, redactor: Redactor, kind: str) -> list[Finding]:
    if checker.is_valid(body):
        return []
    top = sorted(_reference(checker).iter_errors(body), key=relevance)
    ordered = [leaf for error in top for leaf in leaves(error)]
    redacted = redactor.redact(body)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for error in ordered:
        path = instance_path(error.absolute_path)
        field = _field(error, path)
        key = (field, schema_path(error.absolute_schema_path))
        if key in seen:
            continue
        seen.add(key)
        example = _example(_at(redacted, list(error.absolute_path)))
        findings.append(Finding(kind, describe(error), field, path, key[1], example))
        if len(findings) >= MAX_FINDINGS:
            break
    return findings


def leaves(error: ValidationError) -> list[ValidationError]:
    """An anyOf/oneOf failure as the failures of its closest alternative.

    The closest alternative is the one not refused by a discriminator (a ``const`` or ``enum``
    one level down, a ``type`` at its root: Lingr's ``status: ok`` versus ``status: error``)
    with the fewest failures; when every alternative is refused so, the failure stays whole.
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def refused(sub: ValidationError) -> bool:
        depth = len(sub.relative_path)
        return (sub.validator in ("const", "enum") and depth <= 1) or (sub.validator == "type" and depth == 0)

    candidates = [(any(refused(sub) for sub in subs), len(subs), index) for index, subs in branches.items()]
    is_refused, _, best = min(candidates, key=lambda item: (item[0], item[1]))
    if is_refused:
        return [error]
    return [leaf for sub in branches[best] for leaf in leaves(sub)]


def describe(error: ValidationError) -> str:
    """A message built from the schema side only (never quoting the instance)."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "required" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        return f"required field {', '.join(map(repr, missing))} missing"
    if keyword == "type":
        return f"expected type {expected}, got {_json_type(instance)}"
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        extra = sorted(name for name in instance if name not in known and not any(re.search(p, name) for p in patterns))
        return f"undocumented field {', '.join(map(repr, extra))}"
    if keyword == "enum":
        values = list(expected)
        shown = ", ".join(json.dumps(value) for value in values[:6]) + (", ..." if len(values) > 6 else "")
        return f"not one of the documented values [{shown}]"
    if keyword == "const":
        return f"expected the constant {json.dumps(expected)}"
    if keyword == "pattern":
        return f"does not match the pattern {expected}"
    if keyword in ("anyOf", "oneOf"):
        return f"matches none of the documented alternatives ({keyword})"
    if keyword in (
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "multipleOf",
        "exclusiveMinimum",
        "exclusiveMaximum",
    ):
        return f"fails {keyword} {expected}"
    return f"fails {keyword}"


def _field(error: ValidationError, path: str) -> str:
    field = _INDEX.sub("[*]", path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        if missing:
            return f"{field}.{missing[0]}"
    return field


def _at(value: Any, parts: list[Any]) -> Any:
    for part in parts:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _example(value: Any) -> str:
    if isinstance(value, dict):
        keys = list(value)
        return "{object with fields " + ", ".join(str(key) for key in keys[:12]) + (", ..." if len(keys) > 12 else "") + "}"
    if isinstance(value, list):
        return f"[array of {len(value)}]"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 3] + "..."


def _json_type(value: Any) -> str:
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


@cache
def _reference(checker: Checker) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(checker.schema)
