"""Failures grouped by cause: one drifting field of one endpoint is reported once.

A contract failure has a *cause* (:attr:`contract_tests.checks.ContractFailure.cause`): the
endpoint, the status, the kind of finding, the schema path and the instance path with array
indices generalised. The first test that fails with a cause reports it in full (endpoint,
schema path, instance path, observed type, curl line); every later test that fails with the
same cause is skipped as ``blocked by <cause>: see its failure in <test>``.

In the per-endpoint tests the calls that prepare a test (a login, a discovery) are *support
calls* (:meth:`contract_tests.targets.Target.supporting`): a drift there does not stop the test;
the target hands it to :meth:`CauseBook.observe_support` and the test goes on with the body as
received, so the other endpoints are still checked. When a test then breaks (or cannot build
its request), the drift is why: it is blocked by the cause, which the drifting endpoint's own
:data:`OWNER_TEST` reports when it runs. A drift no test failed on (the owner passed, or did not
run) is listed at the end and fails the run.

:class:`CauseBook` is a pytest plugin (registered by the suite's ``conftest.py``); it also
passes every report through the run's secret scrubber (:mod:`contract_tests.vault`). Under
pytest-xdist each worker classifies its own tests and the controller, which sees every report
first, keeps one book across workers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pytest
from _pytest._code.code import ExceptionRepr

from contract_tests.checks import ContractFailure
from contract_tests.targets import TransportFailure
from contract_tests.vault import VAULT, scrub_report

CAUSE_ATTR = "chatmock_cause"  # a report's cause (a JSON-able dict: xdist sends it to the controller)
BLOCKED_ATTR = "chatmock_blocked"  # the cause key of a test skipped as blocked
OBSERVED_ATTR = "chatmock_observed"  # the first cause met in support calls during the test
API_ATTR = "chatmock_api"  # the API a test belongs to
OWNER_TEST = (
    "test_valid_request_succeeds"  # the test whose failure reports a drift of its endpoint (contract_tests/tests/test_endpoints.py)
)


@dataclass
class Cause:
    """One reason for failures, as the report shows it (never a secret value)."""

    key: str
    title: str
    api: str
    endpoint: str = ""
    status: int | None = None
    problem: str = ""
    schema_path: str = ""
    instance_path: str = ""
    observed: str = ""  # the observed value's JSON type
    curl: str = ""
    text: str = ""  # the whole failure message
    test: str = ""  # the test that reports it ("" while it was only met in support calls)
    location: tuple[str, int] = ("", 0)
    blocked: list[str] = field(default_factory=list)  # tests skipped because of it

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        found["location"] = list(self.location)
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cause:
        values = dict(data)
        location = values.pop("location", ("", 0))
        return cls(**values, location=(str(location[0]), int(location[1])))

    @property
    def reason(self) -> str:
        where = f" in {self.test}" if self.test else ""
        return f"blocked by {self.title}: see its failure{where}"


def cause_of(error: BaseException | None) -> Cause | None:
    """The cause of a failure: a contract failure or a server that did not answer, also inside
    an exception group (hypothesis reports distinct failures together) or as the context of
    another exception."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ContractFailure):
            return Cause(
                key=error.cause,
                title=error.title,
                api=error.endpoint_id.partition(".")[0],
                endpoint=error.endpoint_id,
                status=error.status,
                problem=error.problem,
                schema_path=error.schema_path,
                instance_path=error.instance_path,
                observed=error.observed.type,
                curl=error.curl,
                text=VAULT.scrub(str(error)),
            )
        if isinstance(error, TransportFailure):
            return Cause(
                key=error.cause,
                title=error.title,
                api=error.api,
                endpoint=error.endpoint_id,
                problem=f"no answer: {error.error}",
                curl=error.curl,
                text=VAULT.scrub(str(error)),
            )
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                found = cause_of(inner)
                if found is not None:
                    return found
            return None
        error = error.__cause__ or error.__context__
    return None


def _location(report: pytest.TestReport) -> tuple[str, int]:
    """A test's file and 1-based line, as pytest's skip reports give them."""
    path, line, _domain = report.location
    return path, (line or 0) + 1


def block(report: pytest.TestReport, cause: Cause, item: pytest.Item | None = None) -> None:
    """Turn a failed report into a skip naming the cause. Every test blocked by one cause
    shares one location, so pytest's short summary folds them into one line."""
    report.outcome = "skipped"
    path, line = cause.location if cause.location[0] else _location(report)
    report.longrepr = (path, line, f"Skipped: {cause.reason}")
    if item is not None:  # the JUnit XML takes a test's properties from its last report
        item.user_properties.append(("chatmock_blocked_by", cause.title))
    setattr(report, BLOCKED_ATTR, cause.key)
    setattr(report, CAUSE_ATTR, cause.as_json())


class CauseBook:
    """The causes of one run.

    Two roles, one object in a plain run: every process classifies its own tests' failures as
    they are made (``pytest_runtest_makereport``); the process that sees every report (the only
    one, or xdist's controller) keeps the book for the summary, the ledger and the exit status
    (``pytest_runtest_logreport``).
    """

    def __init__(self, *, worker: bool = False) -> None:
        self.worker = worker
        # the controller's book
        self.reported: dict[str, Cause] = {}  # key -> the cause, with the test whose failure reports it
        self.pending: dict[str, Cause] = {}  # key -> a cause tests were blocked by, whose reporting test has not failed (yet)
        self.support_only: dict[str, Cause] = {}  # met in support calls
        self.executed: Counter[str] = Counter()  # API -> tests whose body ran (passed or failed)
        # this process' classification
        self._local: dict[str, Cause] = {}  # key -> the cause, with the test that reports (or will report) it
        self._owners: dict[str, tuple[str, tuple[str, int]]] = {}  # endpoint -> (its OWNER_TEST, location)
        self._ran: set[str] = set()
        self._in_test: list[Cause] = []

    # what the target tells ------------------------------------------------------------------
    def observe_support(self, failure: ContractFailure) -> None:
        """A support call drifted during the running test (the target's ``on_support_failure``)."""
        cause = cause_of(failure)
        if cause is not None and all(known.key != cause.key for known in self._in_test):
            self._in_test.append(cause)

    # reading -----------------------------------------------------------------------------------
    def unreported(self) -> list[Cause]:
        """Drifts no failing test reported: met only in support calls, or blocking tests while the
        test expected to report them passed."""
        found = {key: cause for key, cause in self.pending.items() if key not in self.reported}
        for key, cause in self.support_only.items():
            if key not in self.reported:
                found.setdefault(key, cause)
        return [replace(found[key], test="") for key in sorted(found)]

    def by_endpoint(self) -> dict[str, list[Cause]]:
        found: dict[str, list[Cause]] = {}
        for cause in [*self.reported.values(), *self.unreported()]:
            if cause.endpoint:
                found.setdefault(cause.endpoint, []).append(cause)
        return found

    # pytest hooks: this process' tests -----------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Which test reports the drift of each endpoint: its :data:`OWNER_TEST`."""
        for item in items:
            if getattr(item, "originalname", None) != OWNER_TEST:
                continue
            callspec = getattr(item, "callspec", None)
            endpoint_id = getattr(callspec.params.get("endpoint"), "id", None) if callspec is not None else None
            if isinstance(endpoint_id, str):
                path, line, _ = item.location
                self._owners[endpoint_id] = (item.nodeid, (path, (line or 0) + 1))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._in_test = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        from contract_tests.skips import api_of

        setattr(report, API_ATTR, api_of(item) or "")
        if call.when == "call":
            self._ran.add(item.nodeid)
            if self._in_test:  # the first only: what support calls meet after it is usually its consequence
                setattr(report, OBSERVED_ATTR, [self._in_test[0].as_json()])
        if report.failed and call.excinfo is not None and call.when in ("setup", "call"):
            self._classify(item, report, call.excinfo.value)
        elif report.skipped and call.when == "call" and self._in_test and _cannot_build(call.excinfo):
            self._blocked_skip(item, report)
        scrub_report(report, VAULT.scrub)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Any:
        report: pytest.CollectReport = yield
        scrub_report(report, VAULT.scrub)
        return report

    def _owner(self, cause: Cause, nodeid: str) -> tuple[str, tuple[str, int]] | None:
        """The test still to run that will report ``cause`` (its endpoint's :data:`OWNER_TEST`)."""
        found = self._owners.get(cause.endpoint)
        return found if found is not None and found[0] != nodeid and found[0] not in self._ran else None

    def _classify(self, item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
        cause = cause_of(error)
        direct = cause is not None
        if cause is None and self._in_test:
            cause = self._in_test[0]  # the test broke after a support call drifted
        if cause is None:
            return
        known = self._local.get(cause.key)
        if known is not None and known.test != report.nodeid:
            block(report, known, item)
            return
        owner = self._owner(cause, report.nodeid) if known is None and not direct else None
        if owner is not None:  # the endpoint's own test, still to run, will report it
            cause.test, cause.location = owner
            self._local[cause.key] = cause
            block(report, cause, item)
            return
        cause.test = report.nodeid
        cause.location = _location(report)
        self._local[cause.key] = cause
        setattr(report, CAUSE_ATTR, cause.as_json())
        item.user_properties += [("chatmock_cause", cause.title), ("chatmock_endpoint", cause.endpoint), ("chatmock_curl", cause.curl)]
        longrepr = report.longrepr
        if not direct and isinstance(longrepr, ExceptionRepr):
            longrepr.addsection(f"chatmock: caused by {cause.title}, met in a support call", cause.text)

    def _blocked_skip(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """A test skipped because the target lacked what it needed, after a support call drifted:
        the drift is why (when a test reports it; otherwise the skip stands and the drift is
        reported at the end)."""
        cause = self._in_test[0]
        known = self._local.get(cause.key)
        if known is None:
            owner = self._owner(cause, report.nodeid)
            if owner is None:
                return
            cause.test, cause.location = owner
            known = self._local[cause.key] = cause
        if known.test != report.nodeid:
            block(report, known, item)

    # pytest hooks: the book --------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Where every report passes once: the controller under xdist, the only process otherwise."""
        if self.worker:
            return
        for data in getattr(report, OBSERVED_ATTR, None) or ():
            self.support_only.setdefault(data["key"], Cause.from_json(data))
        api = getattr(report, API_ATTR, "")
        data = getattr(report, CAUSE_ATTR, None)
        cause = Cause.from_json(data) if data else None
        if cause is not None and report.failed:
            known = self.reported.get(cause.key)
            if known is not None and known.test != report.nodeid:  # a second xdist worker met it
                block(report, known)
            else:
                cause.test = report.nodeid
                waiting = self.pending.pop(cause.key, None)
                cause.blocked = [*(waiting.blocked if waiting else ()), *(known.blocked if known else ())]
                self.reported[cause.key] = cause
        if cause is not None and report.skipped and getattr(report, BLOCKED_ATTR, None):
            target = self.reported.get(cause.key) or self.pending.setdefault(cause.key, cause)
            if report.nodeid not in target.blocked:
                target.blocked.append(report.nodeid)
        if report.when == "call" and report.outcome in ("passed", "failed") and api:
            self.executed[api] += 1

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        unreported = self.unreported()
        if self.worker or not (self.reported or unreported):
            return
        terminalreporter.write_sep("=", "chatmock: failures by cause")
        for cause in self.reported.values():
            blocked = f"; {len(cause.blocked)} test(s) blocked by it" if cause.blocked else ""
            terminalreporter.write_line(f"{cause.title}: reported by {cause.test}{blocked}")
            if cause.problem:
                terminalreporter.write_line(f"  {cause.problem}")
            if cause.curl:
                terminalreporter.write_line(f"  reproduce: {cause.curl}")
        for cause in unreported:
            blocked = f"; {len(cause.blocked)} test(s) blocked by it" if cause.blocked else ""
            terminalreporter.write_line(
                f"{cause.title}: met while preparing other tests; no test of {cause.endpoint} failed on it{blocked}"
            )
            terminalreporter.write_line(f"  {cause.problem}")
            if cause.curl:
                terminalreporter.write_line(f"  reproduce: {cause.curl}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """A drift no test failed on fails the run too."""
        if not self.worker and self.unreported() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _cannot_build(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    """A skip raised while handling :class:`~contract_tests.specs.CannotBuild` (the target lacked
    what the request needs), not a declared impossibility."""
    from contract_tests.specs import CannotBuild, DeclaredImpossible

    context = excinfo.value.__context__ if excinfo is not None else None
    return isinstance(context, CannotBuild) and not isinstance(context, DeclaredImpossible)


CAUSES = pytest.StashKey[CauseBook]()
