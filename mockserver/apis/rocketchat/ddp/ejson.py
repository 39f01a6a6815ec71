"""Dates as DDP sends them: EJSON ``{"$date": <epoch ms>}`` where REST sends ISO strings.

Rocket.Chat's documents hold JavaScript ``Date`` values; REST writes them as ISO strings and
DDP as EJSON dates (``DDPCommon.stringifyDDP`` -> ``EJSON``). The mock stores REST's strings,
so everything a DDP frame carries goes through :func:`to_ejson`, and the realtime schemas read
the REST models with the same keys turned into EJSON dates (:func:`ejson_schema`).
"""

from __future__ import annotations

from typing import Any

from mockserver.apis.rocketchat.world import parse_iso

DATE_KEYS = frozenset({"ts", "_updatedAt", "editedAt", "pinnedAt", "tlm", "lm", "ls", "lr", "createdAt", "lastLogin", "dlm"})
EJSON_DATE: dict[str, Any] = {
    "type": "object",
    "required": ["$date"],
    "properties": {"$date": {"type": "integer"}},
    "additionalProperties": False,
}


def to_ejson(value: Any) -> Any:
    """``value`` with every ISO date under a date key as ``{"$date": ms}`` (a copy where needed)."""
    if isinstance(value, dict):
        return {key: _date(item) if key in DATE_KEYS else to_ejson(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_ejson(item) for item in value]
    return value


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return {"$date": parse_iso(value)}
        except (ValueError, OverflowError):
            return value
    return to_ejson(value)


def ejson_schema(schema: Any) -> Any:
    """A REST model's schema with its date properties as EJSON dates."""
    if isinstance(schema, list):
        return [ejson_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, item in schema.items():
        if key == "properties" and isinstance(item, dict):
            result[key] = {name: EJSON_DATE if name in DATE_KEYS and _is_text(sub) else ejson_schema(sub) for name, sub in item.items()}
        else:
            result[key] = ejson_schema(item)
    return result


def _is_text(schema: Any) -> bool:
    return isinstance(schema, dict) and (schema.get("type") == "string" or "pattern" in schema)
