"""Pure validation: a JSON value against a compiled schema -> readable errors.

The fast path uses jsonschema-rs (compiled once); when a value is invalid, the reference
``jsonschema`` implementation explains why, with ``best_match`` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match, relevance


def instance_path(parts: Iterable[Any]) -> str:
    """``$.messages[0].sender`` style path of an instance location."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def schema_path(parts: Iterable[Any]) -> str:
    return "/" + "/".join(str(part) for part in parts)


@dataclass(frozen=True)
class Violation:
    """One way an instance fails its schema."""

    message: str
    instance_path: str
    schema_path: str
    keyword: str = ""
    expected: str = ""

    def __str__(self) -> str:
        return f"{self.instance_path}: {self.message} (schema {self.schema_path})"

    def without_value(self) -> str:
        """The violation without the offending value (which may be a secret): safe to log."""
        if self.keyword == "required":
            return f"{self.instance_path}: {self.message} (schema {self.schema_path})"
        return f"{self.instance_path}: fails {self.keyword} {self.expected} (schema {self.schema_path})"


def violation_of(error: ValidationError) -> Violation:
    """A reference validator error as a :class:`Violation`."""
    expected = repr(error.validator_value)
    return Violation(
        error.message,
        instance_path(error.absolute_path),
        schema_path(error.absolute_schema_path),
        str(error.validator),
        expected if len(expected) <= 120 else expected[:117] + "...",
    )


class Checker:
    """A schema compiled once; ``errors`` is empty for a valid instance."""

    __slots__ = ("_fast", "_reference", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._fast = jsonschema_rs.Draft7Validator(schema)
        self._reference = jsonschema.Draft7Validator(schema)

    def is_valid(self, instance: Any) -> bool:
        try:
            return bool(self._fast.is_valid(instance))
        except (ValueError, TypeError):  # a value jsonschema-rs cannot read (e.g. a float NaN)
            return bool(self._reference.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """The reference validator's errors, unordered; none without asking it when the fast
        path finds the instance valid."""
        if self.is_valid(instance):
            return iter(())
        return self._reference.iter_errors(instance)

    def reference_errors(self, instance: Any) -> list[ValidationError]:
        """The reference validator's errors, the most relevant (``best_match``) first."""
        if self.is_valid(instance):
            return []  # the usual case, on every validated request: nothing more to ask
        errors = list(self._reference.iter_errors(instance))
        best = best_match(errors)
        ordered = sorted(errors, key=relevance)
        if best is not None:
            ordered = [best, *(error for error in ordered if error is not best)]
        return ordered

    def violations(self, instance: Any) -> list[Violation]:
        """Every violation, the most relevant first."""
        return [violation_of(error) for error in self.reference_errors(instance)]

    def errors(self, instance: Any) -> list[str]:
        return [str(violation) for violation in self.violations(instance)]

    def safe_errors(self, instance: Any) -> list[str]:
        """Like :meth:`errors` without the offending values: for logs, journals and replies."""
        return [violation.without_value() for violation in self.violations(instance)]

    def best(self, instance: Any) -> Violation | None:
        """The most relevant violation, or None: the dispatcher asks this of every request's
        path and parameters, so a valid instance costs one call of the fast validator."""
        try:
            if self._fast.is_valid(instance):
                return None
        except (ValueError, TypeError):
            pass
        found = self.violations(instance)
        return found[0] if found else None
