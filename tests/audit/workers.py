"""Code run in spawned processes: several writers appending to one audit log at once."""

from __future__ import annotations

import traceback
from typing import Any

from suture.audit import AuditLog


def append_events(root: str, url: str, worker: int, count: int, barrier: Any,
                  results: Any) -> None:
    """Open the log (racing to migrate and to create the key) and append `count` events."""
    try:
        barrier.wait(timeout=60)
        log = AuditLog.open(root, url, checkpoint_every=7)
        seqs = [log.append("gate.result", f"w{worker}/{i}", {"worker": worker, "i": i},
                           actor=f"worker-{worker}").seq for i in range(count)]
        log.checkpoint()
        log.close()
        results.put(("ok", worker, seqs))
    except BaseException:  # report everything: the parent asserts on it
        results.put(("error", worker, traceback.format_exc()))
