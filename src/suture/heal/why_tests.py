"""Whys for the tests gate: which test, where, flaky or not, and which commit broke it."""

from __future__ import annotations

import re

from suture import config as config_mod
from suture import proc
from suture.errors import SutureError
from suture.heal import evidence
from suture.heal.bisect import BisectResult, Verdict, find_culprit
from suture.heal.context import DiagnoseContext
from suture.heal.flaky import check_flaky
from suture.model import Category, Diagnosis, Evidence, EvidenceKind, Finding, StageResult, Why

_MISSING_MODULE = re.compile(r"No module named '?([\w.]+)'?|cannot import name '?(\w+)'?")
_FAILURE_RULES = ("tests/failed", "tests/error")


def explain(ctx: DiagnoseContext, stage: StageResult) -> Diagnosis:
    """Chain down from the failing tests to a flake, a missing module, a commit, or a test bug."""
    failing = [f for f in stage.new_findings if f.rule_id in _FAILURE_RULES]
    if not failing:
        return _coverage(ctx, stage)
    ids = [_test_id(f) for f in failing]
    chain = [Why(
        question=f"Why did the {stage.name} gate fail?",
        answer=f"{len(failing)} test(s) failed: {', '.join(ids[:5])}"
        + (" ..." if len(ids) > 5 else ""),
        evidence=tuple(Evidence(kind=EvidenceKind.TEST, text=f.message[:500], ref=_test_id(f),
                                path=f.path, line=f.line) for f in failing[:5]),
    )]
    top = failing[0]
    where = f"{top.path}:{top.line}" if top.path and top.line else "an unknown line"
    code = evidence.code_at(ctx.root, top.path, top.line)
    chain.append(Why(
        question=f"Why did {_test_id(top)} fail?",
        answer=f"{_message(top)} (deepest frame in the project: {where})",
        evidence=tuple(e for e in (evidence.finding_evidence(top), code) if e),
    ))
    missing = _MISSING_MODULE.search(top.message)
    if missing:
        return _missing_dependency(stage, chain, missing.group(1) or missing.group(2))
    selected = ids[: ctx.settings.max_tests]
    try:
        reports, spent = check_flaky(ctx.root, ctx.python, selected, reruns=ctx.settings.reruns,
                                     timeout=ctx.settings.timeout)
    except SutureError as exc:
        chain.append(Why(question="Does the failure reproduce in isolation?",
                         answer=f"could not re-run the tests: {exc.message}", confidence=0.3))
        return _escalate(stage, chain, "the failing tests could not be re-run to confirm")
    flaky = [r for r in reports.values() if r.flaky]
    chain.append(Why(
        question="Is the failure deterministic, or is a test flaky?",
        answer="; ".join(f"{r.test_id}: failed {r.failures} of {r.runs} isolated runs"
                         for r in reports.values()),
        evidence=tuple(Evidence(kind=EvidenceKind.TEST, ref=r.test_id,
                                text=f"{r.failures}/{r.runs} isolated runs failed")
                       for r in reports.values()),
    ))
    if flaky:
        names = ", ".join(r.test_id for r in flaky)
        return Diagnosis(
            stage=stage.name, category=Category.FLAKY_TEST, chain=tuple(chain), confidence=0.85,
            root_cause=f"{names} fails intermittently: the code did not change between runs",
            test_executions=spent,
            remedies=("find the nondeterminism (time, randomness, ordering, shared state, network)",
                      "quarantine the test until it is fixed; do not delete it"),
        )
    always = [r.test_id for r in reports.values() if r.always_fails]
    if not always:
        chain.append(Why(question="Why does it pass when run alone?",
                         answer="every isolated run passed: the failure depends on other tests "
                         "(order or shared state)", confidence=0.6))
        return Diagnosis(
            stage=stage.name, category=Category.TEST_BUG, chain=tuple(chain), confidence=0.6,
            root_cause=f"{_test_id(top)} passes alone but fails in the suite: tests share state",
            test_executions=spent,
            remedies=("isolate the shared state (fixtures, globals, files, database rows)",),
        )
    return _culprit(ctx, stage, chain, always, spent)


def _culprit(ctx: DiagnoseContext, stage: StageResult, chain: list[Why], tests: list[str],
             spent: int) -> Diagnosis:
    base = ctx.base_ref or ctx.store.last_passing_commit(stage.name, ctx.run.started_at)
    bad = ctx.run.commit
    question = "Which change made it fail?"
    if not ctx.settings.bisect or base is None or bad is None or base == bad:
        origin = _origin_without_history(ctx, stage, tests)
        why = "no earlier passing run to compare with" if base is None else \
            "the last passing run was at this same commit"
        chain.append(Why(question=question, answer=f"{why}; git blame on the failing line: "
                         f"{origin.text if origin else 'unknown'}",
                         evidence=(origin,) if origin else (), confidence=0.5))
        if origin is not None and origin.commit is None and "uncommitted" in origin.text:
            return Diagnosis(
                stage=stage.name, category=Category.REGRESSION, chain=tuple(chain),
                confidence=0.7, test_executions=spent,
                root_cause=f"uncommitted changes in the working tree break {tests[0]}",
                remedies=("review `git diff`", "revert the uncommitted change that broke it"),
            )
        return _escalate(stage, chain, f"{tests[0]} fails deterministically and there is no "
                         "passing run to bisect against", spent, culprit=origin)
    try:
        result = find_culprit(ctx.root, ctx.root, ctx.python, tests, good=base, bad=bad,
                              timeout=ctx.settings.timeout)
    except SutureError as exc:
        chain.append(Why(question=question, answer=f"could not search the history: {exc.message}",
                         evidence=(Evidence(kind=EvidenceKind.NOTE, text=exc.hint or ""),),
                         confidence=0.3))
        return _escalate(stage, chain, f"{tests[0]} fails deterministically; the history could "
                         "not be searched", spent)
    spent += result.executions
    if result.culprit is None and result.verdict == Verdict.NOT_REPRODUCED and ctx.run.dirty:
        chain.append(Why(question=question, answer=_no_culprit(result), confidence=0.8))
        return Diagnosis(
            stage=stage.name, category=Category.REGRESSION, chain=tuple(chain), confidence=0.8,
            test_executions=spent,
            root_cause=f"uncommitted changes in the working tree break {tests[0]}",
            remedies=("review `git diff`", "revert the uncommitted change that broke it"),
        )
    if result.culprit is None:
        chain.append(Why(question=question, answer=_no_culprit(result), confidence=0.4,
                         evidence=tuple(Evidence(kind=EvidenceKind.TEST, commit=c,
                                                 text=f"{c[:10]} {'passed' if ok else 'failed'}")
                                        for c, ok in result.probes)))
        return _escalate(stage, chain, f"{tests[0]} fails but no commit since {base[:10]} "
                         "explains it", spent)
    hunks = "\n".join(result.hunks)[:4000]
    chain.append(Why(
        question=question,
        answer=f"bisecting {result.candidates} commit(s) between {base[:10]} (passing) and "
        f"{bad[:10]} (failing) found {result.culprit[:10]} \"{result.message}\" by {result.author} "
        f"in {result.executions} test executions",
        evidence=(Evidence(kind=EvidenceKind.COMMIT, commit=result.culprit,
                           text=f"{result.culprit[:10]} {result.message}"),
                  Evidence(kind=EvidenceKind.CODE, text=hunks or "(no diff)")),
        confidence=0.9,
    ))
    only_tests = _touches_only_tests(ctx, result.culprit)
    category = Category.TEST_BUG if only_tests else Category.REGRESSION
    what = "changed only tests" if only_tests else "changed the code under test"
    return Diagnosis(
        stage=stage.name, category=category, culprit_commit=result.culprit, chain=tuple(chain),
        confidence=0.9, test_executions=spent,
        root_cause=f"commit {result.culprit[:10]} \"{result.message}\" {what} and broke "
        f"{', '.join(tests[:3])}",
        remedies=(f"fix the change in {result.culprit[:10]} (the hunk is in the evidence)",
                  f"or revert it: git revert {result.culprit[:10]}"),
    )


def _no_culprit(result: BisectResult) -> str:
    if result.verdict == Verdict.NOT_REPRODUCED:
        return (f"the tests pass at the run's commit {result.bad[:10]} in a clean worktree: the "
                "failure comes from uncommitted changes")
    return (f"the tests fail at {result.good[:10]} too, so the failure predates the last passing "
            "run: the environment or a dependency changed, not the code")


def _origin_without_history(ctx: DiagnoseContext, stage: StageResult,
                            tests: list[str]) -> Evidence | None:
    top = next(f for f in stage.new_findings if f.rule_id in _FAILURE_RULES)
    return evidence.blame(ctx.root, top.path, top.line)


def _touches_only_tests(ctx: DiagnoseContext, commit: str) -> bool:
    res = proc.run(("git", "show", "--name-only", "--format=", commit), cwd=ctx.root, timeout=60)
    names = [n for n in res.stdout.splitlines() if n.strip()]
    return bool(names) and all(
        "/tests/" in f"/{n}" or n.rsplit("/", 1)[-1].startswith("test_") for n in names
    )


def _missing_dependency(stage: StageResult, chain: list[Why], module: str) -> Diagnosis:
    top_level = module.split(".")[0]
    chain.append(Why(question=f"Why can't Python import {module}?",
                     answer=f"the package providing '{top_level}' is not installed in the "
                     "project's environment (or not declared as a dependency)", confidence=0.9))
    return Diagnosis(
        stage=stage.name, category=Category.MISSING_DEPENDENCY, chain=tuple(chain), confidence=0.9,
        root_cause=f"module '{module}' is not installed in the project's environment",
        remedies=(f"declare the package that provides '{top_level}' in requirements/pyproject "
                  "and install it", "check for a typo in the import"),
    )


def _none_collected(ctx: DiagnoseContext, stage: StageResult, f: Finding) -> Diagnosis:
    """pytest found nothing to run: the gate points at the wrong place or the tests are gone."""
    configured = _test_paths(ctx, stage.name)
    paths = ", ".join(configured) if configured else "pytest's default locations"
    chain = [Why(question=f"Why did the {stage.name} gate fail?", answer=f.message,
                 evidence=(evidence.finding_evidence(f),)),
             Why(question="Why were no tests collected?",
                 answer=f"the gate looks for tests in {paths} and pytest found no test "
                 "functions there (test_*.py files with test_* functions)",
                 evidence=(Evidence(kind=EvidenceKind.NOTE, path="suture.yml",
                                    text=f"gates.{stage.name}.paths: {configured or '(unset)'}"),),
                 confidence=0.8)]
    return Diagnosis(
        stage=stage.name, category=Category.CONFIG_ERROR, chain=tuple(chain), confidence=0.8,
        root_cause=f"the {stage.name} gate collects no tests from {paths}",
        remedies=(f.fix_hint or "point `gates.tests.paths` at the tests",
                  "check that test files and functions are named test_*"),
    )


def _test_paths(ctx: DiagnoseContext, name: str) -> list[str]:
    """The gate's configured test paths, read from the current suture.yml."""
    try:
        gate = config_mod.load(ctx.root).gates.get(name)
    except SutureError:
        return []
    return [str(p) for p in getattr(gate, "paths", None) or []]


def _coverage(ctx: DiagnoseContext, stage: StageResult) -> Diagnosis:
    none = [f for f in stage.new_findings if f.rule_id == "tests/none-collected"]
    if none:
        return _none_collected(ctx, stage, none[0])
    cov = [f for f in stage.new_findings if f.rule_id.startswith("coverage/")]
    if not cov:
        return _escalate(stage, [Why(question=f"Why did the {stage.name} gate fail?",
                                     answer=stage.summary, confidence=0.2)],
                         "the tests gate failed without a failing test or coverage finding")
    f = cov[0]
    base = ctx.base_ref or ctx.store.last_passing_commit(stage.name, ctx.run.started_at)
    changed: list[str] = []
    if base and ctx.run.commit and base != ctx.run.commit:
        res = proc.run(("git", "diff", "--name-only", f"{base}..{ctx.run.commit}", "--", "*.py"),
                       cwd=ctx.root, timeout=60)
        changed = [n for n in res.stdout.splitlines() if n and "test" not in n]
    chain = [Why(question=f"Why did the {stage.name} gate fail?", answer=f.message,
                 evidence=(evidence.finding_evidence(f),)),
             Why(question="Which code is not covered?",
                 answer=("code changed since the last passing run: " + ", ".join(changed[:10]))
                 if changed else "no change since the last passing run names the uncovered code",
                 confidence=0.7 if changed else 0.4)]
    return Diagnosis(
        stage=stage.name, category=Category.TEST_BUG, chain=tuple(chain),
        confidence=0.75 if changed else 0.5,
        root_cause=f"{f.message}: tests are missing for "
        + (", ".join(changed[:5]) if changed else "part of the code"),
        remedies=("add tests for the uncovered lines (coverage report -m lists them)",),
    )


def _escalate(stage: StageResult, chain: list[Why], why: str, spent: int = 0,
              culprit: Evidence | None = None) -> Diagnosis:
    return Diagnosis(
        stage=stage.name, category=Category.UNKNOWN, chain=tuple(chain), confidence=0.3,
        escalated=True, root_cause=f"not settled offline: {why}", test_executions=spent,
        culprit_commit=culprit.commit if culprit else None,
        remedies=("a person should look at the evidence above",
                  "configure an LLM provider (llm: in suture.yml) for a deeper look"),
    )


def _test_id(f: Finding) -> str:
    return f.message.split(" ", 1)[0]


def _message(f: Finding) -> str:
    parts = f.message.split(": ", 1)
    return parts[1] if len(parts) == 2 else f.message
