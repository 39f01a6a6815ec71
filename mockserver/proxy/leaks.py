"""Leak check: no fixture may hold a credential-shaped value.

    python -m mockserver.proxy.leaks DIR      # exit 0 clean, 1 leaks (file and JSON path each), 2 usage

Every ``*.json`` file below DIR is read and every string checked (the value itself is never
printed). A leak is:

- a known default secret of the mock (``alice-password``, ``gitter-token-alice``, ...);
- a 64-hex string (BOCCO access tokens, API keys), unless a zero-padded placeholder;
- a ``Bearer <token>`` string, unless the token is a placeholder;
- a Rocket.Chat-style 43-character token (``[A-Za-z0-9_-]{43}`` with letters and digits);
- an e-mail address outside ``@example.com``;
- a credential field (password, token, authToken, access_token, apikey, session, ...) whose
  value is not a placeholder (``redacted…``, ``[REDACTED]``, ``${SECRET}``, ``00…0N``, empty);
- a credential in a query string inside a text (``?session=9GvFEM``, ``access_token=...``,
  ``token=...``): Lingr's 6-character session ids and Gitter's and BOCCO's tokens travel so;
- any secret the recording session saw (``known``: the proxy's redactor hands over what it
  learned), of any length, anywhere: the check ``chatmock record`` runs at exit.

The repository's own ``fixtures/`` are public documentation examples; the few documented
example credentials they quote are allowed explicitly, and only here, in
:data:`DOCUMENTED_EXAMPLES`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.core.validate import instance_path

DEFAULT_SECRETS = (
    "alice-password",
    "bob-password",
    "gitter-token-alice",
    "gitter-token-bob",
    "rc-pat-alice",
    "rc-pat-bob",
    "bocco-api-key",
)

# Example credentials quoted verbatim by the APIs' public documentation, kept in fixtures/
# (see each API's index.json for the source). They are not anyone's secret.
DOCUMENTED_EXAMPLES = frozenset(
    {
        "f2a87cb04ef23a714a1a438f567abb6812f8fbd9a33e28b789202e45190739d6",  # bocco.sessions.create.200.json access_token
        "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq",  # rocketchat.login.200.json authToken
        "rocket.cat@rocket.chat",  # rocketchat.login.200.json e-mail
        "email@user.tld",  # rocketchat.users.list.200.json e-mail
        "Dummy Token",  # bocco.Session.model.json access_token
        "API KEY",  # bocco.sessions.create.request.json apikey
        "pass",  # bocco.sessions.create.request.json password
        "secret",  # lingr.session.create.request*.json password
        "appkey",  # lingr.session.create.request.app_key.json app_key
        "ExHqgY",  # lingr.session.create.200.json session
        "vrLbRW",  # lingr.session.verify.200.json session
    }
)

CREDENTIAL_FIELD = re.compile(
    r"^(password|passwd|pass|.*token|api_?key|app_?key|secret|client_secret|session|session_?id|resume)$", re.IGNORECASE
)
QUERY_CREDENTIAL = re.compile(r"(?i)[?&;](?:session|access_token|token|api_?key|password)=([^&\s\"'#]+)")
HEX64 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
BEARER = re.compile(r"\bBearer\s+(\S+)", re.IGNORECASE)
TOKEN43 = re.compile(r"^[A-Za-z0-9_-]{43}$")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
PLACEHOLDER = re.compile(r"^(redacted[A-Za-z0-9]*|\[REDACTED\]|\$\{SECRET\}|0+[0-9a-fA-F]{1,8}|)$")
ALLOWED_EMAIL_DOMAINS = frozenset({"example.com"})
MIN_KNOWN = 3  # known secrets shorter than this are not looked for (they would match everywhere)


@dataclass(frozen=True)
class Leak:
    file: Path
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


def is_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.match(value))


def value_problems(value: str, key: str | None, known: frozenset[str] = frozenset()) -> list[str]:
    """Why ``value`` (under field ``key``) looks like a credential; empty when it does not."""
    if value in DOCUMENTED_EXAMPLES:
        return []
    problems = ["a default secret of the mock"] if any(secret in value for secret in DEFAULT_SECRETS) else []
    if any(secret in value for secret in known):
        problems.append("a secret the recording session saw")
    if any(not is_placeholder(found) for found in QUERY_CREDENTIAL.findall(value)):
        problems.append("a credential in a query string")
    if any(not is_placeholder(found) for found in HEX64.findall(value)):
        problems.append("a 64-hex token")
    if any(not is_placeholder(token) for token in BEARER.findall(value)):
        problems.append("a Bearer token")
    if TOKEN43.match(value) and re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value) and not is_placeholder(value):
        problems.append("a 43-character token (Rocket.Chat style)")
    for found in EMAIL.finditer(value):
        if found.group(0) not in DOCUMENTED_EXAMPLES and found.group(1).lower() not in ALLOWED_EMAIL_DOMAINS:
            problems.append("an e-mail address outside @example.com")
    if key is not None and CREDENTIAL_FIELD.match(key) and not is_placeholder(value) and not problems:
        problems.append(f"a credential field {key!r} with a value that is not a placeholder")
    return problems


def _walk(node: Any, parts: tuple[Any, ...], key: str | None) -> Iterator[tuple[tuple[Any, ...], str, str | None]]:
    if isinstance(node, dict):
        for name, item in node.items():
            yield from _walk(item, (*parts, name), str(name))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*parts, index), key)
    elif isinstance(node, str):
        yield parts, node, key


def leaks_in(file: Path, document: Any, known: frozenset[str] = frozenset()) -> list[Leak]:
    found: list[Leak] = []
    for parts, value, key in _walk(document, (), None):
        found.extend(Leak(file, instance_path(parts), problem) for problem in value_problems(value, key, known))
    return found


def find_leaks(root: Path, known: Iterable[str] = ()) -> list[Leak]:
    """Every leak in every JSON file below ``root`` (a file that is not JSON is checked as text);
    ``known``: secret values to look for anywhere (of three characters or more)."""
    secrets = frozenset(value for value in known if len(value) >= MIN_KNOWN and not is_placeholder(value))
    found: list[Leak] = []
    for file in sorted(root.rglob("*.json")):
        text = file.read_text(encoding="utf-8", errors="replace")
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            document = text
        found.extend(leaks_in(file, document, secrets))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m mockserver.proxy.leaks DIR", file=sys.stderr)
        return 2
    root = Path(args[0])
    if not root.is_dir():
        print(f"leaks: {root} is not a directory", file=sys.stderr)
        return 2
    leaks = find_leaks(root)
    for leak in leaks:
        print(f"LEAK {leak}")
    if leaks:
        print(f"{len(leaks)} leak(s) in {len({leak.file for leak in leaks})} file(s)")
        return 1
    print(f"no leaks in {sum(1 for _ in root.rglob('*.json'))} JSON file(s) below {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
