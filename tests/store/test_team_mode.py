"""Team mode: processes posing as several machines write to one real PostgreSQL at once.

Each worker is a spawned process with its own host name (a UTS namespace when we may make one,
else its `socket.gethostname` answers the machine's name), its own repository root and pid; all
share the audit signing key through $SUTURE_AUDIT_KEY, as the team-mode docs say to.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import socket
import subprocess
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from suture.audit import AuditLog
from suture.audit.keys import ENV_KEY, create_signing_key
from suture.deploy.model import Release, ReleaseStatus, Risk, RiskLevel, Strategy
from suture.model import RunStatus, StageStatus
from suture.store import migrate, open_store
from suture.store.releases import EnvironmentBusy, ReleaseStore
from suture.store.tables import VERSION_TABLE, Base
from tests.fixtures.cli import run_suture

from .records import finished, run, stage

pytestmark = pytest.mark.postgres

MACHINES = 4
RUNS_EACH = 15
RELEASES_EACH = 4
CHECKPOINT_EVERY = 10
_CLONE_NEWUTS = 0x04000000


def become(host: str) -> None:
    """Make this process's host name `host`: really (own UTS namespace) when allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        if libc.unshare(_CLONE_NEWUTS) == 0:
            socket.sethostname(host)
            return
    except OSError:
        pass
    socket.gethostname = lambda: host  # type: ignore[assignment]  # unprivileged fallback


def release(env: str, n: int) -> Release:
    """A release of `env` as `suture deploy` begins it."""
    return Release(id=os.urandom(16).hex(), env=env, commit=f"{n:040x}",
                   strategy=Strategy.CANARY, status=ReleaseStatus.RUNNING,
                   risk=Risk(score=10, level=RiskLevel.LOW), started_at=datetime.now(UTC),
                   author="Dev <dev@example.org>", actor="Dev <dev@example.org>")


def machine(w: int, root: str, url: str, barrier: Any, results: Any) -> None:
    """One machine's work: runs, audit events, releases of its own environment, one contested."""
    try:
        become(f"machine-{w}")
        store = open_store(root, url)
        log = AuditLog.for_store(store, root=root, checkpoint_every=CHECKPOINT_EVERY)
        releases = ReleaseStore(store)
        barrier.wait(timeout=120)
        out: dict[str, Any] = {"runs": [], "seqs": [], "releases": []}
        shared = release("production", w)
        try:
            releases.begin(shared, os.getpid())
            out["won"] = shared.id
        except EnvironmentBusy as exc:
            out["busy"] = str(exc)
        for i in range(RUNS_EACH):
            r = run()
            store.begin_run(r)
            store.finish_run(finished(r, RunStatus.PASSED, stage("lint", StageStatus.PASSED,
                                                                 findings=i % 2)))
            out["runs"].append(r.run_id)
            out["seqs"].append(log.append("run.finished", f"run/{r.run_id}", {"machine": w},
                                          actor=f"machine-{w}").seq)
            if i % (RUNS_EACH // RELEASES_EACH) == 0 and len(out["releases"]) < RELEASES_EACH:
                rel = release(f"env-{w}", i)
                releases.begin(rel, os.getpid())
                releases.add_event(rel, "promoted", {"machine": w})
                releases.save(rel.model_copy(update={"status": ReleaseStatus.PROMOTED,
                                                     "ended_at": datetime.now(UTC)}))
                out["releases"].append(rel.id)
        left = run(started=datetime.now(UTC))
        store.begin_run(left)  # this machine "crashes" mid-run: the run stays `running`
        out["left"] = left.run_id
        log.checkpoint()
        store.close()
        results.put(("ok", w, out))
    except BaseException:  # report everything: the parent asserts on it
        results.put(("error", w, traceback.format_exc()))


def sweep(w: int, root: str, url: str, results: Any) -> None:
    """As machine `w`, mark the runs whose writer died as interrupted; report their ids."""
    try:
        become(f"machine-{w}")
        with open_store(root, url) as store:
            results.put(("ok", w, store.mark_stale_running()))
    except BaseException:
        results.put(("error", w, traceback.format_exc()))


def test_machines_writing_at_once_lose_and_duplicate_nothing(
        fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_postgres_url
    key = tmp_path / "shared" / "audit_ed25519"
    key.parent.mkdir()
    create_signing_key(key)
    monkeypatch.setenv(ENV_KEY, str(key))  # every machine is configured with the one key
    upgraded = run_suture(tmp_path, "db", "upgrade", env={"SUTURE_DATABASE_URL": url})
    assert upgraded.code == 0, upgraded.out

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(MACHINES), ctx.Queue()
    procs = [ctx.Process(target=machine, args=(w, str(tmp_path / f"m{w}"), url, barrier,
                                               results)) for w in range(MACHINES)]
    for p in procs:
        p.start()
    reports = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
    errors = [r[2] for r in reports if r[0] != "ok"]
    assert not errors, "\n".join(errors)
    assert [p.exitcode for p in procs] == [0] * MACHINES
    by_machine = {r[1]: r[2] for r in reports}

    engine = create_engine(url)
    with engine.connect() as conn:
        hosts = dict(conn.execute(text("SELECT id, host FROM runs")).all())
        rel_rows = conn.execute(text("SELECT id, env, status, host FROM releases")).all()
        events = conn.execute(text("SELECT release_id FROM deploy_events")).scalars().all()
    engine.dispose()

    # Runs: each exactly once, attributed to the machine that wrote it.
    expected = {rid: f"machine-{w}" for w, o in by_machine.items()
                for rid in (*o["runs"], o["left"])}
    assert len(expected) == MACHINES * (RUNS_EACH + 1)
    assert hosts == expected

    # Audit: one unbroken chain, consecutive seqs, every machine's events in it once.
    seqs = sorted(s for o in by_machine.values() for s in o["seqs"])
    assert seqs == list(range(1, MACHINES * RUNS_EACH + 1))
    with open_store(tmp_path / "reader", url) as store:
        log = AuditLog.for_store(store, root=tmp_path / "reader")
        verdict = log.verify()
        assert verdict.ok, verdict.problem
        assert verdict.events == len(seqs) and verdict.checkpoints >= len(seqs) // CHECKPOINT_EVERY
        subjects = [e.subject for e in log.iter_events()]
        assert sorted(subjects) == sorted(f"run/{rid}" for o in by_machine.values()
                                          for rid in o["runs"])

        # Releases: each machine's own environment complete; one winner for the shared one.
        winners = [o["won"] for o in by_machine.values() if "won" in o]
        assert len(winners) == 1
        winner_host = next(f"machine-{w}" for w, o in by_machine.items() if "won" in o)
        busy = [o["busy"] for o in by_machine.values() if "busy" in o]
        assert len(busy) == MACHINES - 1 and all(winner_host in b for b in busy)
        own = {rid: (f"env-{w}", "promoted", f"machine-{w}") for w, o in by_machine.items()
               for rid in o["releases"]}
        assert len(own) == MACHINES * RELEASES_EACH
        assert {r[0]: tuple(r[1:]) for r in rel_rows} == {
            **own, winners[0]: ("production", "running", winner_host)}
        assert sorted(events) == sorted(own)
        assert ReleaseStore(store).active("production") is not None

        # A run left `running` by another machine is not this host's to judge ...
        assert store.mark_stale_running() == []
    # ... but machine 0 itself can see that its writer process is gone.
    results = ctx.Queue()
    sweeper = ctx.Process(target=sweep, args=(0, str(tmp_path / "m0"), url, results))
    sweeper.start()
    kind, _, swept = results.get(timeout=120)
    sweeper.join(60)
    assert kind == "ok", swept
    assert swept == [by_machine[0]["left"]]


def test_machines_upgrading_one_fresh_database_at_once(fresh_postgres_url: str,
                                                       tmp_path: Path) -> None:
    env = {**os.environ, "SUTURE_DATABASE_URL": fresh_postgres_url, "NO_COLOR": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "suture", "db", "upgrade"], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(MACHINES)]
    outs = [(*p.communicate(timeout=300), p.returncode) for p in procs]
    assert [o[2] for o in outs] == [0] * MACHINES, outs
    assert all(f"-> {migrate.head_revision()}" in o[0] or "already at" in o[0] for o in outs)

    engine = create_engine(fresh_postgres_url)
    with engine.connect() as conn:
        versions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        assert list(versions) == [migrate.head_revision()]
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE,
                                                     "compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
    engine.dispose()
    with open_store(tmp_path, fresh_postgres_url) as store:
        r = run()
        store.begin_run(r)
        assert store.get_run(r.run_id).status is RunStatus.RUNNING
