"""The suite's per-endpoint knowledge: how to build one valid request, and a request naming an
id that does not exist, registered by endpoint id and checked like the mock's ``@handles``.

Each ``contract_tests/apis/<api>.py`` fills one :class:`RequestSpecs`::

    SPECS = RequestSpecs[Discovery]("lingr", __file__)

    @SPECS.request_for("lingr.room.show")
    def room_show(ctx: Context[Discovery]) -> RequestSpec:
        return RequestSpec({"room": ctx.found.first("room")})

    @SPECS.unknown_id_for("lingr.room.show")
    def room_show_unknown(ctx: Context[Discovery]) -> RequestSpec:
        return RequestSpec({"room": UNKNOWN_ROOM})

    SPECS.names_no_id("lingr.session.verify")           # nothing in its request could be unknown
    SPECS.cannot_build("lingr.x.y", "why not, for users") # only when no valid request can exist

:meth:`RequestSpecs.problems` lists every endpoint of the schemas without a valid request
(unless one is declared impossible, with the reason) and every endpoint that neither has an
unknown-id request nor is declared to name no id; the suite refuses to run while there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from contract_tests.targets import Credential, Target
from mockserver.core.registry import Endpoint, Registry


@dataclass
class RequestSpec:
    """A request to send: parameters, path parameters, files; credentials are added by the test."""

    params: dict[str, Any] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] | None = None
    method: str | None = None
    encoding: str | None = None

    def without(self, name: str) -> RequestSpec:
        """The same request without the parameter ``name``."""
        return replace(self, params={key: value for key, value in self.params.items() if key != name})

    def with_params(self, params: dict[str, Any]) -> RequestSpec:
        """The same request with other parameters."""
        return replace(self, params=params)


class CannotBuild(Exception):
    """The target lacks what the request needs (a room, a message of the user's, a password):
    a skip on a live target, a failure on the mock, whose default world has everything."""


class DeclaredImpossible(CannotBuild):
    """No valid request can be built for the endpoint anywhere; the reason is declared with
    :meth:`RequestSpecs.cannot_build` (a skip on every target)."""


@dataclass
class Discovery:
    """What exists on the target, read from the target itself by ``ApiSupport.discover``.

    ``params`` holds values of real request parameters only (generated requests draw their ids
    from it); an API keeps its other bookkeeping in typed fields of a subclass.
    """

    params: dict[str, list[str]] = field(default_factory=dict)  # parameter name -> values that exist on the target
    write_room: str | None = None  # a live target's CHATMOCK_<API>_ROOM, set for tests that write

    def first(self, name: str) -> str:
        values = self.params.get(name) or []
        if not values:
            raise CannotBuild(f"the target has no {name} to test with")
        return values[0]


D = TypeVar("D", bound=Discovery)


@dataclass(frozen=True)
class Context(Generic[D]):
    """What a request builder gets: the target, the logged-in credential, the discovery."""

    endpoint: Endpoint
    target: Target
    credential: Credential
    found: D


Builder = Callable[[Context[D]], RequestSpec]


class RequestSpecs(Generic[D]):
    """One API's request builders, by endpoint id."""

    def __init__(self, api: str, file: str | Path) -> None:
        self.api = api
        self.file = _shown(Path(file))
        self._valid: dict[str, Builder[D]] = {}
        self._unknown: dict[str, Builder[D]] = {}
        self._impossible: dict[str, str] = {}  # endpoint id -> why no valid request can be built
        self._no_id: set[str] = set()
        self._writes: set[str] = set()

    # declaring ----------------------------------------------------------------------------
    def request_for(self, *endpoint_ids: str, writes: bool = False) -> Callable[[Builder[D]], Builder[D]]:
        """Mark the builder of a request that must succeed. ``writes``: it changes what other
        clients see (on a live target it needs --allow-writes and a configured room)."""

        def register(builder: Builder[D]) -> Builder[D]:
            for endpoint_id in endpoint_ids:
                self._claim(endpoint_id, self._valid, "valid request")
                self._valid[endpoint_id] = builder
                if writes:
                    self._writes.add(endpoint_id)
            return builder

        return register

    def unknown_id_for(self, *endpoint_ids: str) -> Callable[[Builder[D]], Builder[D]]:
        """Mark the builder of a request naming an id that does not exist (it must be refused)."""

        def register(builder: Builder[D]) -> Builder[D]:
            for endpoint_id in endpoint_ids:
                if endpoint_id in self._no_id:
                    raise ValueError(f"{endpoint_id} is declared to name no id in {self.file}")
                self._claim(endpoint_id, self._unknown, "unknown-id request")
                self._unknown[endpoint_id] = builder
            return builder

        return register

    def names_no_id(self, *endpoint_ids: str) -> None:
        """Declare endpoints whose requests name nothing that could be unknown."""
        for endpoint_id in endpoint_ids:
            if endpoint_id in self._unknown or endpoint_id in self._no_id:
                raise ValueError(f"{endpoint_id}: names_no_id given twice, or beside an unknown-id request, in {self.file}")
            self._no_id.add(endpoint_id)

    def cannot_build(self, endpoint_id: str, reason: str) -> None:
        """Declare that no valid request for ``endpoint_id`` can be built, and why (the tests
        that need one are skipped with this reason)."""
        self._claim(endpoint_id, self._valid, "valid request")
        self._impossible[endpoint_id] = reason

    def _claim(self, endpoint_id: str, table: dict[str, Any], what: str) -> None:
        if not endpoint_id.startswith(self.api + "."):
            raise ValueError(f"{endpoint_id} is not a {self.api} endpoint ({self.file})")
        if endpoint_id in table or (table is self._valid and endpoint_id in self._impossible):
            raise ValueError(f"{endpoint_id} has two {what} builders in {self.file}")

    # reading ----------------------------------------------------------------------------------
    @property
    def writes(self) -> frozenset[str]:
        return frozenset(self._writes)

    def valid(self, endpoint_id: str) -> Builder[D]:
        """The valid-request builder; raises DeclaredImpossible with the declared reason when
        there is none, LookupError when nothing is declared."""
        builder = self._valid.get(endpoint_id)
        if builder is not None:
            return builder
        if endpoint_id in self._impossible:
            raise DeclaredImpossible(self._impossible[endpoint_id])
        raise LookupError(f"no request spec for {endpoint_id}: add one in {self.file}")

    def unknown_id(self, endpoint_id: str) -> Builder[D] | None:
        return self._unknown.get(endpoint_id)

    def with_unknown_id(self) -> frozenset[str]:
        return frozenset(self._unknown)

    def problems(self, registry: Registry) -> list[str]:
        """What the specs lack (or name wrongly) against the schemas, one line each."""
        documented = {endpoint.id for endpoint in registry.endpoints_of(self.api)}
        found = []
        for endpoint_id in sorted(documented):
            if endpoint_id not in self._valid and endpoint_id not in self._impossible:
                found.append(
                    f"no request spec for {endpoint_id}: add one in {self.file} "
                    f'(@SPECS.request_for("{endpoint_id}"), or SPECS.cannot_build("{endpoint_id}", reason))'
                )
            if endpoint_id not in self._unknown and endpoint_id not in self._no_id:
                found.append(
                    f"no unknown-id request for {endpoint_id}: add one in {self.file} "
                    f'(@SPECS.unknown_id_for("{endpoint_id}"), or SPECS.names_no_id("{endpoint_id}"))'
                )
        declared = {*self._valid, *self._impossible, *self._unknown, *self._no_id}
        found.extend(f"{self.file} names {endpoint_id}, which no schema documents" for endpoint_id in sorted(declared - documented))
        return found


def problems_of(specs: Iterable[RequestSpecs[Any]], registry: Registry) -> list[str]:
    return [problem for one in specs for problem in one.problems(registry)]


def _shown(path: Path) -> str:
    """``contract_tests/apis/<api>.py`` for a file of this package, else the path as given."""
    package = Path(__file__).resolve().parent
    try:
        return str(Path(package.name) / path.resolve().relative_to(package))
    except ValueError:
        return str(path)
