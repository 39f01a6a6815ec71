"""pytest wiring of the contract suite: options, hypothesis profiles, the live pre-flight, the
selection of tests, the coverage ledger, failures grouped by cause, the secret scrubber, the
target fixtures. Tests import nothing from here (helpers live in the suite's library modules:
:mod:`contract_tests.skips`, :mod:`contract_tests.apis`, ...).

    pytest contract_tests                                   # the in-process mock (default)
    pytest contract_tests --target http                     # a mock started on a free port
    CHATMOCK_GITTER_URL=https://api.gitter.im CHATMOCK_GITTER_TOKEN=... \\
        pytest contract_tests --target live --api gitter    # a live server, read-only
    pytest contract_tests -n 2 --out build/suite            # two xdist workers, reports in build/suite

- A live run checks first (:mod:`contract_tests.preflight`) that every selected API has a
  well-formed base URL, its credentials and a server that answers; if not it stops before any
  test with one line and exit code 2. A live run in which no test of the selected APIs ran
  exits 5 ("nothing was validated").
- Tests of APIs not selected (``--api``) are deselected, not skipped; the per-endpoint tests
  run before the flows.
- ``--out DIR``: the ledger (``DIR/ledger.json``) and hypothesis' database (``DIR/.hypothesis``)
  go there; without it the ledger goes to ``reports/ledger.json`` (or ``--ledger-json``) and
  hypothesis keeps its default ``.hypothesis`` in the working directory.
- Under pytest-xdist each worker has its own target (an in-process mock, or a mock on its own
  free port); the controller merges the ledgers and groups failures across workers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

from contract_tests.apis import support
from contract_tests.causes import CAUSES, CauseBook
from contract_tests.config import TARGETS, SuiteConfig, from_options, selected_apis
from contract_tests.ledger import LEDGER_REPORT, LedgerReport
from contract_tests.preflight import EXIT_PREFLIGHT, live_problem, message
from contract_tests.skips import api_of
from contract_tests.specs import problems_of
from contract_tests.targets import Target, open_target
from contract_tests.vault import VAULT, ScrubbingStream
from mockserver.apis import API_NAMES
from mockserver.core.registry import load_registry

SUITE_DIR = Path(__file__).resolve().parent
DEFAULT_LEDGER = Path("reports") / "ledger.json"
NOTHING_VALIDATED = pytest.ExitCode.NO_TESTS_COLLECTED  # exit 5: a live run in which no test of the selected APIs ran
_NOTHING_RAN = pytest.StashKey[str]()

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("default", max_examples=10, deadline=None, suppress_health_check=_SUPPRESSED)
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, suppress_health_check=_SUPPRESSED)
settings.register_profile("thorough", max_examples=100, deadline=None, suppress_health_check=_SUPPRESSED)
settings.register_profile("live", max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatmock", "chatmock contract suite")
    group.addoption("--target", choices=TARGETS, default=None, help="inprocess (default), http (a mock on a free port) or live")
    group.addoption("--base-url", action="append", default=None, help="api=URL, e.g. gitter=https://api.gitter.im (or CHATMOCK_<API>_URL)")
    group.addoption("--api", dest="chatmock_api", action="append", choices=API_NAMES, default=None, help="only this API (repeatable)")
    group.addoption(
        "--allow-writes", action="store_true", default=False, help="live targets: also run tests that post (needs CHATMOCK_<API>_ROOM)"
    )
    group.addoption(
        "--out", dest="chatmock_out", default=None, metavar="DIR", help="directory for ledger.json and hypothesis' database (.hypothesis)"
    )
    group.addoption(
        "--ledger-json",
        default=None,
        help=f"where the coverage ledger JSON is written (default: DIR/ledger.json with --out, else {DEFAULT_LEDGER})",
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _target_name(config: pytest.Config) -> str | None:
    return config.getoption("--target") or os.environ.get("CHATMOCK_TARGET")


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """The options, and for a live run what it needs, before anything runs: one line and exit 2."""
    option = config.option
    if _is_worker(config) or any(getattr(option, name, False) for name in ("help", "version", "collectonly", "markers", "showfixtures")):
        return None
    try:
        chosen = _suite_config(config)
    except ValueError as error:
        print(message(str(error)), file=sys.stderr)
        return EXIT_PREFLIGHT
    problem = live_problem(chosen) if chosen.target == "live" else None
    if problem:
        print(message(problem), file=sys.stderr)
        return EXIT_PREFLIGHT
    return None


def _suite_config(config: pytest.Config) -> SuiteConfig:
    return from_options(
        config.getoption("--target"), config.getoption("chatmock_api"), config.getoption("--base-url"), config.getoption("--allow-writes")
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """First, so hypothesis' own plugin then applies ``--hypothesis-profile`` / ``--hypothesis-verbosity`` on top."""
    target = _target_name(config)
    profile = os.environ.get("CHATMOCK_HYPOTHESIS_PROFILE") or ("live" if target == "live" else "ci" if os.environ.get("CI") else "default")
    out = config.getoption("chatmock_out")
    if out:
        home = Path(out).resolve() / ".hypothesis"
        set_hypothesis_home_dir(home)
        settings.register_profile(
            f"{profile}-out", parent=settings.get_profile(profile), database=DirectoryBasedExampleDatabase(home / "examples")
        )
        profile = f"{profile}-out"
    settings.load_profile(profile)
    worker = _is_worker(config)
    causes = CauseBook(worker=worker)
    config.stash[CAUSES] = causes
    config.pluginmanager.register(causes, "chatmock-causes")
    ledger_path = config.getoption("--ledger-json") or (Path(out) / "ledger.json" if out else DEFAULT_LEDGER)
    apis = selected_apis(config.getoption("chatmock_api"), os.environ)
    ledger = LedgerReport(Path(ledger_path), causes=causes, apis=apis, worker=worker)
    config.stash[LEDGER_REPORT] = ledger
    config.pluginmanager.register(ledger, "chatmock-ledger")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Nothing reaches the terminal unscrubbed (the reports are scrubbed already; this catches the rest)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is not None and hasattr(writer, "_file") and not isinstance(writer._file, ScrubbingStream):
        writer._file = ScrubbingStream(writer._file, VAULT.scrub)


def _in_suite(item: pytest.Item) -> bool:
    return SUITE_DIR in Path(item.path).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run while an endpoint of a selected API has no request spec; deselect the
    tests of APIs not selected; run the per-endpoint tests before the flows."""
    selected = selected_apis(config.getoption("chatmock_api"), os.environ)
    problems = problems_of((support(api).specs for api in selected if api in API_NAMES), load_registry())
    if problems:
        raise pytest.UsageError("chatmock contract suite: the request specs are incomplete\n  " + "\n  ".join(problems))
    ours = [item for item in items if _in_suite(item)]
    deselected = [item for item in ours if (api := api_of(item)) is not None and api not in selected]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        dropped = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in dropped]
        ours = [item for item in ours if id(item) not in dropped]
    positions = [index for index, item in enumerate(items) if _in_suite(item)]
    ordered = sorted(ours, key=lambda item: Path(item.path).name != "test_endpoints.py")
    for index, item in zip(positions, ordered, strict=True):
        items[index] = item


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A live run in which no test of the selected APIs ran validated nothing: it fails."""
    config = session.config
    if _is_worker(config) or _target_name(config) != "live" or session.exitstatus != pytest.ExitCode.OK:
        return
    apis = selected_apis(config.getoption("chatmock_api"), os.environ)
    if sum(config.stash[CAUSES].executed[api] for api in apis) == 0:
        config.stash[_NOTHING_RAN] = (
            f"chatmock: no test of {', '.join(apis)} ran against the live server (see the skip reasons): nothing was validated"
        )
        session.exitstatus = NOTHING_VALIDATED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    nothing = config.stash.get(_NOTHING_RAN, None)
    if nothing:
        terminalreporter.write_line(nothing, red=True, bold=True)


@pytest.fixture(scope="session")
def suite_config(pytestconfig: pytest.Config) -> SuiteConfig:
    try:
        return _suite_config(pytestconfig)
    except ValueError as error:
        pytest.exit(message(str(error)), returncode=EXIT_PREFLIGHT)


@pytest.fixture(scope="session")
def session_target(suite_config: SuiteConfig, pytestconfig: pytest.Config) -> Iterator[Target]:
    target = open_target(suite_config, pytestconfig.stash[LEDGER_REPORT].ledger)
    target.on_support_failure = pytestconfig.stash[CAUSES].observe_support
    yield target
    target.close()


@pytest.fixture
def target(session_target: Target) -> Target:
    """The target, with the mock's world reset before each test."""
    session_target.reset()
    return session_target
