"""A corpus case's repository: real git history, real `suture run` / `suture why` subprocesses."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
SUTURE = BIN / "suture"
ADVISORY_DB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pypa-advisory-db"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Corpus Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Corpus Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}
SUTURE_TIMEOUT_S = 300


class SetupError(Exception):
    """The case's history could not be built as intended (a bench bug or a suture surprise)."""


@dataclass(frozen=True)
class Expect:
    """The ground truth of a case: which gate fails, why, and which commit did it."""

    stage: str
    category: str
    culprit: str | None = None  # the commit the engine should name (bisection or blame): scored
    origin: str | None = None  # the commit that introduced it, where no culprit is promised
    n: int | None = None  # commits between the last passing run and the failing one (bisection)
    escalated: bool = False
    bisect: bool = False  # the culprit can only be found by searching the history
    culprit_at: int | None = None  # the culprit's 1-based place among the n commits


@dataclass(frozen=True)
class Case:
    """One failing repository of the corpus."""

    name: str
    build: Callable[[Project], Expect]
    note: str = ""


@dataclass(frozen=True)
class WhyOutcome:
    """What `suture why --json` said, and how long it took."""

    code: int
    seconds: float
    data: dict[str, object] | None
    stderr: str


@dataclass
class Project:
    """A git repository in `path`; `env` is added to every suture invocation."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: list[tuple[str, int]] = field(default_factory=list)  # (commit, suture run exit code)

    @classmethod
    def create(cls, path: Path) -> Project:
        """`git init -b main` in a fresh folder, with `.suture/` ignored."""
        path.mkdir(parents=True)
        project = cls(path)
        project.git("init", "-q", "-b", "main")
        project.write(".gitignore", ".suture/\n__pycache__/\n")
        return project

    def git(self, *args: str) -> str:
        """Run git with the fixed author and date; stdout."""
        res = subprocess.run(["git", *args], cwd=self.path, env={**os.environ, **GIT_ENV},
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise SetupError(f"git {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        """Write a file (dedented), creating folders."""
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")

    def commit(self, message: str) -> str:
        """Stage everything and commit; the new sha."""
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def suture_env(self) -> dict[str, str]:
        """The environment suture runs in: the project's interpreter is this one."""
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "SUTURE_PYTHON": sys.executable,
               "SUTURE_ADVISORY_DB": str(ADVISORY_DB), **self.env}
        for name in ("VIRTUAL_ENV", "SUTURE_DATABASE_URL", "SUTURE_TIMEOUT", "SUTURE_JOBS"):
            env.pop(name, None)
        return env

    def suture(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the installed `suture` command in the repository."""
        return subprocess.run([str(SUTURE), *args], cwd=self.path, env=self.suture_env(),
                              capture_output=True, text=True, timeout=SUTURE_TIMEOUT_S)

    def run(self, expect_pass: bool) -> int:
        """`suture run`; a result other than the one the history needs stops the case."""
        res = self.suture("run")
        head = self.git("rev-parse", "HEAD")
        self.runs.append((head, res.returncode))
        if expect_pass and res.returncode != 0:
            raise SetupError(f"suture run at {head[:10]} should pass but exited "
                             f"{res.returncode}:\n{_tail(res.stdout + res.stderr)}")
        if not expect_pass and res.returncode == 0:
            raise SetupError(f"suture run at {head[:10]} should fail but passed")
        return res.returncode

    def why(self) -> WhyOutcome:
        """`suture why --json`, timed."""
        t0 = time.perf_counter()
        res = self.suture("why", "--json")
        took = time.perf_counter() - t0
        try:
            data = json.loads(res.stdout)
        except ValueError:
            data = None
        return WhyOutcome(res.returncode, took, data, res.stderr)


def log2_bound(n: int | None) -> int | None:
    """ceil(log2 n): the probes a plain binary search needs over n candidate commits."""
    if n is None:
        return None
    return math.ceil(math.log2(n)) if n > 1 else 0


def expected_search(n: int, culprit_at: int, confirm: int = 2) -> tuple[int, int]:
    """(probes, executions) of a flake-aware binary search over n commits, culprit at culprit_at.

    The same scheme as suture.heal.bisect: endpoints first (bad: 1 execution, good: `confirm`),
    then each probe costs 1 when it fails and `confirm` when it passes. For a deterministic test
    this is exact, so a different figure from suture means the search did something else.
    """
    lo, hi, probes, executions = -1, n - 1, 0, 1 + confirm
    while hi - lo > 1:
        mid = (lo + hi) // 2
        probes += 1
        if mid < culprit_at - 1:  # before the culprit the tests pass
            lo, executions = mid, executions + confirm
        else:
            hi, executions = mid, executions + 1
    return probes, executions


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
