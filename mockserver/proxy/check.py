"""One upstream response against its endpoint's contract -> drift findings, without secrets.

The checks are :mod:`mockserver.core.conformance`'s (the contract suite and the mock's strict
mode run the same ones). Unlike the suite, the proxy reports every finding, a body violation
of an ``anyOf``/``oneOf`` as the failures of its closest alternative, and builds each message
from the schema side (keyword, expected value, field name) because ``jsonschema`` messages
quote the offending instance, which may be a secret. The instance itself appears only as a
short example taken from the redacted body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError, relevance

from mockserver.core import conformance
from mockserver.core.registry import Endpoint
from mockserver.core.validate import Checker, instance_path, schema_path
from mockserver.proxy.redact import Redactor, is_secret_field

MAX_FINDINGS = 20
EXAMPLE_LENGTH = 120
_INDEX = re.compile(r"\[[0-9]+\]")


@dataclass(frozen=True)
class DriftFinding:
    """One way a response drifts from its documented contract, as the drift report shows it."""

    kind: str  # status | content-type | header | json | body | stream-item
    problem: str
    field: str = ""  # the instance path with array indices as [*], plus the missing/extra field
    instance_path: str = ""
    schema_path: str = ""
    example: str = ""


def check_response(
    endpoint: Endpoint, status: int, headers: Mapping[str, str], content: bytes | None, redactor: Redactor
) -> list[DriftFinding]:
    """Findings for one response; ``content`` None means a streamed body (checked per item)."""
    checked = conformance.check_response(endpoint, status, headers, content)
    reported: list[DriftFinding] = []
    for finding in checked.findings:
        if isinstance(finding, conformance.UndefinedStatus):
            reported.append(DriftFinding("status", finding.message, field="status"))
        elif isinstance(finding, conformance.UndefinedContentType):
            reported.append(DriftFinding("content-type", finding.message, field="content-type"))
        elif isinstance(finding, conformance.MissingHeader):
            reported.append(DriftFinding("header", finding.message, field=finding.instance_path, instance_path=finding.instance_path))
        elif isinstance(finding, conformance.NotJson):
            reported.append(DriftFinding("json", "body is not JSON", field="$"))
    documented = endpoint.responses.get(status)
    if documented is None:
        return reported
    broken_headers = dict.fromkeys(finding.header for finding in checked.findings if isinstance(finding, conformance.HeaderViolation))
    for name in broken_headers:
        reported.append(_header_finding(name, documented.header_checkers[name], conformance.header_value(headers, name) or ""))
    if documented.checker is not None and any(isinstance(finding, conformance.SchemaViolation) for finding in checked.findings):
        reported.extend(body_findings(documented.checker, checked.body, redactor, "body"))
    return reported


def check_stream_item(endpoint: Endpoint, status: int, line: bytes, redactor: Redactor) -> list[DriftFinding]:
    """One item of a documented stream (a line of JSON; blank keep-alives are skipped)."""
    documented = endpoint.responses.get(status)
    if documented is None or documented.item_checker is None or not line.strip():
        return []
    try:
        item = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [DriftFinding("stream-item", "stream item is not JSON", field="$")]
    if not any(conformance.check_stream_item(endpoint, status, item)):
        return []
    return body_findings(documented.item_checker, item, redactor, "stream-item")


def _header_finding(name: str, checker: Checker, value: str) -> DriftFinding:
    """The most relevant violation of one documented header."""
    where = f"header {name}"
    leaf = _leaves_of(checker, value)[0]
    shown = "[REDACTED]" if is_secret_field(name) else _example(value)
    return DriftFinding("header", f"header {name}: {describe(leaf)}", where, where, schema_path(leaf.absolute_schema_path), shown)


def _leaves_of(checker: Checker, instance: Any) -> list[ValidationError]:
    return [leaf for error in sorted(checker.iter_errors(instance), key=relevance) for leaf in leaves(error)]


def body_findings(checker: Checker, body: Any, redactor: Redactor, kind: str) -> list[DriftFinding]:
    """Every violation of ``body`` (at most MAX_FINDINGS, one per field and schema keyword)."""
    redacted = redactor.redact(body)
    findings: list[DriftFinding] = []
    seen: set[tuple[str, str]] = set()
    for leaf in _leaves_of(checker, body):
        path = instance_path(leaf.absolute_path)
        field = _field(leaf, path)
        key = (field, schema_path(leaf.absolute_schema_path))
        if key in seen:
            continue
        seen.add(key)
        example = _example(_at(redacted, list(leaf.absolute_path)))
        findings.append(DriftFinding(kind, describe(leaf), field, path, key[1], example))
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
        return f"expected type {expected}, got {conformance.json_type(instance)}"
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
