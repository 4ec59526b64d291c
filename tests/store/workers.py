"""Code that runs in separate (spawned) processes: concurrent writers and a run that gets killed."""

from __future__ import annotations

import time
import traceback
from typing import Any

from suture.model import RunStatus, StageStatus
from suture.store import open_store

from .records import finished, run, stage


def write_runs(root: str, url: str, worker: int, count: int, barrier: Any, results: Any) -> None:
    """Open the store (migrating if first) and record `count` complete runs; report to `results`."""
    try:
        barrier.wait(timeout=60)
        store = open_store(root, url)
        written = []
        for i in range(count):
            r = run()
            store.begin_run(r)
            store.finish_run(
                finished(
                    r,
                    RunStatus.FAILED,
                    stage("lint", StageStatus.PASSED, findings=0),
                    stage("security", StageStatus.FAILED, findings=1 + (worker + i) % 3),
                )
            )
            written.append(r.run_id)
        store.close()
        results.put(("ok", worker, written))
    except BaseException:  # report everything: the parent asserts on it
        results.put(("error", worker, traceback.format_exc()))


def begin_and_hang(root: str, url: str, results: Any) -> None:
    """Begin a run, report its id, then wait to be killed without ever finishing it."""
    store = open_store(root, url)
    r = run()
    store.begin_run(r)
    results.put(r.run_id)
    time.sleep(120)
