"""Several processes recording runs into one database at once lose nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from suture.store import open_store

from . import workers

WORKERS = 4
RUNS_EACH = 12


def test_concurrent_writers_lose_nothing(db_url: str, tmp_path: Path) -> None:
    # The database is empty: the writers also race to create the schema.
    root = str(tmp_path / "repo")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=workers.write_runs, args=(root, db_url, w, RUNS_EACH, barrier, results))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)

    errors = [r[2] for r in reports if r[0] != "ok"]
    assert not errors, "\n".join(errors)
    written = {run_id for r in reports for run_id in r[2]}
    assert len(written) == WORKERS * RUNS_EACH

    with open_store(root, db_url) as store:
        listed = store.list_runs(limit=1000)
        assert {r.run_id for r in listed} == written
        for run_id in sorted(written)[::RUNS_EACH]:
            full = store.get_run(run_id)
            assert [s.name for s in full.stages] == ["lint", "security"]
            assert len(full.stages[1].findings) >= 1
