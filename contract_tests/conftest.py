"""pytest wiring of the contract suite: options, hypothesis profiles, the coverage ledger, the
request-spec check, the target fixtures. Tests import nothing from here (helpers live in the
suite's library modules: :mod:`contract_tests.skips`, :mod:`contract_tests.apis`, ...).

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

from contract_tests.apis import support
from contract_tests.config import TARGETS, SuiteConfig, from_options, selected_apis
from contract_tests.ledger import LEDGER_REPORT, LedgerReport
from contract_tests.specs import problems_of
from contract_tests.targets import Target, open_target
from mockserver.apis import API_NAMES
from mockserver.core.registry import load_registry

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
    ledger = LedgerReport(Path(config.getoption("--ledger-json")))
    config.stash[LEDGER_REPORT] = ledger
    config.pluginmanager.register(ledger, "chatmock-ledger")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run while an endpoint of a selected API has no request spec."""
    selected = selected_apis(config.getoption("chatmock_api"), os.environ)
    problems = problems_of((support(api).specs for api in selected if api in API_NAMES), load_registry())
    if problems:
        raise pytest.UsageError("chatmock contract suite: the request specs are incomplete\n  " + "\n  ".join(problems))


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
def session_target(suite_config: SuiteConfig, pytestconfig: pytest.Config) -> Iterator[Target]:
    target = open_target(suite_config, pytestconfig.stash[LEDGER_REPORT].ledger)
    yield target
    target.close()


@pytest.fixture
def target(session_target: Target) -> Target:
    """The target, with the mock's world reset before each test."""
    session_target.reset()
    return session_target
