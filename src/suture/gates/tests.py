"""The `tests` gate: pytest under coverage.py in the project's own environment."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from suture import proc
from suture.errors import ToolError
from suture.gates import files, junit
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

# pytest exit codes (pytest.ExitCode): 0 ok, 1 tests failed, 5 no tests collected.
_VERDICT_CODES = (0, 1, 5)
_PROBE = (
    "import json, pytest, coverage; "
    "print(json.dumps([pytest.__version__, coverage.__version__]))"
)
# Small slack so float noise in coverage figures doesn't trip the ratchet.
_RATCHET_SLACK = 0.01


class TestsConfig(GateConfig):
    """Settings of the tests gate."""

    __test__ = False  # a pydantic model, not a pytest test class

    paths: list[str] = Field(default_factory=list,
                             description="Test folders or files; default: pytest's testpaths.")
    source: list[str] = Field(
        default_factory=list,
        description="Packages or folders coverage measures; default: coverage's own config.",
    )
    min_coverage: float | None = Field(
        95.0, ge=0, le=100, description="Fail when total coverage (percent) is below this."
    )
    ratchet: bool = Field(
        True, description="Fail when coverage drops below the last passing run's figure."
    )
    args: list[str] = Field(default_factory=list, description="Extra arguments for pytest.")


class TestsGate(Gate):
    """Runs the project's tests with coverage; failures come from JUnit XML with tracebacks."""

    __test__ = False  # not a pytest test class, despite the name
    kind = "tests"
    description = "pytest + coverage.py: failing tests, coverage threshold and ratchet"
    Config = TestsConfig
    config: TestsConfig

    def tool_version(self, ctx: GateContext) -> str:
        """pytest and coverage versions in the project's environment."""
        res = proc.run((ctx.python, "-c", _PROBE), cwd=ctx.root, timeout=120)
        if res.returncode != 0:
            raise ToolError(
                f"pytest and coverage are not importable by the project's Python ({ctx.python})",
                hint="install them into the project's environment: "
                f"{ctx.python} -m pip install pytest coverage; or set `python:` in suture.yml",
            )
        pytest_v, cov_v = json.loads(res.stdout)
        return f"pytest {pytest_v}, coverage {cov_v}"

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Every Python file and packaging/config file in the repository."""
        return files.select(
            ctx.root,
            suffixes=(".py", ".toml", ".cfg", ".ini", ".txt", ".json", ".yaml", ".yml"),
            names=("conftest.py", ".coveragerc"),
            exclude=self.config.exclude,
        )

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """The installed distributions of the project's environment."""
        res = proc.run(
            (ctx.python, "-c", "import importlib.metadata as m, json; print(json.dumps(sorted("
             "f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())))"),
            timeout=120,
        )
        return res.stdout.strip()

    def run(self, ctx: GateContext) -> GateReport:
        """Run pytest under coverage, then read JUnit XML and coverage JSON."""
        self.tool_version(ctx)
        missing = [p for p in self.config.paths if not (ctx.root / p).exists()]
        if missing:
            raise ToolError(
                f"test path {', '.join(missing)} does not exist in {ctx.root}",
                hint="fix `gates.tests.paths` in suture.yml, or add the tests",
            )
        with tempfile.TemporaryDirectory(prefix="suture-tests-") as tmp:
            out = Path(tmp)
            env = {**ctx.env, "COVERAGE_FILE": str(out / ".coverage")}
            cmd = [ctx.python, "-m", "coverage", "run"]
            if self.config.source:
                cmd.append("--source=" + ",".join(self.config.source))
            cmd += ["-m", "pytest", f"--junitxml={out / 'junit.xml'}", "-o", "junit_family=xunit1",
                    "-p", "no:cacheprovider", "-q", *self.config.args, *self.config.paths]
            res = proc.run(cmd, cwd=ctx.root, timeout=self.config.timeout or ctx.timeout, env=env)
            junit_path = out / "junit.xml"
            suite = (junit.parse(junit_path.read_text(encoding="utf-8", errors="replace"))
                     if junit_path.is_file() else None)
            # Exit 2 (interrupted) with errors in the report means collection errors: a verdict.
            collection_errors = res.returncode == 2 and suite is not None and bool(suite.failed)
            if suite is None or (res.returncode not in _VERDICT_CODES and not collection_errors):
                raise ToolError(
                    f"pytest could not run the tests (exit code {res.returncode})",
                    hint=res.describe(),
                )
            coverage = self._coverage(ctx, env, out)
        findings = [_test_finding(ctx.root, case) for case in suite.failed]
        metrics = {"tests": float(suite.total), "failed": float(len(suite.failed)),
                   "skipped": float(suite.skipped)}
        if res.returncode == 5 or suite.total == 0:
            findings.append(Finding(
                rule_id="tests/none-collected", level=Level.ERROR, tool="pytest",
                message="pytest collected no tests",
                fix_hint="add tests, or point `gates.tests.paths` at them",
            ))
        if coverage is not None:
            metrics["coverage"] = coverage
            findings += self._threshold_findings(coverage)
        passed = suite.total - len(suite.failed) - suite.skipped
        summary = f"{passed} passed, {len(suite.failed)} failed"
        if suite.skipped:
            summary += f", {suite.skipped} skipped"
        if coverage is not None:
            summary += f"; coverage {coverage:.1f}%"
        return GateReport(findings=tuple(findings), summary=summary, metrics=metrics,
                          log=proc.clip(res.stdout + res.stderr))

    def _coverage(self, ctx: GateContext, env: dict[str, str], out: Path) -> float | None:
        # --fail-under=0: the threshold is judged here, not by coverage's own exit code.
        res = proc.run([ctx.python, "-m", "coverage", "json", "-q", "--fail-under=0", "-o",
                        str(out / "cov.json")],
                       cwd=ctx.root, timeout=300, env=env)
        if res.returncode != 0:
            if "No data to report" in res.stdout + res.stderr:
                return None
            raise ToolError("coverage could not write its JSON report", hint=res.describe())
        data = json.loads((out / "cov.json").read_text())
        return round(float(data["totals"]["percent_covered"]), 2)

    history_rules = frozenset({"coverage/ratchet"})

    def judge_history(self, ctx: GateContext, metrics: dict[str, float]) -> tuple[Finding, ...]:
        """The ratchet: coverage may not fall below the last passing run's figure."""
        coverage = metrics.get("coverage")
        previous = ctx.previous_metrics.get("coverage")
        if not self.config.ratchet or coverage is None or previous is None:
            return ()
        if coverage >= previous - _RATCHET_SLACK:
            return ()
        return (Finding(
            rule_id="coverage/ratchet", level=Level.ERROR, tool="coverage",
            message=f"coverage fell from {previous:.2f}% (last passing run) to {coverage:.2f}%",
            fix_hint="cover the new or changed code with tests; set `ratchet: false` to allow",
        ),)

    def _threshold_findings(self, coverage: float) -> list[Finding]:
        found = []
        floor = self.config.min_coverage
        if floor is not None and coverage < floor:
            found.append(Finding(
                rule_id="coverage/below-threshold", level=Level.ERROR, tool="coverage",
                message=f"coverage {coverage:.2f}% is below the threshold of {floor:g}%",
                fix_hint="add tests for the uncovered lines (coverage report -m lists them), "
                "or lower `gates.tests.min_coverage`",
            ))
        return found


_LOCATION = re.compile(r"^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d+): ", re.M)


def _test_finding(root: Path, case: junit.Case) -> Finding:
    """A failed or erroring test as a finding located at the deepest frame in the repository."""
    path, line = case.file, case.line
    for match in _LOCATION.finditer(case.details):
        candidate = match["path"]
        full = (root / candidate) if not Path(candidate).is_absolute() else Path(candidate)
        rel = files.relative(root, str(full))
        # Project code only: a virtualenv inside the repository is not the project.
        if (full.is_file() and root.resolve() in full.resolve().parents and rel
                and not files.is_excluded(rel, ()) and "site-packages/" not in rel):
            path, line = rel, int(match["line"])
    kind = "error" if case.outcome == "error" else "failed"
    return Finding(
        rule_id=f"tests/{kind}",
        level=Level.ERROR,
        message=f"{case.test_id} {kind}: {case.message}".strip().rstrip(":"),
        tool="pytest",
        path=path,
        line=line,
        fingerprint=f"test:{case.test_id}",
        fix_hint="run it alone: pytest " + case.test_id,
    )
