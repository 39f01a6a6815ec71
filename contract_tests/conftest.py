"""pytest wiring of the contract suite: options, the target, hypothesis profiles, the ledger.

    pytest contract_tests                                   # the in-process mock (default)
    pytest contract_tests --target http                     # a mock started on a free port
    CHATMOCK_GITTER_URL=https://api.gitter.im CHATMOCK_GITTER_TOKEN=... \\
        pytest contract_tests --target live --api gitter    # a live server, read-only
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from contract_tests.config import API_NAMES, TARGETS, SuiteConfig, from_options
from contract_tests.ledger import Ledger
from contract_tests.targets import Target, open_target

settings.register_profile(
    "default", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "ci",
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
settings.register_profile("live", max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))

LEDGER = Ledger()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatmock", "chatmock contract suite")
    group.addoption("--target", choices=TARGETS, default=None, help="inprocess (default), http (a mock on a free port) or live")
    group.addoption("--base-url", action="append", default=None, help="api=URL, e.g. gitter=https://api.gitter.im (or CHATMOCK_<API>_URL)")
    group.addoption("--api", dest="chatmock_api", action="append", choices=API_NAMES, default=None, help="only this API (repeatable)")
    group.addoption(
        "--allow-writes", action="store_true", default=False, help="live targets: also run tests that post (needs CHATMOCK_<API>_ROOM)"
    )
    group.addoption("--ledger-json", default="reports/ledger.json", help="where the coverage ledger JSON is written")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--target") or os.environ.get("CHATMOCK_TARGET")
    profile = os.environ.get("CHATMOCK_HYPOTHESIS_PROFILE") or ("live" if target == "live" else "ci" if os.environ.get("CI") else "default")
    settings.load_profile(profile)


@pytest.fixture(scope="session")
def suite_config(pytestconfig: pytest.Config) -> SuiteConfig:
    try:
        return from_options(
            pytestconfig.getoption("--target"),
            pytestconfig.getoption("chatmock_api"),
            pytestconfig.getoption("--base-url"),
            pytestconfig.getoption("--allow-writes"),
        )
    except ValueError as error:
        pytest.exit(f"chatmock: {error}", returncode=4)


@pytest.fixture(scope="session")
def session_target(suite_config: SuiteConfig) -> Iterator[Target]:
    target = open_target(suite_config, LEDGER)
    yield target
    target.close()


@pytest.fixture
def target(session_target: Target) -> Target:
    """The target, with the mock's world reset before each test."""
    session_target.reset()
    return session_target


def require_api(config: SuiteConfig, api: str) -> None:
    if api not in config.apis:
        pytest.skip(f"{api} not selected")


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    if not LEDGER.seen:
        return
    from mockserver.core.registry import load_registry

    apis = [api for api in API_NAMES if any(endpoint_id.startswith(api + ".") for endpoint_id in LEDGER.seen)]
    report = LEDGER.report(load_registry(), apis)
    terminalreporter.write_sep("=", "chatmock coverage ledger")
    terminalreporter.write_line(LEDGER.table(report))
    path = Path(config.getoption("--ledger-json"))
    LEDGER.write_json(report, path)
    terminalreporter.write_line(f"ledger JSON: {path}")
