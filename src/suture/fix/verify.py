"""Verifying a candidate in a fresh worktree: every gate again, the tests twice, nothing weakened.

A candidate is accepted only if, with it applied to the fix branch's tip:
- it applies whole and touches nothing protected (guard.py);
- no test is removed or weakened and pytest/coverage configuration is unchanged (integrity.py);
- the gate it targets passes, or (one finding at a time) has strictly fewer findings and no
  new ones;
- every other gate is at least as green as in the failed run;
- the tests pass twice (no flaky pass is accepted), no fewer tests run, none newly skipped
  beyond the tests a quarantine names, and coverage does not drop.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from suture import proc
from suture.config import SutureConfig
from suture.errors import SutureError
from suture.fix import guard, integrity
from suture.fix import patch as patch_mod
from suture.fix.remedies.interface import Proposal
from suture.heal.worktree import Worktree, git
from suture.model import Check, Run, StageResult, StageStatus
from suture.pipeline.execute import RunOptions, run_pipeline
from suture.store import open_store

_INSTALL_TIMEOUT_S = 600.0
_GREEN = {StageStatus.PASSED: 3, StageStatus.SKIPPED: 2, StageStatus.FAILED: 1,
          StageStatus.ERROR: 0}


@dataclass(frozen=True)
class Verdict:
    """The checks a candidate went through, and whether they all passed."""

    accepted: bool
    checks: tuple[Check, ...]
    stage_after: StageResult | None = None  # the targeted gate's result with the candidate

    @property
    def reason(self) -> str:
        """The first failed check, or what was verified."""
        failed = [c for c in self.checks if not c.passed]
        if failed:
            return f"{failed[0].name}: {failed[0].detail}"
        return "verified: " + ", ".join(c.name for c in self.checks)


@dataclass(frozen=True)
class Verifier:
    """Verifies candidates for one failed run of the project at `root`."""

    root: Path
    run: Run
    config: SutureConfig
    python: str
    max_lines: int = 400

    def verify(self, tip: str, patch: patch_mod.Patch, proposal: Proposal, stage: str,
               commit: Callable[[Path], str]) -> tuple[Verdict, str | None]:
        """Check `patch` on `tip` in a fresh worktree; on success call `commit(tree)` there."""
        checks: list[Check] = []
        problems = guard.refusals(patch, max_lines=self.max_lines,
                                  extra_protected=(self._secrets_baseline(),))
        checks.append(Check(name="safe paths", passed=not problems, detail="; ".join(problems)))
        if problems:
            return Verdict(False, tuple(checks)), None
        with Worktree(self.root, tip, project_root=self.root) as tree:
            try:
                patch_mod.apply(tree, patch)
            except SutureError as exc:
                checks.append(Check(name="applies", passed=False,
                                    detail=f"{exc.message}: {exc.hint or ''}".strip(": ")))
                return Verdict(False, tuple(checks)), None
            checks.append(Check(name="applies", passed=True))
            weakened = self._weakened(tree, tip, patch, proposal)
            checks.append(Check(name="tests not weakened", passed=not weakened,
                                detail="; ".join(weakened[:5])))
            if weakened:
                return Verdict(False, tuple(checks)), None
            with tempfile.TemporaryDirectory(prefix="suture-install-") as site:
                env: dict[str, str] = {}
                if proposal.install:
                    installed = self._install(proposal.install, Path(site), tree)
                    checks.append(installed)
                    if not installed.passed:
                        return Verdict(False, tuple(checks)), None
                    env = {"PYTHONPATH": site}
                gate_checks, after = self._gates(tree, stage, proposal, env)
            checks += gate_checks
            if not all(c.passed for c in checks):
                return Verdict(False, tuple(checks), after), None
            return Verdict(True, tuple(checks), after), commit(tree)

    def _secrets_baseline(self) -> str:
        gate = next((g for g in self.config.gates.values() if (g.kind or "") == "secrets"), None)
        return str(getattr(gate, "baseline", None) or ".secrets.baseline")

    def _weakened(self, tree: Path, tip: str, patch: patch_mod.Patch,
                  proposal: Proposal) -> list[str]:
        problems: list[str] = []
        for change in patch.changes:
            path = change.path
            if not integrity.changed_test_files(tree, [path]):
                continue
            before = _show(tree, tip, path)
            after_path = tree / path
            after = after_path.read_text(encoding="utf-8", errors="replace") \
                if after_path.is_file() else None
            if path.endswith("conftest.py") and before != after:
                problems.append(f"{path}: conftest.py changes how the tests run")
                continue
            problems += integrity.weakened(path, before, after, proposal.quarantined)
            problems += integrity.runner_config_changed(path, before, after)
        return problems

    def _install(self, requirements: tuple[str, ...], site: Path, tree: Path) -> Check:
        """Install what the candidate declares into `site`, with the project's interpreter."""
        # pip's own configuration (index, PIP_* variables) decides where packages come from.
        res = proc.run((self.python, "-m", "pip", "install", "--quiet", "--no-input",
                        "--disable-pip-version-check", "--target", str(site), *requirements),
                       cwd=tree, timeout=_INSTALL_TIMEOUT_S)
        detail = " ".join(requirements)
        if res.returncode != 0:
            lines = (res.stderr or res.stdout).strip().splitlines()
            detail += ": " + (lines[-1] if lines else f"pip exited {res.returncode}")
        return Check(name="declared dependency installs", passed=res.returncode == 0,
                     detail=detail)

    def _gates(self, tree: Path, stage: str, proposal: Proposal,
               env: dict[str, str]) -> tuple[list[Check], StageResult | None]:
        """Every gate once, then the tests gates a second time; compared with the failed run."""
        before = {s.name: s for s in self.run.stages}
        config = self._config_for(tree)
        with tempfile.TemporaryDirectory(prefix="suture-verify-") as tmp:
            store = open_store(tree, f"sqlite:///{Path(tmp) / 'verify.db'}")
            try:
                first = run_pipeline(tree, config, store,
                                     RunOptions(use_cache=False, extra_env=env))
                tests = tuple(s.name for s in first.stages if s.kind == "tests")
                second = run_pipeline(tree, config, store,
                                      RunOptions(use_cache=False, only=tests, extra_env=env)
                                      ) if tests else None
            finally:
                store.close()
        after = {s.name: s for s in first.stages}
        checks = [self._target_check(before.get(stage), after.get(stage), stage)]
        worse = [f"{name}: {was.status.value} -> {after[name].status.value}"
                 for name, was in before.items()
                 if name != stage and name in after
                 and _GREEN[after[name].status] < _GREEN[was.status]]
        worse += [f"{name}: {len(after[name].new_findings) - len(was.new_findings)} more "
                  "finding(s)" for name, was in before.items()
                  if name != stage and name in after and was.status == StageStatus.FAILED
                  and len(after[name].new_findings) > len(was.new_findings)]
        checks.append(Check(name="other gates as green", passed=not worse,
                            detail="; ".join(worse)))
        again = {s.name: s for s in second.stages} if second else {}
        for name in tests:
            checks += self._test_checks(before.get(name), after[name], again.get(name), proposal)
        return checks, after.get(stage)

    def _target_check(self, was: StageResult | None, now: StageResult | None,
                      stage: str) -> Check:
        if now is None:
            return Check(name=f"{stage} passes", passed=False, detail="the gate did not run")
        if now.status == StageStatus.PASSED:
            return Check(name=f"{stage} passes", passed=True)
        old = {f.fingerprint for f in was.new_findings} if was else set()
        new = {f.fingerprint for f in now.new_findings}
        if now.status == StageStatus.FAILED and new < old:
            return Check(name=f"{stage} improves", passed=True,
                         detail=f"{len(old) - len(new)} of {len(old)} findings fixed, none new")
        added = len(new - old)
        return Check(name=f"{stage} passes", passed=False,
                     detail=f"still {now.status.value}: {now.summary}"
                     + (f" ({added} new finding(s))" if added else ""))

    def _test_checks(self, was: StageResult | None, first: StageResult,
                     second: StageResult | None, proposal: Proposal) -> list[Check]:
        runs = [s for s in (first, second) if s is not None]
        twice = all(s.status == StageStatus.PASSED for s in runs)
        checks = [Check(name=f"{first.name} pass twice", passed=twice,
                        detail="" if twice else "; ".join(f"run {i}: {s.summary}"
                                                          for i, s in enumerate(runs, 1)))]
        if was is None:
            return checks
        m0, m1 = was.metrics, first.metrics
        if "tests" in m0 and "tests" in m1 and m1["tests"] < m0["tests"]:
            checks.append(Check(name="no test lost", passed=False,
                                detail=f"{int(m0['tests'])} tests ran before, {int(m1['tests'])}"
                                " now"))
        allowed = len(proposal.quarantined)
        if m1.get("skipped", 0) > m0.get("skipped", 0) + allowed:
            checks.append(Check(name="no test newly skipped", passed=False,
                                detail=f"{int(m0.get('skipped', 0))} skipped before, "
                                f"{int(m1['skipped'])} now"))
        if "coverage" in m0 and "coverage" in m1:
            kept = m1["coverage"] >= m0["coverage"] - 0.005
            checks.append(Check(name="coverage kept", passed=kept,
                                detail=f"{m0['coverage']:.2f}% -> {m1['coverage']:.2f}%"))
        return checks

    def _config_for(self, tree: Path) -> SutureConfig:
        """The run's configuration with paths outside the worktree made absolute."""
        settings = self.config.settings.model_copy(update={
            "python": self.python,
            "baseline": str((self.root / self.config.settings.baseline).resolve()),
        })
        return dataclasses.replace(self.config, settings=settings)


def _show(tree: Path, commit: str, path: str) -> str | None:
    """The text of project-relative `path` at `commit`, or None when it did not exist."""
    res = git(tree, "show", f"{commit}:./{path}", check=False)
    return res.stdout if res.returncode == 0 else None
