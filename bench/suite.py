"""Contract-suite throughput: ``pytest contract_tests -k generated`` against the in-process mock,
examples counted from hypothesis' statistics, per second of wall time and of test time."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.calls import ROOT

# one line per example at --hypothesis-verbosity=verbose: "Test case:" in the pinned hypothesis (6.170),
# "Trying example:" in older releases
_TRYING = re.compile(r"^(?:Trying example|Test case):", re.MULTILINE)
_SESSION_TIME = re.compile(r" in ([\d.]+)s")
_OUTCOME = re.compile(r"(\d+) (passed|failed|error|errors|skipped|deselected)")


@dataclass(frozen=True)
class SuiteResult:
    examples: int  # examples hypothesis ran, summed over every generated test
    phase_seconds: float  # pytest's session time (collection and app start excluded)
    wall_seconds: float  # the whole pytest process, collection and app start included
    outcome: str  # pytest's summary, e.g. "30 passed, 150 deselected"

    @property
    def per_second_wall(self) -> float:
        return self.examples / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def per_second_phases(self) -> float:
        return self.examples / self.phase_seconds if self.phase_seconds else 0.0


def parse(output: str) -> tuple[int, float]:
    """(examples, pytest's session seconds) from a verbose run's output."""
    examples = len(_TRYING.findall(output))
    summary = outcome(output)
    found = _SESSION_TIME.search(summary)
    return examples, float(found.group(1)) if found else 0.0


def outcome(output: str) -> str:
    last = [line for line in output.strip().splitlines() if _OUTCOME.search(line)]
    return last[-1].strip("= ") if last else "no pytest summary"


def run(apis: Sequence[str] = (), timeout: float = 900.0) -> SuiteResult:
    with tempfile.TemporaryDirectory(prefix="chatmock-suite-") as folder:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "contract_tests/tests/test_endpoints.py",
            "-k",
            "generated",
            "-q",
            "-p",
            "no:cacheprovider",
            "-s",
        ]
        command += ["--hypothesis-verbosity=verbose", "--ledger-json", str(Path(folder) / "ledger.json")]
        for api in apis:
            command += ["--api", api]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        wall = time.perf_counter() - started
    examples, seconds = parse(done.stdout)
    return SuiteResult(examples, seconds, wall, outcome(done.stdout))
