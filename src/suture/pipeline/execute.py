"""Running the planned gates: in parallel where independent, cached, recorded in the store."""

from __future__ import annotations

import os
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from suture import __version__, proc, repo
from suture.config import SutureConfig
from suture.errors import SutureError
from suture.gates import GATES
from suture.gates.interface import Gate, GateContext
from suture.model import Level, Run, RunStatus, StageResult, StageStatus
from suture.pipeline import baseline as baseline_mod
from suture.pipeline import findings as findings_mod
from suture.pipeline.cache import cache_key
from suture.pipeline.plan import plan
from suture.store import RunStore

_RANK = {Level.NOTE: 1, Level.WARNING: 2, Level.ERROR: 3}


class Progress(Protocol):
    """Receives live progress; the CLI renders it, tests may record it."""

    def stage_started(self, name: str) -> None:
        """A gate began (or began checking its cache)."""

    def stage_finished(self, result: StageResult) -> None:
        """A gate ended, was reused from the cache, or was skipped."""


class _Silent:
    def stage_started(self, name: str) -> None:
        pass

    def stage_finished(self, result: StageResult) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    """How to run: cache use, a subset of gates, parallelism."""

    use_cache: bool = True
    only: tuple[str, ...] = ()
    jobs: int | None = None
    advisory_db: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def run_pipeline(
    root: Path,
    config: SutureConfig,
    store: RunStore,
    options: RunOptions | None = None,
    progress: Progress | None = None,
) -> Run:
    """Run the configured gates on the repository at `root` and record the run."""
    options = options or RunOptions()
    progress = progress or _Silent()
    graph = plan(config, options.only)
    state = repo.state(root)
    python = repo.project_python(root, config.settings.python)
    store.mark_stale_running()
    proc.allow_runs()
    started = datetime.now(UTC)
    run = Run(
        run_id=uuid.uuid4().hex, status=RunStatus.RUNNING, root=str(root), commit=state.commit,
        branch=state.branch, dirty=state.dirty, config_digest=config.digest(),
        started_at=started, suture_version=__version__,
    )
    store.begin_run(run)
    t0 = time.monotonic()
    runner = _Runner(root, config, store, options, python)
    try:
        stages = runner.execute(graph, progress)
    except BaseException as exc:
        # Interrupted (Ctrl-C) or crashed: never leave the run looking complete.
        store.mark_interrupted(run.run_id, f"interrupted: {type(exc).__name__}: {exc}".strip())
        raise
    statuses = {s.status for s in stages}
    status = (RunStatus.ERROR if StageStatus.ERROR in statuses
              else RunStatus.FAILED if StageStatus.FAILED in statuses else RunStatus.PASSED)
    final = run.model_copy(update={
        "status": status, "stages": tuple(stages), "finished_at": datetime.now(UTC),
        "duration_s": round(time.monotonic() - t0, 3),
    })
    store.finish_run(final)
    return final


class _Runner:
    def __init__(self, root: Path, config: SutureConfig, store: RunStore, options: RunOptions,
                 python: str) -> None:
        self.root = root
        self.config = config
        self.store = store
        self.options = options
        self.python = python
        self.baseline = baseline_mod.load(root / config.settings.baseline)

    def execute(self, graph: dict[str, tuple[str, ...]], progress: Progress) -> list[StageResult]:
        results: dict[str, StageResult] = {}
        pending = dict(graph)
        running: dict[Future[StageResult], str] = {}
        jobs = self.options.jobs or self.config.settings.jobs or os.cpu_count() or 2
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="suture-gate")
        try:
            while pending or running:
                ready = [n for n, deps in pending.items() if all(d in results for d in deps)]
                for name in ready:
                    deps = pending.pop(name)
                    blocked = [d for d in deps if results[d].status != StageStatus.PASSED]
                    if blocked:
                        results[name] = self._skipped(name, blocked)
                        progress.stage_finished(results[name])
                        continue
                    progress.stage_started(name)
                    running[pool.submit(self.run_one, name)] = name
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = running.pop(fut)
                    results[name] = fut.result()
                    progress.stage_finished(results[name])
        except BaseException:
            # Interrupted: stop the tools now rather than wait for them to finish.
            pool.shutdown(wait=False, cancel_futures=True)
            proc.stop_all()
            raise
        pool.shutdown()
        return [results[n] for n in graph]

    def _skipped(self, name: str, blocked: list[str]) -> StageResult:
        return StageResult(
            name=name, kind=self.config.kind_of(name), status=StageStatus.SKIPPED,
            summary=f"skipped: needs {', '.join(blocked)}, which did not pass",
        )

    def run_one(self, name: str) -> StageResult:
        """Run one gate (or reuse its cached result) and judge it."""
        cfg = self.config.gates[name]
        kind = self.config.kind_of(name)
        gate = GATES[kind](name, cfg)
        t0 = time.monotonic()
        previous = self.store.last_passing_stage(name)
        ctx = GateContext(
            root=self.root, python=self.python, state_dir=self.root / ".suture",
            timeout=cfg.timeout or self.config.settings.timeout,
            previous_metrics=dict(previous.metrics) if previous else {},
            advisory_db=self.options.advisory_db, env=dict(self.options.extra_env),
        )
        key = ""
        version = ""
        try:
            version = gate.tool_version(ctx)
            if gate.cacheable:
                key = cache_key(gate, ctx, version)
                if self.options.use_cache:
                    hit = self.store.find_cached_stage(name, key)
                    if hit is not None:
                        return self._judge(gate, ctx, hit.model_copy(update={
                            "cached": True, "duration_s": round(time.monotonic() - t0, 3)}))
            report = gate.run(ctx)
        except SutureError as exc:
            return StageResult(
                name=name, kind=kind, status=StageStatus.ERROR, summary=exc.message,
                log=exc.hint or "", duration_s=round(time.monotonic() - t0, 3),
                tool_version=version,
            )
        except Exception as exc:  # a bug in suture or a gate: keep running the other gates
            return StageResult(
                name=name, kind=kind, status=StageStatus.ERROR,
                summary=f"internal error in the {kind} gate: {type(exc).__name__}: {exc}",
                log=traceback.format_exc(), duration_s=round(time.monotonic() - t0, 3),
            )
        result = StageResult(
            name=name, kind=kind, status=StageStatus.PASSED, summary=report.summary,
            findings=findings_mod.finish(self.root, report.findings), metrics=report.metrics,
            tool_version=version, log=report.log, cache_key=key,
            duration_s=round(time.monotonic() - t0, 3),
        )
        return self._judge(gate, ctx, result)

    def _judge(self, gate: Gate, ctx: GateContext, result: StageResult) -> StageResult:
        """Judge against history, apply the baseline, decide passed/failed from what is left."""
        kept = tuple(f for f in result.findings if f.rule_id not in gate.history_rules)
        history = findings_mod.finish(self.root, gate.judge_history(ctx, dict(result.metrics)))
        marked = baseline_mod.apply(self.baseline, kept + history)
        floor = _RANK[gate.config.fail_on]
        failing = [f for f in marked if not f.baselined and _RANK[f.level] >= floor]
        status = StageStatus.FAILED if failing else StageStatus.PASSED
        return result.model_copy(update={"findings": marked, "status": status})

