"""Flakiness first: re-run each failing test alone a few times before blaming code.

Each test runs by itself (its own pytest process), so a failure caused by another test's
leftovers shows up as "passes alone". A test stops being re-run as soon as it has both passed
and failed: it is flaky, and more runs would not change that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from suture.errors import UsageError
from suture.heal.testrun import run_tests


@dataclass(frozen=True)
class FlakeReport:
    """How one test fared when re-run alone."""

    test_id: str
    runs: int
    failures: int

    @property
    def flaky(self) -> bool:
        """It both passed and failed on the same code."""
        return 0 < self.failures < self.runs

    @property
    def always_fails(self) -> bool:
        """It failed every time: a deterministic failure, worth a culprit search."""
        return self.runs > 0 and self.failures == self.runs

    @property
    def passes_alone(self) -> bool:
        """It never failed alone: flaky, or broken by what ran before it in the suite."""
        return self.runs > 0 and self.failures == 0


def check_flaky(
    root: Path,
    python: str,
    test_ids: Sequence[str],
    *,
    reruns: int = 3,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, FlakeReport], int]:
    """Re-run each test alone up to `reruns` times in `root`; reports and executions spent.

    Raises UsageError when a test no longer exists in `root` (renamed or removed since the run).
    """
    if reruns < 1:
        raise UsageError(f"reruns must be at least 1, not {reruns}",
                         hint="re-run each failing test at least once")
    reports: dict[str, FlakeReport] = {}
    executions = 0
    for test_id in dict.fromkeys(test_ids):
        runs = failures = 0
        while runs < reruns and not (0 < failures < runs):
            outcome = run_tests(root, python, [test_id], timeout=timeout, env=env)
            executions += 1
            if test_id in outcome.missing_ids:
                raise UsageError(
                    f"test {test_id} does not exist in {root}",
                    hint="it was renamed or removed since the failing run; run suture again",
                )
            runs += 1
            failures += not outcome.passed
        reports[test_id] = FlakeReport(test_id=test_id, runs=runs, failures=failures)
    return reports, executions
