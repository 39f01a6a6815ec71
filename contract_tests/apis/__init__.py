"""What the suite needs to know about each API beyond its schemas: how to log in, how to
find ids that exist on the target, and its request specs (:mod:`contract_tests.specs`).

Each ``contract_tests/apis/<api>.py`` (one per name of ``mockserver.apis.API_NAMES``) ends
with ``SUPPORT = register(<its ApiSupport subclass>(SPECS))``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from contract_tests.specs import Context, D, RequestSpec, RequestSpecs
from contract_tests.targets import Credential, Target

__all__ = ["ApiSupport", "RequestSpec", "register", "support"]


class ApiSupport(Generic[D]):
    """One API's logins and discovery; its request specs answer the per-endpoint questions."""

    api: str
    # what a live run needs in the environment: alternatives, each a set of CHATMOCK_<API>_<NAME> names
    live_credentials: tuple[tuple[str, ...], ...] = ()

    def missing_live_credentials(self, environ: Mapping[str, str]) -> str | None:
        """None when one alternative of :attr:`live_credentials` is set; else what to set, in words."""
        if not self.live_credentials:
            return None
        prefix = f"CHATMOCK_{self.api.upper()}_"
        for names in self.live_credentials:
            if all(environ.get(prefix + name) for name in names):
                return None
        return ", or ".join(_and([prefix + name for name in names]) for names in self.live_credentials)

    def __init__(self, specs: RequestSpecs[D]) -> None:
        if specs.api != self.api:
            raise ValueError(f"{type(self).__name__} ({self.api}) was given the specs of {specs.api}")
        self.specs = specs

    # what each API says ------------------------------------------------------------------
    def login(self, target: Target, user: str = "alice") -> Credential:
        """Credentials from CHATMOCK_<API>_* on a live target, the mock's own (its admin API) on the mock."""
        raise NotImplementedError

    def wrong_credential(self, good: Credential) -> Credential:
        """Well-formed credentials the target does not know."""
        raise NotImplementedError

    def discover(self, target: Target, credential: Credential) -> D:
        """Ids that exist (rooms first, then messages, users) read from the target itself."""
        raise NotImplementedError

    def logout(self, target: Target, credential: Credential) -> bool:
        """End the credential; False when the API has no logout."""
        raise NotImplementedError

    # what the specs answer -----------------------------------------------------------------
    @property
    def writes(self) -> frozenset[str]:
        """Endpoint ids that change what other clients see."""
        return self.specs.writes

    def valid_request(self, endpoint_id: str, target: Target, credential: Credential, found: D) -> RequestSpec:
        """One request that must succeed; raises ``CannotBuild`` when the target lacks what it needs."""
        endpoint = target.registry.endpoint(endpoint_id)
        return self.specs.valid(endpoint_id)(Context(endpoint, target, credential, found))

    def unknown_id_request(self, endpoint_id: str, target: Target, credential: Credential, found: D) -> RequestSpec | None:
        """A request naming an id that does not exist; None for an endpoint declared to name no id."""
        builder = self.specs.unknown_id(endpoint_id)
        if builder is None:
            return None
        return builder(Context(target.registry.endpoint(endpoint_id), target, credential, found))


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_SUPPORTS: dict[str, ApiSupport[Any]] = {}
S = TypeVar("S", bound=ApiSupport[Any])


def register(one: S) -> S:
    if one.api in _SUPPORTS:
        raise ValueError(f"a second ApiSupport for {one.api}")
    _SUPPORTS[one.api] = one
    return one


def support(api: str) -> ApiSupport[Any]:
    """The support of ``api``, from ``contract_tests/apis/<api>.py``."""
    if api not in _SUPPORTS:
        importlib.import_module(f"{__name__}.{api}")
    found = _SUPPORTS.get(api)
    if found is None:
        raise LookupError(f"contract_tests/apis/{api}.py registers no ApiSupport (end it with SUPPORT = register(...))")
    return found
