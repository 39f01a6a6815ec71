"""Pure request matching: (method, path) -> an endpoint, or why not (404 vs 405).

Like Starlette's ``Route.matches``: matching returns NONE, PARTIAL (the path exists, not
with this method) or FULL, and sending bytes is someone else's job.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from mockserver.core.registry import PATH_PARAMETER, Endpoint


class Match(enum.Enum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


def compile_template(template: str) -> re.Pattern[str]:
    """``/v1/rooms/{roomId}`` -> a regex with one named group per parameter (no '/' inside).

    A parameter followed by a literal '.' (``{unique_id}.{extname}``) stops at the last dot.
    """
    pattern = ""
    position = 0
    for found in PATH_PARAMETER.finditer(template):
        pattern += re.escape(template[position : found.start()])
        pattern += f"(?P<{found.group(1)}>[^/]+)"
        position = found.end()
    pattern += re.escape(template[position:])
    return re.compile(f"^{pattern}$")


@dataclass(frozen=True)
class RouteMatch:
    kind: Match
    endpoint: Endpoint | None = None
    path_params: dict[str, str] | None = None
    allowed: tuple[str, ...] = ()


class Router:
    """A route table: (served path template, endpoint) pairs.

    Literal paths are looked up in a dict; templated ones are tried only among templates
    with the same number of segments (a parameter never spans a '/')."""

    def __init__(self, routes: Iterable[tuple[str, Endpoint]]) -> None:
        compiled = [(path, compile_template(path), endpoint) for path, endpoint in routes]
        # literal paths win over templated ones, longer templates before shorter ones
        compiled.sort(key=lambda route: (route[1].groups, -len(route[1].pattern)))
        self._literal: dict[str, list[Endpoint]] = {}
        self._by_depth: dict[int, list[tuple[re.Pattern[str], Endpoint]]] = {}
        for path, pattern, endpoint in compiled:
            if pattern.groups == 0:
                self._literal.setdefault(path, []).append(endpoint)
            self._by_depth.setdefault(path.count("/"), []).append((pattern, endpoint))

    def match(self, method: str, path: str) -> RouteMatch:
        for endpoint in self._literal.get(path, ()):
            if method in endpoint.methods:
                return RouteMatch(Match.FULL, endpoint, {})
        allowed: list[str] = []
        for pattern, endpoint in self._by_depth.get(path.count("/"), ()):
            found = pattern.match(path)
            if found is None:
                continue
            if method in endpoint.methods or (method == "HEAD" and "GET" in endpoint.methods):
                params = {name: unquote(value) if "%" in value else value for name, value in found.groupdict().items()}
                return RouteMatch(Match.FULL, endpoint, params)
            allowed.extend(endpoint.methods)
        if allowed:
            return RouteMatch(Match.PARTIAL, allowed=tuple(dict.fromkeys(allowed)))
        return RouteMatch(Match.NONE)
