"""What the suite needs to know about each API beyond its schemas: how to log in, how to
find ids that exist on the target, and one canonical valid request per endpoint.

Each ``contract_tests/apis/<api>.py`` defines ``SUPPORT``, an :class:`ApiSupport`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from contract_tests.targets import Credential, Target

Known = dict[str, list[str]]  # parameter name -> values that exist on the target


@dataclass
class RequestSpec:
    """A request to send: parameters, path parameters, files; credentials are added by the test."""

    params: dict[str, Any] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] | None = None
    method: str | None = None
    encoding: str | None = None


class ApiSupport(Protocol):
    api: str
    writes: frozenset[str]  # endpoint ids that change state (login/logout excluded)

    def login(self, target: Target, user: str = "alice") -> Credential:
        """Credentials from CHATMOCK_<API>_* on a live target, the default world's on the mock."""
        ...

    def wrong_credential(self, good: Credential) -> Credential:
        """Well-formed credentials the target does not know."""
        ...

    def discover(self, target: Target, credential: Credential) -> Known:
        """Ids that exist (rooms first, then messages, users) read from the target itself."""
        ...

    def valid_request(self, endpoint_id: str, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        """One request that must succeed (None: the endpoint cannot be called this way here)."""
        ...

    def unknown_id_request(self, endpoint_id: str, known: Known) -> RequestSpec | None:
        """A request naming an id that does not exist (None: the endpoint takes no id)."""
        ...

    def logout(self, target: Target, credential: Credential) -> bool:
        """End the credential; False when the API has no logout."""
        ...


def support(api: str) -> ApiSupport:
    module = importlib.import_module(f"contract_tests.apis.{api}")
    found: ApiSupport = module.SUPPORT
    return found


def first(known: Mapping[str, list[str]], name: str) -> str:
    values = known.get(name) or []
    if not values:
        raise LookupError(f"the target has no {name} to test with")
    return values[0]
