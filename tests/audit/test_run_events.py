"""Runs in the audit log: configuration changes, and runs interrupted or found dead, once each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from suture import config as config_mod
from suture.audit import AuditLog, audit_log, trail
from suture.model import Run, RunStatus
from suture.pipeline.execute import RunOptions, run_pipeline
from suture.store import RunStore, open_store
from tests.fixtures.git import GitRepo

GATES = """\
gates:
  quick:
    kind: command
    run: "true"
  slow:
    kind: command
    run: sleep 60
"""


def _run(repo: GitRepo, store: RunStore) -> Run:
    """One `suture run -g quick`, as the CLI records it."""
    run = run_pipeline(repo.path, config_mod.load(repo.path), store,
                       RunOptions(use_cache=False, only=("quick",)))
    trail.run_recorded(store, repo.path, run)
    return run


def test_config_changes_are_recorded_before_the_run_that_sees_them(
        git_repo: GitRepo, db_url: str) -> None:
    git_repo.write("suture.yml", GATES)
    git_repo.commit("config")
    with open_store(git_repo.path, db_url) as store:
        first = _run(git_repo, store)
        second = _run(git_repo, store)  # same configuration: no event
        git_repo.write("suture.yml", GATES + "timeout: 30\n")
        third = _run(git_repo, store)
        events = list(audit_log(store, root=git_repo.path).iter_events())
    assert [(e.action, e.subject) for e in events if not e.action.startswith("gate.")] == [
        ("run.started", first.run_id), ("run.finished", first.run_id),
        ("run.started", second.run_id), ("run.finished", second.run_id),
        ("config.changed", third.run_id), ("run.started", third.run_id),
        ("run.finished", third.run_id)]
    changed = next(e for e in events if e.action == "config.changed").data()
    assert first.config_digest == second.config_digest != third.config_digest
    assert changed == {"run_id": third.run_id, "previous_run_id": second.run_id,
                       "old_digest": second.config_digest, "new_digest": third.config_digest}
    with AuditLog.open(git_repo.path, db_url) as log:
        assert log.verify().ok


def _begin(store: RunStore, root: Path, started: datetime) -> str:
    run_id = uuid.uuid4().hex
    store.begin_run(Run(run_id=run_id, status=RunStatus.RUNNING, root=str(root),
                        config_digest="d1", started_at=started))
    return run_id


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_runs_the_store_ended_are_recorded_once_with_their_reason(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "repo"
    now = datetime.now(UTC)
    with open_store(root, db_url) as store:
        interrupted = _begin(store, root, now - timedelta(minutes=3))
        assert store.mark_interrupted(interrupted, "interrupted: KeyboardInterrupt: signal 2")
        dead = _begin(store, root, now - timedelta(minutes=2))
        elsewhere = _begin(store, root, now - timedelta(days=3))
        still_running = _begin(store, root, now - timedelta(minutes=1))  # this very process
        engine = create_engine(db_url)
        with engine.begin() as conn:  # as if begun by a process now gone, and on another host
            conn.execute(text("UPDATE runs SET pid = :pid WHERE id = :id"),
                         {"pid": _dead_pid(), "id": dead})
            conn.execute(text("UPDATE runs SET host = 'ci-runner-7' WHERE id = :id"),
                         {"id": elsewhere})
        engine.dispose()
        assert sorted(store.mark_stale_running()) == sorted([dead, elsewhere])

        recorded = trail.interrupted_recorded(store, root)
        assert recorded == [elsewhere, interrupted, dead]  # in the order they started
        assert trail.interrupted_recorded(store, root) == []  # once only
        log = audit_log(store, root=root)
        events = list(log.iter_events())
        assert log.verify().ok and log.checkpoints()[-1].seq == len(events) == 6
    assert still_running not in {e.subject for e in events}
    finished = {e.subject: e.data() for e in events if e.action == "run.finished"}
    assert {k: (v["status"], v["reason"]) for k, v in finished.items()} == {
        interrupted: ("error", "interrupted"), dead: ("error", "interrupted"),
        elsewhere: ("error", "abandoned")}
    assert "ended mid-run" in finished[dead]["error"]
    assert [e.action for e in events[:2]] == ["run.started", "run.finished"]


def _wait_for_running(root: Path, proc: subprocess.Popen[str]) -> str:
    """The id of the run `proc` is recording, once its gate has started."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if (root / ".suture" / "suture.db").exists():
            with open_store(root) as store:
                running = store.list_runs(status=RunStatus.RUNNING)
            if running:
                time.sleep(1)  # let the gate's tool start
                return running[0].run_id
        time.sleep(0.3)
    raise AssertionError("suture run never started its gate")


def _suture_run(root: Path, *gates: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SUTURE_DATABASE_URL"}
    args = [a for g in gates for a in ("-g", g)]
    return subprocess.Popen([sys.executable, "-m", "suture", "run", *args], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _project(repo: GitRepo) -> GitRepo:
    repo.write("suture.yml", GATES)
    repo.write(".gitignore", ".suture/\n")
    repo.commit("config")
    return repo


def test_a_run_stopped_with_ctrl_c_is_in_the_audit_log(git_repo: GitRepo) -> None:
    root = _project(git_repo).path
    proc = _suture_run(root, "slow")
    run_id = _wait_for_running(root, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err

    with AuditLog.open(root) as log:
        events = list(log.iter_events())
        result = log.verify()
    assert [(e.action, e.subject) for e in events] == [("run.started", run_id),
                                                      ("run.finished", run_id)]
    done = events[1].data()
    assert (done["status"], done["reason"]) == ("error", "interrupted")
    assert done["error"].startswith("interrupted: KeyboardInterrupt")
    assert "<" in events[0].actor  # the git identity, asked before the interrupt stopped tools
    assert result.ok and result.unsigned_tail == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_run_whose_process_died_is_recorded_by_the_next_run_once(git_repo: GitRepo) -> None:
    repo = _project(git_repo)
    proc = _suture_run(repo.path, "slow")
    dead_id = _wait_for_running(repo.path, proc)
    tools = _children(proc.pid)
    proc.kill()  # SIGKILL: no chance to record anything
    proc.communicate(timeout=60)
    for tool in tools:  # the gate's tool runs in its own session: stop it too
        os.killpg(tool, signal.SIGKILL)

    with open_store(repo.path) as store:
        assert audit_log(store, root=repo.path).head()[0] == 0  # nothing recorded yet
        nxt = _run(repo, store)  # its start marks the dead run; its record adds it first
        _run(repo, store)
        assert trail.interrupted_recorded(store, repo.path) == []
        log = audit_log(store, root=repo.path)
        events = list(log.iter_events())
        assert log.verify().ok
    assert [(e.action, e.subject) for e in events[:3]] == [
        ("run.started", dead_id), ("run.finished", dead_id), ("run.started", nxt.run_id)]
    assert [e.subject for e in events].count(dead_id) == 2  # recorded once, by the first run
    done = events[1].data()
    assert (done["status"], done["reason"]) == ("error", "interrupted")
    assert f"suture process {proc.pid}" in done["error"]
