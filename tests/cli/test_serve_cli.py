"""`suture serve` as a user runs it: a real server process, live events, refused binds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from suture.audit import AuditLog
from suture.model import Run, RunStatus
from suture.store import open_store
from tests.fixtures.dashboard import free_port, serve_dashboard, serve_env
from tests.fixtures.web import History


def serve(root: Path, *args: str) -> subprocess.Popen[str]:
    """Start `python -m suture serve` for `root` (for runs that must fail to start)."""
    return subprocess.Popen([sys.executable, "-m", "suture", "serve", "--root", str(root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=serve_env())


@pytest.fixture
def server(history: History) -> Iterator[str]:
    """A running dashboard over `history` (and three audit events); yields its base URL."""
    with open_store(history.repo.path) as store:
        log = AuditLog.for_store(store, root=history.repo.path)
        for i in range(3):
            log.append("run.started", f"run/{i}", {"i": i})
    with serve_dashboard(history.repo.path) as served:
        yield served.url


def events(base: str, count: int, timeout_s: float = 20.0) -> Iterator[dict[str, object]]:
    """Read `count` change events from the event stream."""
    with httpx.stream("GET", f"{base}/api/v1/events", timeout=timeout_s) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        seen = 0
        kind = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "change":
                yield json.loads(line[6:])
                seen += 1
                if seen == count:
                    return


def test_the_dashboard_serves_and_streams_changes(server: str, history: History) -> None:
    health = httpx.get(f"{server}/healthz").json()
    assert health == {"status": "ok", "database": "sqlite", "detail": None}
    assert "Overview" in httpx.get(server).text
    stream = events(server, 2)
    first = next(stream)
    assert first["run"] == f"{history.passed_run}:passed" and first["pending"] == 1
    run = Run(run_id="b" * 32, status=RunStatus.RUNNING, root=str(history.repo.path),
              started_at=datetime.now(UTC))
    with open_store(history.repo.path) as store:
        store.begin_run(run)
    second = next(stream)
    assert second["run"] == f"{'b' * 32}:running"


def test_serving_beyond_loopback_without_a_token_is_refused(history: History) -> None:
    proc = serve(history.repo.path, "--host", "0.0.0.0", "--port", str(free_port()))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0 with no API token configured" in out
    assert "suture token create --role admin" in out


def test_the_chain_is_verified_in_the_background(server: str) -> None:
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{server}/api/v1/audit/verify").json())["ok"] is None:
        assert time.monotonic() < deadline, f"never verified: {status}"
        time.sleep(0.2)
    assert status["ok"] is True and status["events"] == 3
    metrics = httpx.get(f"{server}/metrics").text
    assert "suture_audit_chain_ok 1.0" in metrics
