"""When a contract test cannot run here, and why: each skip names a reason a user can act on;
and which API a test belongs to (tests of APIs not selected are deselected, not skipped)."""

from __future__ import annotations

import pytest

from contract_tests.config import SuiteConfig


def api_of(item: pytest.Item) -> str | None:
    """The API a test checks: its ``endpoint`` parameter's, else its module's ``API``."""
    callspec = getattr(item, "callspec", None)
    endpoint = callspec.params.get("endpoint") if callspec is not None else None
    api = getattr(endpoint, "api", None)
    if isinstance(api, str):
        return api
    module = getattr(item, "module", None)
    declared = getattr(module, "API", None)
    return declared if isinstance(declared, str) else None


def require_api(config: SuiteConfig, api: str) -> None:
    if api not in config.apis:
        pytest.skip(f"{api} not selected (--api)")


def require_writes(config: SuiteConfig, api: str) -> str | None:
    """Skip unless writing is allowed; on a live server returns the configured room."""
    if not config.writes_allowed:
        pytest.skip("writes need --allow-writes on a live target")
    if config.target == "live":
        room = config.secret(api, "ROOM")
        if room is None:
            pytest.skip(f"writes on live {api} need CHATMOCK_{api.upper()}_ROOM")
        return room
    return None
