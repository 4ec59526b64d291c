"""The deploy commands as library calls: deploy, resume, roll back by hand. The CLI renders them."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from suture.audit.events import AuditAction
from suture.audit.recorder import record
from suture.config import SutureConfig
from suture.deploy import approvals, risk
from suture.deploy import state as env_state
from suture.deploy.controller import Controller, Progress
from suture.deploy.load import LoadHandle
from suture.deploy.load import start as start_load
from suture.deploy.model import Release, ReleaseStatus, Strategy
from suture.deploy.settings import DeploySettings, Environment
from suture.deploy.targets.local import LocalTarget
from suture.errors import ConfigError, UsageError
from suture.heal.worktree import git, resolve_commit, toplevel
from suture.store.liveness import pid_alive, this_host
from suture.store.releases import Holder, ReleaseStore, busy
from suture.store.runs import RunStore

# Bounds of --load: enough for a judge to decide, never an unbounded flood.
LOAD_MAX_S = 900.0


@dataclass(frozen=True)
class DeployOptions:
    """What the user asked `suture deploy` for."""

    env: str
    commit: str = "HEAD"
    strategy: Strategy | None = None
    wait_for_approval: bool = True
    load_rps: float | None = None
    load_paths: tuple[str, ...] = ()


class Deployer:
    """Runs releases of one repository: plans them, holds them for approval, drives them."""

    def __init__(self, root: Path, config: SutureConfig, store: RunStore,
                 progress: Progress = print) -> None:
        self.root = root
        self.config = config
        self.settings: DeploySettings = config.settings.deploy
        self.store = store
        self.releases = ReleaseStore(store)
        self.progress = progress

    def environment(self, name: str) -> Environment:
        """The named environment of `deploy.environments`; a ConfigError lists the known ones."""
        env_state.check_env_name(name)
        found = self.settings.environments.get(name)
        if found is None:
            known = ", ".join(sorted(self.settings.environments)) or "none configured"
            raise ConfigError(f"no environment {name!r} in suture.yml deploy.environments "
                              f"(known: {known})",
                              hint="add it, e.g. `deploy: {environments: {staging: {port: 8081}}}`")
        return found

    def plan(self, opts: DeployOptions) -> Release:
        """Score the release's risk and choose its strategy; nothing moves yet."""
        env = self.environment(opts.env)
        top = toplevel(self.root)
        commit = resolve_commit(top, opts.commit)
        st = env_state.load(self.root, opts.env)
        facts = risk.gather_facts(self.root, self.store, commit, st.stable,
                                  self.releases.last_failure_at(opts.env))
        scored = risk.assess(facts)
        strategy = opts.strategy or env.strategy or self.settings.strategy
        auto_high = False
        if strategy is Strategy.AUTO:
            strategy = risk.strategy_for(scored)
            auto_high = risk.approval_required(scored)
        needs = approvals.required(env, scored.level, auto_high)
        author = git(top, "log", "-1", "--format=%an <%ae>", commit).stdout.strip() or None
        return Release(
            id=uuid.uuid4().hex, env=opts.env, commit=commit, strategy=strategy,
            status=ReleaseStatus.AWAITING_APPROVAL if needs else ReleaseStatus.RUNNING,
            risk=scored, started_at=datetime.now(UTC), author=author,
            actor=approvals.who(self.root), run_id=facts.run_id, stable_commit=st.stable,
        )

    def deploy(self, opts: DeployOptions, on_plan: Callable[[Release], None] | None = None
               ) -> Release:
        """Plan, record, wait for approval if policy says so, then drive the release."""
        env = self.environment(opts.env)
        holder = self.releases.active(opts.env)
        if holder is not None:
            raise busy(holder)
        self._controller(opts.env, env).preflight()
        release = self.plan(opts)
        if on_plan is not None:
            on_plan(release)
        self.releases.begin(release, os.getpid())
        self.releases.add_event(release, "started", {
            "strategy": release.strategy, "risk": release.risk.model_dump(mode="json"),
            "stable": release.stable_commit,
        }, at=release.started_at)
        record(self.store, AuditAction.DEPLOY_STEP, f"release/{release.id}", {
            "env": release.env, "event": "started", "commit": release.commit,
            "strategy": release.strategy, "risk_score": release.risk.score,
            "risk_level": release.risk.level, "status": release.status,
        }, actor=release.actor, root=self.root)
        if release.status is ReleaseStatus.AWAITING_APPROVAL:
            if not opts.wait_for_approval:
                self.progress(f"release {release.id[:12]} awaits approval: "
                              f"`suture approve {release.id[:12]}`, then `suture deploy resume`")
                return release
            release = self._await_approval(release, env)
            if release.status is not ReleaseStatus.RUNNING:
                return release
        return self._drive(release, env, opts)

    def resume(self, env_name: str | None, opts: DeployOptions | None = None) -> Release:
        """Take over an unfinished release whose controller died: finish it or roll it back."""
        holder = self.releases.active(env_name)
        if holder is None:
            where = f"environment {env_name!r}" if env_name else "any environment"
            raise UsageError(f"no unfinished release in {where}",
                             hint="`suture releases` shows them all")
        self._refuse_live(holder)
        release = holder.release
        env = self.environment(release.env)
        self.releases.claim(release.id, os.getpid())
        self.progress(f"resuming release {release.id[:12]} of {release.commit[:10]} in "
                      f"{release.env} (was {release.status.value})")
        if release.status is ReleaseStatus.AWAITING_APPROVAL:
            release = self._await_approval(release, env)
            if release.status is not ReleaseStatus.RUNNING:
                return release
            return self._drive(release, env, opts or DeployOptions(env=release.env))
        st = env_state.load(self.root, release.env)
        controller = self._controller(release.env, env)
        target = controller.target
        new_alive = [i for i in st.of(release.commit) if target.alive(i)]
        can_continue = (st.release_id == release.id and bool(new_alive)
                        and release.strategy is Strategy.CANARY)
        if can_continue:
            self.progress(f"continuing at phase {st.phase + 1}")
            return self._drive(release, env, opts or DeployOptions(env=release.env),
                               start_phase=st.phase)
        return controller.abandon(release, "the controller died mid-release; traffic sent back "
                                           "to the stable version by `suture deploy resume`")

    def rollback(self, env_name: str, wait_s: float = 30.0) -> Release:
        """Send an environment back: stop the running release, or return to the previous one."""
        env = self.environment(env_name)
        holder = self.releases.active(env_name)
        if holder is not None and holder.release.status is ReleaseStatus.RUNNING:
            if holder.host == this_host() and pid_alive(holder.pid):
                flag = env_state.env_dir(self.root, env_name) / "rollback.request"
                flag.parent.mkdir(parents=True, exist_ok=True)
                flag.write_text(approvals.who(self.root) + "\n", encoding="utf-8")
                deadline = time.monotonic() + wait_s
                while time.monotonic() < deadline:
                    done = self.releases.get(holder.release.id)
                    if done.status not in (ReleaseStatus.RUNNING,):
                        return done
                    time.sleep(0.05)
                raise UsageError(f"the controller (pid {holder.pid}) did not act on the "
                                 f"rollback request within {wait_s:g}s",
                                 hint="run `suture rollback` again, or stop that process and run "
                                 "`suture deploy resume`")
            self._refuse_live(holder)
            self.releases.claim(holder.release.id, os.getpid())
            return self._controller(env_name, env).abandon(
                holder.release, "rolled back by hand (suture rollback)")
        if holder is not None:  # awaiting approval: nothing moved, just cancel it
            return self._controller(env_name, env).cancel(holder.release, "cancelled by "
                                                          "`suture rollback`")
        return self._controller(env_name, env).revert_to_previous(
            self.releases.recent(env=env_name, limit=50))

    def _drive(self, release: Release, env: Environment, opts: DeployOptions,
               start_phase: int = 0) -> Release:
        controller = self._controller(release.env, env)
        load: LoadHandle | None = None
        if opts.load_rps:
            load = start_load(f"http://127.0.0.1:{env.port}", opts.load_rps,
                              duration_s=LOAD_MAX_S,
                              max_requests=int(opts.load_rps * LOAD_MAX_S),
                              paths=opts.load_paths or (self.settings.health_path,))
            self.progress(f"driving {opts.load_rps:g} requests/s at 127.0.0.1:{env.port}")
        try:
            return controller.execute(release, start_phase=start_phase)
        finally:
            if load is not None:
                load.stop()

    def _await_approval(self, release: Release, env: Environment) -> Release:
        self.progress(f"release {release.id[:12]} needs approval by someone other than "
                      f"{release.author}: `suture approve {release.id[:12]}`")
        try:
            rec = approvals.wait(self.releases, release, env.approval_timeout_s)
        except approvals.ApprovalRefused as exc:
            failed = release.model_copy(update={"status": ReleaseStatus.FAILED,
                                                "ended_at": datetime.now(UTC),
                                                "error": exc.message})
            self.releases.save(failed)
            self.releases.add_event(failed, "failed", {"reason": exc.message})
            raise
        approved = release.model_copy(update={"status": ReleaseStatus.RUNNING,
                                              "approved_by": rec.approver,
                                              "approved_at": rec.at})
        self.releases.save(approved)
        self.releases.add_event(approved, "approved", {"approver": rec.approver}, at=rec.at)
        self.progress(f"approved by {rec.approver}")
        return approved

    def _controller(self, env_name: str, env: Environment) -> Controller:
        target = LocalTarget(self.root, env_state.env_dir(self.root, env_name), self.settings,
                             self.config.settings.python)
        return Controller(self.root, self.store, self.settings, env, env_name, target,
                          self.progress)

    def _refuse_live(self, holder: Holder) -> None:
        if holder.pid == os.getpid():
            return
        if holder.host == this_host() and pid_alive(holder.pid):
            raise busy(holder)
        if holder.host != this_host():
            raise UsageError(
                f"release {holder.release.id[:12]} is driven from {holder.host} (pid "
                f"{holder.pid}); its processes run there",
                hint="run `suture deploy resume` on that machine")

