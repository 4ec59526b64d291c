"""Processes appending at the same moment never fork the chain or reuse a sequence number."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from suture.audit import AuditLog

from . import workers

WORKERS = 4
EACH = 40


def test_concurrent_appenders_keep_one_chain(db_url: str, tmp_path: Path) -> None:
    root = str(tmp_path / "repo")
    # The schema is in place (tests/store races migrations); the writers race to make the key.
    AuditLog.open(root, db_url).close()
    # fork: real separate processes with their own connections, without re-importing suture.
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=workers.append_events,
                         args=(root, db_url, w, EACH, barrier, results)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    reports = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)

    errors = [r[2] for r in reports if r[0] != "ok"]
    assert not errors, "\n".join(errors)
    seqs = sorted(s for r in reports for s in r[2])
    assert seqs == list(range(1, WORKERS * EACH + 1))  # no gaps, no number handed out twice
    with AuditLog.open(root, db_url) as log:
        result = log.verify()
        assert result.ok, result.problem
        assert result.events == WORKERS * EACH
        stored = list(log.iter_events())
        checkpoints = log.checkpoints()
    assert {e.subject for e in stored} == {f"w{w}/{i}" for w in range(WORKERS) for i in range(EACH)}
    for r in reports:  # each writer's own events keep their order
        mine = [e.seq for e in stored if e.actor == f"worker-{r[1]}"]
        assert mine == r[2]
    assert {c.seq for c in checkpoints} >= set(range(7, WORKERS * EACH + 1, 7))
    assert len({c.key_id for c in checkpoints}) == 1  # one key, although all raced to make it
    assert checkpoints[-1].seq == WORKERS * EACH
