"""Redaction of secrets and personal data, by field, with consistent placeholders.

A :class:`Redactor` lives as long as one proxy or recording session. It learns values from
secret-named fields (tokens, passwords, session ids, API keys), user-id fields (``userId``,
``speaker_id``, ``sender``, ``uids``, and ``_id`` / ``id`` / ``uuid`` of an object that is a
user) and e-mail addresses, in requests (headers, query, form and JSON parameters) and in
responses, and replaces each with a placeholder:

- the same value always gets the same placeholder, in every response of the session;
- a placeholder keeps the value's shape where it can, so it stays schema-valid: a UUID
  becomes a UUID (``00000000-0000-4000-8000-00000000000N``), a hex id a zero-padded hex id of
  the same length (Gitter's 24-hex ids), digits digits, an e-mail ``redactedN@example.com``,
  other strings ``redacted…N`` / ``user…N`` of the same length and character class when long
  enough;
- secrets (of three characters or more: a 6-character Lingr session id too) are also replaced
  wherever they occur inside another string (a token in a URL or a message text, a session id
  in a path), and so are user ids and e-mail addresses of 8 characters or more (user ids inside
  a Rocket.Chat direct-message room id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from mockserver.core.secrets import is_secret_name

SECRET = "secret"
USER = "user"
EMAIL = "email"

# Lingr's public session ids: the journal shows them (they are public), a recording hides them too
PUBLIC_SESSION_FIELD = re.compile(r"^public_(?:session_)?id$", re.IGNORECASE)
USER_ID_FIELD = re.compile(
    r"^(user_?id|user_?ids|uids?|speaker_id|sender|sender_?id|from_?user_?id|owner_?id|author_?id|user_?uuid|x-user-id)$",
    re.IGNORECASE,
)
TOKEN_FIELD = re.compile(r"^(.*token|session|session_?id|api_?key)$", re.IGNORECASE)
ID_FIELDS = frozenset({"_id", "id", "uuid"})
USER_PARENTS = frozenset({"u", "user", "users", "me", "fromuser", "touser", "owner", "creator", "author", "editedby", "mentions"})
USER_MARKERS = frozenset({"username", "emails", "user_type", "screenname"})
EMAIL_VALUE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
HEX = re.compile(r"^(?:[0-9a-f]{16,}|[0-9A-F]{16,})$")
DIGITS = re.compile(r"^[0-9]+$")
MIN_LEARNED = 3  # shorter values are replaced in their own field only, never elsewhere; secrets this long everywhere
MIN_SUBSTRING = 8  # user ids and e-mails at least this long are also replaced inside other strings


def is_secret_field(name: str) -> bool:
    """A secret by name (:mod:`mockserver.core.secrets`), or a public session id."""
    return is_secret_name(name) or bool(PUBLIC_SESSION_FIELD.match(name))


def is_user_id_field(name: str) -> bool:
    return bool(USER_ID_FIELD.match(name))


def _is_user_object(node: Mapping[str, Any], parent_key: str | None) -> bool:
    keys = {str(key).lower() for key in node}
    if parent_key is not None and parent_key.lower() in USER_PARENTS:
        return True
    if keys & USER_MARKERS:
        return True
    # the owner of a token: BOCCO's session {access_token, uuid}, Rocket.Chat's login data
    return any(TOKEN_FIELD.match(str(key)) for key in node)


def _pad(prefix: str, number: int, length: int) -> str:
    tail = str(number)
    if length >= len(prefix) + len(tail):
        return prefix + "0" * (length - len(prefix) - len(tail)) + tail
    return prefix + tail


def placeholder(original: str, kind: str, number: int) -> str:
    """A placeholder for ``original`` of the same shape, numbered ``number``."""
    if kind == EMAIL or EMAIL_VALUE.match(original):
        return f"redacted{number}@example.com"
    if UUID.match(original):
        text = f"00000000-0000-4000-8000-{number:012x}"
        return text.upper() if original.isupper() else text
    if HEX.match(original):
        text = f"{number:0{len(original)}x}"
        return text.upper() if original.isupper() else text
    if DIGITS.match(original) and len(original) >= len(str(number)):
        return f"{number:0{len(original)}d}"
    return _pad("user" if kind == USER else "redacted", number, len(original))


class Redactor:
    """Consistent, shape-keeping placeholders for one session's secrets and personal data."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    # learning -------------------------------------------------------------------
    def learn(self, value: Any, kind: str) -> Any:
        """Remember ``value`` as a ``kind`` value; return its placeholder."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return 0
        if not isinstance(value, str) or not value:
            return value
        if value.lower().startswith("bearer "):
            token = value[7:].strip()
            return "Bearer " + self.learn(token, kind) if token else value
        if value in self._map:
            return self._map[value]
        if kind != EMAIL and EMAIL_VALUE.match(value):
            kind = EMAIL
        replacement = placeholder(value, kind, len(self._map) + 1)
        if replacement in self._map.values():  # never give two values one placeholder
            replacement = placeholder(value, kind, len(self._map) + 1000)
        self._map[value] = replacement
        self._kinds[value] = kind
        self._pattern = None
        return replacement

    def learn_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Learn from headers or query/form parameters (name, value)."""
        for name, value in pairs:
            kind = self._field_kind(name)
            if kind is not None:
                self.learn(value, kind)
            elif EMAIL_VALUE.match(value):
                self.learn(value, EMAIL)

    def learn_request(self, headers: Iterable[tuple[str, str]], query: str, body: bytes, content_type: str) -> None:
        """Learn every secret a request carries: headers, query, form or JSON body."""
        self.learn_pairs(headers)
        self.learn_pairs(parse_qsl(query, keep_blank_values=True))
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        if not body:
            return
        if media == "application/x-www-form-urlencoded":
            self.learn_pairs(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif media.endswith("json"):
            try:
                self._collect(json.loads(body), None)
            except (ValueError, UnicodeDecodeError):
                return

    # redaction ------------------------------------------------------------------
    def redact(self, value: Any) -> Any:
        """A redacted copy of a JSON value: learn from its fields first, then replace everywhere."""
        self._collect(value, None)
        return self._replace(value, None, False)

    def text(self, text: str) -> str:
        """``text`` with every learned secret, every learned value of 8+ characters and every e-mail replaced."""
        if not text:
            return text
        if len(text) >= MIN_LEARNED and text in self._map:
            return self._map[text]
        pattern = self._substring_pattern()
        if pattern is not None:
            text = pattern.sub(lambda found: self._map[found.group(0)], text)
        return EMAIL_IN_TEXT.sub(self._email, text)

    def _email(self, found: re.Match[str]) -> str:
        address = found.group(0)
        return address if _is_placeholder_email(address) else str(self.learn(address, EMAIL))

    def secret_values(self) -> frozenset[str]:
        """The secrets learned so far (for the leak check of a recording; never printed)."""
        return frozenset(value for value, kind in self._kinds.items() if kind == SECRET)

    def placeholders(self) -> dict[str, str]:
        """Kind by placeholder (never the original values)."""
        return {replacement: self._kinds[original] for original, replacement in self._map.items()}

    # internals ------------------------------------------------------------------
    @staticmethod
    def _field_kind(name: str) -> str | None:
        if is_secret_field(name):
            return SECRET
        if is_user_id_field(name):
            return USER
        if name.lower() == "email":
            return EMAIL
        return None

    def _collect(self, node: Any, parent_key: str | None) -> None:
        if isinstance(node, Mapping):
            user_object = _is_user_object(node, parent_key)
            for key, item in node.items():
                kind = self._field_kind(str(key))
                if kind is None and user_object and key in ID_FIELDS:
                    kind = USER
                if kind is not None and not isinstance(item, Mapping | list):
                    self.learn(item, kind)
                elif kind is not None and isinstance(item, list):
                    for element in item:
                        if isinstance(element, str | int) and not isinstance(element, bool):
                            self.learn(element, kind)
                        else:
                            self._collect(element, str(key))
                else:
                    self._collect(item, str(key))
        elif isinstance(node, list):
            for item in node:
                self._collect(item, parent_key)
        elif isinstance(node, str) and EMAIL_VALUE.match(node) and not _is_placeholder_email(node):
            self.learn(node, EMAIL)

    def _replace(self, node: Any, parent_key: str | None, in_secret: bool) -> Any:
        if isinstance(node, Mapping):
            user_object = _is_user_object(node, parent_key)
            result = {}
            for key, item in node.items():
                kind = self._field_kind(str(key))
                if kind is None and user_object and key in ID_FIELDS:
                    kind = USER
                result[key] = self._replace(item, str(key), kind is not None)
            return result
        if isinstance(node, list):
            return [self._replace(item, parent_key, in_secret) for item in node]
        if isinstance(node, str):
            if in_secret or (len(node) >= MIN_LEARNED and node in self._map):
                return self.learn(node, self._kinds.get(node, SECRET))
            return self.text(node)
        if in_secret and isinstance(node, int | float) and not isinstance(node, bool):
            return 0
        return node

    def _substring_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            long_values = sorted(
                (value for value in self._map if len(value) >= (MIN_LEARNED if self._kinds[value] == SECRET else MIN_SUBSTRING)),
                key=len,
                reverse=True,
            )
            if not long_values:
                return None
            self._pattern = re.compile("|".join(re.escape(value) for value in long_values))
        return self._pattern


def _is_placeholder_email(value: str) -> bool:
    return bool(re.match(r"^redacted[0-9]+@example\.com$", value))
