"""Measure the audit log: appends per second (SQLite, PostgreSQL) and verify time for 1M events.

    .venv/bin/python bench/audit_speed.py                     # 2,000 appends, 1,000,000 to verify
    .venv/bin/python bench/audit_speed.py --appends 500 --events 100000 --no-postgres

PostgreSQL is measured on a throwaway server started the way the tests start one (needs initdb
on PATH or under /usr/lib/postgresql/*/bin), or on $SUTURE_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures.postgres

from suture.audit import AuditLog  # noqa: E402
from suture.audit.chain import (  # noqa: E402
    GENESIS_HASH,
    canonical_json,
    event_hash,
    sha256_hex,
    utc_text,
)
from suture.audit.checkpoints import make_checkpoint  # noqa: E402


def appends_per_second(root: Path, url: str | None, count: int) -> float:
    """Append `count` events one transaction each, as `record()` does; events per second."""
    with AuditLog.open(root, url) as log:
        log.append("run.started", "warm-up", {})
        start = time.perf_counter()
        for i in range(count):
            log.append("gate.result", f"run-{i // 10}/gate-{i % 10}",
                       {"status": "passed", "findings": i % 7, "duration_s": 0.25})
        elapsed = time.perf_counter() - start
        assert log.verify().ok
    return count / elapsed


def bulk_fill(root: Path, count: int, every: int = 1000) -> float:
    """Write `count` chained events (and a checkpoint every `every`) straight into SQLite."""
    with AuditLog.open(root) as log:
        key = log.signing_key()
    db = sqlite3.connect(root / ".suture" / "suture.db", isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    start = time.perf_counter()
    prev, now, batch, cps = GENESIS_HASH, utc_text(), [], []
    db.execute("BEGIN")
    for seq in range(1, count + 1):
        payload = canonical_json({"status": "passed", "findings": seq % 7, "stage": "lint"})
        digest = sha256_hex(payload)
        h = event_hash(seq, now, "bench", "gate.result", f"run-{seq // 10}", digest, prev)
        batch.append((seq, now, "bench", "gate.result", f"run-{seq // 10}", payload, digest,
                      prev, h))
        prev = h
        if seq % every == 0:
            cp = make_checkpoint(key, seq, h)
            cps.append((cp.seq, cp.head_hash, cp.time, cp.key_id, cp.signature))
        if len(batch) == 50_000:
            db.executemany("INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    db.executemany("INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?)", batch)
    db.executemany("INSERT INTO audit_checkpoints VALUES (?,?,?,?,?)", cps)
    db.execute("COMMIT")
    db.close()
    return time.perf_counter() - start


def verify_seconds(root: Path) -> tuple[float, int, int]:
    """Time one full verify; returns (seconds, events, checkpoints)."""
    with AuditLog.open(root) as log:
        start = time.perf_counter()
        result = log.verify()
        elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"verify failed: {result.problem}")
    return elapsed, result.events, result.checkpoints


def postgres_appends(count: int) -> float | None:
    """Appends per second on a throwaway PostgreSQL server; None when none can be started."""
    import pytest
    from tests.fixtures import postgres

    server_gen = postgres.postgres_server.__wrapped__()  # type: ignore[attr-defined]
    try:
        server = next(server_gen)
    except pytest.skip.Exception as exc:
        print(f"postgresql: skipped ({exc})")
        return None
    try:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        url = server.create_database(name)
        with tempfile.TemporaryDirectory() as tmp:
            rate = appends_per_second(Path(tmp), url, count)
        server.drop_database(name)
        return rate
    finally:
        server_gen.close()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="suture-audit-bench-"))
    try:
        rate = appends_per_second(tmp / "appends", None, args.appends)
        print(f"sqlite:     {rate:8.0f} appends/s ({args.appends} appends, one transaction each)")
        if not args.no_postgres:
            pg = postgres_appends(args.appends)
            if pg is not None:
                print(f"postgresql: {pg:8.0f} appends/s ({args.appends} appends, one "
                      "transaction each)")
        fill = bulk_fill(tmp / "verify", args.events)
        print(f"bulk fill:  {args.events:,} events in {fill:.1f}s "
              f"({args.events / fill:,.0f}/s, chain computed in Python)")
        seconds, events, checkpoints = verify_seconds(tmp / "verify")
        print(f"verify:     {events:,} events and {checkpoints:,} signed checkpoints in "
              f"{seconds:.1f}s ({events / seconds:,.0f} events/s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
