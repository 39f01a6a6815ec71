"""The secrets of a run, and their removal from everything the suite writes.

One :class:`SecretVault` per process (:data:`VAULT`) knows every secret value of the run:

- the credentials read from the environment (``CHATMOCK_<API>_TOKEN``, ``_PASSWORD`` ...);
- every credential the suite sends: the values of each :class:`~contract_tests.targets.Credential`
  (tokens, auth headers, and the passwords a login sends) and the users of the mock's world
  (``GET /__chatmock/credentials``);
- every secret a server hands out, as it is issued: the fields of each JSON response named as
  a secret (:func:`mockserver.core.secrets.is_secret_name`) or as an auth scheme's header or
  parameter (``schemas/<api>/_api.json``): a Rocket.Chat ``authToken``, a Lingr ``session``, a
  BOCCO ``access_token``.

Values the suite generates (hypothesis' passwords for a login endpoint) are not learned: they
are nobody's secret, and learning them would blank out common words.

:meth:`SecretVault.scrub` replaces each known value (of three characters or more, wherever it
occurs, also inside another string: a 6-character Lingr session id in a message text), any
``Bearer <token>``, and any value after a secret name (``password=...``, ``"session": "..."``,
of any length) by ``${SECRET}``. The suite's pytest hooks pass every test report (traceback,
captured output, hypothesis' falsifying example), the terminal and the JUnit XML built from the
reports through it, so no secret leaves the process in clear.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

import httpx

from mockserver.core.secrets import is_secret_name

PLACEHOLDER = "${SECRET}"
MIN_LENGTH = 3  # shorter values are replaced only after a secret name, never inside other text
MAX_LEARNED_BODY = 1 << 20  # response bodies larger than this are not searched for secrets

# a value after a name (``name=value``, ``name: Basic value``, ``"name": "value"``): replaced when the name is a
# secret's; not Python source (``name = call(...)``, ``name={...}``), whose known values are replaced anyway
_NAMED_VALUE = re.compile(
    r"(?i)(\b([\w-]+)[\"']?(?:\s*:|=)\s*[\"']?(?:(?:bearer|basic)\s+)?+)(?!\$\{SECRET\})(?![\[{(])([^\s\"'&,;(){}\[\]]++)(?!\()"
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)(?!\$\{SECRET\})[^\s\"']+")


def _norm(name: str) -> str:
    """``X-Auth-Token`` and ``authToken`` alike: lower case, no ``x-`` prefix, no separators."""
    lowered = name.lower()
    lowered = lowered.removeprefix("x-")
    return re.sub(r"[-_]", "", lowered)


def auth_names() -> frozenset[str]:
    """The header and parameter names of every auth scheme in the schemas, normalised."""
    from mockserver.core.registry import load_registry

    registry = load_registry()
    names: set[str] = set()
    for api in registry.apis.values():
        for scheme in api.auth.values():
            names.update(_norm(header) for header in scheme.headers)
            for name in (scheme.param, scheme.query_alternative):
                if name:
                    names.add(_norm(name))
            if scheme.type == "bearer":
                names.add("authorization")
    return frozenset(names)


class SecretVault:
    """The secret values known so far, and a scrubber replacing them with ``${SECRET}``."""

    def __init__(self, secrets: Iterable[str] = (), *, names: Iterable[str] | None = None) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self._names: frozenset[str] | None = frozenset(_norm(name) for name in names) if names is not None else None
        self.learn_all(secrets)

    # what is secret --------------------------------------------------------------------------
    @property
    def names(self) -> frozenset[str]:
        if self._names is None:
            self._names = auth_names()
        return self._names

    def is_secret_field(self, name: object) -> bool:
        """A secret by its name: the shared vocabulary, or an auth scheme's header or parameter."""
        return is_secret_name(name) or _norm(str(name)) in self.names

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    # learning ----------------------------------------------------------------------------------
    def learn(self, value: object) -> None:
        """Remember one secret value (strings only; ``Bearer x`` learns ``x``)."""
        if not isinstance(value, str):
            return
        value = value.strip()
        if value.lower().startswith(("bearer ", "basic ")):
            value = value.split(None, 1)[1].strip() if " " in value else ""
        if len(value) < MIN_LENGTH or value == PLACEHOLDER or value in self._values:
            return
        with self._lock:
            self._values.add(value)
            self._pattern = None

    def learn_all(self, values: Iterable[object]) -> None:
        for value in values:
            self.learn(value)

    def learn_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Headers or query/form parameters: the values of secret names."""
        for name, value in pairs:
            if self.is_secret_field(name):
                self.learn(value)

    def learn_json(self, node: Any, key: str | None = None) -> None:
        """The values of every secret-named field of a JSON document, at any depth."""
        if isinstance(node, Mapping):
            for name, item in node.items():
                self.learn_json(item, str(name))
        elif isinstance(node, list):
            for item in node:
                self.learn_json(item, key)
        elif isinstance(node, str) and key is not None and self.is_secret_field(key):
            self.learn(node)

    def learn_response(self, response: httpx.Response) -> None:
        """The secrets a server hands out: secret-named fields of a JSON (or JSONP) body."""
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not (media.endswith("json") or media.endswith("javascript")):
            return
        content = response.content
        if not content or len(content) > MAX_LEARNED_BODY:
            return
        if media.endswith("javascript"):
            start, end = content.find(b"("), content.rfind(b")")
            content = content[start + 1 : end] if 0 <= start < end else content
        try:
            self.learn_json(json.loads(content))
        except (ValueError, UnicodeDecodeError):
            return

    # scrubbing ---------------------------------------------------------------------------------
    def scrub_values(self, text: str) -> str:
        """``text`` with every known secret value as ``${SECRET}`` (and nothing else changed:
        for structured files, whose secret-named fields are already placeholders)."""
        pattern = self._known()
        return pattern.sub(PLACEHOLDER, text) if pattern is not None and text else text

    def scrub(self, text: str) -> str:
        """``text`` with every known secret, bearer token and secret-named value as ``${SECRET}``."""
        if not text:
            return text
        text = self.scrub_values(text)
        text = _BEARER.sub(lambda found: found.group(1) + PLACEHOLDER, text)
        return _NAMED_VALUE.sub(self._named, text)

    def _named(self, found: re.Match[str]) -> str:
        name, value = found.group(2), found.group(3)
        if not self.is_secret_field(name) or value == name:  # ``credential=credential``: source code, not a value
            return found.group(0)
        return found.group(1) + PLACEHOLDER

    __call__ = scrub

    def scrub_json(self, node: Any, key: str | None = None) -> Any:
        """A copy of a JSON value with secret-named fields as ``${SECRET}`` and strings scrubbed."""
        if isinstance(node, Mapping):
            return {name: self.scrub_json(item, str(name)) for name, item in node.items()}
        if isinstance(node, list):
            return [self.scrub_json(item, key) for item in node]
        if key is not None and self.is_secret_field(key) and isinstance(node, str | int | float) and not isinstance(node, bool):
            return PLACEHOLDER
        if isinstance(node, str):
            return self.scrub(node)
        return node

    def _known(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._values:
            with self._lock:
                ordered = sorted(self._values, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(re.escape(value) for value in ordered))
        return pattern


VAULT = SecretVault()
"""The process' vault: the suite's targets learn into it, its pytest hooks scrub with it."""


# reports --------------------------------------------------------------------------------------
def scrub_object(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with every string in it scrubbed: strings, lists, tuples, dicts, and (in place)
    the dataclasses pytest builds a failure's text from (``ExceptionChainRepr``, ``ReprEntry``,
    ``ReprFuncArgs``, ``ReprLocals``, ``ReprFileLocation`` ...)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_object(item, scrub) for item in value]
    if isinstance(value, tuple):
        return tuple(scrub_object(item, scrub) for item in value)
    if isinstance(value, dict):
        return {key: scrub_object(item, scrub) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for found in dataclasses.fields(value):
            try:
                setattr(value, found.name, scrub_object(getattr(value, found.name), scrub))
            except (AttributeError, dataclasses.FrozenInstanceError):
                continue
        return value
    return value


def scrub_report(report: Any, scrub: Callable[[str], str]) -> None:
    """A test or collect report with no secret left: its failure text, captured output and
    properties (what the terminal, ``--junitxml`` and xdist's controller are given)."""
    longrepr = getattr(report, "longrepr", None)
    if longrepr is not None:
        report.longrepr = scrub_object(longrepr, scrub)
    sections = getattr(report, "sections", None)
    if sections:
        report.sections = [(title, scrub(content)) for title, content in sections]
    properties = getattr(report, "user_properties", None)
    if properties:
        report.user_properties = [(name, scrub(value) if isinstance(value, str) else value) for name, value in properties]
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str):
        report.wasxfail = scrub(wasxfail)


class ScrubbingStream:
    """A text stream that scrubs what is written to it (the terminal writer's file)."""

    def __init__(self, stream: IO[str], scrub: Callable[[str], str]) -> None:
        self._stream = stream
        self._scrub = scrub

    def write(self, text: str) -> int:
        self._stream.write(self._scrub(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
