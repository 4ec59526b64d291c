"""Drives one release through its phases: start, route, watch, judge, then promote or roll back.

The stable version keeps serving until the new one is promoted. Every decision is persisted
(the release in the store, the running processes in the environment's state file) before the
next action, so a controller killed at any point leaves something `suture deploy resume` can
finish or roll back.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from suture.audit.events import AuditAction
from suture.audit.recorder import record
from suture.deploy import metrics
from suture.deploy import state as env_state
from suture.deploy.judge import CanaryJudge
from suture.deploy.model import (
    Judgement,
    Release,
    ReleaseStatus,
    RequestSample,
    Step,
    Verdict,
)
from suture.deploy.routers import get_router
from suture.deploy.routers.interface import Backend, Router, RouterState
from suture.deploy.settings import DeploySettings, Environment
from suture.deploy.state import EnvState, Instance, RouterInfo
from suture.deploy.strategies import STRATEGIES, Baseline, Phase
from suture.deploy.targets.interface import Target
from suture.deploy.targets.local import port_in_use
from suture.errors import SutureError, UsageError
from suture.store.releases import ReleaseStore
from suture.store.runs import RunStore

Progress = Callable[[str], None]
# Looks between HTTP health checks of the new version (a dead process is checked every look).
_HEALTH_EVERY = 5
# How long a phase may wait for enough traffic, in multiples of its interval, before it fails.
_MAX_WAIT_INTERVALS = 10
_RECENT_STABLE = 20_000
_MAX_REASON = 2000


class RollbackRequested(Exception):
    """`suture rollback` asked the controller to stop this release."""


@dataclass
class Controller:
    """Executes releases of one environment on a target behind a router."""

    root: Path
    store: RunStore
    settings: DeploySettings
    env: Environment
    env_name: str
    target: Target
    progress: Progress = print
    releases: ReleaseStore = field(init=False)
    router: Router = field(init=False)
    _recent_stable: deque[RequestSample] = field(init=False)

    def __post_init__(self) -> None:
        self.releases = ReleaseStore(self.store)
        self.dir = env_state.env_dir(self.root, self.env_name)
        self.router = get_router(self.settings.router, self.dir / "router")
        self._recent_stable = deque(maxlen=_RECENT_STABLE)

    # -- the release -----------------------------------------------------------------------------

    def execute(self, release: Release, start_phase: int = 0) -> Release:
        """Move traffic phase by phase; returns the release promoted, rolled back or failed."""
        st = env_state.load(self.root, self.env_name)
        stable = tuple(i for i in st.of(st.stable) if self.target.alive(i))
        phases = self._phases(release, has_stable=bool(stable))
        st = st.model_copy(update={"release_id": release.id, "instances": stable + tuple(
            i for i in st.of(release.commit) if self.target.alive(i) and release.commit != st.stable
        )})
        env_state.save(self.root, st)
        try:
            if stable:
                st = self._ensure_router(st, self._all(stable))
            for index in range(start_phase, len(phases)):
                phase = phases[index]
                st = self._enter(release, st, index, phase, stable)
                step, judgement, first_bad = self._hold(release, st, phase, index, stable)
                release = self._add_step(release, step)
                if judgement.verdict is Verdict.ROLLBACK:
                    return self._roll_back(release, st, stable, judgement.reason, first_bad)
            return self._promote(release, st, stable)
        except RollbackRequested:
            return self._roll_back(release, env_state.load(self.root, self.env_name), stable,
                                   "rollback requested by hand (suture rollback)", None)
        except (SutureError, KeyboardInterrupt, OSError) as exc:
            reason = ("interrupted: traffic sent back to the stable version"
                      if isinstance(exc, KeyboardInterrupt) else _explained(exc))
            done = self._roll_back(release, env_state.load(self.root, self.env_name), stable,
                                   reason, None, status=ReleaseStatus.FAILED)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return done

    def _phases(self, release: Release, *, has_stable: bool) -> list[Phase]:
        if not has_stable:  # nothing to compare with or fall back to: start it and switch
            return [Phase("first release (100%)", self.settings.replicas, 100,
                          baseline=Baseline.NONE)]
        return STRATEGIES[release.strategy](self.settings)

    def _enter(self, release: Release, st: EnvState, index: int, phase: Phase,
               stable: Sequence[Instance]) -> EnvState:
        new = list(st.of(release.commit))
        while len(new) < phase.new_instances:
            name = f"{release.commit[:12]}-{len(new) + 1}"
            self.progress(f"starting {name} ...")
            new.append(self.target.start(release.commit, name))
            st = st.model_copy(update={"instances": tuple(stable) + tuple(new)})
            env_state.save(self.root, st)
        backends = self._backends(new, stable, phase)
        if not stable:  # a first release: the router starts once there is something to serve
            st = self._ensure_router(st, backends)
        self.router.route(backends)
        st = st.model_copy(update={"phase": index})
        env_state.save(self.root, st)
        self.progress(f"phase {index + 1}: {phase.label}")
        return st

    def _backends(self, new: Sequence[Instance], stable: Sequence[Instance],
                  phase: Phase) -> list[Backend]:
        keep = len(stable) if phase.stable_in_rotation is None else phase.stable_in_rotation
        rotating = list(stable)[:keep] if phase.new_share < 100 else []
        backends: list[Backend] = []
        if phase.new_share > 0 or not rotating:
            share_each = phase.new_share * max(1, len(rotating))
            backends += [Backend(i.name, i.version, i.port, share_each or 1) for i in new]
        if rotating:
            stable_each = (100 - phase.new_share) * max(1, len(new) if phase.new_share else 1)
            backends += [Backend(i.name, i.version, i.port, stable_each) for i in rotating]
        return backends

    def _hold(self, release: Release, st: EnvState, phase: Phase, index: int,
              stable: Sequence[Instance]) -> tuple[Step, Judgement, float | None]:
        """Watch one phase until the judge decides; returns the step and the first bad moment."""
        started = datetime.now(UTC)
        new = st.of(release.commit)
        version = release.commit[:12]
        self._drain(version)  # requests before this split belong to the previous phase
        before = list(self._recent_stable)
        judge = CanaryJudge(self.settings.judge, self.settings.slo)
        base: list[RequestSample] = []
        can: list[RequestSample] = []
        t0 = time.monotonic()
        interval = self.settings.canary.interval_s
        looks = 0
        while True:
            time.sleep(self.settings.canary.look_s)
            looks += 1
            self._check_requests()
            for s in self._drain(version):
                (can if s.version == version else base).append(s)
            dead = [i.name for i in new if not self.target.alive(i)]
            if not dead and looks % _HEALTH_EVERY == 0:
                dead = [f"{i.name} (health check)" for i in new if not self.target.healthy(i)]
            if dead:
                j = Judgement(verdict=Verdict.ROLLBACK, reason=f"new version failed: "
                              f"{', '.join(dead)} stopped answering",
                              metrics={"requests": len(can)})
                return self._step(index, phase, j, len(can), started), j, time.time()
            elapsed = time.monotonic() - t0
            final = elapsed >= interval
            if phase.baseline is Baseline.NONE:
                # Nothing to compare: 0% waits for a stable baseline, 100% (the judge already
                # ruled on the lower steps) and a first release need only live instances.
                enough = len(self._recent_stable) >= self.settings.judge.min_requests
                if final or phase.new_share == 100 or (phase.new_share == 0 and enough):
                    j = Judgement(verdict=Verdict.PROMOTE, reason="healthy",
                                  metrics={"requests": len(can)})
                    return self._step(index, phase, j, len(can), started), j, None
                continue
            baseline = before if phase.baseline is Baseline.BEFORE else base
            extra = None
            if phase.baseline is Baseline.CONCURRENT and metrics.configured(self.settings):
                extra = metrics.compare(self.settings, stable, new)
            j = judge.judge(baseline, can, final=final, extra=extra)
            if j.verdict is Verdict.ROLLBACK:
                return self._step(index, phase, j, len(can), started), j, _first_bad(can, baseline)
            if j.verdict is Verdict.PROMOTE and final:
                return self._step(index, phase, j, len(can), started), j, None
            if final and elapsed >= interval * _MAX_WAIT_INTERVALS:
                raise UsageError(
                    f"phase {phase.label} reached no verdict in {elapsed:.0f}s: {j.reason}",
                    hint="send more traffic (suture deploy --load RPS drives some on 127.0.0.1), "
                    "or lower deploy.judge.min_requests")
            if final and looks % 10 == 0:
                self.progress(f"  waiting: {j.reason}")

    def _step(self, index: int, phase: Phase, j: Judgement, requests: int,
              started: datetime) -> Step:
        self.progress(f"  {j.verdict.value}: {j.reason}")
        return Step(index=index, weight=phase.new_share, verdict=j.verdict, reason=j.reason,
                    requests=requests, metrics=dict(j.metrics), started_at=started,
                    ended_at=datetime.now(UTC))

    def _add_step(self, release: Release, step: Step) -> Release:
        release = release.model_copy(update={"steps": (*release.steps, step)})
        self.releases.save(release)
        self.releases.add_event(release, "step", step.model_dump(mode="json"))
        record(self.store, AuditAction.JUDGE_VERDICT, f"release/{release.id}/{step.index}", {
            "env": release.env, "weight": step.weight, "verdict": step.verdict,
            "reason": step.reason, "requests": step.requests, "metrics": step.metrics,
        }, root=self.root)
        return release

    def _drain(self, version: str) -> list[RequestSample]:
        fresh = self.router.samples()
        self._recent_stable.extend(s for s in fresh if s.version != version)
        return fresh

    def _check_requests(self) -> None:
        if (self.dir / "rollback.request").exists():
            raise RollbackRequested()

    # -- endings ---------------------------------------------------------------------------------

    def _promote(self, release: Release, st: EnvState, stable: Sequence[Instance]) -> Release:
        new = st.of(release.commit)
        self.router.route(self._all(new))
        st = st.model_copy(update={"stable": release.commit, "instances": new,
                                   "release_id": None, "phase": 0})
        env_state.save(self.root, st)
        for inst in stable:
            if inst.commit != release.commit:
                self.target.stop(inst)
        now = datetime.now(UTC)
        release = release.model_copy(update={"status": ReleaseStatus.PROMOTED, "ended_at": now})
        self.releases.save(release)
        self.releases.add_event(release, "promoted", {"commit": release.commit}, at=now)
        record(self.store, AuditAction.DEPLOY_STEP, f"release/{release.id}", {
            "env": release.env, "event": "promoted", "commit": release.commit,
            "strategy": release.strategy,
        }, root=self.root)
        self.progress(f"promoted {release.commit[:10]} in {release.env}")
        return release

    def _roll_back(self, release: Release, st: EnvState, stable: Sequence[Instance],
                   reason: str, first_bad: float | None,
                   status: ReleaseStatus = ReleaseStatus.ROLLED_BACK) -> Release:
        decided = datetime.now(UTC)
        alive = [i for i in stable if self.target.alive(i)]
        restored: datetime | None = None
        if alive:
            try:
                if not self.router.alive():
                    st = self._ensure_router(st, self._all(alive))
                self.router.route(self._all(alive))
                restored = datetime.now(UTC)
            except SutureError as exc:
                reason += f"; routing back failed: {exc}"
        for inst in st.of(release.commit):
            if inst.commit != st.stable:
                self.target.stop(inst)
        st = st.model_copy(update={"instances": tuple(alive), "release_id": None, "phase": 0})
        env_state.save(self.root, st)
        (self.dir / "rollback.request").unlink(missing_ok=True)
        bad_at = datetime.fromtimestamp(first_bad, UTC) if first_bad else None
        mttr = (restored - bad_at).total_seconds() if restored and bad_at else None
        release = release.model_copy(update={
            "status": status, "ended_at": datetime.now(UTC), "error": reason,
            "first_bad_at": bad_at, "decided_at": decided, "restored_at": restored,
            "mttr_s": mttr,
        })
        self.releases.save(release)
        self.releases.add_event(release, "rolled_back", {
            "reason": reason, "first_bad_at": bad_at.isoformat() if bad_at else None,
            "restored_at": restored.isoformat() if restored else None, "mttr_s": mttr,
        }, at=restored or decided)
        record(self.store, AuditAction.ROLLBACK, f"release/{release.id}", {
            "env": release.env, "commit": release.commit, "status": status, "reason": reason,
            "mttr_s": mttr, "stable": st.stable,
        }, root=self.root)
        self.progress(f"{status.value}: {reason}" + (f" (traffic back on stable "
                                                    f"{mttr:.2f}s after the first bad request)"
                                                    if mttr is not None else ""))
        return release

    def preflight(self) -> None:
        """Refuse early, before anything is recorded, when the environment's port is taken."""
        st = env_state.load(self.root, self.env_name)
        if st.router is not None:
            self.router.attach(RouterState(**st.router.model_dump()))
            if self.router.alive():
                return
        if port_in_use(self.env.port):
            raise UsageError(
                f"port {self.env.port} of environment {self.env_name!r} is in use by another "
                "process", hint="stop it, or choose another `port:` for the environment in "
                "suture.yml")

    # -- by hand ---------------------------------------------------------------------------------

    def abandon(self, release: Release, reason: str) -> Release:
        """Roll back a release nobody is driving any more (its controller died)."""
        st = env_state.load(self.root, self.env_name)
        stable = tuple(i for i in st.of(st.stable) if self.target.alive(i))
        return self._roll_back(release, st, stable, reason, None)

    def cancel(self, release: Release, reason: str) -> Release:
        """End a release that never moved traffic (it was still awaiting approval)."""
        release = release.model_copy(update={"status": ReleaseStatus.FAILED, "error": reason,
                                             "ended_at": datetime.now(UTC)})
        self.releases.save(release)
        self.releases.add_event(release, "cancelled", {"reason": reason})
        record(self.store, AuditAction.DEPLOY_STEP, f"release/{release.id}", {
            "env": release.env, "event": "cancelled", "reason": reason}, root=self.root)
        self.progress(f"cancelled release {release.id[:12]}: {reason}")
        return release

    def revert_to_previous(self, recent: Sequence[Release]) -> Release:
        """Serve the previously promoted commit again; the current release becomes rolled back."""
        st = env_state.load(self.root, self.env_name)
        current = next((r for r in recent if r.status is ReleaseStatus.PROMOTED
                        and r.commit == st.stable), None)
        older = [r for r in recent if r.status is ReleaseStatus.PROMOTED and r.commit != st.stable
                 and (current is None or r.started_at < current.started_at)]
        if current is None or not older:
            raise UsageError(f"environment {self.env_name!r} has no earlier promoted release to "
                             "go back to", hint="`suture releases --env "
                             f"{self.env_name}` shows its history")
        previous = older[0]
        decided = datetime.now(UTC)
        serving = tuple(i for i in st.of(st.stable) if self.target.alive(i))
        st = self._ensure_router(st, self._all(serving)) if serving else st
        back = list(i for i in st.of(previous.commit) if self.target.alive(i))
        while len(back) < self.settings.replicas:
            back.append(self.target.start(previous.commit,
                                          f"{previous.commit[:12]}-{len(back) + 1}"))
            env_state.save(self.root, st.model_copy(update={"instances": serving + tuple(back)}))
        if not self.router.alive():
            st = self._ensure_router(st, self._all(back))
        self.router.route(self._all(back))
        restored = datetime.now(UTC)
        env_state.save(self.root, st.model_copy(update={
            "stable": previous.commit, "instances": tuple(back), "release_id": None}))
        for inst in serving:
            self.target.stop(inst)
        reason = f"rolled back by hand to {previous.commit[:10]} (release {previous.id[:12]})"
        current = current.model_copy(update={
            "status": ReleaseStatus.ROLLED_BACK, "error": reason, "decided_at": decided,
            "restored_at": restored})
        self.releases.save(current)
        self.releases.add_event(current, "rolled_back", {"reason": reason, "to": previous.commit,
                                                          "restored_at": restored.isoformat()},
                                at=restored)
        record(self.store, AuditAction.ROLLBACK, f"release/{current.id}", {
            "env": current.env, "commit": current.commit, "to": previous.commit,
            "reason": reason, "status": ReleaseStatus.ROLLED_BACK}, root=self.root)
        self.progress(reason)
        return current

    @staticmethod
    def _all(instances: Sequence[Instance]) -> list[Backend]:
        """Every instance with an equal share."""
        return [Backend(i.name, i.version, i.port, 1) for i in instances]

    def _ensure_router(self, st: EnvState, backends: Sequence[Backend]) -> EnvState:
        """Reattach to the environment's router, or start it; returns the state naming it."""
        if st.router is not None:
            self.router.attach(RouterState(**st.router.model_dump()))
            if self.router.alive():
                return st
        if port_in_use(self.env.port):
            raise UsageError(
                f"port {self.env.port} of environment {self.env_name!r} is in use by another "
                "process", hint="stop it, or choose another `port:` for the environment in "
                "suture.yml")
        rs = self.router.start(self.env.port, backends)
        info = RouterInfo(kind=rs.kind, listen_port=rs.listen_port, pid=rs.pid,
                          admin_port=rs.admin_port, workdir=rs.workdir)
        st = st.model_copy(update={"router": info})
        env_state.save(self.root, st)
        self.progress(f"router ({rs.kind}) serving {self.env_name} on 127.0.0.1:{rs.listen_port}")
        return st


def _explained(exc: BaseException) -> str:
    """The error and its hint (e.g. the tail of a crashed instance's log), bounded."""
    hint = getattr(exc, "hint", None)
    text = f"{exc} (hint: {hint})" if hint else str(exc)
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + " ..."


def _first_bad(canary: Sequence[RequestSample], baseline: Sequence[RequestSample]
               ) -> float | None:
    """When the new version first misbehaved: its first error, else its first slow answer."""
    errors = [s.at for s in canary if s.is_error]
    if errors:
        return min(errors)
    if baseline:
        lat = sorted(s.latency_s for s in baseline)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        slow = [s.at for s in canary if s.latency_s > p95]
        if slow:
            return min(slow)
    return min((s.at for s in canary), default=None)

