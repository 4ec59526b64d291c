"""What every remedy offers: which failures it can repair, and candidate edits for them.

A remedy never commits and never touches the user's working tree. It edits files inside a
scratch worktree (`workdir`) and yields a `Proposal` each time the files there form one
candidate fix. The engine captures the edits as a diff, checks and verifies it in a fresh
worktree, and resets `workdir` to its starting state before the remedy resumes; so a remedy
may yield many candidates (search-based repair does) and must re-apply its own edits after a
yield if it wants to build on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from suture.config import SutureConfig
from suture.heal.testrun import TestOutcome
from suture.model import Diagnosis, Run, StageResult


@dataclass(frozen=True)
class FixTarget:
    """One failed gate to repair: its result in the failed run and its diagnosis, if any."""

    run: Run
    stage: StageResult
    diagnosis: Diagnosis | None = None


@dataclass(frozen=True)
class Proposal:
    """One candidate fix, already written into `workdir` when it is yielded."""

    summary: str  # the commit subject: what changed, imperative, under 72 characters
    rationale: str  # the commit body: why this fixes the diagnosed cause, with the evidence
    addresses: tuple[str, ...] = ()  # fingerprints of the findings or ids of the tests it fixes
    # Test node ids this candidate quarantines: only these may gain a marker that lets a failure
    # pass (the flaky-quarantine remedy, by its own record); any other weakening is refused.
    quarantined: tuple[str, ...] = ()
    # Requirements the verification installs (into a throwaway folder) before running the
    # gates: a declared dependency is verified by really installing it (missing-dependency).
    install: tuple[str, ...] = ()
    input_tokens: int = 0  # provider tokens spent on this candidate (llm-patch)
    output_tokens: int = 0


class TestRunner(Protocol):
    """Runs chosen pytest node ids in a folder with the project's interpreter."""

    def __call__(self, cwd: Path, test_ids: Sequence[str], *, timeout: float | None = None
                 ) -> TestOutcome:
        """One execution of the selected tests in `cwd`."""
        ...


@dataclass(frozen=True)
class RemedyContext:
    """What a remedy may use besides the target: the project, its interpreter, its limits."""

    root: Path  # the user's project folder: read it, never write it
    python: str  # the project's interpreter (absolute path or command)
    config: SutureConfig
    run_tests: TestRunner  # quick checks before a candidate is proposed
    time_budget_s: float = 120.0  # for remedies that search (search-repair)
    max_attempts: int = 3  # for remedies that ask a model (llm-patch)
    env: dict[str, str] = field(default_factory=dict)  # extra environment for tools


@runtime_checkable
class Remedy(Protocol):
    """One way to repair a kind of failure; `name` is how suture.yml and reports call it."""

    name: str

    def applies(self, target: FixTarget) -> bool:
        """Whether this remedy can try anything for `target` (cheap: no tools, no I/O)."""
        ...

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """Edit files under `workdir` and yield each candidate; `workdir` is reset after a yield.

        Yield nothing when there is nothing safe to do; raise a SutureError (with a hint) when a
        tool the remedy needs fails.
        """
        ...
