"""When a contract test cannot run here, and why: each skip names a reason a user can act on."""

from __future__ import annotations

import pytest

from contract_tests.config import SuiteConfig


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
