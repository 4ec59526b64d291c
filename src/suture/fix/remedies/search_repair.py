"""search-repair: failing tests with no culprit, fixed by trying small edits to suspicious lines.

Spectrum-based fault localisation ranks the project's lines by how much the failing tests run
them (sbfl.py); for the top lines, one-line mutants (mutations.py) are written into the scratch
worktree, the failing tests are re-run, and a mutant that makes them pass without breaking any
test that passed before is proposed. Common, cheap operators are tried on every top line before
the rarer ones (swapped arguments, another variable, a deleted statement). Test files are never
edited. A fix found this way is only as good as the tests, which is why the engine verifies it
and a person reviews it.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from suture.errors import SutureError
from suture.fix.remedies import mutations, sbfl
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.gates.tests import TestsConfig
from suture.heal.testrun import TestOutcome
from suture.model import Category, Finding

_FAILURE_RULES = ("tests/failed", "tests/error")
# Mutating code to make a flaky, missing-module or environment failure pass would hide it; and
# when the diagnosis blames the test itself (test-bug), bending the code to fit it is wrong.
_OURS = (Category.UNKNOWN,)
TIER_ONE = ("comparison", "off-by-one", "boolean", "constant", "arithmetic", "negation",
            "builtin")
TIER_TWO = ("swap", "variable", "delete")
_SUMMARY_MAX = 72


@dataclass(frozen=True)
class _Trial:
    """A mutant that made the failing tests pass and broke nothing else."""

    suspect: sbfl.Suspect
    rank: int
    mutant: mutations.Mutant
    fixed: tuple[str, ...]
    checked: int  # tests that ran in the whole-suite check


class SearchRepair:
    """Localise the fault with Ochiai over per-test coverage, then try one-line mutants."""

    name = "search-repair"

    def __init__(self, *, top_lines: int = 10) -> None:
        self.top_lines = top_lines

    def applies(self, target: FixTarget) -> bool:
        """Failing tests in a tests gate, with no commit to blame and no flake or missing module."""
        if target.stage.kind != "tests" or not _failures(target.stage.new_findings):
            return False
        diagnosis = target.diagnosis
        if diagnosis is None or diagnosis.category in _OURS:
            return True
        return diagnosis.category == Category.REGRESSION and diagnosis.culprit_commit is None

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """The one-line fix of the most suspicious line, if no other mutant passes as well.

        Raises AmbiguousRepair when several different mutants pass every test.
        """
        start = time.monotonic()
        deadline = start + ctx.time_budget_s
        findings = _failures(target.stage.new_findings)
        wanted = tuple(dict.fromkeys(_test_id(f) for f in findings))
        if not wanted or ctx.time_budget_s <= 0:
            return
        paths, args, exclude = _tests_settings(target, ctx)
        try:
            loc = sbfl.localise(workdir, ctx.python, test_paths=paths, pytest_args=args,
                                exclude=exclude, timeout=max(1.0, deadline - time.monotonic()),
                                env=ctx.env)
        except sbfl.LocaliseTimeout:
            return  # the budget is spent before the search could start
        failing = tuple(t for t in wanted if t in loc.failed_tests) or loc.failed_tests
        if not failing or not loc.test_files:
            return
        suspects = [s for s in loc.suspects if not sbfl.is_test_file(s.path, paths)]
        suspects = suspects[: self.top_lines]
        # A mutant may loop forever: a run taking twice the whole suite under coverage is a failure.
        search = _Search(ctx, workdir, loc, failing, deadline, max(5.0, 2 * loc.duration_s))
        tried = 0
        for rank, suspect, original, mutant in _candidates(workdir, suspects):
            if time.monotonic() >= deadline:
                return
            tried += 1
            checked = search.attempt(workdir / suspect.path, original, mutant)
            if checked is None:
                continue
            _restore(workdir / suspect.path, original)
            rivals = _rivals(search, workdir, suspect, suspects, original, mutant)
            if rivals:
                raise AmbiguousRepair(
                    f"{1 + len(rivals)} different one-line changes make the failing tests pass "
                    f"and keep the others passing: {mutant.description} in {suspect.path}:"
                    f"{suspect.line}; " + "; ".join(f"{m.description} in {p}:{m.line}"
                                                   for p, m in rivals[:3]),
                    hint="the tests do not decide which behaviour is meant: add a test that "
                    "tells them apart, or fix it by hand",
                )
            (workdir / suspect.path).write_bytes(mutant.source.encode("utf-8"))
            trial = _Trial(suspect, rank, mutant, failing, checked)
            yield _proposal(trial, loc, findings, tried, time.monotonic() - start,
                            len(suspects))
            return


class AmbiguousRepair(SutureError):
    """Several different mutants pass every test: the tests do not pin the fix down."""


def _rivals(search: _Search, workdir: Path, found: sbfl.Suspect,
            suspects: Sequence[sbfl.Suspect], original: bytes, mutant: mutations.Mutant
            ) -> list[tuple[str, mutations.Mutant]]:
    """Other mutants, of lines at least as suspicious as the fix's, that pass every test too.

    A wrong fix that the tests cannot tell from the right one is the one a search accepts most
    easily; so a fix is proposed only when nothing else the search would try passes as well.
    """
    rivals: list[tuple[str, mutations.Mutant]] = []
    same_score = [s for s in suspects if s.score >= found.score]
    for suspect in same_score:
        path = workdir / suspect.path
        base = original if suspect.path == found.path else path.read_bytes()
        for other in mutations.mutants(base.decode("utf-8"), suspect.line):
            if suspect.path == found.path and _equivalent(other, mutant):
                continue
            if search.attempt(path, base, other) is not None:
                _restore(path, base)
                rivals.append((suspect.path, other))
                if len(rivals) >= 3:
                    return rivals
    return rivals


def _equivalent(a: mutations.Mutant, b: mutations.Mutant) -> bool:
    """The same change, or one that only writes the same condition differently."""
    if a.line != b.line:
        return False
    return a.source == b.source or _normal(a.after) == _normal(b.after)


_NEGATED = {ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


class _PushNot(ast.NodeTransformer):
    """`not (a is not b)` -> `a is b`, `not not x` -> `x`, `x * 1` -> `x`: one way to say it."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802 - ast's naming
        self.generic_visit(node)
        right = node.right.value if isinstance(node.right, ast.Constant) else None
        left = node.left.value if isinstance(node.left, ast.Constant) else None
        # Identities that keep the value and its type for ints and floats alike.
        if isinstance(node.op, ast.Mult) and right == 1 and right is not True:
            return node.left
        if isinstance(node.op, ast.Mult) and left == 1 and left is not True:
            return node.right
        if isinstance(node.op, ast.Add | ast.Sub) and right == 0 and right is not False:
            return node.left
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:  # noqa: N802 - ast's naming
        self.generic_visit(node)
        inner = node.operand
        if not isinstance(node.op, ast.Not):
            return node
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.Not):
            return inner.operand
        if isinstance(inner, ast.Compare) and len(inner.ops) == 1 and \
                type(inner.ops[0]) in _NEGATED:
            return ast.Compare(left=inner.left, ops=[_NEGATED[type(inner.ops[0])]()],
                               comparators=inner.comparators)
        return node


def _normal(line: str) -> str:
    """The line's syntax with negations pushed in; the text itself when it does not parse."""
    text = line.strip().removesuffix(":")
    for prefix in ("if ", "elif ", "while ", "return ", "assert "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    tree: ast.AST
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        try:
            tree = ast.parse(line.strip())  # a statement: `x = ...`, `total += ...`
        except SyntaxError:
            return line.strip()
    return ast.dump(_PushNot().visit(tree))


def _candidates(workdir: Path, suspects: Sequence[sbfl.Suspect]
                ) -> Iterator[tuple[int, sbfl.Suspect, bytes, mutations.Mutant]]:
    """(rank, line, its file's original bytes, mutant): common operators on every line first."""
    for tier in (TIER_ONE, TIER_TWO):
        for rank, suspect in enumerate(suspects, 1):
            path = workdir / suspect.path
            if not path.is_file():
                continue
            # Read from disk each time: the engine resets the worktree after every yield.
            original = path.read_bytes()
            try:
                source = original.decode("utf-8")
            except UnicodeDecodeError:
                continue
            for mutant in mutations.mutants(source, suspect.line, tier):
                yield rank, suspect, original, mutant


@dataclass(frozen=True)
class _Search:
    """How one candidate is judged: the failing tests first, then the whole suite."""

    ctx: RemedyContext
    workdir: Path
    loc: sbfl.Localisation
    failing: tuple[str, ...]
    deadline: float
    per_run: float

    def attempt(self, path: Path, original: bytes, mutant: mutations.Mutant) -> int | None:
        """Write the mutant; the number of tests checked when it fixes and breaks nothing.

        On None the original bytes are back in place; otherwise the mutant stays for the yield.
        """
        path.write_bytes(mutant.source.encode("utf-8"))
        keep = False
        try:
            quick = self._run(self.failing)
            if quick is None or not quick.passed or quick.missing_ids:
                return None
            # The whole suite: a mutant that fixes one test by breaking another is no fix.
            suite = self._run(self.loc.test_files)
            if suite is None or suite.timed_out:
                return None
            if set(suite.failed_ids) - set(self.loc.failed_tests):
                return None
            keep = True
            return len(self.loc.passed_tests) + len(self.failing)
        finally:
            if not keep:
                _restore(path, original)

    def _run(self, ids: Sequence[str]) -> TestOutcome | None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return self.ctx.run_tests(self.workdir, ids, timeout=min(self.per_run, remaining))
        except SutureError:
            return None  # pytest could not run at all with this mutant: not a candidate


def _restore(path: Path, original: bytes) -> None:
    if not path.is_file() or path.read_bytes() != original:
        path.write_bytes(original)


def _failures(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule_id in _FAILURE_RULES]


def _test_id(finding: Finding) -> str:
    """The node id a tests-gate finding names first: `<id> failed: <message>`."""
    return finding.message.split(" ", 1)[0]


def _tests_settings(target: FixTarget, ctx: RemedyContext
                    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Test paths, extra pytest arguments and exclude globs of the failed tests gate."""
    cfg = ctx.config.gates.get(target.stage.name)
    if isinstance(cfg, TestsConfig):
        return tuple(cfg.paths), tuple(cfg.args), tuple(cfg.exclude)
    return (), (), ()


def _proposal(trial: _Trial, loc: sbfl.Localisation, findings: Sequence[Finding], tried: int,
              elapsed: float, ranked: int) -> Proposal:
    s, m = trial.suspect, trial.mutant
    where = f"{s.path.rsplit('/', 1)[-1]}:{s.line}"
    summary = f"{m.description} in {where}"
    if len(summary) > _SUMMARY_MAX:
        summary = f"Fix the {m.operator} on {where}"[:_SUMMARY_MAX]
    fixed = set(trial.fixed)
    after = f"`{m.after}`" if m.after else "(statement deleted)"
    rationale = "\n".join((
        f"Search-based repair: a one-line {m.operator} mutation makes the failing test(s) pass.",
        "",
        f"Fault localisation ranked {s.path}:{s.line} {trial.rank} of {ranked} (Ochiai "
        f"{s.score:.3f}: run by {s.failed} of {len(loc.failed_tests)} failing and {s.passed} of "
        f"{len(loc.passed_tests)} passing tests).",
        f"Before: `{m.before}`",
        f"After:  {after}",
        f"Now passing: {', '.join(sorted(fixed)[:10])}" + (" ..." if len(fixed) > 10 else ""),
        f"Whole-suite check: no test of {', '.join(loc.test_files[:5])} that passed before "
        f"fails now ({trial.checked} tests).",
        f"Found after trying {tried} mutant(s) in {elapsed:.0f}s. A search-based fix is only "
        "as good as the tests that judge it: review that it is the intended behaviour.",
    ))
    addresses = tuple(f.fingerprint or f"test:{_test_id(f)}" for f in findings
                      if _test_id(f) in fixed)
    return Proposal(summary=summary, rationale=rationale, addresses=addresses)
